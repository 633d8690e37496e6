"""Asking for work: record the request in the setting's log, then enqueue its job.

The gateway, the CLI, the scheduler and the engine call these; they never enqueue runs
themselves. The log entry comes first, so a request survives losing Redis (the sweeper finds
unfinished runs and unposted events, and `requeue_lost_run` looks after them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from domain.audit import Action
from domain.errors import MasterDataNotSynced, RunAlreadyFinished, code_of
from domain.log import RunKind, RunMethod, RunStatus
from domain.settings import Setting
from infra import queues
from infra.bootstrap import Container
from services import audit


def request_master_data_sync(
    container: Container, setting_id: UUID, method: RunMethod = RunMethod.MANUAL
) -> UUID:
    return _request(container, setting_id, RunKind.MASTER_DATA, method)


def request_transactions_sync(
    container: Container,
    setting_id: UUID,
    method: RunMethod = RunMethod.MANUAL,
    *,
    run_id: UUID | None = None,
    params: Mapping[str, Any] | None = None,
) -> UUID:
    """Raises `MasterDataNotSynced` (from the log) before the first master-data sync."""
    return _request(container, setting_id, RunKind.TRANSACTIONS, method, run_id, params)


def sync_master_data(container: Container, setting: Setting) -> UUID:
    """A person asks for a master-data sync: the request, and its audit entry."""
    run_id = request_master_data_sync(container, setting.id)
    _sync_requested(container, setting, run_id, RunKind.MASTER_DATA)
    return run_id


def sync_transactions(container: Container, setting: Setting) -> UUID:
    """A person asks for a transactions sync: the request, and its audit entry."""
    run_id = request_transactions_sync(container, setting.id)
    _sync_requested(container, setting, run_id, RunKind.TRANSACTIONS)
    return run_id


def _sync_requested(container: Container, setting: Setting, run_id: UUID, kind: RunKind) -> None:
    audit.record(
        container, setting.company_id, Action.SYNC_REQUESTED, subject_id=setting.id,
        kind=kind.value, run_id=run_id,
    )  # fmt: skip


def record_run(
    container: Container,
    setting_id: UUID,
    kind: RunKind,
    method: RunMethod,
    params: Mapping[str, Any] | None = None,
) -> UUID:
    """Record a run that the caller carries out itself, in its own process (the CLI's `sync`
    and `replay`): nothing is queued. Raises `MasterDataNotSynced` as a request does."""
    return container.log.request_run(setting_id, kind, method, params=params).run_id


def request_all_transactions_syncs(
    container: Container, setting_ids: Iterable[UUID], method: RunMethod = RunMethod.MANUAL
) -> list[UUID]:
    return [request_transactions_sync(container, s, method) for s in setting_ids]


def sync_all_transactions(container: Container, setting_ids: Iterable[UUID]) -> dict[str, Any]:
    """Every named setting syncs transactions. A setting that has not synced master data yet is
    skipped with the reason instead of stopping the others."""
    run_ids: list[UUID] = []
    skipped: list[dict[str, Any]] = []
    for setting_id in setting_ids:
        try:
            run_ids.append(sync_transactions(container, container.log.get_setting(setting_id)))
        except MasterDataNotSynced as refused:
            skipped.append(
                {"setting_id": setting_id, "code": code_of(refused), "message": refused.message}
            )
    return {"run_ids": run_ids, "skipped": skipped}


def request_replay(container: Container, setting_id: UUID, params: Mapping[str, Any]) -> UUID:
    """`params`: only_failed, since, until (ISO datetimes) and event_ids (log positions)."""
    return _request(container, setting_id, RunKind.REPLAY, RunMethod.REPLAY, params=dict(params))


def _request(
    container: Container,
    setting_id: UUID,
    kind: RunKind,
    method: RunMethod,
    run_id: UUID | None = None,
    params: Mapping[str, Any] | None = None,
) -> UUID:
    """Record the request in the log, then queue the run's job, once: a request the log already
    holds (the same `run_id`) queues nothing."""
    run = container.log.request_run(setting_id, kind, method, run_id=run_id, params=params)
    if run.created:
        queues.enqueue_run(container, queues.RUN_JOBS[kind.value], setting_id, run.run_id)
    return run.run_id


def requeue_lost_run(container: Container, setting_id: UUID, run_id: UUID, kind: str) -> bool:
    """Look after an unfinished run: enqueue it again if its job is gone from Redis (Redis was
    lost or flushed), or end it as failed if its job failed or its worker died, so that no run
    stays open forever. Returns whether it enqueued. Running a run's job twice is harmless."""
    function = queues.RUN_JOBS.get(kind)
    if function is None:
        return False
    try:
        job = Job.fetch(queues.run_job_id(run_id), connection=container.redis)
    except NoSuchJobError:
        queues.enqueue_run(container, function, setting_id, run_id)
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
