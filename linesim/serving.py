"""Run a WSGI app on a background thread with werkzeug's threaded server.

Threaded, because the bot calls the simulator back (reply/push) while the
simulator waits for the bot's webhook answer. werkzeug's server is also what
gives drop_after_accept its raw socket (``werkzeug.socket``).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """No per-request access log: keeps test output readable."""

    def log_request(self, code="-", size="-") -> None:  # noqa: D401 - werkzeug signature
        pass


@dataclass
class RunningServer:
    server: BaseWSGIServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0, *,
                    quiet: bool = True, poll_interval: float = 0.05) -> RunningServer:
    """Start ``app`` on host:port (0 picks a free port) and return once it listens.

    A short ``poll_interval`` keeps ``shutdown()`` quick (it waits for one poll).
    """
    server = make_server(host, port, app, threaded=True,
                         request_handler=QuietRequestHandler if quiet else None)
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,),
                              name=f"linesim-{server.port}", daemon=True)
    thread.start()
    return RunningServer(server=server, thread=thread, host=host, port=server.port)
