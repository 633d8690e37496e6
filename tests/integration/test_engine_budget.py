"""The sync engine under Jurnal's documented limits (30 and 1,800 a credential, 40 and 2,500 an
IP), in compressed time: budget waits that outlast the setting's lease end with the lease still
held, a poster whose lease was taken sends nothing, and two companies syncing at once from one
install share the IP's budget without a single 429."""

from __future__ import annotations

import time
from bisect import bisect_left
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import pytest

from domain.log import RunStatus
from domain.mapping import JurnalDocument
from jobs import sync
from jobs.engine import Poster
from jobs.setting_lock import LockLost, lock_key, try_acquire
from services import syncing
from tests.engine_support import (
    RATE_WINDOW_SECONDS,
    Stack,
    built_stack,
    wait_until,
    worker_processes,
)


def finished(stack: Stack, run_id: UUID) -> bool:
    return stack.container.log.get_run(run_id).finished


def test_budget_waits_longer_than_the_lease_end_with_the_lease_held(tmp_path: Path, redis_url):
    minute = 3.0  # Jurnal's minute, compressed; the lease lives a fifth of it
    with built_stack(
        {"SAMBUNG_DATA_DIR": str(tmp_path / "var")},
        redis_url,
        rate_window_seconds=minute,
        settings={"SAMBUNG_POSTING_LOCK_TTL_MS": "600"},
    ) as stack:
        setting_id = stack.create_setting()
        run_id = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
        started = time.monotonic()
        counts = sync.run_master_data_sync(stack.container, setting_id, run_id)
        took = time.monotonic() - started
        run = stack.container.log.get_run(run_id)
        assert run.status is RunStatus.SUCCEEDED, run.error
        calls = sum(stack.jurnal_state()["requests"].values())
        assert calls > 60 and took > minute, "the budget made the run wait, a minute at a time"
        assert counts["products"]["synced"] == counts["products"]["total"] > 0
        assert stack.duplicates() == {}
        assert "429" not in stack.jurnal_state()["requests"]


def test_a_poster_whose_lease_was_taken_sends_nothing(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.create_setting()
    sync.pull_master_data(stack.container, stack.container.log.get_setting(setting_id))
    head = stack.container.log.head(setting_id)
    lock = stack.lock(setting_id)
    poster = Poster(stack.container, setting_id, lock)
    budi, citra = (
        JurnalDocument("customer", f"lease-{name}", {"customer": {"display_name": name,
                                                                  "custom_id": f"lease-{name}"}})
        for name in ("budi", "citra")
    )  # fmt: skip
    assert poster.upsert(budi, "Budi", head)
    sent = sum(stack.jurnal_state()["requests"].values())
    # The lease lapsed (say the worker stalled) and another worker took the setting.
    stack.container.redis.delete(lock_key(str(setting_id)))
    assert try_acquire(stack.container.redis, str(setting_id)) is not None
    with pytest.raises(LockLost):
        poster.upsert(citra, "Citra", head)
    assert sum(stack.jurnal_state()["requests"].values()) == sent, "nothing went out"
    assert stack.held_by("lease-budi") == 1
    assert stack.held_by("lease-citra") == 0


def test_two_companies_syncing_at_once_share_the_ip_budget_without_a_429(sqlite_stack):
    stack = sqlite_stack
    first = stack.create_setting(name="Kafe Satu")
    company, connection = stack.add_company("Kafe Dua PT", "kafe-dua-client", "kafe-dua-secret")
    second = stack.create_setting(
        name="Kafe Dua", company_id=company, moka_connection_id=connection
    )
    before = sum(stack.jurnal_state()["requests"].values())
    since = time.time()
    with worker_processes(stack, 2):
        for request in (syncing.request_master_data_sync, syncing.request_transactions_sync):
            runs = [request(stack.container, setting) for setting in (first, second)]
            wait_until(lambda: all(finished(stack, r) for r in runs), 240, "both runs")  # noqa: B023
            for run in runs:
                status = stack.container.log.get_run(run).status
                assert status is not RunStatus.FAILED, stack.container.log.get_run(run).error
    requests = stack.jurnal_state()["requests"]
    assert "429" not in requests, requests
    # The two credentials were sending at once: some minute carried more than one credential
    # may send (30), and none more than the IP may (40).
    ip_key = f"sambung:jurnal:ratelimit:ip:{urlsplit(stack.jurnal_url).netloc}:log"
    sent = [t for _, t in stack.container.redis.zrange(ip_key, 0, -1, withscores=True) if t > since]
    assert len(sent) == sum(requests.values()) - before
    busiest = max(bisect_left(sent, t + RATE_WINDOW_SECONDS) - i for i, t in enumerate(sent))
    assert 30 < busiest <= 40
    assert stack.duplicates() == {}
    documents = stack.jurnal_documents()
    assert documents["1"]["counts"] == documents["2"]["counts"]
    assert documents["1"]["counts"]["sales_invoices"] > 0
