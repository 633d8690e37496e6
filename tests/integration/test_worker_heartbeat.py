"""A worker killed in the middle of a sync run: the run is not left "running" for the job's
two-hour timeout, then failed. The worker beats while its job runs (`sambung.worker`); after
three missed beats the sweeper hands the job back to RQ, whose `Retry` runs it again on another
worker, and the run ends Sukses with every document once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from rq.job import Job, JobStatus

from domain.log import RunStatus
from jobs import scheduler
from services import syncing
from tests.engine_support import built_stack, wait_until, worker_processes

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_sync_run_whose_worker_is_killed_runs_again_on_another_worker(
    tmp_path: Path, redis_url: str
) -> None:
    beats = {"SAMBUNG_WORKER_HEARTBEAT_SECONDS": "1"}
    with built_stack(
        {"SAMBUNG_DATA_DIR": str(tmp_path / "var")}, redis_url, settings=beats
    ) as stack:
        container = stack.container
        setting_id = stack.synced_setting()
        # Slow enough that the run is still posting when its worker dies.
        stack.jurnal_control("POST", "/faults", json={"latency_ms": 150})
        run_id = syncing.request_transactions_sync(container, setting_id)
        job = Job.fetch(f"run-{run_id}", connection=container.redis)
        with worker_processes(stack) as (first,):
            wait_until(
                lambda: (
                    job.get_status() == JobStatus.STARTED and stack.counts()["sales_invoices"] >= 3
                ),
                timeout=120,
                what="the run to be posting",
            )
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its RQ scheduler child
            first.wait(10)
        assert not container.log.get_run(run_id).finished
        stack.jurnal_control("POST", "/faults", json={"latency_ms": 0})
        with worker_processes(stack):

            def swept_and_finished() -> bool:
                scheduler.tick(container)
                return container.log.get_run(run_id).finished

            # Three missed beats (3 s), then RQ's first retry wait; far below the job's timeout.
            wait_until(swept_and_finished, timeout=120, what="the run to run again and finish")
        run = container.log.get_run(run_id)
        # Sebagian: the outlet's sales of products deleted in Moka fail by design.
        assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), vars(run)
        assert "job failed" not in str(vars(run))
        assert stack.duplicates() == {}
