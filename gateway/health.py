"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """The process is up and serving requests; nothing else is checked."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """Ready when the event store and Redis answer; otherwise 503 naming what is down."""
    report = current_app.extensions["sambung"].readiness()
    ready = all(state == "up" for state in report.values())
    body = {"status": "ready" if ready else "not ready", "checks": report}
    return jsonify(body), 200 if ready else 503
