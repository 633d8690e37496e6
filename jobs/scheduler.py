"""The scheduler: each setting's daily catch-up at its own time, and the sweeper.

`sambung scheduler` calls `tick` every few seconds. A tick

- starts each setting's latest due daily transactions sync (default 22:00 Asia/Jakarta). The run's
  id is derived from the setting and the date it serves, so the event store refuses to start it
  twice, even with two schedulers or a restart mid-tick; a run missed while the scheduler was
  down starts as soon as it is back;
- sweeps: wakes the poster of every setting whose log holds events it has not yet processed, so
  that losing Redis (and the wake-up calls in it) loses no work;
- queues the live pull (`jobs.live_pull`) of each setting with automatic sync whose last pull is
  `SAMBUNG_LIVE_PULL_SECONDS` old. When each setting was last pulled, and when it is next due,
  is `live_pull_status` (served as gauges at `GET /metrics`, and logged at every failure). The
  tick runs at least as often as that interval;
- follows the log for notifications and sends the daily digests (`services.notify`).

Retries of transient failures use RQ's own `Retry` (`infra.queues`), scheduled by the workers.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

from domain.errors import MasterDataNotSynced, NotFound
from domain.log import RunMethod
from domain.schedule import due_run_date
from infra import queues
from infra.bootstrap import Container
from jobs import live_pull, summary
from projections.queries import sync_history
from services import notify, syncing

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
_TICK_LOCK_MS = 60_000


def scheduled_run_id(setting_id: UUID, run_date: date) -> UUID:
    return uuid5(setting_id, f"scheduled-transactions:{run_date.isoformat()}")


def tick(container: Container, now: datetime | None = None) -> list[UUID]:
    """One pass over every live setting; returns the ids of the daily runs it started."""
    now = now or datetime.now(UTC)
    started: list[UUID] = []
    for setting in container.log.list_settings():
        run_id = _start_daily_run_if_due(container, setting, now)
        if run_id is not None:
            started.append(run_id)
        closed = summary.start_close_run_if_due(container, setting, now)
        if closed is not None:
            started.append(closed)
        if container.log.has_unprocessed(setting.id):
            queues.wake_poster(container, setting.id)
        _requeue_lost_runs(container, setting.id)
        live_pull.request_if_due(container, setting, now)
    notify.tick(container, now)  # never raises: notifying cannot stop the sweep
    return started


def live_pull_status(container: Container) -> dict[str, dict[str, Any]]:
    """Per setting: when it was last pulled live, until when, when next, and the last error."""
    return live_pull.status(container)


def _requeue_lost_runs(container: Container, setting_id: UUID) -> None:
    """Runs asked for but not finished whose job vanished with Redis start again."""
    unfinished = [
        run
        for run in sync_history(container.views, setting_id, limit=10)
        if run["finished_at"] is None and run["kind"] != "webhook"
    ]
    for run in unfinished:
        if syncing.requeue_lost_run(container, setting_id, UUID(run["id"]), run["kind"]):
            log.warning("run %s of setting %s was lost from the queue; requeued",
                        run["id"], setting_id)  # fmt: skip


def _start_daily_run_if_due(container: Container, setting, now: datetime) -> UUID | None:  # type: ignore[no-untyped-def]
    if not setting.auto_sync:
        return None
    run_date = due_run_date(now, setting.sync_time, container.config.timezone, setting.created_on)
    if run_date is None:
        return None
    run_id = scheduled_run_id(setting.id, run_date)
    try:
        container.log.get_run(run_id)
        return None  # already started: never twice
    except NotFound:
        pass
    try:
        syncing.request_transactions_sync(
            container,
            setting.id,
            RunMethod.SCHEDULED,
            run_id=run_id,
            params={"scheduled_for": run_date.isoformat()},
        )
    except MasterDataNotSynced:
        log.warning("daily sync of setting %s skipped: master data never synced", setting.id)
        return None
    log.info("daily sync of setting %s for %s started", setting.id, run_date)
    return run_id


def run_forever(
    container: Container, stop: threading.Event, interval: float = TICK_SECONDS
) -> None:
    """Tick until `stop` is set. Only one scheduler ticks at a time across machines."""
    if container.config.live_pull_seconds:
        interval = min(interval, container.config.live_pull_seconds)
    while not stop.is_set():
        try:
            if container.redis.set("sambung:scheduler:tick", "1", nx=True, px=_TICK_LOCK_MS):
                try:
                    tick(container)
                finally:
                    container.redis.delete("sambung:scheduler:tick")
        except Exception:  # Redis or the store away, a bad tick: the next tick tries again
            log.exception("scheduler tick failed")
        stop.wait(interval)
