"""Erasure in the outbox: what is not yet sent about them goes; a multicast goes on without them."""
from __future__ import annotations

import json

from sqlalchemy import select

from bot import outbox
from bot.outbox import OutboxMessage
from domain import people, personal_data
from domain.db import transaction

A, B, C = ("U" + c * 32 for c in "abc")


def test_a_multicast_goes_on_without_them_and_a_sent_one_keeps_no_id(sessions, clock):
    now = clock.now()
    with transaction(sessions) as s:
        for user in (A, B, C):
            people.get_or_create_person(s, user, now)
        outbox.enqueue_multicast(s, user_ids=[A, B], messages=[{"type": "text", "text": "会議のお知らせ"}], now=now)
        outbox.enqueue_multicast(s, user_ids=[A, C], messages=[{"type": "text", "text": "会議のお知らせ"}], now=now)
        outbox.enqueue_push(s, user_id=A, messages=[{"type": "text", "text": "あなたへ"}], now=now)
        outbox.enqueue_push(s, user_id=B, messages=[{"type": "text", "text": f"連絡先：{A}"}], now=now)
        s.flush()
        sent = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[1]
        sent.status = "sent"
    with transaction(sessions) as s:
        person = people.find_by_line_id(s, A)
        personal_data.erase(s, person, now, key=b"k")
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.kind, r.status) for r in rows] == [("multicast", "pending"), ("multicast", "sent")]
    assert json.loads(rows[0].recipients) == [B] and "会議のお知らせ" in rows[0].messages
    kept = json.loads(rows[1].recipients)
    assert kept[1] == C and kept[0] == personal_data.pseudonym(b"k", A) and rows[1].messages == "[]"


def test_a_short_name_does_not_touch_what_others_have_not_yet_received(sessions, clock):
    from domain import needs
    from domain.models import Area, Need

    now = clock.now()
    with transaction(sessions) as s:
        area = Area(code="c", name="市", layer="city")
        s.add(area)
        s.flush()
        hana = people.get_or_create_person(s, A, now)
        people.record_consent(hana, True, now)
        people.set_profile(hana, now, display_name="はな")
        other = people.get_or_create_person(s, B, now)
        people.record_consent(other, True, now)
        needs.create_need(s, person=other, category="talk", area=area.id, now=now, words="はなしあいてがほしい")
        outbox.enqueue_push(s, user_id=B, messages=[{"type": "text", "text": "はなしあいての件です"}], now=now)
        outbox.enqueue_push(s, user_id=C, messages=[{"type": "text", "text": f"はなさん（{A}）の件です"}], now=now)
    with transaction(sessions) as s:
        personal_data.erase(s, people.find_by_line_id(s, A), now, key=b"k")
    with sessions() as s:
        assert s.scalars(select(Need.words)).all() == ["はなしあいてがほしい"]
        assert [r.to_user for r in s.scalars(select(OutboxMessage))] == [B]  # the one naming her by id went
