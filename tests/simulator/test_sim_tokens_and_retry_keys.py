"""Reply tokens are single use and expire; retry keys make push/multicast idempotent."""
from __future__ import annotations

import uuid

import pytest
from linebot.v3.messaging import (ApiClient, ApiException, Configuration, MessagingApi,
                                  PushMessageRequest, TextMessage)


def text(t: str) -> dict:
    return {"type": "text", "text": t}


@pytest.fixture
def token_for(sim):
    """A user who sent a message; returns (userId, replyToken)."""
    def make() -> tuple[str, str]:
        uid = sim.friend()
        event = sim.client.send_text(uid, "こんにちは")
        assert event["error"] == "no webhook URL configured"  # the event still exists
        return uid, event["replyToken"]
    return make


def test_reply_token_is_single_use(sim, token_for):
    uid, token = token_for()
    first = sim.api("reply", {"replyToken": token, "messages": [text("はい")]})
    assert first.status_code == 200 and first.json()["sentMessages"][0]["id"]
    again = sim.api("reply", {"replyToken": token, "messages": [text("もう一度")]})
    assert again.status_code == 400 and again.json() == {"message": "Invalid reply token"}
    assert [m["message"]["text"] for m in sim.client.messages(uid)] == ["はい"]
    assert [m["via"] for m in sim.client.messages(uid)] == ["reply"]


def test_unknown_reply_token_is_refused(sim):
    r = sim.api("reply", {"replyToken": "0" * 32, "messages": [text("x")]})
    assert r.status_code == 400 and r.json() == {"message": "Invalid reply token"}


def test_reply_token_expires_by_the_simulator_clock(sim, token_for):
    _, token = token_for()
    sim.client.advance_clock(61)
    r = sim.api("reply", {"replyToken": token, "messages": [text("遅い")]})
    assert r.status_code == 400 and r.json() == {"message": "Invalid reply token"}


def test_reply_token_still_valid_just_before_ttl(sim, token_for):
    _, token = token_for()
    sim.client.advance_clock(59)
    assert sim.api("reply", {"replyToken": token, "messages": [text("間に合う")]}).status_code == 200


def test_expire_all_reply_tokens(sim, token_for):
    _, token = token_for()
    assert sim.client.expire_reply_tokens() == 1
    assert sim.api("reply", {"replyToken": token, "messages": [text("x")]}).status_code == 400


def test_invalid_body_does_not_consume_the_token(sim, token_for):
    _, token = token_for()
    assert sim.api("reply", {"replyToken": token, "messages": []}).status_code == 400
    assert sim.api("reply", {"replyToken": token, "messages": [text("ok")]}).status_code == 200


def test_retry_key_is_refused_on_reply(sim, token_for):
    _, token = token_for()
    r = sim.api("reply", {"replyToken": token, "messages": [text("x")]}, retry_key=str(uuid.uuid4()))
    assert r.status_code == 400
    # The refused request did not use the token.
    assert sim.api("reply", {"replyToken": token, "messages": [text("x")]}).status_code == 200


def test_retry_key_must_be_a_uuid(sim):
    uid = sim.friend()
    r = sim.api("push", {"to": uid, "messages": [text("x")]}, retry_key="not-a-uuid")
    assert r.status_code == 400
    assert sim.client.messages(uid) == []


def test_reused_retry_key_is_409_and_delivered_once(sim):
    uid = sim.friend()
    key = str(uuid.uuid4())
    first = sim.api("push", {"to": uid, "messages": [text("お届け")]}, retry_key=key)
    assert first.status_code == 200
    second = sim.api("push", {"to": uid, "messages": [text("お届け")]}, retry_key=key)
    assert second.status_code == 409
    assert second.json()["message"] == "The retry key is already accepted"
    assert second.json()["sentMessages"] == first.json()["sentMessages"]
    assert second.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert [m["message"]["text"] for m in sim.client.messages(uid)] == ["お届け"]
    log = sim.client.requests_log("push")
    assert [(e["status"], e["retryKey"]) for e in log] == [(200, key), (409, key)]


def test_retry_key_on_multicast(sim):
    a, b = sim.friend("A"), sim.friend("B")
    key = str(uuid.uuid4())
    body = {"to": [a, b], "messages": [text("全員へ")]}
    assert sim.api("multicast", body, retry_key=key).status_code == 200
    assert sim.api("multicast", body, retry_key=key).status_code == 409
    assert len(sim.client.messages(a)) == len(sim.client.messages(b)) == 1
    assert sim.client.requests_log("multicast")[0]["recipients"] == 2


def test_refused_request_does_not_burn_the_retry_key(sim):
    uid = sim.friend()
    key = str(uuid.uuid4())
    assert sim.api("push", {"to": uid, "messages": []}, retry_key=key).status_code == 400
    assert sim.api("push", {"to": uid, "messages": [text("x")]}, retry_key=key).status_code == 200


def test_sdk_sees_409_on_a_reused_key(sim):
    uid = sim.friend()
    key = str(uuid.uuid4())
    with ApiClient(Configuration(host=sim.url, access_token=sim.token)) as api_client:
        api = MessagingApi(api_client)
        request = PushMessageRequest(to=uid, messages=[TextMessage(text="一度だけ")])
        api.push_message(request, x_line_retry_key=key, _request_timeout=5)
        with pytest.raises(ApiException) as exc:
            api.push_message(request, x_line_retry_key=key, _request_timeout=5)
    assert exc.value.status == 409
    assert len(sim.client.messages(uid)) == 1


def test_blocked_user_gets_200_but_no_delivery(sim):
    uid = sim.friend()
    sim.client.unfollow(uid)
    r = sim.api("push", {"to": uid, "messages": [text("届かない")]})
    assert r.status_code == 200
    assert sim.client.messages(uid) == []
    [undelivered] = sim.client.messages(uid, include_undelivered=True)
    assert undelivered["delivered"] is False


def test_push_to_unknown_but_valid_id_is_kept(sim):
    uid = "U" + "ab" * 16
    assert sim.api("push", {"to": uid, "messages": [text("x")]}).status_code == 200
    assert len(sim.client.messages(uid)) == 1


def test_messages_after_seq(sim):
    uid = sim.friend()
    sim.api("push", {"to": uid, "messages": [text("1"), text("2")]})
    first = sim.client.messages(uid)
    sim.api("push", {"to": uid, "messages": [text("3")]})
    newer = sim.client.messages(uid, after=first[-1]["seq"])
    assert [m["message"]["text"] for m in newer] == ["3"]
