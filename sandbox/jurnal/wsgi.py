"""WSGI middleware that counts every Jurnal API answer by status and carries out the
"commit, then drop the response" fault.

Flask has already committed the write when the middleware sees the flag, so it shuts the client's
socket down instead of answering: the client gets a dropped connection for a document that
exists. Werkzeug and gunicorn expose the socket (`werkzeug.socket`, `gunicorn.socket`); any other
server gets `502` with an empty body, which a careful client must treat the same way.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

from .api import API_PREFIX, DROP_FLAG
from .state import JurnalSandbox

StartResponse = Callable[..., Any]


class ResponseDropper:
    def __init__(self, app: Callable[..., Iterable[bytes]], sandbox: JurnalSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not str(environ.get("PATH_INFO", "")).startswith(API_PREFIX):
            return self.app(environ, start_response)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return lambda data: None  # Flask never uses the legacy write callable

        body = self.app(environ, capture)
        if not environ.get(DROP_FLAG):
            self.sandbox.count_request(captured[0].split()[0])
            start_response(*captured)
            return body
        if hasattr(body, "close"):
            body.close()
        self.sandbox.count_request("dropped")
        connection = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
        if isinstance(connection, socket.socket):
            connection.shutdown(socket.SHUT_RDWR)
        start_response("502 Bad Gateway", [("Content-Length", "0")])
        return [b""]
