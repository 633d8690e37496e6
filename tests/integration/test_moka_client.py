"""The Moka client against the Moka sandbox over real HTTP: OAuth, rotation and crashes,
paging in both styles, retries and typed errors, Decimal money."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import requests

from clients.moka import (
    InMemoryTokenStore,
    MokaAuthError,
    MokaOutletExpired,
    MokaRateLimited,
    MokaReauthorizationRequired,
    MokaScopeError,
    MokaTransientError,
    TokenSet,
)
from tests.moka_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    authorize,
    moka_client,
)


@pytest.fixture
def seeded(moka):
    return moka.seed(1)


def connected(moka, seeded, store=None, **options):
    query = authorize(moka.url, seeded["email"], seeded["password"])
    client = moka_client(moka.url, store, **options)
    client.exchange_code(query["code"][0], REDIRECT_URI)
    return client


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


class CrashingStore(InMemoryTokenStore):
    """Dies during its next save, as a worker killed between refresh and persist would."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_next = False

    def save(self, tokens: TokenSet) -> None:
        if self.crash_next:
            self.crash_next = False
            raise Crash
        super().save(tokens)


def test_the_merchant_allows_access_and_the_client_exchanges_the_code(moka, seeded):
    query = authorize(moka.url, seeded["email"], seeded["password"], state="s-42")
    assert query["state"] == ["s-42"]
    store = InMemoryTokenStore()
    client = moka_client(moka.url, store)
    tokens = client.exchange_code(query["code"][0], REDIRECT_URI)
    assert store.load() == tokens
    assert len(tokens.access_token) == 64 and int(tokens.access_token, 16) >= 0
    assert tokens.expires_in == 15552000
    profile = client.profile()
    assert profile["business_id"] == seeded["business_id"]
    assert profile["outlet_ids"] == seeded["outlet_ids"]


def test_an_install_without_state_also_gets_a_code(moka, seeded):
    query = authorize(moka.url, seeded["email"], seeded["password"], state=None)
    assert "code" in query and "state" not in query


def test_a_code_works_once_and_only_with_its_redirect_uri(moka, seeded):
    code = authorize(moka.url, seeded["email"], seeded["password"])["code"][0]
    client = moka_client(moka.url)
    with pytest.raises(MokaReauthorizationRequired):
        client.exchange_code(code, "http://127.0.0.1:9/elsewhere")
    code = authorize(moka.url, seeded["email"], seeded["password"])["code"][0]
    client.exchange_code(code, REDIRECT_URI)
    with pytest.raises(MokaReauthorizationRequired):
        client.exchange_code(code, REDIRECT_URI)


def test_a_wrong_password_shows_the_form_again_without_a_code(moka, seeded):
    answer = requests.post(
        f"{moka.url}/oauth/authorize",
        data={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "email": seeded["email"],
            "password": "wrong",
            "decision": "allow",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 401
    assert "Location" not in answer.headers and 'name="password"' in answer.text


def test_refresh_rotates_and_the_old_refresh_token_gets_invalid_grant(moka, seeded):
    store = InMemoryTokenStore()
    client = connected(moka, seeded, store)
    old = store.load()
    new = client.refresh()
    assert store.load() == new and new.refresh_token != old.refresh_token
    reuse = requests.post(
        f"{moka.url}/oauth/token",
        timeout=10,
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": old.refresh_token,
        },
    )
    assert reuse.status_code == 401 and reuse.json()["error"] == "invalid_grant"
    assert client.profile()["business_id"] == seeded["business_id"]


def test_the_client_refreshes_ahead_of_expiry_and_saves_before_using_the_new_token(moka, seeded):
    moka.control("POST", "/settings", json={"token_lifetime": 3600})
    sandbox = moka.sandbox

    class CheckingStore(InMemoryTokenStore):
        def save(self, tokens):
            # At save time the new access token must never have been used.
            assert not sandbox.tokens[tokens.access_token].used
            super().save(tokens)

    store = CheckingStore()
    client = connected(moka, seeded, store, clock=lambda: time.time() + 3000)
    first = store.load()
    client.profile()
    assert store.saves == 2 and store.load().access_token != first.access_token
    assert sandbox.tokens[store.load().access_token].used


def test_a_crash_between_refresh_and_save_does_not_lock_out_with_revoke_on_use(moka, seeded):
    moka.control("POST", "/settings", json={"refresh_token_revoked_on_use": True})
    store = CrashingStore()
    client = connected(moka, seeded, store)
    before = store.load()
    store.crash_next = True
    with pytest.raises(Crash):
        client.refresh()
    assert store.load() == before  # the new pair died with the process
    restarted = moka_client(moka.url, store)
    after = restarted.refresh()
    assert restarted.profile()["business_id"] == seeded["business_id"]
    assert after.refresh_token != before.refresh_token
    # Once the new access token was used, the old refresh token is finished.
    with pytest.raises(MokaReauthorizationRequired):
        moka_client(moka.url, InMemoryTokenStore(before)).refresh()


def test_under_strict_rotation_a_lost_refresh_is_flagged_while_the_old_token_still_works(
    moka, seeded
):
    moka.control("POST", "/settings", json={"token_lifetime": 3600})
    store = CrashingStore()
    connected(moka, seeded, store)
    store.crash_next = True
    with pytest.raises(Crash):
        moka_client(moka.url, store).refresh()
    flagged = []
    restarted = moka_client(
        moka.url,
        store,
        clock=lambda: time.time() + 3000,
        on_reauthorization_required=flagged.append,
    )
    assert restarted.profile()["business_id"] == seeded["business_id"]
    assert isinstance(restarted.reauthorization_required, MokaReauthorizationRequired)
    assert len(flagged) == 1
    moka.control("POST", "/tokens/expire", json={"access_token": store.load().access_token})
    with pytest.raises(MokaReauthorizationRequired):
        restarted.profile()


def test_a_401_makes_the_client_refresh_once_and_retry(moka, seeded):
    store = InMemoryTokenStore()
    client = connected(moka, seeded, store)
    stale = store.load()
    moka.control("POST", "/tokens/expire", json={"access_token": stale.access_token})
    assert client.business()["id"] == seeded["business_id"]
    assert store.load().access_token != stale.access_token


def test_another_workers_rotation_is_picked_up_instead_of_refreshing_again(moka, seeded):
    store = InMemoryTokenStore()
    first = connected(moka, seeded, store)
    second = moka_client(moka.url, store)
    stale = store.load()
    first.refresh()
    rotated = store.load()
    moka.control("POST", "/tokens/expire", json={"access_token": stale.access_token})
    # `second` holds nothing of its own: it reads the store and uses what `first` saved.
    assert second.profile()["business_id"] == seeded["business_id"]
    assert store.load() == rotated


def test_a_revoked_connection_raises_an_auth_error(moka, seeded):
    client = connected(moka, seeded)
    client.revoke()
    with pytest.raises(MokaAuthError):
        client.profile()


def test_page_lists_walk_every_page_and_filter_deleted_and_updated_rows(moka, seeded):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    live = [i["id"] for i in outlet.items.values() if not i["is_deleted"]]
    assert [i["id"] for i in client.iter_items(outlet_id, per_page=7)] == sorted(live)
    everything = list(client.iter_items(outlet_id, include_deleted=True, per_page=7))
    assert len(everything) == len(outlet.items) > len(live)
    deleted_at = max(datetime.fromisoformat(i["updated_at"]) for i in outlet.items.values())
    recent = list(
        client.iter_items(outlet_id, since=deleted_at - timedelta(seconds=1), include_deleted=True)
    )
    assert recent and all(i["is_deleted"] for i in recent)
    assert len(list(client.iter_library(outlet_id, "categories", per_page=3))) == 10
    assert {s["name"] for s in client.iter_library(outlet_id, "sales_type")} >= {
        "Dine In",
        "GoFood",
    }
    business = moka.sandbox.business(seeded["business_id"])
    customers = list(client.iter_customers(seeded["business_id"], per_page=5))
    assert len(customers) == len(business.customers) == 12


def test_latest_transactions_follow_next_url_in_both_orders_and_yield_each_payment_once(
    moka, seeded
):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    everything = set(outlet.payments)
    since = datetime(2024, 4, 1).astimezone()
    for order in ("ASC", "DESC"):
        seen = [
            p["id"]
            for p in client.iter_latest_transactions(
                outlet_id, since=since, per_page=7, reorder_type=order, time_filter="created_at"
            )
        ]
        assert len(seen) == len(set(seen)) and set(seen) == everything
    v4 = next(client.iter_latest_transactions(outlet_id, since=since, version=4, per_page=5))
    assert v4["outlet_name"] == outlet.outlet["name"] and "loyalty" in v4


def test_paging_is_stable_while_sales_arrive(moka, seeded):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    pages = client.iter_latest_transactions(
        outlet_id, since=datetime(2024, 4, 1).astimezone(), per_page=10, time_filter="created_at"
    )
    first = [next(pages) for _ in range(10)]
    new = moka.control(
        "POST",
        "/payments",
        json={
            "outlet_id": outlet_id,
            "payment": {
                "checkouts": [{"item_id": next(iter(moka.sandbox.outlet(outlet_id)[1].items))}]
            },
        },
    )["id"]
    rest = list(pages)
    seen = [p["id"] for p in first + rest]
    assert new not in seen and len(seen) == len(set(seen))
    assert len(seen) == len(moka.sandbox.outlet(outlet_id)[1].payments) - 1


@pytest.mark.parametrize("bump", [False, True], ids=["refunds-quiet", "refunds-bump"])
def test_an_updated_at_window_sees_invoice_payments_and_refunds_only_where_they_bump(
    moka, seeded, bump
):
    moka.control("POST", "/settings", json={"refunds_bump_sale_updated_at": bump})
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    old_sale = next(
        p
        for p in outlet.payments.values()
        if p["payment_type"] == "cash" and not p["payment_refunds"]
    )
    item = next(i for i in outlet.items.values() if not i["is_deleted"])
    unpaid = moka.control(
        "POST",
        "/payments",
        json={
            "outlet_id": outlet_id,
            "payment": {
                "payment_type": "invoice",
                "customer_id": seeded_customer(moka, outlet_id),
                "created_at": old_sale["created_at"],
                "checkouts": [{"item_id": item["id"], "quantity": 1}],
            },
        },
    )
    window_start = datetime.now().astimezone() - timedelta(seconds=5)
    refund_id = moka.control(
        "POST",
        "/payments",
        json={"outlet_id": outlet_id, "payment": {"parent_payment_uuid": old_sale["id"]}},
    )["id"]
    moka.control("POST", f"/invoices/{unpaid['id']}/payments", json={"amount": 1000})
    changed = {p["id"]: p for p in client.iter_latest_transactions(outlet_id, since=window_start)}
    assert changed[unpaid["id"]]["invoice_payment_records"][0]["amount"] == Decimal(1000)
    if not bump:
        # The official example's reading (§8.4): the window never sees the refund.
        assert set(changed) == {unpaid["id"]}
        return
    assert set(changed) == {old_sale["id"], unpaid["id"]}
    assert [r["uuid"] for r in changed[old_sale["id"]]["payment_refunds"]] == [refund_id]


def seeded_customer(moka, outlet_id):
    business, _ = moka.sandbox.outlet(outlet_id)
    return next(c["id"] for c in business.customers.values() if not c["is_deleted"])


def test_invoices_list_and_detail(moka, seeded):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    invoices = [p for p in outlet.payments.values() if p["payment_type"] == "invoice"]
    rows = list(client.iter_invoices(outlet_id, per_page=1))
    assert {r["id"] for r in rows} == {p["id"] for p in invoices}
    detail = client.invoice(outlet_id, rows[0]["id"])
    assert detail["checkouts"] and detail["customer"]["id"] == rows[0]["customer_id"]
    due = detail["subtotal"] + detail["total_gratuity_amount"] + detail["total_tax_amount"]
    assert detail["total_collected_amount"] - detail["total_rounding_amount"] == due


def test_money_arrives_as_decimal_and_ids_as_integers(moka, seeded):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    payment = next(client.iter_latest_transactions(outlet_id, since=0))
    assert isinstance(payment["total_collected"], Decimal)
    assert isinstance(payment["checkouts"][0]["gross_sales"], Decimal)
    assert isinstance(payment["checkouts"][0]["item_id"], int)
    assert isinstance(payment["checkouts"][0]["quantity"], int)


def test_server_errors_and_429s_are_retried_with_backoff_then_typed(moka, seeded):
    slept = []
    client = connected(moka, seeded, sleep=slept.append)
    moka.control("POST", "/faults", json={"error_rate": 1.0})
    with pytest.raises(MokaTransientError) as failure:
        client.profile()
    assert failure.value.status == 500 and len(slept) == 2
    moka.control("POST", "/faults", json={"error_rate": 0.0, "rate_limit_rate": 1.0})
    with pytest.raises(MokaRateLimited):
        client.profile()
    moka.control("POST", "/faults", json={"rate_limit_rate": 0.5})
    assert all(client.profile()["business_id"] == seeded["business_id"] for _ in range(5))


def test_a_missing_scope_and_an_expired_outlet_raise_their_own_errors(moka, seeded):
    query = authorize(moka.url, seeded["email"], seeded["password"], scope="profile")
    client = moka_client(moka.url)
    client.exchange_code(query["code"][0], REDIRECT_URI)
    outlet_id = seeded["outlet_ids"][0]
    with pytest.raises(MokaScopeError) as failure:
        list(client.iter_items(outlet_id))
    assert failure.value.message.endswith("these scopes: library")
    full = connected(moka, seeded)
    moka.control("POST", f"/outlets/{outlet_id}", json={"expired": True})
    with pytest.raises(MokaOutletExpired):
        list(full.iter_items(outlet_id))


def test_reports_agree_with_the_payments(moka, seeded):
    client = connected(moka, seeded)
    outlet_id = seeded["outlet_ids"][0]
    day = datetime(2024, 5, 2).date()
    summary = client.sales_summary(outlet_id, day, day)
    _, outlet = moka.sandbox.outlet(outlet_id)
    that_day = [p for p in outlet.payments.values() if p["created_at"].startswith("2024-05-02")]
    assert summary["number_of_transactions"] == len(that_day)
    assert (
        summary["net_sales"] + summary["gratuities"] + summary["taxes"]
        == summary["total_collected"]
    )
    methods = client.payment_methods(outlet_id, day, day)
    assert methods["total_number_of_transactions"] == len(that_day)
