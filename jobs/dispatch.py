"""Asking for work: record the request in the setting's log, then enqueue its job.

The gateway, the CLI and the scheduler call these; they never enqueue jobs themselves. The log
entry comes first, so a request survives losing Redis (the sweeper finds unfinished runs and
unposted events). Queue messages are wake-up calls only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import UUID

from redis.client import Pipeline
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from domain.errors import RunAlreadyFinished
from domain.log import RunKind, RunMethod, RunStatus
from infra.bootstrap import Container

# Posting is the freshness path (webhooks); syncs pull and may take long; both run on any worker,
# and workers listen to "postings" first, so a nightly catch-up never starves webhook freshness.
POSTINGS = "postings"
SYNCS = "sync"
POSTING_JOB_TIMEOUT = 30 * 60
SYNC_JOB_TIMEOUT = 2 * 60 * 60


def request_master_data_sync(
    container: Container, setting_id: UUID, method: RunMethod = RunMethod.MANUAL
) -> UUID:
    run = container.log.request_run(setting_id, RunKind.MASTER_DATA, method)
    if run.created:
        _enqueue_sync("jobs.sync.sync_master_data", container, setting_id, run.run_id)
    return run.run_id


def request_transactions_sync(
    container: Container,
    setting_id: UUID,
    method: RunMethod = RunMethod.MANUAL,
    *,
    run_id: UUID | None = None,
    params: Mapping[str, Any] | None = None,
) -> UUID:
    """Raises `MasterDataNotSynced` (from the log) before the first master-data sync."""
    run = container.log.request_run(
        setting_id, RunKind.TRANSACTIONS, method, run_id=run_id, params=params
    )
    if run.created:
        _enqueue_sync("jobs.sync.sync_transactions", container, setting_id, run.run_id)
    return run.run_id


def request_all_transactions_syncs(
    container: Container, setting_ids: Iterable[UUID], method: RunMethod = RunMethod.MANUAL
) -> list[UUID]:
    return [request_transactions_sync(container, s, method) for s in setting_ids]


def request_replay(container: Container, setting_id: UUID, params: Mapping[str, Any]) -> UUID:
    """`params`: only_failed, since, until (ISO datetimes) and event_ids (log positions)."""
    run = container.log.request_run(
        setting_id, RunKind.REPLAY, RunMethod.REPLAY, params=dict(params)
    )
    if run.created:
        _enqueue_sync("jobs.replay.replay", container, setting_id, run.run_id)
    return run.run_id


def wake_poster(container: Container, setting_id: UUID) -> None:
    """Ask a worker to post the setting's unposted events. Cheap to call often: while one wake-up
    is already queued, further ones are coalesced."""
    wake_posters(container, [setting_id])


# Unless the setting is held off, take its wake-up slot: 1 when taken (enqueue a job), else 0.
_TAKE_WAKE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
if redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""


def wake_posters(
    container: Container,
    setting_ids: Iterable[UUID],
    also: Callable[[Pipeline], object] | None = None,
) -> None:
    """`wake_poster` for each setting in one round trip to Redis, with whatever `also` adds to
    the same pipeline (the webhook's counter): on the webhook path, round trips are most of
    Redis's cost. A job is enqueued only for the settings whose wake-up slot was free."""
    ids = list(setting_ids)
    pipe = container.redis.pipeline(transaction=False)
    for setting_id in ids:
        pipe.eval(_TAKE_WAKE, 2, _hold_key(setting_id), _wake_key(setting_id), 60)
    if also is not None:
        also(pipe)
    taken = pipe.execute()[: len(ids)]
    for setting_id, slot in zip(ids, taken, strict=True):
        if slot:
            container.queue(POSTINGS).enqueue(
                "jobs.posting.post_setting",
                str(setting_id),
                job_timeout=POSTING_JOB_TIMEOUT,
                failure_ttl=7 * 24 * 3600,
            )


def clear_wake(container: Container, setting_id: UUID) -> None:
    """Called by the poster as it starts, so that events appended from now on wake it again."""
    container.redis.delete(_wake_key(setting_id))


def hold_off(container: Container, setting_id: UUID, seconds: int) -> None:
    """Stop waking the setting's poster for a while (it is blocked until a person acts)."""
    container.redis.set(_hold_key(setting_id), "1", ex=seconds)


def lift_hold(container: Container, setting_id: UUID) -> None:
    """A person acted (e.g. replaced the credential): wake the setting's poster again."""
    container.redis.delete(_hold_key(setting_id))


def _hold_key(setting_id: UUID) -> str:
    return f"sambung:hold:{setting_id}"


def _wake_key(setting_id: UUID) -> str:
    return f"sambung:wake:{setting_id}"


_RUN_JOBS = {
    "master_data": "jobs.sync.sync_master_data",
    "transactions": "jobs.sync.sync_transactions",
    "replay": "jobs.replay.replay",
}


def requeue_lost_run(container: Container, setting_id: UUID, run_id: UUID, kind: str) -> bool:
    """Look after an unfinished run: enqueue it again if its job is gone from Redis (Redis was
    lost or flushed), or end it as failed if its job failed or its worker died, so that no run
    stays open forever. Returns whether it enqueued. Running a run's job twice is harmless."""
    function = _RUN_JOBS.get(kind)
    if function is None:
        return False
    try:
        job = Job.fetch(f"run-{run_id}", connection=container.redis)
    except NoSuchJobError:
        _enqueue_sync(function, container, setting_id, run_id)
        return True
    if job.get_status() in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        reason = (
            (job.latest_result().exc_string or "").strip().splitlines()
            if job.latest_result()
            else []
        )
        with contextlib.suppress(RunAlreadyFinished):
            container.log.finish_run(
                run_id,
                status=RunStatus.FAILED,
                error=f"the job failed: {reason[-1] if reason else job.get_status()}",
            )
    return False


def _enqueue_sync(function: str, container: Container, setting_id: UUID, run_id: UUID) -> None:
    container.queue(SYNCS).enqueue(
        function,
        str(setting_id),
        str(run_id),
        job_id=f"run-{run_id}",
        job_timeout=SYNC_JOB_TIMEOUT,
        failure_ttl=7 * 24 * 3600,
        # A run whose worker died is abandoned (`sambung.worker`) and runs again.
        retry=Retry(max=6, interval=[5, 15, 30, 60, 120, 300]),
    )
