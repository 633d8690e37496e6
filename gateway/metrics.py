"""`GET /metrics` in Prometheus text format, and the per-request bookkeeping behind it: every
answered request is counted by route template, method and status, and logged as one structured
line (with the setting, company, run and token ids it concerned, never the token itself, and
whatever the view put in `g.log_fields`). A view that counted its own answer already (an
accepted webhook, counted with its batch) sets `g.request_counted`.

The counters are in Redis (`infra.metrics`), so every gunicorn process and machine adds to the
same numbers and any of them can answer a scrape. Queue depths are read at scrape time.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import redis
from flask import Flask, Response, g, request
from flask.typing import ResponseReturnValue

from gateway.auth import container
from gateway.routing import ApiBlueprint
from infra import jsonlog, metrics
from infra.queues import QUEUE_NAMES
from jobs import live_pull

log = logging.getLogger("gateway.requests")

observability = ApiBlueprint("observability", __name__, tag="operations")

# View arguments worth a place on the request's log line.
_LOGGED_ARGS = ("setting_id", "company_id", "run_id", "connection_id")


@observability.operation(
    "GET",
    "/metrics",
    summary="Prometheus metrics",
    access="none",
    responses={200: "text/plain"},
    description="Requests, webhooks, queue depth, postings, Jurnal calls, posting lag and "
    "when each setting was last pulled live.",
)
def scrape() -> Response:
    connection = container().redis
    depths = [
        metrics.Sample.of(metrics.QUEUE_DEPTH, {"queue": name}, container().queue(name).count)
        for name in QUEUE_NAMES
    ]
    text = metrics.render(connection, {metrics.QUEUE_DEPTH: depths, **_live_pull_gauges()})
    return Response(text, content_type="text/plain; version=0.0.4; charset=utf-8")


def _live_pull_gauges() -> dict[str, list[metrics.Sample]]:
    """When the scheduler's live pull last reached each setting (`jobs.live_pull`)."""
    last, failures = [], []
    for setting_id, state in live_pull.status(container()).items():
        labels = {"setting_id": setting_id}
        if state["last_pulled_at"]:
            moment = datetime.fromisoformat(state["last_pulled_at"]).timestamp()
            last.append(metrics.Sample.of(metrics.LIVE_PULL_LAST, labels, moment))
        failures.append(metrics.Sample.of(metrics.LIVE_PULL_FAILURES, labels, state["failures"]))
    return {metrics.LIVE_PULL_LAST: last, metrics.LIVE_PULL_FAILURES: failures}


def install_request_tracking(app: Flask) -> None:
    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()
        arguments = request.view_args or {}
        g.log_token = jsonlog.push(
            **{name: str(arguments[name]) for name in _LOGGED_ARGS if name in arguments}
        )

    @app.after_request
    def count(response: Response) -> ResponseReturnValue:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        labels = {"route": route, "method": request.method, "status": response.status_code}
        counted = g.pop("request_counted", False) and response.status_code == 202
        try:
            if not counted:
                metrics.increment(container().redis, metrics.HTTP_REQUESTS, labels)
        except redis.RedisError:
            # Counting is best effort: an answer already decided must not turn into a 500.
            log.warning("could not count the request", extra={"route": route})
        principal = g.get("principal")
        log.info(
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1),
                "token_id": str(principal.token_id) if principal else None,
                "caller_company_id": str(principal.company_id)
                if principal and principal.company_id
                else None,
                **g.get("log_fields", {}),
            },
        )
        return response

    @app.teardown_request
    def unbind(error: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            jsonlog.pop(token)
