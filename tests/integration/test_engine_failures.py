"""Exactly once under failure: Jurnal's faults, a worker killed mid-post, two workers at once,
and permanent failures that wait for a replay."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

import pytest
from rq.job import Job

from domain.errors import MasterDataNotSynced
from domain.log import PostingFailed, RunStatus
from infra import queues
from jobs import replay, scheduler, sync
from services import syncing
from tests.engine_support import wait_until, work, worker_processes


def pull_without_posting(stack, setting_id):
    setting = stack.container.log.get_setting(setting_id)
    since = sync.pull_start(stack.container, setting)
    return sync.pull_payments(stack.container, setting, since, datetime.now(UTC))


def failed_invoices(stack, setting_id):
    """Custom ids of the invoices that failed for good (sales of products deleted in Moka)."""
    failed = set()
    after = 0
    while events := stack.container.log.read(setting_id, after=after, limit=500):
        failed |= {
            e.custom_id
            for e in events
            if isinstance(e, PostingFailed) and e.kind == "sales_invoice"
        }
        after = events[-1].position
    return failed


def sweep_until_processed(stack, setting_id):
    def swept_and_done() -> bool:
        scheduler.tick(stack.container)
        return not stack.container.log.has_unprocessed(setting_id)

    wait_until(swept_and_done, timeout=180, what="the log to be processed")


def test_a_transaction_sync_is_refused_until_master_data_has_synced(sqlite_stack):
    setting_id = sqlite_stack.create_setting()
    with pytest.raises(MasterDataNotSynced, match="sync master data first"):
        syncing.request_transactions_sync(sqlite_stack.container, setting_id)


def test_lost_answers_and_the_race_window_with_two_workers_leave_every_document_once(
    sqlite_stack,
):
    stack = sqlite_stack
    setting_id = stack.synced_setting()
    pulled = pull_without_posting(stack, setting_id)
    stack.jurnal_control(
        "POST", "/faults", json={"drop_after_commit_rate": 0.1, "race_window_ms": 50, "seed": 3}
    )
    with worker_processes(stack, 2):
        for _ in range(4):  # several wake-ups: both workers try to post at once
            stack.container.queue("postings").enqueue("jobs.posting.post_setting", str(setting_id))
        sweep_until_processed(stack, setting_id)
    dropped = stack.jurnal_state()["requests"]
    assert any("drop" in outcome for outcome in dropped), dropped
    assert stack.duplicates() == {}
    failed = failed_invoices(stack, setting_id)
    assert stack.counts()["sales_invoices"] == len(pulled) - len(failed)


def test_a_worker_killed_mid_post_loses_nothing_and_duplicates_nothing(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting()
    pulled = pull_without_posting(stack, setting_id)
    stack.jurnal_control("POST", "/faults", json={"latency_ms": 40})
    queues.wake_poster(stack.container, setting_id)
    with worker_processes(stack) as (first,):
        wait_until(lambda: stack.counts()["sales_invoices"] >= 10, what="the first postings")
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its RQ scheduler child
        first.wait(10)
    posted_when_killed = stack.counts()["sales_invoices"]
    assert posted_when_killed < len(pulled)
    stack.jurnal_control("POST", "/faults", json={"latency_ms": 0})
    # The sweeper finds the unprocessed log and wakes a poster; a new worker finishes the job
    # once the dead worker's lease has lapsed.
    with worker_processes(stack, 2):
        sweep_until_processed(stack, setting_id)
    assert stack.duplicates() == {}
    failed = failed_invoices(stack, setting_id)
    assert stack.counts()["sales_invoices"] == len(pulled) - len(failed)


def test_a_failed_sale_posts_on_replay_once_its_cause_is_fixed(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting()
    run = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    first = sync.run_transactions_sync(stack.container, setting_id, run)
    missing = first["sales"]["total"] - first["sales"]["synced"]
    assert missing > 0, "the generated outlet sold products it later deleted"

    preview = replay.dry_run(stack.container, setting_id, {"only_failed": True})
    assert preview and all(doc.get("error") == "ProductNotSynced" for doc in preview)
    before = stack.counts()

    # The merchant re-creates the deleted products by name in Jurnal and turns on
    # "sync transactions by product name"; a replay then posts the sales.
    stack.container.log.update_setting(setting_id, {"sync_by_product_name": True})
    recreate_deleted_products(stack, setting_id)
    preview = replay.dry_run(stack.container, setting_id, {"only_failed": True})
    assert [doc["kind"] for doc in preview].count("sales_invoice") == missing
    assert stack.counts()["sales_invoices"] == before["sales_invoices"], "a dry run sends nothing"

    params = {"only_failed": True}
    run = stack.container.log.request_run(setting_id, "replay", "Replay", params=params).run_id
    counts = replay.replay(str(setting_id), str(run))
    assert counts["sales"] == {"synced": missing, "total": missing}
    assert stack.counts()["sales_invoices"] == first["sales"]["total"]
    assert stack.duplicates() == {}
    again = replay.dry_run(stack.container, setting_id, {"only_failed": True})
    assert again == []


def recreate_deleted_products(stack, setting_id):
    from domain.mapping.naming import apply_naming, product_label

    setting = stack.container.log.get_setting(setting_id)
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    client = stack.container.jurnal_for(setting.company_id)
    for item in outlet.items.values():
        if not item["is_deleted"]:
            continue
        for variant in item["item_variants"]:
            name = apply_naming(setting, product_label(item["name"], variant.get("name")))
            client.create(
                "products",
                {
                    "name": name,
                    "is_sold": True,
                    "sell_price_per_unit": 1,
                    "unit_name": "Pcs",
                    "sell_account_name": "Pendapatan",
                },
            )
    client.catalog("products", refresh=True)


def test_transient_failures_are_retried_without_holding_up_other_settings(sqlite_stack):
    stack = sqlite_stack
    slow = stack.synced_setting(name="Kafe A")
    pull_without_posting(stack, slow)
    stack.jurnal_control("POST", "/faults", json={"error_rate": 1.0, "methods": ["POST"]})
    queues.wake_poster(stack.container, slow)
    work(stack.container)
    assert stack.counts()["sales_invoices"] == 0
    assert stack.container.log.has_unprocessed(slow), "deferred, not skipped"
    retries = stack.container.queue("postings").scheduled_job_registry.get_job_ids()
    assert retries, "a retry is scheduled with RQ"
    stack.jurnal_control("POST", "/faults", json={"error_rate": 0.0})
    queues.wake_poster(stack.container, slow)
    work(stack.container)
    assert not stack.container.log.has_unprocessed(slow)
    assert stack.counts()["sales_invoices"] > 0


def test_a_sync_that_jurnal_defers_is_retried_by_rq_and_then_finishes(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.create_setting()
    stack.jurnal_control("POST", "/faults", json={"error_rate": 1.0, "methods": ["POST"]})
    run_id = syncing.request_master_data_sync(stack.container, setting_id)
    work(stack.container)
    assert not stack.container.log.get_run(run_id).finished, "deferred, not ended"
    sync_queue = stack.container.queue("sync")
    assert sync_queue.scheduled_job_registry.get_job_ids() == [f"run-{run_id}"]
    stack.jurnal_control("POST", "/faults", json={"error_rate": 0.0})
    # What the workers' RQ scheduler does once the retry's wait is over.
    sync_queue.enqueue_job(Job.fetch(f"run-{run_id}", connection=stack.container.redis))
    work(stack.container)
    run = stack.container.log.get_run(run_id)
    assert run.finished and run.status is RunStatus.SUCCEEDED
    assert stack.counts()["products"] > 0


def test_a_sync_outside_rq_that_jurnal_defers_ends_with_the_reason(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.create_setting()
    stack.jurnal_control("POST", "/faults", json={"error_rate": 1.0, "methods": ["POST"]})
    run_id = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
    sync.run_master_data_sync(stack.container, setting_id, run_id)
    run = stack.container.log.get_run(run_id)
    assert run.finished and run.status is RunStatus.FAILED
    assert run.error.startswith("Jurnal stayed unavailable")
