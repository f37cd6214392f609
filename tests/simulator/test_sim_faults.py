"""Faults switched on at runtime: error statuses, rate and quota limits, latency, dropped connections."""
from __future__ import annotations

import time
import uuid

import pytest
import requests


def push_body(uid: str, t: str = "x") -> dict:
    return {"to": uid, "messages": [{"type": "text", "text": t}]}


def test_500_once_then_200(sim):
    uid = sim.friend()
    sim.client.set_fault("status", "push", status=500, times=1)
    first = sim.api("push", push_body(uid))
    assert first.status_code == 500 and "message" in first.json()
    assert sim.api("push", push_body(uid)).status_code == 200
    assert len(sim.client.messages(uid)) == 1
    assert [e["status"] for e in sim.client.requests_log("push")] == [500, 200]


def test_429_with_retry_after(sim):
    uid = sim.friend()
    sim.client.set_fault("status", "push", status=429, retry_after=2, times=1)
    r = sim.api("push", push_body(uid))
    assert r.status_code == 429
    assert r.json() == {"message": "Too many requests"}
    assert r.headers["Retry-After"] == "2"
    assert sim.api("push", push_body(uid)).status_code == 200


def test_monthly_quota_hits_push_but_not_reply(sim):
    uid = sim.friend()
    sim.client.set_fault("monthly_quota")  # until cleared
    for _ in range(2):
        r = sim.api("push", push_body(uid))
        assert r.status_code == 429
        assert r.json() == {"message": "You have reached your monthly limit."}
    token = sim.client.send_text(uid, "hi")["replyToken"]
    assert sim.api("reply", {"replyToken": token, "messages": [{"type": "text", "text": "ok"}]}).status_code == 200
    sim.client.clear_faults()
    assert sim.api("push", push_body(uid)).status_code == 200


def test_fault_on_one_endpoint_leaves_others(sim):
    uid = sim.friend()
    sim.client.set_fault("status", "multicast", status=503)
    assert sim.api("push", push_body(uid)).status_code == 200
    assert sim.api("multicast", {"to": [uid], "messages": [{"type": "text", "text": "x"}]}).status_code == 503


def test_latency(sim):
    uid = sim.friend()
    sim.client.set_fault("latency", "push", ms=60, times=1)
    started = time.monotonic()
    assert sim.api("push", push_body(uid)).status_code == 200
    assert time.monotonic() - started >= 0.06
    sim.api("push", push_body(uid))
    [fault] = sim.http.get(f"{sim.url}/_sim/faults", timeout=5).json()["faults"]
    assert (fault["applied"], fault["times"]) == (1, 1)  # the second request was not delayed


def test_latency_beyond_client_timeout_is_a_timeout(sim):
    uid = sim.friend()
    sim.client.set_fault("latency", "push", ms=300, times=1)
    with pytest.raises(requests.Timeout):
        sim.api("push", push_body(uid), timeout=0.1)
    # The server still finishes the request (LINE may have sent it): wait for it to be logged
    # so it cannot leak into the next test.
    deadline = time.monotonic() + 2
    while not sim.client.requests_log("push") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.client.requests_log("push")[0]["status"] == 200
    assert len(sim.client.messages(uid)) == 1


def test_drop_after_accept_records_then_closes_the_connection(sim):
    uid = sim.friend()
    key = str(uuid.uuid4())
    sim.client.set_fault("drop_after_accept", "push", times=1)
    with pytest.raises(requests.ConnectionError):
        sim.api("push", push_body(uid, "一度だけ"), retry_key=key)
    # Accepted and delivered although the client saw no response...
    assert [m["message"]["text"] for m in sim.client.messages(uid)] == ["一度だけ"]
    # ...so the retry with the same key is a 409, and nothing is delivered twice.
    retry = sim.api("push", push_body(uid, "一度だけ"), retry_key=key)
    assert retry.status_code == 409
    assert len(sim.client.messages(uid)) == 1
    log = sim.client.requests_log("push")
    assert log[0]["dropped"] is True and log[1]["status"] == 409


def test_drop_after_accept_on_reply_consumes_the_token(sim):
    uid = sim.friend()
    token = sim.client.send_text(uid, "hi")["replyToken"]
    sim.client.set_fault("drop_after_accept", "reply", times=1)
    body = {"replyToken": token, "messages": [{"type": "text", "text": "返信"}]}
    with pytest.raises(requests.ConnectionError):
        sim.api("reply", body)
    assert sim.api("reply", body).json() == {"message": "Invalid reply token"}
    assert len(sim.client.messages(uid)) == 1


def test_bad_fault_specs_are_refused(sim):
    for spec in ({"kind": "explode"}, {"kind": "status"}, {"kind": "status", "status": 200},
                 {"kind": "latency"}, {"kind": "status", "status": 500, "endpoint": "broadcast"},
                 {"kind": "status", "status": 500, "times": 0}):
        assert sim.http.post(f"{sim.url}/_sim/faults", json=spec).status_code == 400, spec
