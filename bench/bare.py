"""The yardstick of `ingest_ratio`: a bare Flask endpoint served exactly as the gateway is (the
same gunicorn set-up, `GatewayServer`, with the same workers), that reads the body and answers
202 with a small JSON, as the webhook view does, and does nothing else.

Run as `python -m bench.bare --port P --workers N`.
"""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, jsonify, request

from sambung.gateway_server import GatewayServer


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


class BareServer(GatewayServer):
    def load(self) -> Any:
        return create_bare_app()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    BareServer(arguments.host, arguments.port, arguments.workers).run()


if __name__ == "__main__":
    main()
