"""`python -m linesim`: run the simulator standalone for manual testing and demos."""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import make_server

from .server import create_app
from .serving import QuietRequestHandler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linesim", description="Local LINE platform simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--webhook-url", default=os.environ.get("LINESIM_WEBHOOK_URL"),
                        help="the bot's webhook, e.g. http://127.0.0.1:8000/callback")
    parser.add_argument("--channel-secret", default=os.environ.get("LINE_CHANNEL_SECRET"),
                        help="default: $LINE_CHANNEL_SECRET")
    parser.add_argument("--access-token", default=os.environ.get("LINE_CHANNEL_ACCESS_TOKEN"),
                        help="default: $LINE_CHANNEL_ACCESS_TOKEN")
    parser.add_argument("--channel-id", default=os.environ.get("LINE_CHANNEL_ID"),
                        help="the channel id /oauth2/v3/token expects (default: $LINE_CHANNEL_ID, "
                             "else one derived from the secret)")
    parser.add_argument("--reply-token-ttl", type=float, default=60.0)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn",
                        help="gunicorn (default; connections kept alive) or werkzeug's threaded server "
                             "(always with --port 0: any free port)")
    parser.add_argument("--threads", type=int, default=64,
                        help="gunicorn threads: each webhook delivery holds one until the bot answers")
    parser.add_argument("--access-log", action="store_true",
                        help="print a line per request (off by default: at a hundred events a second "
                             "the log costs more than the simulation)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.channel_secret or not args.access_token:
        build_parser().error("a channel secret and an access token are needed "
                             "(LINE_CHANNEL_SECRET / LINE_CHANNEL_ACCESS_TOKEN or the flags)")

    def build():
        return create_app(args.channel_secret, args.access_token, args.webhook_url,
                          reply_token_ttl=args.reply_token_ttl, channel_id=args.channel_id)

    if args.server == "gunicorn" and args.port:
        _banner(args.host, args.port, args.webhook_url)
        _serve_with_gunicorn(build, args)
        return 0
    server = make_server(args.host, args.port, build(), threaded=True,
                         request_handler=None if args.access_log else QuietRequestHandler)
    _banner(args.host, server.port, args.webhook_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _banner(host: str, port: int, webhook_url: str | None) -> None:
    base = f"http://{host}:{port}"
    print(f"LINE simulator: chat page {base}/  Messaging API {base}  "
          f"webhook → {webhook_url or '(not set; PUT /_sim/config)'}", flush=True)


def _serve_with_gunicorn(build, args) -> None:
    """One process (the simulated platform lives in its memory), many threads, connections kept
    alive as LINE keeps them: werkzeug's server closes every connection and starts a thread per
    request, which at a hundred events a second cost more than the simulation itself."""
    from gunicorn.app.base import BaseApplication

    class Simulator(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{args.host}:{args.port}", "workers": 1, "threads": args.threads,
                "worker_class": "gthread", "accesslog": "-" if args.access_log else None,
                "timeout": 120, "keepalive": 30, "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return build()

    Simulator().run()
