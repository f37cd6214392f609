"""Comparison apps for bench/webhook.py, loaded by gunicorn as `_apps:bare_app()` etc.

Both read the same environment as sasaeai (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN,
LINE_API_BASE_URL) so that bench/webhook.py can start all three the same way.
"""
from __future__ import annotations

import os

from flask import Flask, abort, request


def bare_app() -> Flask:
    """The ceiling: a Flask route that reads the body and answers 200, nothing else."""
    app = Flask("bench_bare")

    @app.post("/callback")
    def callback():
        request.get_data(cache=False)
        return "OK"

    return app


def kitchensink_app() -> Flask:
    """Reply inside the request, as line-bot-sdk's examples/flask-kitchensink does.

    The example parses the body, then for each text message opens an ApiClient and calls
    MessagingApi.reply_message before answering the webhook. One deviation: the benchmark's
    reply tokens are not issued by the simulator, so the simulator answers 400 "Invalid reply
    token" (after its latency fault); that ApiException is caught here so the webhook still
    answers 200, whereas the example would let it become a 500.
    """
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.messaging import (ApiClient, ApiException, Configuration, MessagingApi,
                                      ReplyMessageRequest, TextMessage)
    from linebot.v3.webhooks import MessageEvent, TextMessageContent

    secret = os.environ["LINE_CHANNEL_SECRET"]
    configuration = Configuration(host=os.environ.get("LINE_API_BASE_URL", "https://api.line.me"),
                                  access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"])
    parser = WebhookParser(secret)
    app = Flask("bench_kitchensink")

    @app.post("/callback")
    def callback():
        signature = request.headers.get("X-Line-Signature", "")
        body = request.get_data(as_text=True)
        try:
            events = parser.parse(body, signature)
        except InvalidSignatureError:
            abort(400)
        for event in events:
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                with ApiClient(configuration) as api_client:
                    api = MessagingApi(api_client)
                    try:
                        api.reply_message(ReplyMessageRequest(
                            reply_token=event.reply_token,
                            messages=[TextMessage(text=event.message.text)]))
                    except ApiException as exc:
                        if exc.status != 400:  # 400 = our made-up token; anything else is real
                            raise
        return "OK"

    return app
