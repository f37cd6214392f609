"""LINE's own sample events (line-bot-sdk-python's webhook.json), signed: 200, stored, no crash."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.inbox import DONE, InboundEvent
from tests.conftest import SHARED_LINE

SAMPLES = SHARED_LINE / "sdk-webhook-samples.json"
pytestmark = pytest.mark.skipif(not SAMPLES.exists(),
                                reason=f"{SAMPLES} is absent (a clone outside the workspace)")


def load_samples() -> dict:
    """The samples, each given its own webhookEventId: the SDK fixture reuses one id for all 28,
    and LINE's id is what makes an event unique (a reused id is a redelivery)."""
    body = json.loads(SAMPLES.read_text(encoding="utf-8"))
    for n, event in enumerate(body["events"]):
        event["webhookEventId"] = f"{event['webhookEventId']}-{n:02d}"
    return body


def test_every_sample_event_is_accepted_stored_and_handled_without_a_crash(stack):
    body = load_samples()
    result = stack.sim.raw_webhook(body)
    assert result["status"] == 200, result
    stack.settle()
    with stack.sessions() as session:
        stored = list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))
    assert sorted(e.webhook_event_id for e in stored) == sorted(e["webhookEventId"] for e in body["events"])
    outcomes = {e.webhook_event_id: (e.status, e.outcome, e.last_error) for e in stored}
    assert all(status == DONE for status, _, _ in outcomes.values()), outcomes
    by_type = {e.event_type: e.outcome for e in stored}
    assert by_type["undefined"].startswith("ignored")
    assert by_type["follow"] == "greeted"


def test_the_samples_redelivered_event_is_stored_once(stack):
    body = load_samples()
    redelivered = [e for e in body["events"] if e.get("deliveryContext", {}).get("isRedelivery")]
    assert redelivered, "the sample set has a redelivered event"
    for _ in range(2):
        assert stack.sim.raw_webhook({"destination": body["destination"], "events": redelivered})["status"] == 200
    with stack.sessions() as session:
        assert len(list(session.scalars(select(InboundEvent)))) == len(redelivered)
