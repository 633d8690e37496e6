"""A first sync as a new merchant runs it: nothing configured but the addresses, so Jurnal's real
60 s minute and its documented limits (30 calls a minute per credential) for the sandbox and
Sambung alike, the default 60 s lease and settle time. A small generated outlet — 40 products,
20 customers, two days of sales — syncs master data, then transactions, through a real worker.
It takes minutes, because the budget says so; that is the point. Every document lands in Jurnal
exactly once and no run ends Gagal (this is where the lease used to lapse in the budget wait)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from domain.log import RunStatus
from services import syncing
from tests.engine_support import built_stack, wait_until, worker_processes

SMALL_OUTLET = {"products": 40, "customers": 20, "days": 2, "transactions_per_day": 5}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_small_outlet_syncs_at_the_real_limits_with_every_document_once(
    tmp_path: Path, redis_url: str
) -> None:
    store = {"SAMBUNG_DATA_DIR": str(tmp_path / "var")}
    with built_stack(store, redis_url, rate_window_seconds=None, outlet=SMALL_OUTLET) as stack:
        assert "JURNAL_RATE_WINDOW_SECONDS" not in stack.env
        assert "SAMBUNG_POSTING_LOCK_TTL_MS" not in stack.env
        assert stack.jurnal_state()["limits"]["rate_window_seconds"] == 60
        log = stack.container.log
        setting_id = stack.create_setting()
        started = time.monotonic()
        took: dict[str, float] = {}
        with worker_processes(stack):
            for kind, request in (
                ("master_data", syncing.request_master_data_sync),
                ("transactions", syncing.request_transactions_sync),
            ):
                run_id = request(stack.container, setting_id)
                wait_until(lambda: log.get_run(run_id).finished, 900, f"the {kind} run")  # noqa: B023
                run = log.get_run(run_id)
                assert run.status is not RunStatus.FAILED, run.error
                took[kind] = time.monotonic() - started - sum(took.values())
        requests = stack.jurnal_state()["requests"]
        calls = sum(requests.values())
        print(f"first sync at the real limits: {calls} Jurnal calls in {took}")
        assert "429" not in requests, requests
        assert calls > 60, "more calls than one minute's budget: the budget had to be waited for"
        assert sum(took.values()) > 60
        assert stack.duplicates() == {}
        moka = stack.moka.control("GET", "/state")["businesses"][0]["outlets"][0]
        counts = log.get_run(run_id).counts
        assert counts["sales"]["total"] == moka["payments"] > 0
        state = stack.counts()
        assert state["sales_invoices"] == counts["sales"]["synced"]
        assert state["receive_payments"] == counts["payments"]["synced"]
        assert state["sales_returns"] == counts.get("sales_returns", {}).get("synced", 0)
