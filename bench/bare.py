"""The yardstick of `ingest_ratio`: a bare Flask endpoint that reads the body and answers 202 with
a small JSON, as the webhook view does, and does nothing else. `sambung bench-bare` (hidden)
serves it exactly as `sambung serve` serves the gateway: the same `GatewayServer` set-up and
workers.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request


def create_bare_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/moka")
    def accept() -> Any:
        request.get_data()
        return jsonify(status="accepted"), 202

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    return app
