"""Open errors and the settings overview against a real store (SQLite and PostgreSQL)."""

import pytest

from projections.queries import open_errors, run_detail, settings_overview, sync_history
from projections.runner import catch_up
from tests.projection_support import OVO, EngineRun, make_setting, sale, synced_setting


@pytest.fixture
def log(container):
    return container.log


@pytest.fixture
def setting_id(log):
    return synced_setting(log)


def received(log, setting_id, *payments):
    return [a.position for a in log.receive_many(setting_id, "payment", list(payments), "pull")]


def failing_night(log, setting_id, count_ovo=3):
    """A night where `count_ovo` sales fail for OVO, one fails on its own amount, one posts."""
    positions = received(log, setting_id, *(sale(n) for n in range(1, count_ovo + 3)))
    run = EngineRun(log, setting_id, method="Otomatis")
    for number, position in enumerate(positions[:count_ovo], start=1):
        run.failed("sales_invoice", f"P{number:05d}", position, OVO)
    amount_number = count_ovo + 1
    run.failed(
        "sales_invoice",
        f"P{amount_number:05d}",
        positions[count_ovo],
        f"Sale P{amount_number:05d}: Jurnal would total 92001.50, Moka collected 92000",
        error_class="AmountMismatch",
    )
    run.posted("sales_invoice", f"P{count_ovo + 2:05d}", positions[-1])
    run.finish()
    return run, positions


def test_open_errors_are_grouped_by_cause_with_a_count(container, log, setting_id):
    failing_night(log, setting_id)

    catch_up(container)
    ovo, amount = open_errors(container.views, setting_id)
    assert ovo["cause"] == "no deposit account mapped for OVO (3 sales)"
    assert (ovo["error_class"], ovo["kind"], ovo["count"], ovo["message"]) == (
        "MappingError",
        "sales_invoice",
        3,
        OVO,
    )
    assert [i["moka_reference"] for i in ovo["items"]] == ["P00001", "P00002", "P00003"]
    assert all(item["retryable"] is False for item in ovo["items"])
    assert amount["cause"] == "Sale …: Jurnal would total #, Moka collected # (1 sale)"
    assert amount["items"][0]["message"] == (
        "Sale P00004: Jurnal would total 92001.50, Moka collected 92000"
    )
    assert open_errors(container.views, setting_id, items_per_cause=2)[0]["count"] == 3
    assert len(open_errors(container.views, setting_id, items_per_cause=2)[0]["items"]) == 2


def test_a_replay_that_posts_failed_documents_clears_their_errors(container, log, setting_id):
    night, positions = failing_night(log, setting_id)
    replay = EngineRun(log, setting_id, kind="replay", method="Replay")
    replay.posted("sales_invoice", "P00001", positions[0])
    replay.posted("sales_invoice", "P00002", positions[1])
    replay.finish()

    catch_up(container)
    groups = {g["error_class"]: g for g in open_errors(container.views, setting_id)}
    assert groups["MappingError"]["cause"] == "no deposit account mapped for OVO (1 sale)"
    assert [i["moka_reference"] for i in groups["MappingError"]["items"]] == ["P00003"]
    newest, night_row = sync_history(container.views, setting_id)[:2]
    assert (newest["method"], newest["status"]) == ("Replay", "Sukses")
    assert newest["summary"]["sales"] == {"synced": 2, "total": 2}
    # History is history: the night still shows what failed then.
    assert night_row["id"] == str(night.run_id)
    assert night_row["error_count"] == 4
    assert len(run_detail(container.views, night.run_id)["errors"]) == 4


def test_a_document_that_fails_again_stays_open_with_the_latest_message(container, log, setting_id):
    _, positions = failing_night(log, setting_id, count_ovo=1)
    replay = EngineRun(log, setting_id, kind="replay", method="Replay")
    replay.failed("sales_invoice", "P00001", positions[0], "no deposit account mapped for GoPay")
    assert replay.finish() == "Gagal"

    catch_up(container)
    causes = [g["cause"] for g in open_errors(container.views, setting_id)]
    assert "no deposit account mapped for GoPay (1 sale)" in causes
    assert not any("OVO" in cause for cause in causes)


def test_a_webhook_posting_also_clears_an_open_error(container, log, setting_id):
    _, positions = failing_night(log, setting_id, count_ovo=1)
    log.record_posted(
        setting_id,
        kind="sales_invoice",
        custom_id="moka-sales_invoice-P00001",
        jurnal_id="j-late",
        moka_reference="P00001",
        resolves=positions[0],
    )
    catch_up(container)
    assert [g["error_class"] for g in open_errors(container.views, setting_id)] == [
        "AmountMismatch"
    ]


def test_a_posted_document_that_jurnal_totalled_otherwise_is_an_open_error_until_it_agrees(
    container, log, setting_id
):
    [position] = received(log, setting_id, sale(1))
    off = {
        "total": "92001.5",
        "tax": "9200",
        "moka_total": "92000",
        "moka_tax": "9200",
        "business_date": "2024-05-02",
    }
    run = EngineRun(log, setting_id)
    run.posted("sales_invoice", "P00001", position, amounts=off, custom_id="moka-sale-1")
    run.finish()
    catch_up(container)
    [group] = open_errors(container.views, setting_id)
    assert (group["error_class"], group["kind"], group["count"]) == (
        "JurnalTotalsDiffer",
        "sales_invoice",
        1,
    )
    [item] = group["items"]
    assert item["message"].startswith("Jurnal totalled 92001.5, Moka 92000")
    assert (item["custom_id"], item["retryable"]) == ("moka-sale-1", False)

    # A sen apart is no difference; the same document recorded agreeing closes the error.
    close = {**off, "total": "92000.01"}
    run = EngineRun(log, setting_id)
    run.posted(
        "sales_invoice", "P00001", position, amounts=close, custom_id="moka-sale-1", jurnal_id="j2"
    )
    run.finish()
    catch_up(container)
    assert open_errors(container.views, setting_id) == []


def test_open_errors_belong_to_their_setting(container, log, setting_id):
    failing_night(log, setting_id)
    other = synced_setting(log, outlet_id="4523", name="Outlet Bandung")
    catch_up(container)
    assert open_errors(container.views, other) == []
    assert open_errors(container.views, "nonsense") == []


def test_the_overview_shows_the_settings_list_columns(container, log):
    setting_id = make_setting(
        log,
        tag="Jakarta Selatan",
        warehouse="Gudang Utama",
        payment_accounts={
            "ovo": {"account": "1-10003", "tag": "E-Wallet"},
            "cash": {"account": "1-10001", "tag": None},
            "tcash": {"account": "1-10004", "tag": "E-Wallet"},
        },
    )
    catch_up(container)
    row = settings_overview(container.views, [setting_id])[str(setting_id)]
    assert (row["name"], row["tag"], row["warehouse"], row["deleted"]) == (
        "Outlet Jakarta Selatan",
        "Jakarta Selatan",
        "Gudang Utama",
        False,
    )
    assert row["tags"] == ["Jakarta Selatan", "E-Wallet"]
    never = {"last_success_at": None, "last_sync_at": None, "last_status": None}
    assert row["master_data"] == never
    assert row["transactions"] == never


def test_the_overview_keeps_last_sync_and_last_successful_sync_apart(container, log):
    setting_id = make_setting(log)
    master = EngineRun(log, setting_id, kind="master_data")
    master.posted("product", "item-1", 1)
    master.finish()
    [position] = received(log, setting_id, sale(1), sale(2))[:1]
    good = EngineRun(log, setting_id)
    good.posted("sales_invoice", "P00001", position)
    good.finish()
    partial = EngineRun(log, setting_id)
    partial.posted("sales_invoice", "P00002", position + 1)
    partial.failed("sales_invoice", "P00003", position + 1, OVO)
    partial.finish()

    catch_up(container)
    row = settings_overview(container.views, [setting_id])[str(setting_id)]
    assert row["master_data"]["last_status"] == "Sukses"
    assert row["master_data"]["last_success_at"] == row["master_data"]["last_sync_at"]
    history = {r["id"]: r for r in sync_history(container.views, setting_id)}
    transactions = row["transactions"]
    assert transactions["last_status"] == "Sebagian"
    assert transactions["last_sync_at"] == history[str(partial.run_id)]["finished_at"]
    assert transactions["last_success_at"] == history[str(good.run_id)]["finished_at"]


def test_the_overview_follows_changes_and_deletion(container, log):
    setting_id = make_setting(log)
    other = make_setting(log, outlet_id="4523", name="Outlet Bandung")
    log.update_setting(setting_id, {"name": "Outlet Kemang", "tag": "Kemang"})
    log.delete_setting(other)

    catch_up(container)
    overview = settings_overview(container.views, [setting_id, str(other), "not-an-id"])
    assert set(overview) == {str(setting_id), str(other)}
    assert (overview[str(setting_id)]["name"], overview[str(setting_id)]["tags"]) == (
        "Outlet Kemang",
        ["Kemang"],
    )
    assert overview[str(other)]["deleted"] is True
