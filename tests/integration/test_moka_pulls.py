"""Moka as it really is (issue 15), over real HTTP: the sandbox's pessimistic defaults and their
switches, the faults and control calls it gained, and the client paging that misses nothing
under either reading."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from clients.moka import InMemoryTokenStore, MokaReauthorizationRequired
from sandbox.moka import Settings
from sandbox.moka.arithmetic import check_payment_arithmetic
from sandbox.moka.inconsistencies import KINDS
from tests.moka_support import OPTIMISTIC, READINGS, REDIRECT_URI, authorize, moka_client

OPTIMISTIC_SWITCHES = {
    "refunds_bump_sale_updated_at": OPTIMISTIC.refunds_bump_sale_updated_at,
    "next_url_keeps_filters": OPTIMISTIC.next_url_keeps_filters,
    "invoices_report_paging_hints": OPTIMISTIC.invoices_report_paging_hints,
    "customers_max_per_page": OPTIMISTIC.customers_max_per_page,
}


@pytest.fixture
def seeded(moka):
    return moka.seed(3)


@pytest.fixture(params=sorted(READINGS))
def reading(request, moka):
    if request.param == "optimistic":
        moka.control("POST", "/settings", json=OPTIMISTIC_SWITCHES)
    return request.param


class CountingSession(requests.Session):
    """Counts the requests to each path, to prove that nothing loops."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.paths.append(f"{method} {urlsplit(url).path}")
        return super().request(method, url, *args, **kwargs)


def connected(moka, seeded, store=None, **options):
    query = authorize(moka.url, seeded["email"], seeded["password"])
    client = moka_client(moka.url, store, **options)
    client.exchange_code(query["code"][0], REDIRECT_URI)
    return client


# -- defaults -----------------------------------------------------------------------------------


def test_the_sandbox_defaults_to_the_pessimistic_reading_of_each_unknown():
    defaults = Settings()
    assert defaults.refunds_bump_sale_updated_at is False
    assert defaults.next_url_keeps_filters is False
    assert defaults.customers_max_per_page == 50
    assert defaults.invoices_report_paging_hints is False


def test_since_and_until_are_absolute_epoch_seconds(moka, seeded):
    token, outlet = seeded["access_token"], seeded["outlet_ids"][0]
    made = datetime.now(UTC) - timedelta(minutes=1)
    item = next(iter(moka.sandbox.outlet(outlet)[1].items))
    payment = {"checkouts": [{"item_id": item}], "created_at": made.isoformat()}
    sale = moka.control("POST", "/payments", json={"outlet_id": outlet, "payment": payment})["id"]
    window = {"since": f"{made.timestamp() - 1:.6f}", "until": f"{made.timestamp() + 1:.6f}"}
    found = requests.get(
        f"{moka.url}/v3/outlets/{outlet}/reports/get_latest_transactions",
        params={**window, "time_filter": "created_at"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()["data"]["payments"]
    assert [p["id"] for p in found] == [sale]


# -- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_every_page_keeps_its_filters_and_no_row_repeats_or_goes_missing(
    moka, seeded, reading, order
):
    session = CountingSession()
    client = connected(moka, seeded, session=session)
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    # Rows that share one instant straddle a page boundary: a keyset cursor must neither repeat
    # nor skip them.
    twins = sorted(outlet.payments.values(), key=lambda p: p["updated_at"])[10:14]
    for twin in twins:
        twin["updated_at"] = twins[0]["updated_at"]
    since = datetime(2024, 4, 1, tzinfo=UTC)
    seen = [
        p["id"]
        for p in client.iter_latest_transactions(
            outlet_id, since=since, per_page=6, reorder_type=order, time_filter="updated_at"
        )
    ]
    assert len(seen) == len(set(seen)) and set(seen) == set(outlet.payments)
    times = [outlet.payments[i]["updated_at"] for i in seen]
    assert times == sorted(times, key=datetime.fromisoformat, reverse=order == "DESC")
    pages = [p for p in session.paths if p.endswith("get_latest_transactions")]
    assert len(pages) > 5


def test_the_official_next_url_followed_verbatim_loses_the_filters(moka, seeded):
    token, outlet = seeded["access_token"], seeded["outlet_ids"][0]
    first = requests.get(
        f"{moka.url}/v3/outlets/{outlet}/reports/get_latest_transactions",
        params={"per_page": 5, "time_filter": "updated_at", "reorder_type": "ASC", "since": "0"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()["data"]
    query = parse_qs(urlsplit(first["next_url"]).query)
    assert "time_filter" not in query and "reorder_type" not in query
    second = requests.get(
        first["next_url"], headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()["data"]
    # Served newest first, by the default filter: not the second page of what was asked.
    assert second["payments"][0]["created_at"] > second["payments"][-1]["created_at"]


def test_customers_page_until_an_empty_page_under_a_cap_of_50(moka, seeded, reading):
    business_id = seeded["business_id"]
    have = len(moka.sandbox.business(business_id).customers)
    for number in range(130 - have):
        moka.control(
            "POST",
            "/customers",
            json={"business_id": business_id, "customer": {"name": f"Tamu {number}"}},
        )
    session = CountingSession()
    client = connected(moka, seeded, session=session)
    customers = list(client.iter_customers(business_id, per_page=100))
    assert len(customers) == 130 == len({c["id"] for c in customers})
    calls = [p for p in session.paths if p.endswith("/customers")]
    # 50+50+30 and the empty page that ends it; 100+30+empty where the cap is higher.
    assert len(calls) == (4 if reading == "pessimistic" else 3)


def test_invoices_page_until_an_empty_page_though_every_page_says_completed(moka, seeded, reading):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    business, outlet = moka.sandbox.outlet(outlet_id)
    item, customer = next(iter(outlet.items)), next(iter(business.customers))
    for _ in range(3):
        invoice = {"checkouts": [{"item_id": item}], "payment_type": "invoice"}
        invoice["customer_id"] = customer
        moka.control("POST", "/payments", json={"outlet_id": outlet_id, "payment": invoice})
    invoices = {p["id"] for p in outlet.payments.values() if p["payment_type"] == "invoice"}
    assert len(invoices) >= 3
    first = requests.get(
        f"{moka.url}/v3/outlets/{outlet_id}/reports/invoices",
        params={"per_page": 1},
        headers={"Authorization": f"Bearer {seeded['access_token']}"},
        timeout=5,
    ).json()["data"]
    hints = reading == "optimistic"
    assert first["completed"] is not hints and (first["next_url"] != "") is hints
    assert {r["id"] for r in client.iter_invoices(outlet_id, per_page=1)} == invoices


# -- invoices -----------------------------------------------------------------------------------


def test_invoice_payment_records_are_a_switch_and_the_report_still_shows_the_payment(moka, seeded):
    moka.control("POST", "/settings", json={"invoice_payment_records": False})
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    business, _ = moka.sandbox.outlet(outlet_id)
    invoice = {"checkouts": [{"item_id": next(iter(outlet.items)), "quantity": 3}]}
    invoice |= {"payment_type": "invoice", "customer_id": next(iter(business.customers))}
    made = moka.control("POST", "/payments", json={"outlet_id": outlet_id, "payment": invoice})
    unpaid = outlet.payments[made["id"]]
    moka.control("POST", f"/invoices/{unpaid['id']}/payments", json={"amount": 1000})
    since = datetime.now(UTC) - timedelta(minutes=1)
    served = next(
        p
        for p in client.iter_latest_transactions(outlet_id, since=since)
        if p["id"] == unpaid["id"]
    )
    assert served["invoice_payment_records"] == []
    assert client.invoice(outlet_id, unpaid["id"])["payment_records"] == []
    row = next(r for r in client.iter_invoices(outlet_id) if r["id"] == unpaid["id"])
    assert row["amount_pay"] == 1000 and row["invoice_status"] == "unpaid"


# -- control API --------------------------------------------------------------------------------


def test_a_refund_without_lines_is_full_and_moves_its_sale_only_under_the_switch(moka, seeded):
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    quiet, loud = [
        p
        for p in outlet.payments.values()
        if p["payment_type"] == "cash" and not p["payment_refunds"]
    ][:2]
    when = datetime.now(UTC).isoformat()
    moka.control("POST", f"/payments/{quiet['id']}/refunds", json={"created_at": when})
    assert quiet["total_refund"] == quiet["total_collected"]
    assert all(c["refunded_quantity"] == c["quantity"] for c in quiet["checkouts"])
    assert quiet["updated_at"] < quiet["payment_refunds"][0]["created_at"]
    moka.control("POST", "/settings", json={"refunds_bump_sale_updated_at": True})
    answer = moka.control("POST", f"/payments/{loud['id']}/refunds", json={})
    assert answer["updated_at"] == loud["payment_refunds"][0]["updated_at"]
    assert check_payment_arithmetic(quiet) == [] and check_payment_arithmetic(loud) == []
    assert list(moka.sandbox.webhooks.attempts) == []  # no subscription, no webhook


def test_a_partial_refund_takes_the_lines_given_and_refuses_too_many_units(moka, seeded):
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    sale = next(
        p
        for p in outlet.payments.values()
        if p["payment_type"] == "cash"
        and not p["payment_refunds"]
        and any(c["quantity"] > 1 for c in p["checkouts"])
    )
    line = next(c for c in sale["checkouts"] if c["quantity"] > 1)
    lines = [{"checkout_id": line["uuid"], "quantity": 1}]
    moka.control("POST", f"/payments/{sale['id']}/refunds", json={"lines": lines})
    refund = sale["payment_refunds"][0]
    assert [c["parent_checkout_uuid"] for c in refund["checkouts"]] == [line["uuid"]]
    assert line["refunded_quantity"] == 1
    too_many = [{"checkout_id": line["uuid"], "quantity": line["quantity"]}]
    answer = requests.post(
        f"{moka.url}/_sandbox/payments/{sale['id']}/refunds", json={"lines": too_many}, timeout=5
    )
    assert answer.status_code == 422 and "units left" in answer.json()["meta"]["error_message"]


def test_taxes_and_service_charges_change_in_the_outlets_configuration(moka, seeded):
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    tax = next(iter(outlet.taxes.values()))
    gratuity = next(iter(outlet.gratuities.values()))
    changed = moka.control("PATCH", f"/taxes/{tax['id']}", json={"rate": 11})
    assert changed["amount"] == 11.0 and changed["name"] == tax["name"]
    moka.control("PATCH", f"/gratuities/{gratuity['id']}", json={"name": "Servis", "rate": 6})
    attached = [
        g for s in outlet.sales_types.values() for g in s["gratuities"] if g["id"] == gratuity["id"]
    ]
    assert attached and all(g == {**g, "name": "Servis", "amount": "6"} for g in attached)
    client = connected(moka, seeded)
    since = datetime.now(UTC) - timedelta(minutes=1)
    taxes = list(client.iter_library(outlet_id, "taxes", since=since))
    assert [t["id"] for t in taxes] == [tax["id"]] and taxes[0]["amount"] == 11
    for bad in ({"rate": 101}, {"name": ""}, {"colour": "red"}):
        answer = requests.patch(f"{moka.url}/_sandbox/taxes/{tax['id']}", json=bad, timeout=5)
        assert answer.status_code == 422
    missing = requests.patch(f"{moka.url}/_sandbox/gratuities/1", json={"rate": 5}, timeout=5)
    assert missing.status_code == 404


def test_the_inconsistency_switch_works_through_seed_and_breaks_all_five_kinds(moka):
    seeded = moka.seed(5, inconsistent_rate=1.0)
    assert set(seeded["inconsistent"]) == set(KINDS)
    assert all(count > 0 for count in seeded["inconsistent"].values()), seeded["inconsistent"]
    _, outlet = moka.sandbox.outlet(seeded["outlet_ids"][0])
    findings = [check_payment_arithmetic(p) for p in outlet.payments.values()]
    messages = " ".join(m for found in findings for m in found)
    assert "taxable_amount" in messages and "gratuities[]" in messages
    assert "discount_amount vs Σ discounts[]" in messages
    # Header totals stay true (R1–R12): only the breakdowns disagree.
    assert not any(m.startswith(("R3", "R4", "R8")) for found in findings for m in found)
    with_options = [c for p in outlet.payments.values() for c in p["checkouts"] if c["modifiers"]]
    assert all(c["price"] == c["item_price_library"] for c in with_options)
    consistent = moka.seed(5)
    assert all(count == 0 for count in consistent["inconsistent"].values())


# -- OAuth --------------------------------------------------------------------------------------


def test_a_dropped_token_answer_under_strict_rotation_ends_in_a_clearly_flagged_connection(
    moka, seeded
):
    session = CountingSession()
    flagged = []
    store = InMemoryTokenStore()
    client = connected(
        moka, seeded, store, session=session, on_reauthorization_required=flagged.append
    )
    moka.control("POST", "/faults", json={"drop_token_responses": 1})
    old = store.load()
    moka.control("POST", "/tokens/expire", json={"access_token": old.access_token})
    session.paths.clear()
    with pytest.raises(MokaReauthorizationRequired) as raised:
        client.profile()
    assert (
        "hubungkan Moka lagi" in raised.value.message
        and "connect Moka again" in raised.value.message
    )
    assert len(flagged) == 1 and store.load() == old
    # One refresh, its retry after the lost answer, and never again.
    assert session.paths.count("POST /oauth/token") == 2
    for _ in range(3):
        with pytest.raises(MokaReauthorizationRequired):
            client.profile()
    assert session.paths.count("POST /oauth/token") == 2 and len(flagged) == 1


def test_a_dropped_token_answer_under_revoke_on_use_recovers_the_connection(moka, seeded):
    moka.control("POST", "/settings", json={"refresh_token_revoked_on_use": True})
    store = InMemoryTokenStore()
    client = connected(moka, seeded, store)
    moka.control("POST", "/faults", json={"drop_token_responses": 1})
    old = store.load()
    moka.control("POST", "/tokens/expire", json={"access_token": old.access_token})
    assert client.profile()["business_id"] == seeded["business_id"]
    assert store.load().refresh_token != old.refresh_token
    assert client.reauthorization_required is None
    assert moka.sandbox.faults.drop_token_responses == 0


def test_a_dropped_answer_to_the_code_exchange_asks_the_merchant_to_connect_again(moka, seeded):
    query = authorize(moka.url, seeded["email"], seeded["password"])
    moka.control("POST", "/faults", json={"drop_token_responses": 1})
    client = moka_client(moka.url)
    started = time.monotonic()
    with pytest.raises(MokaReauthorizationRequired, match="connect Moka again"):
        client.exchange_code(query["code"][0], REDIRECT_URI)
    assert time.monotonic() - started < 5
    # A fresh authorisation works.
    query = authorize(moka.url, seeded["email"], seeded["password"])
    client.exchange_code(query["code"][0], REDIRECT_URI)
    assert client.profile()["business_id"] == seeded["business_id"]
