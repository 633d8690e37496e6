"""`infra.queues` names the job functions that the floors below the jobs enqueue by name: each
name must resolve to a function of `jobs`, or a request would queue a job no worker can run."""

from __future__ import annotations

import importlib

import pytest

from infra import queues

NAMES = sorted(
    {queues.POST_SETTING, queues.LIVE_PULL, *queues.RUN_JOBS.values()}
    | {queues.SYNC_MASTER_DATA, queues.SYNC_TRANSACTIONS, queues.REPLAY}
)


@pytest.mark.parametrize("name", NAMES)
def test_each_job_name_is_a_function_of_the_jobs(name: str) -> None:
    module, _, function = name.rpartition(".")
    assert module.startswith("jobs.")
    assert callable(getattr(importlib.import_module(module), function))


def test_every_kind_of_run_that_can_be_requested_has_its_job() -> None:
    from domain.log import RunKind

    # Webhook and live-pull rows of the history are never requested as runs.
    requested = set(RunKind) - {RunKind.WEBHOOK, RunKind.LIVE_PULL}
    assert set(queues.RUN_JOBS) == {kind.value for kind in requested}
