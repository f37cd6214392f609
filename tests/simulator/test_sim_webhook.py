"""Webhook events: LINE's shape, a signature the SDK accepts, redelivery, raw bodies."""
from __future__ import annotations

import json
import re

import requests
from linebot.v3 import SignatureValidator, WebhookParser
from linebot.v3.webhooks import (FollowEvent, LocationMessageContent, MessageEvent, PostbackEvent,
                                 StickerMessageContent, TextMessageContent, UnfollowEvent,
                                 ImageMessageContent)

ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_signature_is_verifiable_with_the_sdk(sim, receiver):
    sim.client.set_webhook_url(receiver.url)
    uid = sim.friend()
    result = sim.client.send_text(uid, "ゴミ出しを手伝ってほしい")
    assert result["status"] == 200 and result["body"] == "OK"
    [call] = receiver.calls
    raw = call["raw"]
    assert SignatureValidator(sim.secret).validate(raw.decode("utf-8"), call["headers"]["X-Line-Signature"])
    assert not SignatureValidator("other-secret").validate(raw.decode("utf-8"), call["headers"]["X-Line-Signature"])
    assert "ゴミ出し".encode("utf-8") in raw  # raw UTF-8, not \\u escapes


def test_events_have_lines_shape_and_parse_with_the_sdk(sim, receiver):
    sim.client.set_webhook_url(receiver.url)
    uid = sim.client.create_user("山田")["userId"]
    results = [sim.client.follow(uid), sim.client.send_text(uid, "こんにちは"),
               sim.client.send_postback(uid, "action=accept&id=1", params={"date": "2025-04-02"}),
               sim.client.send_location(uid, 35.68, 139.76, title="公民館", address="東京都"),
               sim.client.sticker(uid), sim.client.image(uid), sim.client.unfollow(uid)]
    parser = WebhookParser(sim.secret)
    events = []
    for call in receiver.calls:
        raw = call["raw"].decode("utf-8")
        body = json.loads(raw)
        assert re.match(r"^U[0-9a-f]{32}$", body["destination"])
        [event] = body["events"]
        assert event["mode"] == "active"
        assert event["source"] == {"type": "user", "userId": uid}
        assert ULID_RE.match(event["webhookEventId"])
        assert event["deliveryContext"] == {"isRedelivery": False}
        assert isinstance(event["timestamp"], int)
        events.extend(parser.parse(raw, call["headers"]["X-Line-Signature"]))
    kinds = [type(e) for e in events]
    assert kinds == [FollowEvent, MessageEvent, PostbackEvent, MessageEvent, MessageEvent,
                     MessageEvent, UnfollowEvent]
    assert events[0].follow.is_unblocked is False
    assert isinstance(events[1].message, TextMessageContent) and events[1].message.text == "こんにちは"
    assert events[1].message.quote_token
    assert events[2].postback.data == "action=accept&id=1" and events[2].postback.params == {"date": "2025-04-02"}
    assert isinstance(events[3].message, LocationMessageContent) and events[3].message.title == "公民館"
    assert isinstance(events[4].message, StickerMessageContent)
    assert isinstance(events[5].message, ImageMessageContent)
    # Reply tokens on everything but unfollow, and the control API reports the same token.
    assert [r["replyToken"] is not None for r in results] == [True] * 6 + [False]
    assert events[1].reply_token == results[1]["replyToken"]
    # Refollowing after a block is an unblock.
    sim.client.follow(uid)
    last = json.loads(receiver.calls[-1]["raw"])["events"][0]
    assert last["follow"] == {"isUnblocked": True}


def test_the_bot_can_reply_while_handling_the_webhook(sim, receiver):
    """The simulator is threaded: the bot may call reply before answering the webhook."""
    sim.client.set_webhook_url(receiver.url)
    uid = sim.friend()

    def reply(body):
        for event in body["events"]:
            sim.api("reply", {"replyToken": event["replyToken"],
                              "messages": [{"type": "text", "text": "受け付けました"}]})
    receiver.on_body = reply
    assert sim.client.send_text(uid, "依頼")["status"] == 200
    assert sim.client.texts(uid) == ["受け付けました"]


def test_redelivery_keeps_the_event_id(sim, receiver):
    sim.client.set_webhook_url(receiver.url)
    uid = sim.friend()
    receiver.status = 500
    first = sim.client.send_text(uid, "もしもし")
    assert first["status"] == 500
    receiver.status = 200
    again = sim.client.redeliver(first["webhookEventId"])
    assert again["status"] == 200
    original, redelivered = (json.loads(c["raw"])["events"][0] for c in receiver.calls)
    assert redelivered["webhookEventId"] == original["webhookEventId"] == first["webhookEventId"]
    assert redelivered["deliveryContext"] == {"isRedelivery": True}
    assert original["deliveryContext"] == {"isRedelivery": False}
    assert redelivered["message"] == original["message"]


def test_raw_webhook_with_bad_and_missing_signatures(sim, receiver):
    sim.client.set_webhook_url(receiver.url)
    body = {"destination": "U" + "1" * 32, "events": []}
    sim.client.raw_webhook(body)
    sim.client.raw_webhook(body, signature="bad")
    sim.client.raw_webhook("not json at all", signature="missing")
    good, bad, missing = receiver.calls
    validator = SignatureValidator(sim.secret)
    assert validator.validate(good["raw"].decode(), good["headers"]["X-Line-Signature"])
    assert not validator.validate(bad["raw"].decode(), bad["headers"]["X-Line-Signature"])
    assert "X-Line-Signature" not in missing["headers"] and missing["raw"] == b"not json at all"


def test_unreachable_webhook_is_reported_not_raised(sim):
    sim.client.set_webhook_url("http://127.0.0.1:9/callback")
    uid = sim.friend()
    result = sim.client.send_text(uid, "x")
    assert result["status"] is None and result["error"].startswith("connection_error")
    assert result["replyToken"]


def test_blocked_user_cannot_send(sim):
    uid = sim.client.create_user()["userId"]
    r = requests.post(f"{sim.url}/_sim/users/{uid}/events", json={"type": "text", "text": "x"}, timeout=5)
    assert r.status_code == 409  # never followed
    sim.client.follow(uid)
    sim.client.unfollow(uid)
    r = requests.post(f"{sim.url}/_sim/users/{uid}/events", json={"type": "text", "text": "x"}, timeout=5)
    assert r.status_code == 409


def test_sent_image_content_is_downloadable(sim):
    uid = sim.friend()
    sim.client.image(uid)
    conversation = requests.get(f"{sim.url}/_sim/users/{uid}/conversation", timeout=5).json()
    message_id = conversation["entries"][-1]["event"]["message"]["id"]
    r = requests.get(f"{sim.url}/v2/bot/message/{message_id}/content",
                     headers={"Authorization": f"Bearer {sim.token}"}, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"


def test_chat_page_is_served_in_utf8(sim):
    r = requests.get(f"{sim.url}/?users=U1,U2", timeout=5)
    assert r.status_code == 200
    assert "charset=utf-8" in r.headers["Content-Type"].lower()
    assert '<meta charset="utf-8">' in r.text and "シミュレーター" in r.text
    for asset in ("app.js", "flex.js", "style.css"):
        assert requests.get(f"{sim.url}/static/{asset}", timeout=5).status_code == 200


def test_a_kept_alive_connection_the_bot_closed_is_tried_once_more_on_a_new_one():
    """The bot's server closes idle kept-alive connections; a delivery that meets one just as it
    closes is sent again on a new connection, not reported as the bot's failure."""
    import socket
    import threading

    from linesim.webhook import post

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    seen = []

    def serve():
        for n in range(2):
            conn, _ = listener.accept()
            seen.append(conn.recv(65536).split(b"\r\n", 1)[0])
            if n == 1:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
            conn.close()  # the first: closed without an answer

    threading.Thread(target=serve, daemon=True).start()
    result = post(f"http://127.0.0.1:{port}/callback", b"{}", "sig")
    listener.close()
    assert result == {"status": 200, "body": "OK", "error": None}
    assert seen == [b"POST /callback HTTP/1.1"] * 2


def test_a_bot_that_never_answers_is_reported_after_one_more_try():
    import socket
    import threading

    from linesim.webhook import post

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    result = post(f"http://127.0.0.1:{port}/callback", b"{}", "sig")
    listener.close()
    assert result["status"] is None and result["error"] == "connection_error: ProtocolError"
