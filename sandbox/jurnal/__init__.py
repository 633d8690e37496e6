"""A faithful local fake of Jurnal's public API (Mekari API Gateway), for the demo, the tests
and the benchmarks. `create_app()` with no arguments serves the standalone sandbox whose default
Enterprise company authenticates with `SANDBOX_JURNAL_CLIENT_ID` / `SANDBOX_JURNAL_CLIENT_SECRET`.

Modules: `auth` (HMAC and bearer), `state` (companies, lock, faults, counters), `store`
(documents), `arithmetic` (its own §7-§8 arithmetic, with a switch per reading of what the
reference leaves unknown), `resources/` (one module per family of resources), `limits`, `faults`,
`control` (the `/_sandbox/` API), `api` (the Jurnal routes) and `wsgi` (dropping committed
responses).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from .api import API_PREFIX, api_blueprint, json_response
from .control import control_blueprint
from .state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, JurnalSandbox
from .wsgi import ResponseDropper

__all__ = [
    "API_PREFIX",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "JurnalSandbox",
    "create_app",
    "sandbox_of",
]

EXTENSION = "jurnal_sandbox"


def create_app(
    sandbox: JurnalSandbox | None = None, *, clock: Callable[[], float] = time.time
) -> Flask:
    """The sandbox as a Flask app. Without a `sandbox`, one is built from the environment
    (`JurnalSandbox.from_env`: Jurnal's documented limits, `JURNAL_RATE_WINDOW_SECONDS`) with
    the given clock; a `sandbox` passed in keeps its own settings."""
    if sandbox is None:
        sandbox = JurnalSandbox.from_env(clock=clock)
    app = Flask(__name__)
    app.extensions[EXTENSION] = sandbox
    app.register_blueprint(api_blueprint(sandbox))
    app.register_blueprint(control_blueprint(sandbox))

    @app.errorhandler(404)
    def not_routed(error: Exception) -> object:
        return json_response({"message": "no Route matched with those values"}, 404)

    @app.errorhandler(405)
    def not_allowed(error: Exception) -> object:
        return json_response({"message": "no Route matched with those values"}, 404)

    app.wsgi_app = ResponseDropper(app.wsgi_app, sandbox)  # type: ignore[method-assign]
    return app


def sandbox_of(app: Flask) -> JurnalSandbox:
    """The state behind an app made by `create_app`, for tests to steer and inspect."""
    sandbox: JurnalSandbox = app.extensions[EXTENSION]
    return sandbox
