"""Our own check of LINE's limits refuses what LINE refuses, before anything is stored."""
from __future__ import annotations

import pytest

from bot.line_limits import MessageLimitError, check_messages, check_recipients, utf16_len


def text(t="こんにちは", **extra):
    return {"type": "text", "text": t, **extra}


def quick(n, label="はい"):
    return {"items": [{"type": "action", "action": {"type": "message", "label": label, "text": "x"}}] * n}


@pytest.mark.parametrize("messages", [
    [text()],
    [text()] * 5,
    [text("あ" * 5000)],
    [text("🙂" * 2500)],  # 2 UTF-16 units each: exactly 5000
    [text(quickReply=quick(13))],
    [text(quickReply=quick(1, "あ" * 20))],
])
def test_accepted(messages):
    check_messages(messages)


@pytest.mark.parametrize("messages, fragment", [
    ([], "1–5"),
    ([text()] * 6, "1–5"),
    ([text("あ" * 5001)], "5000"),
    ([text("🙂" * 2501)], "5000"),
    ([text(quickReply=quick(14))], "13"),
    ([text(quickReply=quick(1, "あ" * 21))], "label"),
    ([{"type": "text", "text": ""}], "required"),
    ([{"type": "flex", "altText": "", "contents": {"type": "bubble"}}], "altText"),
    ([{"type": "flex", "altText": "a" * 1501, "contents": {"type": "bubble"}}], "1500"),
    ([{"type": "flex", "altText": "a", "contents": {"type": "carousel", "contents": [{"type": "bubble"}] * 13}}], "bubbles"),
    ([{"type": "flex", "altText": "a", "contents": {"type": "bubble", "footer": {"type": "box", "layout": "vertical", "contents": [
        {"type": "button", "action": {"type": "postback", "label": "ok", "data": "x" * 301}}]}}}], "data"),
    ([{"type": "smoke"}], "not a LINE message type"),
])
def test_refused(messages, fragment):
    with pytest.raises(MessageLimitError, match=fragment):
        check_messages(messages)


def test_utf16_counts_surrogate_pairs():
    assert utf16_len("a🙂") == 3


def test_recipients_must_be_user_ids():
    check_recipients(["U" + "0" * 32])
    with pytest.raises(MessageLimitError):
        check_recipients([])
    with pytest.raises(MessageLimitError):
        check_recipients(["not-a-user"])
