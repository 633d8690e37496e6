"""Serve a WSGI app on a real port from a background thread: the sandboxes in tests and the demo,
so that clients talk real HTTP to them."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class RunningServer:
    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> RunningServer:  # type: ignore[no-untyped-def]
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=lambda: server.serve_forever(poll_interval=0.05),
        name=f"serve-{server.port}",
        daemon=True,
    )
    thread.start()
    return RunningServer(url=f"http://{host}:{server.port}", server=server, thread=thread)
