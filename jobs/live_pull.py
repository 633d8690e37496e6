"""Live pull: near-real-time sales for settings that get no webhooks.

Moka has sent no webhooks to a real account since 2023 (reference §12.1), so without this a sale
reaches Jurnal only with the next transactions sync. Every `SAMBUNG_LIVE_PULL_SECONDS` (120 by
default; 0 turns it off) each setting with automatic sync is pulled for the payments updated
since its last pull, and what is new goes the webhook's way: appended to the setting's log
(source `live_pull`; the log's dedup refuses what a webhook or a sync already stored), then the
setting's poster is woken. The history counts those postings under "Otomatis", one row per hour.

Who does what:

- the scheduler's tick calls `request_if_due` for every setting: due once its last pull is an
  interval old (or its backoff is over), and only after a first transactions sync has set a
  checkpoint: the month-long backfill is a run's job, with progress, not this one's;
- the RQ job `live_pull` (queue `postings`, the freshness queue) pulls one setting. At most one
  is queued or running per setting (a Redis marker that the job clears as it ends).

A pull asks for `updated_at` since its previous start minus `OVERLAP`, and sends no `until`, so
Moka's own clock ends the window: nothing updated between our clock and theirs falls between two
pulls. Every request holds a slot of `jobs.moka_slots` (3 outlets x 4 requests in flight per
install). The client retries 429, 5xx and timeouts with jittered backoff (three tries); a pull
that still fails pushes the setting's next pull back (the interval doubled per failure, up to
`MAX_BACKOFF`), and a 429 also pauses every live pull of the install for as long, since Moka's
limit is not known to be per outlet. The next due pull is the retry: the job records the failure
and ends rather than raising into RQ's retries, which would pull a second time on its own.

Per setting, Redis keeps `sambung:live-pull:<setting_id>` (pulled until, last success, failures,
next due, last error): a cache, not the truth. Losing it costs one wider pull from the
transactions checkpoint, which the log dedupes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from clients.moka import (
    MokaClient,
    MokaError,
    MokaRateLimited,
    MokaTransientError,
    RetryPolicy,
)
from domain.errors import NotFound
from domain.log import Source
from domain.settings import Setting
from infra import bootstrap, queues
from infra.bootstrap import Container
from jobs.moka_slots import MokaSlots, SlottedSession

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
MAX_BACKOFF = timedelta(minutes=30)
JOB_TIMEOUT = 10 * 60
PAUSE_KEY = "sambung:live-pull:paused"
# Fewer tries than a sync's client: the next due pull, backed off, is the further retry.
RETRY = RetryPolicy(attempts=3)


def state_key(setting_id: UUID | str) -> str:
    return f"sambung:live-pull:{setting_id}"


def _queued_key(setting_id: UUID | str) -> str:
    return f"sambung:live-pull:queued:{setting_id}"


@dataclass(frozen=True)
class PullState:
    """What Redis remembers of a setting's live pulls."""

    pulled_until: datetime | None = None  # the start of the last successful pull
    last_pulled_at: datetime | None = None  # when the last successful pull ended
    next_due: datetime | None = None
    failures: int = 0
    last_error: str | None = None
    last_stored: int = 0  # payments the last successful pull appended to the log

    @classmethod
    def read(cls, container: Container, setting_id: UUID | str) -> PullState:
        raw = container.redis.hgetall(state_key(setting_id))
        fields = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }
        return cls(
            pulled_until=_time(fields.get("pulled_until")),
            last_pulled_at=_time(fields.get("last_pulled_at")),
            next_due=_time(fields.get("next_due")),
            failures=int(fields.get("failures") or 0),
            last_error=fields.get("last_error") or None,
            last_stored=int(fields.get("last_stored") or 0),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_pulled_at": _text(self.last_pulled_at),
            "pulled_until": _text(self.pulled_until),
            "next_due": _text(self.next_due),
            "failures": self.failures,
            "last_error": self.last_error,
            "last_stored": self.last_stored,
        }


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# -- the scheduler's side ---------------------------------------------------------------------


def request_if_due(container: Container, setting: Setting, now: datetime) -> bool:
    """Queue the setting's live pull if it is due; returns whether it did."""
    interval = container.config.live_pull_seconds
    if not interval or not setting.auto_sync:
        return False
    state = PullState.read(container, setting.id)
    if state.next_due is not None and now < state.next_due:
        return False
    if container.redis.exists(PAUSE_KEY):
        return False
    if container.log.transactions_checkpoint(setting.id) is None:
        return False
    # One pull per setting queued or running; the marker outlives a job only if its worker died.
    if not container.redis.set(_queued_key(setting.id), "1", nx=True, ex=JOB_TIMEOUT):
        return False
    container.queue(queues.POSTINGS).enqueue(
        queues.LIVE_PULL,
        str(setting.id),
        job_timeout=JOB_TIMEOUT,
        result_ttl=600,
        failure_ttl=24 * 3600,
    )
    return True


def status(container: Container) -> dict[str, dict[str, Any]]:
    """Per live setting: its name and `PullState` (when it was last pulled, when next)."""
    return {
        str(setting.id): {
            "name": setting.name,
            "auto_sync": setting.auto_sync,
            **PullState.read(container, setting.id).as_dict(),
        }
        for setting in container.log.list_settings()
    }


# -- the job ----------------------------------------------------------------------------------


def live_pull(setting_id: str) -> dict[str, Any]:
    """RQ job: pull one setting's recently updated payments into its log."""
    return pull(bootstrap.current(), UUID(setting_id))


def pull(container: Container, setting_id: UUID) -> dict[str, Any]:
    """Pull, append, wake the poster; record the outcome for the next due time. Returns
    `{"received": n, "stored": m}` or `{"error": message}`."""
    try:
        setting = container.log.get_setting(setting_id)
    except NotFound:
        container.redis.delete(_queued_key(setting_id), state_key(setting_id))
        return {"error": "the setting is gone"}
    started = datetime.now(UTC)
    try:
        checkpoint = container.log.transactions_checkpoint(setting_id)
        state = PullState.read(container, setting_id)
        marks = [m for m in (state.pulled_until, checkpoint) if m is not None]
        if not marks:
            return {"error": "no transactions sync yet"}
        since = max(marks) - OVERLAP
        try:
            payments = _pull_payments(container, setting, since)
        except MokaError as error:
            return _failed(container, setting, state, error)
        results = container.log.receive_many(setting_id, "payment", payments, Source.LIVE_PULL)
        stored = sum(1 for result in results if result.stored)
        if stored:
            queues.wake_poster(container, setting_id)
        interval = timedelta(seconds=container.config.live_pull_seconds)
        container.redis.hset(
            state_key(setting_id),
            mapping={
                "pulled_until": started.isoformat(),
                "last_pulled_at": datetime.now(UTC).isoformat(),
                "next_due": (started + interval).isoformat(),
                "failures": 0,
                "last_error": "",
                "last_stored": stored,
            },
        )
        if stored:
            log.info("live pull of setting %s: %d new of %d", setting_id, stored, len(results))
        return {"received": len(results), "stored": stored}
    finally:
        container.redis.delete(_queued_key(setting_id))


def _pull_payments(container: Container, setting: Setting, since: datetime) -> list[dict[str, Any]]:
    first_day = setting.transactions_from
    client = live_moka_client(container, setting)
    return [
        payment
        for payment in client.iter_latest_transactions(int(setting.outlet_id), since=since)
        if _business_date(payment) >= first_day
    ]


def _failed(
    container: Container,
    setting: Setting,
    state: PullState,
    error: MokaError,
) -> dict[str, Any]:
    failures = state.failures + 1
    interval = timedelta(seconds=container.config.live_pull_seconds)
    backoff = min(interval * 2**failures, MAX_BACKOFF)
    if isinstance(error, MokaRateLimited):
        container.redis.set(PAUSE_KEY, "1", ex=max(1, int(backoff.total_seconds())))
    container.redis.hset(
        state_key(setting.id),
        mapping={
            "next_due": (datetime.now(UTC) + backoff).isoformat(),
            "failures": failures,
            "last_error": f"Moka: {error}",
        },
    )
    level = logging.WARNING if isinstance(error, MokaTransientError) else logging.ERROR
    log.log(
        level,
        "live pull of setting %s failed (%d in a row), next in %ss: %s",
        setting.id, failures, int(backoff.total_seconds()), error,
    )  # fmt: skip
    return {"error": str(error), "failures": failures}


def live_moka_client(container: Container, setting: Setting) -> MokaClient:
    """The setting's Moka client, holding an install-wide slot for each request."""
    return container.moka_for(
        setting.moka_connection_id,
        retry=RETRY,
        session=SlottedSession(MokaSlots(container.redis), str(setting.outlet_id)),
    )


def _business_date(payment: Mapping[str, Any]) -> date:
    return datetime.fromisoformat(str(payment["created_at"])).date()
