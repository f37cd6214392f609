"""`sasaeai worker`: handle stored events and send the outbox, until SIGTERM."""
from __future__ import annotations

import threading

import structlog

from cli.commands._common import setup, stop_on_signals
from domain import understanding
from domain.db import is_sqlite
from webhook import Services

log = structlog.get_logger(__name__)


def run(args) -> int:
    config = setup()
    services = Services.build(config)
    stop = stop_on_signals()
    loops = []
    if not args.outbox_only:
        worker = services.event_worker()

        def handle_events(stop: threading.Event) -> None:
            # The dictionary and the model, read before the first event, not by the first
            # resident's message; in this thread, so the dispatcher sends meanwhile.
            understanding.warm_up()
            worker.run_forever(stop)

        loops.append(("event-worker", handle_events))
    if not args.events_only:
        loops.append(("dispatcher", services.dispatcher().run_forever))
    if is_sqlite(services.engine):
        log.info("worker.sqlite", note="SQLite: run one worker process only")
    threads = [threading.Thread(target=fn, args=(stop,), name=name) for name, fn in loops]
    for thread in threads:
        thread.start()
    log.info("worker.started", loops=[name for name, _ in loops])
    for thread in threads:
        thread.join()
    services.engine.dispose()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="handle stored LINE events and send the outbox")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--events-only", action="store_true", help="do not send the outbox")
    group.add_argument("--outbox-only", action="store_true", help="do not handle events")
    parser.set_defaults(func=run)
