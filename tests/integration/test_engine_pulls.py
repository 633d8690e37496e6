"""Transactions and master-data pulls that miss nothing, on the Moka sandbox's pessimistic
defaults and on the kind reading alike, with no webhook subscription (reference §8.4, §8.5,
§4.1, §12.1): late refunds, later invoice payments, late-syncing tills, a sale made a minute
ago, capped customer pages, and a tax changed in the outlet's configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.log import PaymentReceived, PostingFailed
from jobs import sync
from tests.engine_support import built_stack
from tests.moka_support import READINGS

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(params=sorted(READINGS))
def stack(request, tmp_path, redis_url):
    """The stack on SQLite (the store changes nothing here), under each reading of Moka."""
    store = {"SAMBUNG_DATA_DIR": str(tmp_path / "var")}
    with built_stack(store, redis_url, moka_settings=READINGS[request.param]) as made:
        yield made


def recent_setting(stack):
    """A synced setting that starts today, so that its transactions are only this test's sales
    (the seeded month lies in 2024): little Jurnal work per test."""
    setting_id = stack.synced_setting(start_date=datetime.now(JAKARTA).date())
    assert not failures(stack, setting_id), failures(stack, setting_id)
    return setting_id


def transactions(stack, setting_id, now=None):
    log = stack.container.log
    run = log.request_run(setting_id, "transactions", "Manual").run_id
    counts = sync.run_transactions_sync(stack.container, setting_id, run, now=now)
    assert log.get_run(run).error is None, log.get_run(run).error
    assert not failures(stack, setting_id), failures(stack, setting_id)
    return counts


def failures(stack, setting_id):
    log, found, after = stack.container.log, [], 0
    while events := log.read(setting_id, after=after, limit=500):
        found += [f"{e.kind}: {e.message}" for e in events if isinstance(e, PostingFailed)]
        after = events[-1].position
    return found


def payments_logged(stack, setting_id):
    log, found, after = stack.container.log, 0, 0
    while events := log.read(setting_id, after=after, limit=500):
        found += sum(isinstance(e, PaymentReceived) for e in events)
        after = events[-1].position
    return found


def ago(**delta):
    return (datetime.now(UTC) - timedelta(**delta)).astimezone(JAKARTA).isoformat()


def test_a_sale_made_a_minute_ago_comes_with_the_next_pull(stack):
    setting_id = recent_setting(stack)
    stack.sell(created_at=ago(minutes=1))
    counts = transactions(stack, setting_id)
    assert counts["sales"] == {"synced": 1, "total": 1}
    assert stack.counts()["sales_invoices"] == 1


def test_a_refund_made_a_week_after_its_sale_reaches_jurnal_on_the_next_sync(stack):
    setting_id = recent_setting(stack)
    sale = stack.sell(created_at=ago(days=8))
    assert transactions(stack, setting_id)["sales"] == {"synced": 1, "total": 1}
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    line = outlet.payments[sale]["checkouts"][0]["uuid"]
    before = outlet.payments[sale]["updated_at"]

    stack.moka.control(
        "POST",
        f"/payments/{sale}/refunds",
        json={"lines": [{"checkout_id": line, "quantity": 1}], "created_at": ago(days=1)},
    )
    moved = outlet.payments[sale]["updated_at"] != before
    assert moved is stack.moka.sandbox.settings.refunds_bump_sale_updated_at
    counts = transactions(stack, setting_id)
    assert counts["sales_returns"] == {"synced": 1, "total": 1}
    assert stack.counts()["sales_returns"] == 1 and stack.duplicates() == {}

    # The re-scan sees the sale again next time: it costs calls, never a duplicate.
    logged = payments_logged(stack, setting_id)
    jurnal = stack.jurnal_documents()
    assert transactions(stack, setting_id) == {}
    assert payments_logged(stack, setting_id) == logged
    assert stack.jurnal_documents() == jurnal


@pytest.mark.parametrize("records", [True, False], ids=["records-shown", "status-only"])
def test_later_payments_of_an_unpaid_invoice_reach_jurnal_on_the_next_sync(stack, records):
    stack.moka.control("POST", "/settings", json={"invoice_payment_records": records})
    setting_id = recent_setting(stack)
    business = stack.moka.sandbox.business(stack.seeded["business_id"])
    customer = next(iter(business.customers))
    invoice = stack.sell(payment_type="invoice", customer_id=customer, created_at=ago(days=3))
    counts = transactions(stack, setting_id)
    assert counts["sales"] == {"synced": 1, "total": 1} and "payments" not in counts

    # Paid in part, then in full, each dated before the checkpoint's overlap: only following
    # the invoices report finds them, whatever `updated_at` does.
    stack.moka.control(
        "POST", f"/invoices/{invoice}/payments", json={"amount": 1000, "created_at": ago(days=2)}
    )
    assert transactions(stack, setting_id)["payments"] == {"synced": 1, "total": 1}
    stack.moka.control("POST", f"/invoices/{invoice}/payments", json={"created_at": ago(days=1)})
    # The run counts every receive payment the invoice needs: both exist now.
    assert transactions(stack, setting_id)["payments"] == {"synced": 2, "total": 2}
    assert stack.counts()["receive_payments"] == 2 and stack.duplicates() == {}
    assert transactions(stack, setting_id) == {}

    client = stack.container.jurnal_client("sandbox-jurnal-client", "sandbox-jurnal-secret")
    posted = client.find_by_custom_id("sales_invoices", _invoice_custom_id(stack, setting_id))
    assert posted is not None and float(posted["remaining"]) == 0


def _invoice_custom_id(stack, setting_id):
    from jobs.engine import Poster

    log = stack.container.log
    for event in log.read(setting_id, limit=500):
        if isinstance(event, PaymentReceived) and event.payment["payment_type"] == "invoice":
            needed = Poster(stack.container, setting_id, None).documents_needed(event.payment)
            return next(cid for kind, cid in needed if kind == "sales_invoice")
    raise AssertionError("no invoice in the log")


def test_a_sale_from_a_till_that_synced_late_is_caught_by_the_rescan(stack):
    stack.moka.control("POST", "/settings", json={"offline_delay_minutes": 30})
    setting_id = recent_setting(stack)
    made = datetime.now(UTC) - timedelta(minutes=20)
    sale = stack.sell(created_at=made.isoformat())
    assert transactions(stack, setting_id) == {}, "still on the till"

    later = datetime.now(UTC) + timedelta(minutes=11)
    stack.moka.sandbox.now = lambda: later.astimezone(JAKARTA)
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    payment = outlet.payments[sale]
    # Its own times stay; `synchronized_at` shows when it reached the server, after the
    # checkpoint's overlap had moved past its `updated_at`.
    assert datetime.fromisoformat(payment["updated_at"]) == made
    assert datetime.fromisoformat(payment["synchronized_at"]) == made + timedelta(minutes=30)
    counts = transactions(stack, setting_id, now=later)
    assert counts["sales"] == {"synced": 1, "total": 1}
    assert stack.counts()["sales_invoices"] == 1


def test_130_customers_all_sync_with_a_page_cap_of_50(stack):
    business_id = stack.seeded["business_id"]
    have = len(stack.moka.sandbox.business(business_id).customers)
    for number in range(130 - have):
        stack.moka.control(
            "POST",
            "/customers",
            json={"business_id": business_id, "customer": {"name": f"Pelanggan {number}"}},
        )
    capped = stack.moka.sandbox.settings.customers_max_per_page
    setting_id = stack.create_setting()
    run = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
    counts = sync.run_master_data_sync(stack.container, setting_id, run)
    assert counts["customers"] == {"synced": 130, "total": 130}
    # Default customer aside, Jurnal holds all 130.
    assert stack.counts()["customers"] == 131
    assert capped == (50 if stack.moka.sandbox.settings == READINGS["pessimistic"] else 1000)


def test_a_tax_changed_in_the_outlet_is_seen_by_the_next_master_data_sync(stack):
    setting_id = stack.synced_setting()
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    tax = next(t for t in outlet.taxes.values() if not t["is_deleted"])
    stack.moka.control("PATCH", f"/taxes/{tax['id']}", json={"name": "PB1 Baru", "rate": 11})
    run = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
    sync.run_master_data_sync(stack.container, setting_id, run)
    client = stack.container.jurnal_client("sandbox-jurnal-client", "sandbox-jurnal-secret")
    found = client.find_by_name("taxes", "Jaksel | PB1 Baru", refresh=True)
    assert found is not None and float(found["rate"]) == 11


@pytest.mark.parametrize("revoke_on_use", [False, True], ids=["strict-rotation", "revoke-on-use"])
def test_a_lost_token_answer_ends_in_a_working_or_clearly_flagged_connection(stack, revoke_on_use):
    setting_id = recent_setting(stack)
    stack.sell(created_at=ago(minutes=1))
    stack.moka.control("POST", "/settings", json={"refresh_token_revoked_on_use": revoke_on_use})
    tokens = stack.container.log.moka_tokens(stack.connection_id)
    stack.moka.control("POST", "/tokens/expire", json={"access_token": tokens.access_token})
    stack.moka.control("POST", "/faults", json={"drop_token_responses": 1})
    log = stack.container.log
    run = log.request_run(setting_id, "transactions", "Manual").run_id
    counts = sync.run_transactions_sync(stack.container, setting_id, run)
    finished = log.get_run(run)
    if revoke_on_use:
        # The retried refresh found the old refresh token still valid: the sync went through.
        assert finished.error is None and counts["sales"] == {"synced": 1, "total": 1}
        assert log.moka_tokens(stack.connection_id).refresh_token != tokens.refresh_token
        return
    assert finished.status.value == "Gagal" and stack.counts()["sales_invoices"] == 0
    assert "hubungkan Moka lagi" in finished.error and "connect Moka again" in finished.error
    # The next run asks once more (a new process may not know) and fails the same way: no loop.
    again = log.request_run(setting_id, "transactions", "Manual").run_id
    sync.run_transactions_sync(stack.container, setting_id, again)
    assert "connect Moka again" in log.get_run(again).error
