"""The Flask app factory. Blueprints are registered here and nowhere else."""

from __future__ import annotations

from typing import Any

from flask import Flask

from infra.bootstrap import Container
from infra.config import Config
from infra.jsonlog import capture_context, configure_logging


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

    from gateway.admin import install_admin
    from gateway.api import API_BLUEPRINTS
    from gateway.errors import install_error_handlers
    from gateway.health import health
    from gateway.metrics import install_request_tracking, observability
    from gateway.openapi import openapi
    from gateway.webhooks import webhooks

    capture_context()
    if not app.testing:
        configure_logging()
    app.register_blueprint(health)
    app.register_blueprint(webhooks)
    for blueprint in API_BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(openapi)
    app.register_blueprint(observability)
    install_admin(app, container)
    install_error_handlers(app)
    install_request_tracking(app)
    return app
