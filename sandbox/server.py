"""`sambung sandbox`: both fakes on their own ports, in one process, until interrupted."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from sandbox.serving import RunningServer, serve_in_thread


def run_sandboxes(
    host: str, moka_port: int, jurnal_port: int, announce: Callable[[str], None]
) -> None:
    from sandbox.jurnal import create_app as create_jurnal_app
    from sandbox.moka import create_app as create_moka_app

    servers: list[RunningServer] = []
    try:
        jurnal = serve_in_thread(create_jurnal_app(), host=host, port=jurnal_port)
        servers.append(jurnal)
        moka = serve_in_thread(create_moka_app(), host=host, port=moka_port)
        servers.append(moka)
        announce(f"jurnal: {jurnal.url}")
        announce(f"moka: {moka.url}")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        for server in servers:
            server.stop()
