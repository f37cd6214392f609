"""Logs are JSON lines and never carry a token, a signature or what a person wrote."""
from __future__ import annotations

import json

import structlog

from domain.logs import configure_logging


def test_a_whole_exchange_logs_no_secret_and_no_text(stack, capsys):
    configure_logging("DEBUG")
    try:
        user = stack.new_user()
        sent = stack.sim.send_text(user, "秘密の相談です：年金の通帳がみつからない")
        stack.sim.raw_webhook({"destination": "U" + "0" * 32, "events": []}, signature="bad")
        stack.settle()
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert {"webhook.stored", "event.handled", "webhook.bad_signature"} <= {r["event"] for r in records}
    for secret in ("秘密の相談", sent["replyToken"], "test-channel-access-token", "test-channel-secret"):
        assert secret not in err


def test_a_key_named_like_a_secret_is_redacted(capsys):
    configure_logging("INFO")
    try:
        structlog.get_logger("t").info("oops", reply_token="abc123", text="わたしの住所")
    finally:
        structlog.reset_defaults()
    record = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert record["reply_token"] == "[redacted]" and record["text"] == "[redacted]"
