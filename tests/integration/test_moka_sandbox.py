"""The Moka sandbox against the reference's checklist (§13), over real HTTP with `requests`:
envelopes and exact error bodies, OAuth details, both paging styles, the control API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.moka import MokaSandbox, create_app
from sandbox.moka.arithmetic import check_payment_arithmetic
from tests.moka_support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, authorize

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "moka_examples"


@pytest.fixture
def seeded(moka):
    return moka.seed(6)


def get(moka, path, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{moka.url}{path}", params=params, headers=headers, timeout=10)


def token_call(moka, as_json=True, **fields):
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}
    if as_json:
        return requests.post(f"{moka.url}/oauth/token", json=body, timeout=10)
    return requests.post(f"{moka.url}/oauth/token", data=body, timeout=10)


def test_create_app_works_with_no_arguments_and_reads_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_MOKA_CLIENT_ID", "env-client")
    monkeypatch.setenv("MOKA_WEBHOOK_SECRET", "env-secret")
    app = create_app()
    sandbox: MokaSandbox = app.extensions["moka_sandbox"]
    assert sandbox.client_id == "env-client" and sandbox.client_secret == "sandbox-moka-secret"
    assert sandbox.webhook_secret == "env-secret"
    assert app.test_client().get("/_sandbox/state").json["businesses"] == []


def test_seed_returns_working_credentials_and_state_counts_the_outlet(moka, seeded):
    assert re.fullmatch(r"[0-9a-f]{64}", seeded["access_token"])
    assert re.fullmatch(r"[0-9a-f]{64}", seeded["refresh_token"])
    profile = get(moka, "/v1/profile/self", seeded["access_token"]).json()
    assert "meta" not in profile and profile["business_id"] == seeded["business_id"]
    [business] = moka.control("GET", "/state")["businesses"]
    [outlet] = business["outlets"]
    assert outlet["products"] == 40 and business["customers"] == 12
    assert outlet["payments"] >= 4 * 20 and outlet["refunds"] >= 0


def test_the_401_body_is_exactly_the_official_example(moka, seeded):
    answer = get(moka, "/v1/businesses", "f" * 64)
    expected = json.loads((EXAMPLES / "error_any_endpoint.401_invalid_token.json").read_text())
    assert answer.status_code == 401 and answer.json() == expected


def test_the_token_is_also_accepted_in_the_query(moka, seeded):
    answer = get(moka, "/v1/businesses", access_token=seeded["access_token"])
    assert answer.json()["data"]["business"]["id"] == seeded["business_id"]


def test_error_bodies_follow_the_reference_table(moka, seeded):
    token, outlet = seeded["access_token"], seeded["outlet_ids"][0]
    body = get(moka, f"/v2/outlets/{outlet}/reports/sales_summary", token, start="01/05/2024")
    assert body.status_code == 400 and body.json() == {
        "data": {},
        "meta": {
            "code": 400,
            "error_message": "param is missing or the value is empty: end",
            "error_type": "ActionController::ParameterMissing",
        },
    }
    missing = get(moka, "/v1/outlets/999/items", token)
    assert missing.status_code == 404
    assert missing.json()["meta"]["error_message"] == "Outlet 999 is not found"
    gone = get(moka, f"/v1/outlets/{outlet}/reports/get_latest_transactions", token)
    assert gone.status_code == 410 and gone.json()["meta"]["error_message"] == "Service Deprecated"
    not_json = requests.post(
        f"{moka.url}/v1/outlets/{outlet}/items",
        data="name=x",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert not_json.status_code == 415 and not_json.json()["data"] is None
    deleted = requests.delete(
        f"{moka.url}/v1/outlets/{outlet}/items/1",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert deleted.status_code == 422
    assert deleted.json()["meta"]["error_message"] == "Item does not found or already removed."
    moka.control("POST", f"/outlets/{outlet}", json={"expired": True})
    expired = get(moka, f"/v1/outlets/{outlet}/taxes", token)
    assert expired.status_code == 403 and expired.json()["data"] is None
    assert expired.json()["meta"]["error_type"] == "ApiErrors::OutletExpiredError"
    assert f"(ID:{outlet}) has been expired" in expired.json()["meta"]["error_message"]


def test_a_token_without_a_scope_gets_the_403_naming_it(moka, seeded):
    code = authorize(moka.url, seeded["email"], seeded["password"], scope="profile")["code"][0]
    tokens = token_call(
        moka, code=code, grant_type="authorization_code", redirect_uri=REDIRECT_URI
    ).json()
    assert tokens["scope"] == "profile"
    answer = get(
        moka,
        f"/v3/outlets/{seeded['outlet_ids'][0]}/reports/get_latest_transactions",
        tokens["access_token"],
    )
    assert answer.status_code == 403 and answer.json() == {
        "data": None,
        "meta": {
            "code": 403,
            "error_type": "Doorkeeper::OAuth::ForbiddenTokenResponse",
            "error_message": "The token isn't granted at least one of these scopes: transaction",
        },
    }


def test_the_token_endpoint_takes_form_bodies_and_rejects_bad_clients_and_grants(moka, seeded):
    refreshed = token_call(
        moka, as_json=False, grant_type="refresh_token", refresh_token=seeded["refresh_token"]
    )
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    }
    assert refreshed.json()["token_type"] == "bearer"
    bad_client = token_call(
        moka,
        client_secret="nope",
        grant_type="refresh_token",
        refresh_token=refreshed.json()["refresh_token"],
    )
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
    bad_grant = token_call(moka, grant_type="password")
    assert bad_grant.status_code == 400 and bad_grant.json()["error"] == "unsupported_grant_type"


def test_the_token_lifetime_is_configurable_and_revoke_and_info_work(moka, seeded):
    moka.control("POST", "/settings", json={"token_lifetime": 60})
    fresh = token_call(moka, grant_type="refresh_token", refresh_token=seeded["refresh_token"])
    token = fresh.json()["access_token"]
    assert fresh.json()["expires_in"] == 60
    info = requests.get(f"{moka.url}/oauth/token/info", params={"access_token": token}, timeout=5)
    assert info.json()["expires_in"] <= 60 and info.json()["application"]["uid"] == CLIENT_ID
    revoked = requests.post(
        f"{moka.url}/oauth/revoke",
        timeout=5,
        json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token},
    )
    assert revoked.json() == {"data": {}, "meta": {"code": 200, "errors": {}}}
    assert get(moka, "/v1/businesses", token).status_code == 401


def test_deny_and_unknown_clients_never_yield_a_code(moka, seeded):
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "state": "s",
        "decision": "deny",
    }
    denied = requests.post(
        f"{moka.url}/oauth/authorize", data=params, allow_redirects=False, timeout=5
    )
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["s"],
    }
    unknown = requests.get(
        f"{moka.url}/oauth/authorize", timeout=5, params={**params, "client_id": "someone-else"}
    )
    assert unknown.status_code == 401 and "Location" not in unknown.headers


@pytest.mark.parametrize("keeps_filters", [False, True], ids=["official-params", "all-params"])
def test_latest_transactions_next_url_keeps_the_version_and_the_query_token(
    moka, seeded, keeps_filters
):
    moka.control("POST", "/settings", json={"next_url_keeps_filters": keeps_filters})
    token, outlet = seeded["access_token"], seeded["outlet_ids"][0]
    path = f"/v4/outlets/{outlet}/reports/get_latest_transactions"
    page = get(
        moka,
        path,
        per_page=5,
        mobile_device="true",
        time_filter="created_at",
        reorder_type="ASC",
        access_token=token,
    ).json()
    assert set(page) == {"data"}  # no meta on latest transactions
    next_url = page["data"]["next_url"]
    parts = urlsplit(next_url)
    query = parse_qs(parts.query)
    assert next_url.startswith(moka.url) and parts.path == path
    assert query["mobile_device"] == ["true"] and query["per_page"] == ["5"]
    if keeps_filters:
        assert query["time_filter"] == ["created_at"] and query["reorder_type"] == ["ASC"]
    else:
        # Only the official example's parameters (§4.2): the filter and the order are lost.
        assert set(query) == {"per_page", "mobile_device", "since", "until", "access_token"}
    assert query["access_token"] == [token] and page["data"]["completed"] is False
    last = page["data"]["payments"][-1]
    assert "principal_id" in last["checkouts"][0] and last["outlet_name"]
    with_header = get(moka, path, token, per_page=5).json()["data"]["next_url"]
    assert "access_token" not in with_header


def test_keyset_pages_repeat_only_boundary_rows_and_end_completed(moka, seeded):
    token, outlet = seeded["access_token"], seeded["outlet_ids"][0]
    url = f"{moka.url}/v3/outlets/{outlet}/reports/get_latest_transactions?per_page=9"
    seen, pages = [], 0
    while url:
        data = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        data = data["data"]
        seen += [p["id"] for p in data["payments"]]
        pages += 1
        url = "" if data["completed"] else data["next_url"]
    total = len(moka.sandbox.outlet(outlet)[1].payments)
    assert set(seen) == set(moka.sandbox.outlet(outlet)[1].payments)
    assert len(seen) - total == pages - 1  # each next page starts with the previous last row


def test_library_lists_page_with_totals_and_use_their_exact_keys(moka, seeded):
    token, outlet = seeded["access_token"], seeded["outlet_ids"][0]
    keys = {
        "items": "items",
        "categories": "category",
        "modifiers": "modifier",
        "discounts": "discount",
        "taxes": "tax",
        "gratuities": "gratuity",
        "sales_type": "results",
    }
    for path, key in keys.items():
        data = get(moka, f"/v1/outlets/{outlet}/{path}", token, per_page=3).json()["data"]
        assert list(data) == ["total_pages", "total_count", key]
        assert data["total_pages"] == -(-data["total_count"] // 3)
    customers = get(moka, f"/v1/businesses/{seeded['business_id']}/customers", token).json()
    assert list(customers["data"]) == ["customers"]
    timestamps = [c["created_at"] for c in customers["data"]["customers"]]
    assert all(re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{3}\+07:00", t) for t in timestamps)


def test_a_posted_cart_is_priced_with_the_outlets_library_and_settings(moka, seeded):
    outlet_id = seeded["outlet_ids"][0]
    _, outlet = moka.sandbox.outlet(outlet_id)
    item = next(i for i in outlet.items.values() if i["active_modifiers"] and not i["is_deleted"])
    option = item["active_modifiers"][0]["modifier_options"][-1]
    percent = next(d for d in outlet.discounts.values() if d["type"] == "percentage")
    cash = next(d for d in outlet.discounts.values() if d["type"] == "cash")
    dine_in = next(s for s in outlet.sales_types.values() if s["name"] == "Dine In")
    payment_id = moka.control(
        "POST",
        "/payments",
        json={
            "outlet_id": outlet_id,
            "payment": {
                "sales_type_id": dine_in["id"],
                "payment_type": "cash",
                "tendered": 1_000_000,
                "created_at": "2024-05-06T12:00:00.123456+07:00",
                "payment_discounts": [{"discount_id": cash["id"]}],
                "checkouts": [
                    {
                        "item_variant_id": item["item_variants"][0]["id"],
                        "quantity": 3,
                        "modifiers": [{"modifier_option_id": option["id"]}],
                        "discounts": [{"discount_id": percent["id"]}],
                    }
                ],
            },
        },
    )["id"]
    payment = outlet.payments[payment_id]
    assert check_payment_arithmetic(payment) == []
    line = payment["checkouts"][0]
    assert line["price"] == item["item_variants"][0]["price"] + option["price"]
    assert {d["discount_id"] for d in line["discounts"]} == {percent["id"], cash["id"]}
    assert payment["payment_gratuities"] and payment["total_rounding_amount"] is not None
    assert payment["change"] == 1_000_000 - payment["total_collected"]
    assert payment["created_at"] == "2024-05-06T12:00:00.123456+07:00"


def test_a_posted_complete_payment_is_stored_as_given_with_defaults_filled(moka, seeded):
    outlet_id = seeded["outlet_ids"][0]
    official = json.loads(
        (EXAMPLES / "get_v3_outlets_reports_get_latest_transactions.200.json").read_text()
    )["data"]["payments"][0]
    given = {k: v for k, v in official.items() if k not in ("payment_no", "guid", "order_id")}
    payment_id = moka.control("POST", "/payments", json={"outlet_id": outlet_id, "payment": given})[
        "id"
    ]
    stored = moka.sandbox.outlet(outlet_id)[1].payments[payment_id]
    assert payment_id == official["id"] and list(stored) == list(official)
    assert stored["total_collected"] == 92000 and stored["payment_no"]
    assert check_payment_arithmetic(stored) == check_payment_arithmetic(official)


def test_partial_refunds_and_invoice_parts_through_the_control_api(moka, seeded):
    outlet_id, business_id = seeded["outlet_ids"][0], seeded["business_id"]
    _, outlet = moka.sandbox.outlet(outlet_id)
    item = next(i for i in outlet.items.values() if not i["is_deleted"])
    sale_id = moka.control(
        "POST",
        "/payments",
        json={
            "outlet_id": outlet_id,
            "payment": {
                "payment_type": "card",
                "checkouts": [{"item_id": item["id"], "quantity": 3}],
            },
        },
    )["id"]
    line = outlet.payments[sale_id]["checkouts"][0]["uuid"]
    for _ in range(2):
        moka.control(
            "POST",
            "/payments",
            json={
                "outlet_id": outlet_id,
                "payment": {
                    "parent_payment_uuid": sale_id,
                    "checkouts": [{"parent_checkout_uuid": line, "quantity": 1}],
                },
            },
        )
    too_many = requests.post(
        f"{moka.url}/_sandbox/payments",
        timeout=5,
        json={
            "outlet_id": outlet_id,
            "payment": {
                "parent_payment_uuid": sale_id,
                "checkouts": [{"parent_checkout_uuid": line, "quantity": 2}],
            },
        },
    )
    assert too_many.status_code == 422
    sale = outlet.payments[sale_id]
    assert [r["refund_type"] for r in sale["payment_refunds"]] == ["partial", "partial"]
    assert sale["checkouts"][0]["refunded_quantity"] == 2
    assert check_payment_arithmetic(sale) == []
    customer = next(iter(moka.sandbox.business(business_id).customers))
    invoice_id = moka.control(
        "POST",
        "/payments",
        json={
            "outlet_id": outlet_id,
            "payment": {
                "payment_type": "invoice",
                "customer_id": customer,
                "checkouts": [{"item_id": item["id"], "quantity": 2}],
            },
        },
    )["id"]
    moka.control("POST", f"/invoices/{invoice_id}/payments", json={"amount": 1000})

    def row():
        rows = get(moka, f"/v3/outlets/{outlet_id}/reports/invoices", seeded["access_token"])
        return next(r for r in rows.json()["data"]["invoices"] if r["id"] == invoice_id)

    assert row()["invoice_status"] == "unpaid" and row()["amount_pay"] == 1000
    moka.control("POST", f"/invoices/{invoice_id}/payments", json={"payment_type": "other"})
    assert row()["invoice_status"] == "paid" and row()["total_rounding_amount"] == 0
    assert check_payment_arithmetic(outlet.payments[invoice_id]) == []


def test_the_same_seed_gives_the_same_outlet_and_reset_forgets_everything(moka):
    first = moka.seed(8)
    ids = sorted(moka.sandbox.outlet(first["outlet_ids"][0])[1].payments)
    moka.control("POST", "/reset")
    assert moka.control("GET", "/state")["businesses"] == []
    again = moka.seed(8)
    assert again["outlet_ids"] == first["outlet_ids"]
    assert sorted(moka.sandbox.outlet(again["outlet_ids"][0])[1].payments) == ids
    assert get(moka, "/v1/businesses", first["access_token"]).status_code == 401


def test_a_sale_rung_up_live_never_takes_a_generated_sales_id():
    """The sandbox's ids and the generator's come from streams seeded alike; with this seed and
    shape two live sales used to draw generated sales' ids and replace them (the chaos run then
    saw an invoice that no longer matched 'its' sale)."""
    from datetime import date

    from sandbox.moka.changes import insert_payment

    sandbox = MokaSandbox(webhook_secret="x", seed=1)
    seeded = sandbox.seed(1, products=40, customers=20, days=2, transactions_per_day=20,
                          start_date=date(2026, 12, 4))  # fmt: skip
    outlet_id = int(seeded["outlet_ids"][0])
    _, outlet = sandbox.outlet(outlet_id)
    generated = dict(outlet.payments)
    items = [item["id"] for item in outlet.items.values() if not item["is_deleted"]]
    live = [
        insert_payment(
            sandbox,
            outlet_id,
            {
                "payment_type": "cash",
                "checkouts": [{"item_id": items[n % len(items)], "quantity": 1}],
            },
        )
        for n in range(200)
    ]
    assert len(set(live)) == 200 and not set(live) & set(generated)
    assert all(outlet.payments[uuid] is payment for uuid, payment in generated.items())
