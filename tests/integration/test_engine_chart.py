"""The sync engine on a Jurnal company as it really is: its own chart of accounts (English here,
like the documented example company), its own default accounts, a unit it lacks, taxes that carry
both accounts when Moka changes them, and tax names nobody promised are unique."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs import sync
from tests.engine_support import Stack, built_stack


@pytest.fixture
def english_stack(tmp_path: Path, redis_url: str) -> Iterator[Stack]:
    with built_stack({"SAMBUNG_DATA_DIR": str(tmp_path / "var")}, redis_url, "en") as made:
        yield made


def jurnal(stack: Stack) -> Any:
    credentials = stack.container.log.jurnal_credentials(stack.company_id)
    return stack.container.jurnal_client(credentials.client_id, credentials.client_secret)


def moka_taxes(stack: Stack) -> dict[str, dict[str, Any]]:
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    return {tax["name"]: tax for tax in outlet.taxes.values()}


def sync_master_data(stack: Stack, setting_id: Any) -> dict[str, Any]:
    run = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
    counts = sync.run_master_data_sync(stack.container, setting_id, run)
    assert stack.container.log.get_run(run).status.value == "Sukses", stack.container.log.get_run(
        run
    ).error
    return counts


def test_an_english_company_gets_its_own_default_accounts_and_the_unit_the_sync_makes(
    english_stack,
):
    stack = english_stack
    client = jurnal(stack)
    assert "Pcs" not in [u["name"] for u in client.catalog("product_units")]
    setting_id = stack.synced_setting()  # no sales, purchase or tax account named

    units = [u for u in client.catalog("product_units", refresh=True) if u["name"] == "Pcs"]
    assert len(units) == 1 and units[0]["custom_id"] == "moka-unit-Pcs"
    products = client.catalog("products", refresh=True)
    assert products and {p["unit"]["name"] for p in products} == {"Pcs"}
    assert {p["sell_account"]["name"] for p in products} == {"Service Revenue"}
    assert {p["buy_account"]["name"] for p in products} == {"Cost of Sales"}
    taxes = [t for t in client.catalog("taxes", refresh=True) if t["custom_id"]]
    assert taxes and {t["sell_tax_account"]["name"] for t in taxes} == {"VAT Out"}
    assert {t["buy_tax_account"]["name"] for t in taxes} == {"VAT In"}

    run = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    counts = sync.run_transactions_sync(stack.container, setting_id, run)
    assert counts["sales"]["synced"] > 0 and counts["payments"]["synced"] > 0
    payments = client.catalog("receive_payments", refresh=True)
    assert {p["deposit_to"]["name"] for p in payments} <= {"Cash", "Bank Account"}
    assert "Cash" in {p["deposit_to"]["name"] for p in payments}


def test_a_moka_tax_renamed_and_re_rated_is_patched_with_its_rate_and_both_accounts(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting(sell_tax_account="2-20501")
    client = jurnal(stack)
    pb1 = moka_taxes(stack)["PB1"]
    custom_id = f"moka-{stack.outlet_id}-tax-{pb1['id']}"
    before = client.get("taxes", custom_id)
    assert (before["name"], before["rate"]) == ("Jaksel | PB1", "10.0")

    with stack.moka.sandbox.lock:  # the merchant changes the tax in Moka's back office
        pb1.update(name="PB1 Kota", amount=11.0, updated_at=datetime.now(UTC).isoformat())
    patches_before = stack.jurnal_state()["requests"]
    sync_master_data(stack, setting_id)

    after = client.get("taxes", custom_id)
    assert after["id"] == before["id"]
    assert (after["name"], after["rate"]) == ("Jaksel | PB1 Kota", "11.0")
    assert after["sell_tax_account"]["name"] == "Hutang Pajak Daerah (PB1)"  # the setting's
    assert after["buy_tax_account"]["name"] == "PPN Masukan"  # the company's default
    combined = client.get("taxes", f"moka-{stack.outlet_id}-tax-{pb1['id']}-"
                          f"{moka_taxes(stack)['Retribusi']['id']}")  # fmt: skip
    assert (combined["name"], combined["rate"]) == ("Jaksel | PB1 Kota + Retribusi", "13.5")
    assert stack.jurnal_state()["requests"].get("422", 0) == patches_before.get("422", 0)


def test_invoices_name_their_tax_by_id_so_a_namesake_made_by_hand_changes_nothing(sqlite_stack):
    stack = sqlite_stack
    client = jurnal(stack)
    # Made first, so a lookup by name would find them; Jurnal lets two taxes share a name.
    names = ("Jaksel | PB1", "Jaksel | Retribusi", "Jaksel | PB1 + Retribusi")
    namesakes = {
        client.create(
            "taxes",
            {"name": name, "rate": 5, "sell_tax_account_number": "2-20500",
             "buy_tax_account_number": "1-10500"},
        )["id"]
        for name in names
    }  # fmt: skip
    setting_id = stack.synced_setting()
    synced = [t for t in client.catalog("taxes", refresh=True) if t["custom_id"]]
    assert sorted(t["name"] for t in synced) == sorted(names)

    run = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    counts = sync.run_transactions_sync(stack.container, setting_id, run)
    assert counts["sales"]["synced"] > 0
    taxed = [
        line["line_tax"]
        for invoice in client.catalog("sales_invoices", refresh=True)[:30]
        for line in client.get("sales_invoices", invoice["id"])["transaction_lines_attributes"]
        if line.get("line_tax") and line["line_tax"]["id"] is not None
    ]
    assert taxed and not namesakes & {tax["id"] for tax in taxed}
    assert {tax["id"] for tax in taxed} <= {t["id"] for t in synced}
