"""`sasaeai serve`: the web app (webhook, health check) under gunicorn."""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from cli.commands._common import setup
from domain.logs import route


class _RoutedLogger(GunicornLogger):
    """Gunicorn's loggers through the same JSON pipeline and redaction as ours."""
    def setup(self, cfg):
        super().setup(cfg)
        route(self.error_log)
        route(self.access_log)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from webhook import create_app

        return create_app()


def run(args) -> int:
    setup()
    # Imported once here, before the workers are forked, so that a worker (the first ones, or
    # one that replaces a dead worker) answers LINE in half a second, not after seconds of
    # imports. The app itself (its database pool) is still built in each worker.
    import webhook  # noqa: F401
    _Gunicorn({
        "bind": args.bind,
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread",
        "accesslog": None,
        "logger_class": _RoutedLogger,
        "timeout": 30,
        # Build the app in each worker so each has its own database pool.
        "preload_app": False,
    }).run()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="run the web app (LINE webhook) under gunicorn")
    parser.add_argument("--bind", default=os.environ.get("SASAEAI_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("SASAEAI_WEB_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("SASAEAI_WEB_THREADS", "4")))
    parser.set_defaults(func=run)
