"""The Flask app factory. Blueprints are registered here and nowhere else."""

from __future__ import annotations

from typing import Any

from flask import Flask

from sambung.bootstrap import Container
from sambung.config import Config


def create_app(
    config: Config | None = None,
    container: Container | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    if container is None:
        container = Container(config or Config.from_env())
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.config["MAX_CONTENT_LENGTH"] = container.config.webhook_max_bytes
    if test_config:
        app.config.update(test_config)
    app.extensions["sambung"] = container

    from gateway.health import health

    app.register_blueprint(health)
    return app
