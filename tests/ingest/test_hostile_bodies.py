"""Validly signed hostile bodies: each gets 400 naming the field at fault (or 200), never 500,
and an innocent request sharing a group commit with a faulty one is still stored."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.inbox import GroupCommit, InboundEvent
from tests.ingest.conftest import sample_body

UID = "U" + "a" * 32


def event(n: int = 1, **changes) -> dict:
    base = {"type": "message", "mode": "active", "timestamp": 1_764_000_000_000 + n,
            "source": {"type": "user", "userId": UID}, "webhookEventId": f"01HOSTILE{n:017d}",
            "deliveryContext": {"isRedelivery": False}, "replyToken": f"token{n}",
            "message": {"type": "text", "id": str(n), "quoteToken": "q", "text": "こんにちは"}}
    base.update(changes)
    return base


def body(*events: dict, destination: str = "Udest") -> str:
    """JSON text; NaN, Infinity and lone surrogates stay as Python writes them (escaped)."""
    return json.dumps({"destination": destination, "events": list(events)})


def nested(depth: int) -> str:
    return '{"destination":"U","events":[{"type":"message","webhookEventId":"01DEEP",' \
           '"message":' + "[" * depth + "]" * depth + "}]}"


# (why, body, status, words the answer must contain)
CORPUS = [
    ("source a string", body(event(source="Uabc")), 400, "events[0].source"),
    ("source a list", body(event(source=[UID])), 400, "events[0].source"),
    ("deliveryContext a string", body(event(deliveryContext="redelivery")), 400, "deliveryContext"),
    ("deliveryContext a number", body(event(deliveryContext=1)), 400, "deliveryContext"),
    ("isRedelivery a string", body(event(deliveryContext={"isRedelivery": "yes"})), 400, "isRedelivery"),
    ("timestamp a string", body(event(timestamp="1764000000000")), 400, "timestamp"),
    ("timestamp NaN", body(event(timestamp=float("nan"))), 400, "NaN"),
    ("timestamp Infinity", body(event(timestamp=float("inf"))), 400, "Infinity"),
    ("timestamp -Infinity", body(event(timestamp=float("-inf"))), 400, "Infinity"),
    ("timestamp 1e400", body(event()).replace("1764000000001", "1e400"), 400, "out of range"),
    ("timestamp 2^63", body(event(timestamp=2 ** 63)), 400, "timestamp"),
    ("timestamp 2^64", body(event(timestamp=2 ** 64)), 400, "timestamp"),
    ("timestamp past year 9999", body(event(timestamp=253_402_300_800_000)), 400, "timestamp"),
    ("timestamp negative", body(event(timestamp=-1)), 400, "timestamp"),
    ("timestamp a boolean", body(event(timestamp=True)), 400, "timestamp"),
    ("timestamp a fraction", body(event(timestamp=1.5)), 400, "timestamp"),
    ("an integer of 5000 digits", body(event()).replace("1764000000001", "9" * 5000), 400, "JSON"),
    ("NUL in the text", body(event(message={"type": "text", "id": "1", "text": "a\x00b"})), 400,
     "events[0].message.text contains NUL"),
    ("NUL in a key", body(event(extra={"a\x00": 1})), 400, "NUL"),
    ("NUL in the destination", body(event(), destination="U\x00"), 400, "destination contains NUL"),
    ("lone surrogate in the text", body(event(message={"type": "text", "id": "1", "text": "\ud800"})), 400,
     "lone surrogate"),
    ("lone surrogate in the user id", body(event(source={"type": "user", "userId": "U\udfff"})), 400,
     "events[0].source.userId contains a lone surrogate"),
    ("destination over 64", body(event(), destination="U" * 65), 400, "destination is longer than 64"),
    ("user id over 64", body(event(source={"type": "user", "userId": "U" * 65})), 400, "userId"),
    ("group id a number", body(event(source={"type": "group", "groupId": 5})), 400, "groupId"),
    ("event id over 64", body(event(webhookEventId="0" * 65)), 400, "webhookEventId"),
    ("event id empty", body(event(webhookEventId="")), 400, "webhookEventId"),
    ("event id missing", body({k: v for k, v in event().items() if k != "webhookEventId"}), 400, "webhookEventId"),
    ("type over 40", body(event(type="m" * 41)), 400, "events[0].type"),
    ("type a number", body(event(type=1)), 400, "events[0].type"),
    ("message a string", body(event(message="hello")), 400, "events[0].message"),
    ("postback a list", body(event(postback=["a"])), 400, "events[0].postback"),
    ("nesting 1,000 deep", nested(1000), 400, "nests deeper"),
    ("nesting 100,000 deep", nested(100_000), 400, "nests deeper"),
    ("events not a list", '{"events": {}}', 400, "events"),
    ("an event a string", '{"events": ["x"]}', 400, "events[0] is not an object"),
    ("a list at the top", "[]", 400, "events"),
    ("not JSON", "{", 400, "not JSON"),
    ("nothing", "", 400, "not JSON"),
    # Storable after all: 200.
    ("brackets inside strings", body(event(message={"type": "text", "id": "1", "text": "[" * 5000})), 200, "OK"),
    ("one event twice in one request", body(event(), event()), 200, "OK"),
    ("no events (LINE's verification)", body(), 200, "OK"),
    ("an unknown event type", body(event(type="somethingNew")), 200, "OK"),
    ("a surrogate pair (an emoji, escaped)", body(event(message={"type": "text", "id": "1", "text": "😀"})), 200, "OK"),
]


@pytest.mark.parametrize("why,raw,status,words", CORPUS, ids=[c[0] for c in CORPUS])
def test_a_hostile_body_gets_400_naming_the_field_or_200_never_500(module_webhook, why, raw, status, words):
    answer = module_webhook.post(raw)
    assert answer.status_code == status, (why, answer.get_json())
    assert words in answer.get_json()["message"]


def test_bodies_that_are_not_utf8_are_400(module_webhook):
    raw = b'{"events":[],"destination":"\xff"}'
    answer = module_webhook.post(raw)
    assert answer.status_code == 400 and "UTF-8" in answer.get_json()["message"]


def test_the_corpus_stores_nothing_from_a_refused_body_and_lines_samples_go_through(webhook, services):
    for _why, raw, status, _words in CORPUS:
        if status == 400:
            webhook.post(raw)
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(InboundEvent)).scalar() == 0
    samples = sample_body()
    assert webhook.post(samples).status_code == 200
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(InboundEvent)).scalar() == len(samples["events"])


@pytest.mark.parametrize("fault", ["missing id", "lone surrogate", "text, not a list"])
def test_a_faulty_request_in_a_group_commit_fails_alone_and_lines_samples_beside_it_are_stored(
        services, fault):
    """Requests that slipped past the parser (the writer is handed raw events) still fail alone."""
    bad = event(9)
    if fault == "missing id":
        del bad["webhookEventId"]
    elif fault == "lone surrogate":
        bad["message"]["text"] = "\udc80"
    writer = GroupCommit(services.engine, services.clock, start=False)
    first = sample_body("a")
    second = sample_body("b")
    innocent_before = writer.submit(first["destination"], first["events"])
    faulty = writer.submit("Udest", "not a list" if fault == "text, not a list" else [bad])
    innocent_after = writer.submit(second["destination"], second["events"])
    writer.start()  # all three are queued: they share the first commit
    assert innocent_before.result(10) == len(first["events"])
    assert innocent_after.result(10) == len(second["events"])
    with pytest.raises(Exception):
        faulty.result(10)
    with services.engine.connect() as conn:
        stored = set(conn.execute(select(InboundEvent.webhook_event_id)).scalars())
    assert stored == {e["webhookEventId"] for e in first["events"] + second["events"]}
    assert writer.store("Udest", [event(10)]) == 1  # and the writer goes on
