"""Issue 12, item 1: a reply LINE accepted is never sent again, by reply or by push.

Through the real simulator: its reply tokens are single use and expire after a minute, its
drop_after_accept fault delivers and then closes the connection unanswered."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.dispatcher import STATE_LOOK, UNCONFIRMED
from bot.outbox import OutboxMessage

from tests.test_e2e_foundation import CONSENT_ASKED, push_now


def rows(stack, kind=None) -> list[OutboxMessage]:
    with stack.sessions() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [r for r in found if kind is None or r.kind == kind]


def a_reply_waiting(stack) -> tuple[str, int]:
    """A friend who has just written: the answer is a reply row, not yet sent."""
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    stack.sim.send_text(user, "こんにちは")
    stack.worker.run_until_idle()
    assert [r.status for r in rows(stack, "reply")][-1] == "pending"
    return user, before


def delivered(stack, user, before):
    return [(m["via"], m["message"]["text"]) for m in stack.sim.messages(user)[before:]]


def die_between_send_and_record(dispatcher) -> None:
    """The dispatcher process dies after LINE took the request, before the outcome is stored."""
    dispatcher._record = lambda results: None


def test_an_answer_lost_after_line_accepted_the_reply_is_settled_at_once_without_a_push(stack):
    user, before = a_reply_waiting(stack)
    stack.sim.set_fault("drop_after_accept", "reply", times=1)
    stack.dispatcher.run_once()
    # Asked again at once: the token is used, and only we held it: delivered.
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]
    assert [r["status"] for r in stack.sim.requests_log("reply")][-2:] == [200, 400]
    [row] = rows(stack, "reply")[-1:]
    assert (row.status, row.sent_via, row.reply_tries) == ("sent", "reply", 1)
    stack.clock.advance(minutes=5)
    stack.settle()
    assert stack.sim.requests_log("push") == []
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]


def test_a_dispatcher_dying_after_the_send_is_recovered_within_the_token_lifetime(stack):
    user, before = a_reply_waiting(stack)
    dying = stack.services.dispatcher()
    die_between_send_and_record(dying)
    assert dying.run_once() == 1
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]
    [row] = rows(stack, "reply")[-1:]
    assert row.status == "sending"
    # The lease is the request timeout plus a margin: well inside the token's minute.
    assert row.lease_until - stack.clock.now() <= timedelta(seconds=10)
    stack.clock.advance(seconds=4)
    assert stack.dispatcher.run_once() == 0  # still leased
    stack.clock.advance(seconds=5)
    stack.settle()
    [row] = rows(stack, "reply")[-1:]
    assert (row.status, row.sent_via) == ("sent", "reply")
    assert "earlier attempt" in row.last_error
    assert stack.sim.requests_log("push") == []
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]


def test_a_dispatcher_dying_before_the_send_still_gets_the_reply_through(stack):
    user, before = a_reply_waiting(stack)
    dying = stack.services.dispatcher()
    dying._send = lambda claimed: (_ for _ in ()).throw(SystemExit("killed"))  # dies after the claim
    try:
        dying.run_once()
    except SystemExit:
        pass
    stack.clock.advance(seconds=9)
    stack.settle()
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]
    assert stack.sim.requests_log("push") == []


def test_a_possibly_used_token_is_never_replaced_by_a_push_even_when_too_late_to_ask(stack):
    user, before = a_reply_waiting(stack)
    dying = stack.services.dispatcher()
    die_between_send_and_record(dying)
    dying.run_once()
    stack.clock.advance(seconds=90)  # nobody recovered it in time: LINE can no longer tell
    stack.settle()
    [row] = rows(stack, "reply")[-1:]
    assert (row.status, row.sent_via) == ("sent", UNCONFIRMED)
    assert stack.sim.requests_log("push") == []
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]


def test_a_5xx_reply_is_retried_as_a_reply_while_the_token_lasts(stack):
    user, before = a_reply_waiting(stack)
    stack.sim.set_fault("status", "reply", status=500, times=1)
    stack.dispatcher.run_once()
    assert delivered(stack, user, before) == []
    stack.clock.advance(seconds=1)
    stack.settle()
    assert delivered(stack, user, before) == [("reply", t) for t in CONSENT_ASKED]
    assert stack.sim.requests_log("push") == []


def test_a_reply_refused_with_429_until_the_token_expired_goes_by_push_once(stack):
    user, before = a_reply_waiting(stack)
    stack.sim.set_fault("status", "reply", status=429, retry_after=120, times=1)
    stack.dispatcher.run_once()
    [row] = rows(stack, "reply")[-1:]
    assert row.reply_tries == 0  # a 429 delivers nothing: no attempt of ours used the token
    stack.clock.advance(seconds=121)
    stack.settle()
    assert delivered(stack, user, before) == [("push", t) for t in CONSENT_ASKED]


def test_one_user_at_a_time_in_order_many_users_side_by_side(stack):
    users = [stack.new_user(f"利用者{n}") for n in range(3)]
    stack.settle()
    befores = {u: len(stack.sim.messages(u)) for u in users}
    for n in range(3):
        for u in users:
            push_now(stack, u, f"お知らせ{n}")
    claimed = stack.dispatcher._claim(stack.clock.now(), 8)
    # One row per user in a batch, so a user's messages can never overtake each other.
    assert sorted(c.row.to_user for c in claimed) == sorted(users)
    stack.dispatcher._record([(c, stack.dispatcher._send(c)) for c in claimed])
    stack.settle()
    for u in users:
        assert [t for _via, t in delivered(stack, u, befores[u])] == ["お知らせ0", "お知らせ1", "お知らせ2"]


def test_a_429_pauses_every_dispatcher_through_the_database(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    other = stack.services.dispatcher()  # another process's dispatcher, same database
    stack.sim.set_fault("status", "push", status=429, retry_after=30, times=1)
    push_now(stack, user, "一通目")
    stack.dispatcher.run_once()
    push_now(stack, user.replace("U", "U", 1), "二通目")
    stack.clock.advance(seconds=10)
    assert other.run_once() == 0  # it never saw the 429, yet it waits
    assert len(stack.sim.requests_log("push")) == 1
    stack.clock.advance(seconds=21)
    other.run_once()
    stack.settle()
    assert [t for _v, t in delivered(stack, user, before)] == ["一通目", "二通目"]


def test_a_dispatcher_already_running_learns_of_another_process_pause(stack):
    first, second = stack.new_user(), stack.new_user()
    stack.settle()
    other = stack.services.dispatcher()
    assert other.run_once() == 0  # it has read the channel's state: no pause
    stack.sim.set_fault("status", "push", status=429, retry_after=30, times=1)
    push_now(stack, first, "一通目")
    stack.dispatcher.run_once()
    push_now(stack, second, "二通目")
    stack.clock.advance(seconds=STATE_LOOK.total_seconds())
    assert other.run_once() == 0
    assert len(stack.sim.requests_log("push")) == 1


def test_the_quota_is_watched_and_the_monthly_limit_stops_pushes_everywhere(stack):
    user = stack.new_user()
    stack.settle()
    used = stack.sim.config()["totalUsage"]
    stack.sim.set_monthly_limit(used + 1)
    push_now(stack, user, "一通目")
    push_now(stack, user, "二通目")
    stack.settle()
    pushes = stack.sim.requests_log("push")
    assert [p["status"] for p in pushes] == [200, 429]
    other = stack.services.dispatcher()
    stack.clock.advance(minutes=30)
    assert other.run_once() == 0  # paused for every process, not retried in a loop
    assert len(stack.sim.requests_log("push")) == 2
    # LINE's consumption endpoint shows room again (a raised limit): the pause ends at the
    # next quota check, without waiting out the hour.
    stack.sim.set_monthly_limit(used + 10)
    stack.clock.advance(minutes=11)
    stack.settle()
    assert [t for _v, t in delivered(stack, user, 0)][-2:] == ["一通目", "二通目"]
    quota = [r for r in stack.sim.requests_log("quota")]
    assert len(quota) >= 4 and all(r["status"] == 200 for r in quota)
