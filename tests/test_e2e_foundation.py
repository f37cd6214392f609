"""The foundation through real HTTP: the simulator signs and sends, the bot stores, handles, sends."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from bot import outbox
from bot.messages.resident import RESIDENT
from domain.db import transaction
from bot.inbox import DONE, InboundEvent
from bot.outbox import OutboxMessage


# What a person who has not consented yet gets for any text.
CONSENT_ASKED = [RESIDENT["consent_needed"], RESIDENT["privacy_notice"]]


def events(stack) -> list[InboundEvent]:
    with stack.sessions() as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def outbox_rows(stack) -> list[OutboxMessage]:
    with stack.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def push_now(stack, user, text="お知らせです"):
    with transaction(stack.sessions) as session:
        outbox.enqueue_push(session, user_id=user, messages=[{"type": "text", "text": text}],
                            now=stack.clock.now())


def test_a_signed_event_is_answered_200_and_stored(stack):
    user = stack.new_user(follow=False)
    result = stack.sim.follow(user)
    assert result["status"] == 200
    stored = events(stack)
    assert [e.webhook_event_id for e in stored] == [result["webhookEventId"]]
    assert stored[0].event_type == "follow" and stored[0].source_key == f"user:{user}"
    assert json.loads(stored[0].payload)["replyToken"] == result["replyToken"]


def test_follow_gets_the_greeting_and_privacy_notice_by_reply(stack):
    user = stack.new_user()
    stack.settle()
    delivered = stack.sim.messages(user)
    assert [m["message"]["text"] for m in delivered] == [RESIDENT["greeting"], RESIDENT["privacy_notice"]]
    assert {m["via"] for m in delivered} == {"reply"}
    labels = [i["action"]["label"] for i in delivered[1]["message"]["quickReply"]["items"]]
    assert labels == ["同意する", "同意しない"]


def test_the_same_event_sent_three_times_is_handled_once(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    sent = stack.sim.send_text(user, "こんにちは")
    assert stack.sim.redeliver(sent["webhookEventId"])["status"] == 200
    assert stack.sim.redeliver(sent["webhookEventId"])["status"] == 200
    stack.settle()
    assert len([e for e in events(stack) if e.webhook_event_id == sent["webhookEventId"]]) == 1
    assert stack.sim.texts(user)[before:] == CONSENT_ASKED


@pytest.mark.parametrize("signature, reason", [
    ("bad", "invalid X-Line-Signature"),
    ("missing", "missing X-Line-Signature"),
])
def test_a_wrong_or_missing_signature_is_400_and_nothing_is_stored(stack, signature, reason):
    body = {"destination": "U" + "0" * 32, "events": [{"type": "follow", "webhookEventId": "01X", "timestamp": 1,
                                                        "mode": "active", "source": {"type": "user", "userId": "U" + "1" * 32}}]}
    result = stack.sim.raw_webhook(body, signature=signature)
    assert result["status"] == 400 and reason in result["body"]
    assert events(stack) == []


@pytest.mark.parametrize("body, reason", [
    ('{"destination": "U1", "events": [', "not JSON"),
    ('["a list"]', "not a LINE webhook"),
    ('{"destination": "U1"}', "not a LINE webhook"),
    ('{"destination": "U1", "events": [{"type": "message"}]}', "webhookEventId is missing"),
])
def test_a_body_that_is_not_a_webhook_is_400(stack, body, reason):
    result = stack.sim.raw_webhook(body)
    assert result["status"] == 400 and reason in result["body"]


def test_an_oversized_body_is_413(stack):
    huge = json.dumps({"destination": "U1", "events": [], "padding": "x" * 1_200_000})
    result = stack.sim.raw_webhook(huge)
    assert result["status"] == 413


def test_the_console_verify_button_gets_200(stack):
    assert stack.sim.raw_webhook({"destination": "U" + "0" * 32, "events": []})["status"] == 200


def test_an_unknown_event_type_is_stored_and_ignored_with_200(stack):
    event = {"type": "somethingNew", "mode": "active", "timestamp": 1_764_000_000_000,
             "source": {"type": "user", "userId": "U" + "2" * 32}, "webhookEventId": "01UNKNOWNTYPE0000000000000",
             "deliveryContext": {"isRedelivery": False}}
    assert stack.sim.raw_webhook({"destination": "U" + "0" * 32, "events": [event]})["status"] == 200
    stack.settle()
    [stored] = events(stack)
    assert stored.status == DONE and stored.outcome == "ignored:somethingNew"
    assert outbox_rows(stack) == []


def test_health_check_says_the_database_answers(stack):
    response = requests.get(stack.bot_server.url + "/healthz", timeout=5)
    assert response.status_code == 200 and response.json()["database"] == "ok"


def test_a_500_then_200_delivers_once(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    stack.sim.set_fault("status", "push", status=500, times=1)
    push_now(stack, user)
    stack.settle()
    assert stack.sim.texts(user)[before:] == []
    [row] = [r for r in outbox_rows(stack) if r.kind == "push"]
    assert row.status == "pending" and row.last_status == 500
    stack.clock.advance(seconds=2)
    stack.settle()
    assert stack.sim.texts(user)[before:] == ["お知らせです"]
    keys = [r["retryKey"] for r in stack.sim.requests_log("push")]
    assert keys == [row.retry_key, row.retry_key]


def test_a_connection_dropped_after_acceptance_is_retried_with_409_and_delivered_once(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    stack.sim.set_fault("drop_after_accept", "push", times=1)
    push_now(stack, user)
    stack.settle()
    stack.clock.advance(seconds=2)
    stack.settle()
    assert stack.sim.texts(user)[before:] == ["お知らせです"]
    assert [r["status"] for r in stack.sim.requests_log("push")][-1] == 409
    [row] = [r for r in outbox_rows(stack) if r.kind == "push"]
    assert row.status == "sent" and row.last_status == 409


def test_a_429_with_retry_after_waits_then_sends(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    stack.sim.set_fault("status", "push", status=429, retry_after=30, times=1)
    push_now(stack, user)
    stack.settle()
    stack.clock.advance(seconds=29)
    stack.settle()
    assert stack.sim.texts(user)[before:] == []
    assert len(stack.sim.requests_log("push")) == 1
    stack.clock.advance(seconds=1)
    stack.settle()
    assert stack.sim.texts(user)[before:] == ["お知らせです"]


def test_the_monthly_limit_is_not_retried_in_a_loop_but_replies_still_go(stack):
    user = stack.new_user()
    stack.settle()
    stack.sim.set_fault("monthly_quota", "push")
    push_now(stack, user)
    stack.settle()
    stack.clock.advance(minutes=30)
    stack.settle()
    assert len(stack.sim.requests_log("push")) == 1
    stack.sim.send_text(user, "もしもし")
    stack.settle()
    assert stack.sim.texts(user)[-2:] == CONSENT_ASKED  # a reply costs no quota


def test_an_expired_reply_token_is_delivered_by_push(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    replies_before = len(stack.sim.requests_log("reply"))
    stack.sim.send_text(user, "こんにちは")
    stack.worker.run_until_idle()
    stack.clock.advance(seconds=70)  # the bot was slow: the token is stale
    stack.settle()
    delivered = stack.sim.messages(user)[before:]
    assert [(m["via"], m["message"]["text"]) for m in delivered] == [("push", t) for t in CONSENT_ASKED]
    # Known stale by our own clock, so LINE is not even asked to take the reply.
    assert len(stack.sim.requests_log("reply")) == replies_before


def test_a_reply_token_refused_by_line_falls_back_to_push(stack):
    user = stack.new_user()
    stack.settle()
    before = len(stack.sim.messages(user))
    stack.sim.send_text(user, "こんにちは")
    stack.worker.run_until_idle()
    stack.sim.expire_reply_tokens()  # LINE says the token is invalid although ours looks fresh
    stack.settle()
    delivered = stack.sim.messages(user)[before:]
    assert [(m["via"], m["message"]["text"]) for m in delivered] == [("push", t) for t in CONSENT_ASKED]
    assert stack.sim.requests_log("reply")[-1]["status"] == 400


def test_a_multicast_to_1200_goes_in_three_requests(stack):
    users = [f"U{n:032x}" for n in range(1200)]
    with transaction(stack.sessions) as session:
        created = outbox.enqueue_multicast(session, user_ids=users, messages=[{"type": "text", "text": "会議のお知らせ"}],
                                           now=stack.clock.now(), dedupe_key="meeting:1:reminder")
        again = outbox.enqueue_multicast(session, user_ids=users, messages=[{"type": "text", "text": "会議のお知らせ"}],
                                         now=stack.clock.now(), dedupe_key="meeting:1:reminder")
    assert (created, again) == (3, 0)
    stack.settle()
    log = stack.sim.requests_log("multicast")
    assert [r["status"] for r in log] == [200, 200, 200]
    assert sorted(r["recipients"] for r in log) == [200, 500, 500]


def test_a_sticker_gets_a_kind_answer(stack):
    user = stack.new_user()
    stack.settle()
    stack.sim.sticker(user)
    stack.settle()
    assert stack.sim.texts(user)[-1] == RESIDENT["not_text"]
    labels = [i["action"]["label"] for i in stack.sim.messages(user)[-1]["message"]["quickReply"]["items"]]
    assert RESIDENT["menu_ask"] in labels


def test_an_event_in_standby_mode_is_stored_but_never_answered(stack):
    event = {"type": "message", "mode": "standby", "timestamp": 1_764_000_000_000,
             "source": {"type": "user", "userId": "U" + "3" * 32}, "webhookEventId": "01STANDBY000000000000000000",
             "deliveryContext": {"isRedelivery": False},
             "message": {"type": "text", "id": "1", "quoteToken": "q", "text": "hello"}}
    assert stack.sim.raw_webhook({"destination": "U" + "0" * 32, "events": [event]})["status"] == 200
    stack.settle()
    assert [e.outcome for e in events(stack)] == ["standby"]
    assert outbox_rows(stack) == []


def test_a_message_that_breaks_lines_limits_is_refused_before_it_is_stored(stack):
    from bot.line_limits import MessageLimitError

    with pytest.raises(MessageLimitError):
        with transaction(stack.sessions) as session:
            outbox.enqueue_push(session, user_id="U" + "4" * 32, now=stack.clock.now(),
                                messages=[{"type": "text", "text": "x"}] * 6)
    assert outbox_rows(stack) == []
