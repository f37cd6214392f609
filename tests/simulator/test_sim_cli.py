"""The standalone entry point refuses to start without credentials and reads them from env."""
from __future__ import annotations

import pytest

from linesim.cli import build_parser, main


def test_needs_secret_and_token(monkeypatch):
    monkeypatch.delenv("LINE_CHANNEL_SECRET", raising=False)
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_flags_and_env(monkeypatch):
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "from-env")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "token-env")
    args = build_parser().parse_args(["--access-token", "flag", "--webhook-url", "http://127.0.0.1:8000/callback"])
    assert (args.host, args.port) == ("127.0.0.1", 8081)
    assert args.channel_secret == "from-env" and args.access_token == "flag"
    assert args.webhook_url == "http://127.0.0.1:8000/callback"
