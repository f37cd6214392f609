"""The simulator refuses what LINE refuses: auth, message counts, lengths, action limits."""
from __future__ import annotations

import pytest
from linebot.v3.messaging import (ApiClient, ApiException, Configuration, MessagingApi,
                                  PushMessageRequest, TextMessage)

USER = "U" + "0" * 32


def text(t: str, **extra) -> dict:
    return {"type": "text", "text": t, **extra}


def quick_reply(n: int, label: str = "はい", data: str = "a=1") -> dict:
    return {"items": [{"type": "action", "action": {"type": "postback", "label": label, "data": data}}
                      for _ in range(n)]}


def properties(response) -> list[str]:
    return [d["property"] for d in response.json().get("details", [])]


def test_accepts_a_plain_push_and_answers_like_line(sim):
    r = sim.api("push", {"to": USER, "messages": [text("こんにちは")]})
    assert r.status_code == 200
    assert r.headers["x-line-request-id"]
    [sent] = r.json()["sentMessages"]
    assert sent["id"].isdigit() and sent["quoteToken"]


def test_bad_or_missing_token_is_401(sim):
    r = sim.api("push", {"to": USER, "messages": [text("x")]}, token="wrong")
    assert r.status_code == 401
    assert r.json() == {"message": "Authentication failed. Confirm that the access token in the "
                                   "authorization header is valid."}
    r = sim.http.post(f"{sim.url}/v2/bot/message/push", json={"to": USER, "messages": [text("x")]})
    assert r.status_code == 401
    assert sim.client.messages(USER) == []


def test_six_messages_are_refused(sim):
    r = sim.api("push", {"to": USER, "messages": [text(str(i)) for i in range(6)]})
    assert r.status_code == 400
    assert r.json() == {"message": "The request body has 1 error(s)",
                        "details": [{"message": "Size must be between 1 and 5", "property": "messages"}]}
    assert sim.api("push", {"to": USER, "messages": [text(str(i)) for i in range(5)]}).status_code == 200


def test_fourteen_quick_reply_items_are_refused(sim):
    r = sim.api("push", {"to": USER, "messages": [text("選んで", quickReply=quick_reply(14))]})
    assert r.status_code == 400
    assert properties(r) == ["messages[0].quickReply.items"]
    ok = sim.api("push", {"to": USER, "messages": [text("選んで", quickReply=quick_reply(13))]})
    assert ok.status_code == 200


def test_label_over_twenty_utf16_units_is_refused(sim):
    r = sim.api("push", {"to": USER, "messages": [text("x", quickReply=quick_reply(1, label="あ" * 21))]})
    assert r.status_code == 400
    assert properties(r) == ["messages[0].quickReply.items[0].action.label"]
    assert sim.api("push", {"to": USER, "messages": [
        text("x", quickReply=quick_reply(1, label="あ" * 20))]}).status_code == 200


def test_postback_data_over_300_is_refused(sim):
    r = sim.api("push", {"to": USER, "messages": [text("x", quickReply=quick_reply(1, data="d" * 301))]})
    assert r.status_code == 400
    assert properties(r) == ["messages[0].quickReply.items[0].action.data"]


def test_text_length_counts_utf16_units(sim):
    assert sim.api("push", {"to": USER, "messages": [text("a" * 5000)]}).status_code == 200
    r = sim.api("push", {"to": USER, "messages": [text("a" * 5001)]})
    assert r.status_code == 400 and properties(r) == ["messages[0].text"]
    # 2500 emoji outside the BMP are 2500 Python characters but 5000 UTF-16 units: accepted.
    assert sim.api("push", {"to": USER, "messages": [text("😀" * 2500)]}).status_code == 200
    # One more unit is over the limit although it is only 2501 characters.
    r = sim.api("push", {"to": USER, "messages": [text("😀" * 2500 + "a")]})
    assert r.status_code == 400


def test_multicast_recipients_one_to_five_hundred(sim):
    ids = [f"U{i:032x}" for i in range(501)]
    r = sim.api("multicast", {"to": ids, "messages": [text("x")]})
    assert r.status_code == 400 and properties(r) == ["to"]
    r = sim.api("multicast", {"to": ids[:500], "messages": [text("x")]})
    assert r.status_code == 200 and r.json() == {}
    assert sim.api("multicast", {"to": [], "messages": [text("x")]}).status_code == 400


def test_push_needs_a_valid_recipient(sim):
    assert properties(sim.api("push", {"messages": [text("x")]})) == ["to"]
    assert properties(sim.api("push", {"to": "someone", "messages": [text("x")]})) == ["to"]


@pytest.mark.parametrize("message, prop", [
    ({"type": "image", "originalContentUrl": "http://x/a.png", "previewImageUrl": "https://x/a.png"},
     "messages[0].originalContentUrl"),
    ({"type": "flex", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": []}}},
     "messages[0].altText"),
    ({"type": "flex", "altText": "a" * 1501, "contents": {"type": "bubble", "body": {
        "type": "box", "layout": "vertical", "contents": []}}}, "messages[0].altText"),
    ({"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": [
        {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": []}}] * 13}},
     "messages[0].contents.contents"),
    ({"type": "template", "altText": "a" * 401, "template": {"type": "confirm", "text": "ok?", "actions": [
        {"type": "message", "label": "はい", "text": "はい"}, {"type": "message", "label": "いいえ", "text": "いいえ"}]}},
     "messages[0].altText"),
    ({"type": "template", "altText": "x", "template": {"type": "buttons", "text": "t", "actions": [
        {"type": "uri", "label": "開く"}]}}, "messages[0].template.actions[0].uri"),
    ({"type": "template", "altText": "x", "template": {"type": "buttons", "text": "t", "actions": [
        {"type": "message", "label": "送る"}]}}, "messages[0].template.actions[0].text"),
    ({"type": "template", "altText": "x", "template": {"type": "buttons", "text": "t", "actions": [
        {"type": "message", "label": "a", "text": "a"}] * 5}}, "messages[0].template.actions"),
    ({"type": "flex", "altText": "x", "contents": {"type": "bubble", "footer": {
        "type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "postback", "label": "ラベルが長すぎるボタンです。二十文字を超えます", "data": "x"}}]}}},
     "messages[0].contents.footer.contents[0].action.label"),
    ({"type": "unknown"}, "messages[0].type"),
    ({"type": "sticker", "packageId": "1"}, "messages[0].stickerId"),
])
def test_message_objects_are_checked_by_type(sim, message, prop):
    r = sim.api("push", {"to": USER, "messages": [message]})
    assert r.status_code == 400, r.text
    assert prop in properties(r)
    assert r.json()["message"] == f"The request body has {len(properties(r))} error(s)"


def test_rich_messages_that_line_accepts_are_accepted(sim):
    bubble = {"type": "bubble",
              "header": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "見出し"}]},
              "hero": {"type": "image", "url": "https://example.com/a.png", "size": "full"},
              "body": {"type": "box", "layout": "vertical", "contents": [
                  {"type": "text", "text": "本文", "wrap": True}, {"type": "separator"}]},
              "footer": {"type": "box", "layout": "horizontal", "contents": [
                  {"type": "button", "style": "primary", "action": {"type": "postback", "label": "引き受ける", "data": "a=1", "displayText": "引き受けます"}},
                  {"type": "button", "action": {"type": "datetimepicker", "label": "日時", "data": "d", "mode": "datetime"}},
                  {"type": "button", "action": {"type": "uri", "label": "地図", "uri": "https://example.com"}}]}}
    messages = [
        {"type": "flex", "altText": "依頼があります", "contents": {"type": "carousel", "contents": [bubble] * 12}},
        {"type": "template", "altText": "確認", "template": {"type": "confirm", "text": "よろしいですか？", "actions": [
            {"type": "postback", "label": "はい", "data": "yes"}, {"type": "message", "label": "いいえ", "text": "いいえ"}]}},
        {"type": "location", "title": "公民館", "address": "東京都", "latitude": 35.0, "longitude": 139.0},
        {"type": "sticker", "packageId": "446", "stickerId": "1988"},
        {"type": "image", "originalContentUrl": "https://x/a.png", "previewImageUrl": "https://x/p.png"},
    ]
    r = sim.api("push", {"to": USER, "messages": messages})
    assert r.status_code == 200, r.text
    assert len(r.json()["sentMessages"]) == 5


def test_sdk_client_talks_to_the_simulator(sim):
    user = sim.friend("佐藤")
    config = Configuration(host=sim.url, access_token=sim.token)
    with ApiClient(config) as api_client:
        api = MessagingApi(api_client)
        response = api.push_message(PushMessageRequest(to=user, messages=[TextMessage(text="お知らせ")]),
                                    _request_timeout=5)
        assert response.sent_messages[0].id
        profile = api.get_profile(user, _request_timeout=5)
        assert profile.display_name == "佐藤"
        with pytest.raises(ApiException) as exc:
            api.push_message(PushMessageRequest(to=user, messages=[TextMessage(text="a" * 5001)]),
                             _request_timeout=5)
        assert exc.value.status == 400
    assert [m["message"]["text"] for m in sim.client.messages(user)] == ["お知らせ"]


def test_profile_of_unknown_or_blocked_user_is_404(sim):
    headers = {"Authorization": f"Bearer {sim.token}"}
    assert sim.http.get(f"{sim.url}/v2/bot/profile/{USER}", headers=headers).status_code == 404
    uid = sim.friend()
    assert sim.http.get(f"{sim.url}/v2/bot/profile/{uid}", headers=headers).status_code == 200
    sim.client.unfollow(uid)
    assert sim.http.get(f"{sim.url}/v2/bot/profile/{uid}", headers=headers).status_code == 404
