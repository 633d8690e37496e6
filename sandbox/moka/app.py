"""`create_app()`: the Moka sandbox as a Flask app, working with no arguments (credentials from
`SANDBOX_MOKA_CLIENT_ID`, `SANDBOX_MOKA_CLIENT_SECRET` and `MOKA_WEBHOOK_SECRET`)."""

from __future__ import annotations

import json

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from sandbox.moka.api import api
from sandbox.moka.control import control
from sandbox.moka.oauth import oauth
from sandbox.moka.state import ApiError, MokaSandbox


def create_app(sandbox: MokaSandbox | None = None) -> Flask:
    app = Flask(__name__)
    app.extensions["moka_sandbox"] = sandbox or MokaSandbox.from_env()
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
