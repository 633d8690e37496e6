"""The sync history against a real store (SQLite and PostgreSQL): runs recorded as the sync
engine records them, read back as the admin and the API show them."""

from datetime import datetime

import pytest
from freezegun import freeze_time
from freezegun.api import FakeDatetime

from projections.queries import format_summary, run_detail, sync_history
from projections.runner import catch_up
from tests.projection_support import OVO, EngineRun, make_setting, sale, synced_setting


@pytest.fixture
def log(container):
    return container.log


@pytest.fixture
def setting_id(log):
    return synced_setting(log)


def newest_runs(container, setting_id, count):
    """The `count` newest rows (the oldest is the setting's first master-data sync)."""
    return sync_history(container.views, setting_id)[:count]


def received(log, setting_id, *payments):
    return [a.position for a in log.receive_many(setting_id, "payment", list(payments), "pull")]


def test_a_master_data_run_shows_its_products_and_customers(container, log):
    setting_id = make_setting(log)
    run = EngineRun(log, setting_id, kind="master_data")
    items = log.receive_many(
        setting_id,
        "item",
        [{"id": i, "updated_at": "2024-05-01T08:00:00+07:00"} for i in range(1, 5)],
        "pull",
    )
    for item in items:
        run.posted("product", f"item-{item.position}", item.position)
    customer = log.receive(
        setting_id, "customer", {"id": 7, "updated_at": "2024-05-01T08:00:00+07:00"}, "pull"
    )
    run.posted("customer", "customer-7", customer.position)
    run.posted("customer", "customer-8", customer.position)
    assert run.finish() == "Sukses"

    assert catch_up(container) > 0
    [row] = sync_history(container.views, setting_id)
    assert row["id"] == str(run.run_id)
    assert (row["status"], row["method"], row["kind"]) == ("Sukses", "Manual", "master_data")
    assert row["summary"]["products"] == {"synced": 4, "total": 4}
    assert row["summary"]["customers"] == {"synced": 2, "total": 2}
    assert row["error_count"] == 0
    assert format_summary(row["summary"]) == ["Produk: 4 dari 4", "Pelanggan: 2 dari 2"]
    assert format_summary(row["summary"], "en") == ["Products: 4 of 4", "Customers: 2 of 2"]
    started = datetime.fromisoformat(row["started_at"])
    finished = datetime.fromisoformat(row["finished_at"])
    assert started.utcoffset().total_seconds() == 7 * 3600  # Asia/Jakarta
    assert started <= finished


def test_a_transactions_run_counts_sales_returns_and_payments(container, log, setting_id):
    positions = received(log, setting_id, *(sale(n) for n in range(1, 4)))
    run = EngineRun(log, setting_id, method="Otomatis")
    for position in positions:
        run.posted("sales_invoice", f"P{position}", position)
        run.posted("receive_payment", f"P{position}", position)
    run.posted("sales_return", f"P{positions[0]}", positions[0])
    run.finish()

    catch_up(container)
    [row] = newest_runs(container, setting_id, 1)
    assert (row["status"], row["method"]) == ("Sukses", "Otomatis")
    assert format_summary(row["summary"]) == [
        "Penjualan: 3 dari 3",
        "Retur Penjualan: 1 dari 1",
        "Penerimaan Pembayaran: 3 dari 3",
    ]
    assert format_summary(row["summary"], "en")[0] == "Sales: 3 of 3"


def test_a_partial_run_is_sebagian_and_lists_each_failed_item(container, log, setting_id):
    positions = received(log, setting_id, *(sale(n) for n in range(1, 6)))
    run = EngineRun(log, setting_id)
    for position in positions[:3]:
        run.posted("sales_invoice", f"P{position}", position)
    first_failure = run.failed("sales_invoice", "P00004", positions[3], OVO)
    run.failed(
        "sales_invoice",
        "P00005",
        positions[4],
        "Transaction lines amount (Must be greater than 0)",
        error_class="JurnalValidationError",
    )
    assert run.finish() == "Sebagian"

    catch_up(container)
    [row] = newest_runs(container, setting_id, 1)
    assert row["status"] == "Sebagian"
    assert row["summary"]["sales"] == {"synced": 3, "total": 5}
    assert row["error_count"] == 2
    assert format_summary(row["summary"]) == ["Penjualan: 3 dari 5"]
    detail = run_detail(container.views, run.run_id)
    assert {k: detail[k] for k in row} == row
    assert detail["errors"][0] == {
        "moka_reference": "P00004",
        "kind": "sales_invoice",
        "message": OVO,
        "error_class": "MappingError",
        "position": first_failure,
        "resolves": positions[3],
        "custom_id": "moka-sales_invoice-P00004",
    }
    assert [e["error_class"] for e in detail["errors"]] == ["MappingError", "JurnalValidationError"]


def test_a_run_that_synced_nothing_is_gagal_and_says_why(container, log, setting_id):
    [position] = received(log, setting_id, sale(1))
    failed = EngineRun(log, setting_id)
    failed.failed("sales_invoice", "P00001", position, OVO)
    assert failed.finish() == "Gagal"
    aborted = EngineRun(log, setting_id)
    aborted.finish(error="Moka refused the token: connect the outlet again")

    catch_up(container)
    newest, oldest = newest_runs(container, setting_id, 2)
    assert (newest["status"], newest["error"]) == (
        "Gagal",
        "Moka refused the token: connect the outlet again",
    )
    assert (oldest["status"], oldest["error_count"]) == ("Gagal", 1)
    assert oldest["summary"]["sales"] == {"synced": 0, "total": 1}


def test_a_running_run_shows_its_counts_so_far_without_a_status(container, log, setting_id):
    positions = received(log, setting_id, sale(1), sale(2))
    run = EngineRun(log, setting_id)
    run.posted("sales_invoice", "P00001", positions[0])
    run.failed("sales_invoice", "P00002", positions[1], OVO)

    catch_up(container)
    [row] = newest_runs(container, setting_id, 1)
    assert (row["status"], row["finished_at"]) == (None, None)
    assert row["summary"]["sales"] == {"synced": 1, "total": 2}
    assert row["error_count"] == 1

    # The engine's own counts are the truth once the run ends.
    run.counts["sales"] = {"synced": 1, "total": 3}
    run.finish()
    catch_up(container)
    [row] = newest_runs(container, setting_id, 1)
    assert (row["status"], row["summary"]["sales"]) == ("Sebagian", {"synced": 1, "total": 3})


def test_a_document_retried_within_a_run_counts_once(container, log, setting_id):
    [position] = received(log, setting_id, sale(1))
    run = EngineRun(log, setting_id)
    run.failed("sales_invoice", "P00001", position, "Jurnal answered 503", error_class="Transient")
    log.record_posted(
        setting_id,
        kind="sales_invoice",
        custom_id="moka-sales_invoice-P00001",
        jurnal_id="j-1",
        moka_reference="P00001",
        resolves=position,
        run_id=run.run_id,
    )

    catch_up(container)
    [row] = newest_runs(container, setting_id, 1)
    assert row["summary"]["sales"] == {"synced": 1, "total": 1}
    assert row["error_count"] == 0
    assert run_detail(container.views, run.run_id)["errors"] == []


def webhook_posting(log, setting_id, position, reference, *, failed=False):
    common = {
        "kind": "sales_invoice",
        "custom_id": f"moka-sale-{reference}",
        "moka_reference": reference,
        "resolves": position,
    }
    if failed:
        return log.record_failed(
            setting_id, error_class="MappingError", message=OVO, retryable=False, **common
        )
    return log.record_posted(setting_id, jurnal_id=f"j-{reference}", **common)


@pytest.fixture
def clock(log):
    """freezegun, with its datetimes stored the way the log stores datetimes."""
    types = log.mapper.transcoder.types
    types[FakeDatetime] = types[datetime]
    return freeze_time


def test_webhook_postings_are_one_rolling_row_per_setting_per_hour(
    container, log, setting_id, clock
):
    positions = received(log, setting_id, *(sale(n) for n in range(1, 5)))
    other_setting = synced_setting(log, outlet_id="4523", name="Outlet Bandung")
    [other_position] = received(log, other_setting, sale(9))
    with clock("2024-05-02T09:05:00+07:00", tick=True):
        webhook_posting(log, setting_id, positions[0], "P00001")
        webhook_posting(log, other_setting, other_position, "P00009")
    with clock("2024-05-02T09:40:00+07:00", tick=True):
        webhook_posting(log, setting_id, positions[1], "P00002", failed=True)
        webhook_posting(log, setting_id, positions[2], "P00003")
    with clock("2024-05-02T10:10:00+07:00", tick=True):
        webhook_posting(log, setting_id, positions[3], "P00004")

    catch_up(container)
    ten, nine = newest_runs(container, setting_id, 2)
    assert (nine["method"], nine["kind"]) == ("Webhook", "webhook")
    assert nine["started_at"].startswith("2024-05-02T09:05")
    assert nine["finished_at"].startswith("2024-05-02T09:40")
    assert (nine["status"], nine["summary"]["sales"], nine["error_count"]) == (
        "Sebagian",
        {"synced": 2, "total": 3},
        1,
    )
    assert [e["moka_reference"] for e in run_detail(container.views, nine["id"])["errors"]] == [
        "P00002"
    ]
    assert (ten["status"], ten["summary"]["sales"]) == ("Sukses", {"synced": 1, "total": 1})
    [other] = newest_runs(container, other_setting, 1)
    assert other["summary"]["sales"] == {"synced": 1, "total": 1}

    # A later posting of the failed sale in the same hour turns the row into a success.
    with clock("2024-05-02T09:55:00+07:00", tick=True):
        webhook_posting(log, setting_id, positions[1], "P00002")
    catch_up(container)
    nine = run_detail(container.views, nine["id"])
    assert (nine["status"], nine["summary"]["sales"], nine["errors"]) == (
        "Sukses",
        {"synced": 3, "total": 3},
        [],
    )


def test_a_webhook_failure_the_summary_does_not_count_still_fails_the_row(
    container, log, setting_id
):
    tax = log.receive(
        setting_id, "tax", {"id": 3, "updated_at": "2024-05-01T08:00:00+07:00"}, "webhook"
    )
    log.record_failed(
        setting_id,
        kind="tax",
        custom_id="moka-tax-3",
        error_class="JurnalValidationError",
        message="Name has already been taken",
        retryable=False,
        moka_reference="tax-3",
        resolves=tax.position,
    )
    catch_up(container)
    [row] = newest_runs(container, setting_id, 1)
    assert (row["method"], row["status"], row["error_count"]) == ("Webhook", "Gagal", 1)
    assert format_summary(row["summary"]) == []


def test_history_is_newest_first_and_empty_for_an_unknown_setting(container, log):
    setting_id = make_setting(log)
    runs = [EngineRun(log, setting_id, kind="master_data") for _ in range(3)]
    for run in runs:
        run.finish()
    catch_up(container)
    assert [r["id"] for r in sync_history(container.views, setting_id)] == [
        str(r.run_id) for r in reversed(runs)
    ]
    assert [r["id"] for r in sync_history(container.views, setting_id, limit=1)] == [
        str(runs[-1].run_id)
    ]
    assert sync_history(container.views, "not-a-uuid") == []
    assert run_detail(container.views, "0b5f1c4e-0000-4000-8000-000000000000") is None
