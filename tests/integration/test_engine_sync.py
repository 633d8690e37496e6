"""The sync engine against both sandboxes: master data, then transactions, exactly once."""

from __future__ import annotations

import pytest

from domain.log import PostingFailed
from jobs import sync
from tests.engine_support import built_stack
from tests.moka_support import READINGS


@pytest.fixture(params=sorted(READINGS))
def stack(request, store_env, redis_url, chart):
    """The stack on each event store, with each chart, under each reading of Moka's unknowns."""
    with built_stack(store_env, redis_url, chart, moka_settings=READINGS[request.param]) as made:
        yield made


def failures(log, setting_id):
    found, after = [], 0
    while events := log.read(setting_id, after=after, limit=500):
        found += [e for e in events if isinstance(e, PostingFailed)]
        after = events[-1].position
    return found


def test_master_data_then_transactions_put_every_document_in_jurnal_once(stack):
    log = stack.container.log
    setting_id = stack.create_setting()
    run = log.request_run(setting_id, "master_data", "Manual").run_id
    counts = sync.run_master_data_sync(stack.container, setting_id, run)
    assert counts["products"]["total"] > 0
    assert counts["products"]["synced"] == counts["products"]["total"], log.get_run(run).error
    assert counts["customers"]["synced"] == counts["customers"]["total"]
    assert log.get_run(run).status.value == "Sukses"

    run = log.request_run(setting_id, "transactions", "Manual").run_id
    counts = sync.run_transactions_sync(stack.container, setting_id, run)
    moka = stack.moka.control("GET", "/state")["businesses"][0]["outlets"][0]
    assert counts["sales"]["total"] == moka["payments"]
    assert counts["sales_returns"]["total"] == moka["refunds"]
    # Sales of the products deleted in Moka fail, with a message that says so; the rest post.
    failed = failures(log, setting_id)
    others = {(f.error_class, f.message) for f in failed if f.error_class != "ProductNotSynced"}
    assert failed and not others, others
    assert all("deleted in" in f.message for f in failed)
    assert counts["sales"]["synced"] == counts["sales"]["total"] - len(failed)
    assert log.get_run(run).status.value == "Sebagian"
    state = stack.counts()
    assert state["sales_invoices"] == counts["sales"]["synced"]
    assert state["receive_payments"] == counts["payments"]["synced"]
    assert state["sales_returns"] == counts["sales_returns"]["synced"]

    # Syncing again changes nothing in Jurnal.
    assert stack.duplicates() == {}
    before = stack.jurnal_documents()
    run = log.request_run(setting_id, "master_data", "Manual").run_id
    sync.run_master_data_sync(stack.container, setting_id, run)
    run = log.request_run(setting_id, "transactions", "Manual").run_id
    again = sync.run_transactions_sync(stack.container, setting_id, run)
    assert stack.jurnal_documents() == before
    assert again == {}, "nothing changed in Moka since the checkpoint"
