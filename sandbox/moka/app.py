"""`create_app()`: the Moka sandbox as a Flask app, working with no arguments (credentials from
`SANDBOX_MOKA_CLIENT_ID`, `SANDBOX_MOKA_CLIENT_SECRET` and `MOKA_WEBHOOK_SECRET`)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from sandbox.moka.api import api
from sandbox.moka.control import control
from sandbox.moka.oauth import DROP_FLAG, oauth
from sandbox.moka.state import ApiError, MokaSandbox


def create_app(sandbox: MokaSandbox | None = None) -> Flask:
    app = Flask(__name__)
    app.extensions["moka_sandbox"] = sandbox or MokaSandbox.from_env()
    app.wsgi_app = ResponseDropper(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(oauth)
    app.register_blueprint(control)
    app.register_blueprint(api)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return Response(json.dumps(error.body()), error.status, mimetype="application/json")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Unknown paths and methods answer in Moka's error envelope too.
        status = error.code or 500
        body = {
            "data": {},
            "meta": {
                "code": status,
                "error_message": error.name,
                "error_type": "ActionController::RoutingError",
            },
        }
        return Response(json.dumps(body), status, mimetype="application/json")

    return app


class ResponseDropper:
    """Carries out "commit then drop the response": once Flask has committed the change, the
    client's socket is shut down instead of answering. Werkzeug and gunicorn expose the socket;
    any other server gets a bodiless 502, which a careful client treats the same way."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return lambda data: None

        body = self.app(environ, capture)
        if not environ.get(DROP_FLAG):
            start_response(*captured)
            return body
        if hasattr(body, "close"):
            body.close()
        connection = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
        if isinstance(connection, socket.socket):
            connection.shutdown(socket.SHUT_RDWR)
        start_response("502 Bad Gateway", [("Content-Length", "0")])
        return [b""]
