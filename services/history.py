"""What happened to a setting, as the API shows it: its log page by page, and the read models
(sync history, a run's detail, open errors, reconciliation per day)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any
from uuid import UUID

from domain.errors import RunNotFound
from domain.log import LogEvent
from infra.bootstrap import Container
from projections import queries
from services.plain import plain


def read_events(container: Container, setting_id: UUID, after: int, limit: int) -> dict[str, Any]:
    events = container.log.read(setting_id, after=after, limit=limit)
    return {
        "events": [log_entry(e) for e in events],
        "next_after": events[-1].position if len(events) == limit else None,
    }


def log_entry(event: LogEvent) -> dict[str, Any]:
    skipped = {"originator_id", "originator_version", "timestamp", "setting_id"}
    data = {
        f.name: plain(getattr(event, f.name))
        for f in dataclasses.fields(event)
        if f.name not in skipped
    }
    return {
        "position": event.position,
        "type": type(event).__name__,
        "timestamp": event.timestamp,
        "data": data,
    }


def sync_history(container: Container, setting_id: UUID) -> list[dict[str, Any]]:
    return queries.sync_history(container.views, setting_id)


def run_detail(container: Container, run_id: UUID) -> dict[str, Any]:
    """A run with its errors. Runs are read models too: one the views have not seen yet is
    not found."""
    detail = queries.run_detail(container.views, run_id)
    if detail is None:
        raise RunNotFound(run_id)
    return detail


def open_errors(
    container: Container, setting_id: UUID, items_per_cause: int = queries.ITEMS_PER_CAUSE
) -> list[dict[str, Any]]:
    return queries.open_errors(container.views, setting_id, items_per_cause=items_per_cause)


def reconciliation(
    container: Container, setting_id: UUID, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    return queries.reconciliation(container.views, setting_id, date_from, date_to)


def reconciliation_json(
    container: Container, setting_id: UUID, date_from: date, date_to: date
) -> str:
    """`reconciliation`'s answer as JSON text, {"days": [...]}, as the API sends it."""
    return queries.reconciliation_json(container.views, setting_id, date_from, date_to)
