"""Settings through the API: every field of design §2, the rules' answers (immutable fields,
packages, quota, accounts the company's chart lacks), and the sync and replay requests that hang
off a setting. The company's Jurnal is a sandbox with the English chart of the documented example
company, which the accounts a setting names are checked against."""

from __future__ import annotations

import uuid

import pytest

from domain.log import SyncRequested
from projections.runner import catch_up
from tests.gateway_support import (
    customer,
    deliver,
    envelope,
    finish_master_data,
    make_tenant,
    post_setting,
    served_jurnal,
    setting_company,
    setting_fields,
)

EVERY_FIELD = {
    "name_prefix": "Jaksel",
    "name_suffix": "",
    "track_inventory": True,
    "auto_sync": False,
    "sync_time": "21:30",
    "tag": "Outlet Jaksel",
    "warehouse": "Gudang Jaksel",
    "sync_by_product_name": True,
    "sales_account": "Service Revenue",
    "purchase_account": "5-50000",
    "sell_tax_account": "vat out",
    "buy_tax_account": None,
    "payment_accounts": {
        "cash": {"account": "1-10001", "tag": None},
        "edc": {"account": "1-10002", "tag": "EDC BCA"},
        "gift_card": {"account": "Cash"},
        "ovo": {"account": "Bank Account"},
        "tcash": {"account": "bank account"},
        "other": {"account": "1-10002"},
    },
}


@pytest.fixture
def jurnal_sandbox():
    with served_jurnal(("PT Basic", "Basic")) as url:
        yield url


@pytest.fixture
def gateway_config(gateway_config, jurnal_sandbox):
    return gateway_config.with_changes(jurnal_base_url=jurnal_sandbox)


@pytest.fixture
def company(gateway_container):
    return setting_company(gateway_container, quota=2)


def test_a_setting_takes_every_field_and_answers_201_with_it(client, company):
    response = post_setting(client, company, **EVERY_FIELD)
    assert response.status_code == 201, response.json
    setting = response.json
    company_id, connection_id, _ = company
    assert setting["company_id"] == str(company_id)
    assert setting["moka_connection_id"] == str(connection_id)
    assert setting["outlet_id"] == "4522" and setting["start_date"] == "2024-05-01"
    assert setting["transactions_from"] == "2024-04-01"
    assert setting["sync_time"] == "21:30" and setting["master_data_synced_at"] is None
    for name in ("name_prefix", "track_inventory", "auto_sync", "tag", "warehouse"):
        assert setting[name] == EVERY_FIELD[name]
    assert setting["payment_accounts"]["edc"] == {"account": "1-10002", "tag": "EDC BCA"}
    assert setting["payment_accounts"]["ovo"] == {"account": "Bank Account", "tag": None}
    assert (setting["sell_tax_account"], setting["buy_tax_account"]) == ("vat out", None)


def test_optional_fields_take_the_add_ons_defaults(client, company):
    setting = post_setting(client, company).json
    assert setting["sync_time"] == "22:00" and setting["auto_sync"] is True
    assert setting["track_inventory"] is False and setting["payment_accounts"] == {}
    assert setting["tag"] is None and setting["warehouse"] is None


def test_accounts_left_out_are_the_companys_own_defaults(client, company):
    setting = post_setting(client, company, sales_account=None, purchase_account=None).json
    for name in ("sales_account", "purchase_account", "sell_tax_account", "buy_tax_account"):
        assert setting[name] is None, name


def test_an_account_the_companys_chart_lacks_answers_422_naming_it_and_the_closest(client, company):
    response = post_setting(
        client,
        company,
        sales_account="Sales Revenue",
        purchase_account="Beban Pokok Pendapatan",
        payment_accounts={"cash": {"account": "Kas"}, "edc": {"account": "Service Revenue"}},
    )
    assert response.status_code == 422, response.json
    fields = response.json["error"]["fields"]
    assert set(fields) == {
        "sales_account",
        "purchase_account",
        "payment_accounts.cash.account",
        "payment_accounts.edc.account",
    }
    assert (
        "'Sales Revenue', which is not an account of this Jurnal company" in fields["sales_account"]
    )
    assert "closest: Sales Return (4-40200), Service Revenue (4-40000)" in fields["sales_account"]
    assert "'Beban Pokok Pendapatan'" in fields["purchase_account"]
    assert "not a Cash & Bank account" in fields["payment_accounts.edc.account"]


def test_changing_to_an_account_the_chart_lacks_answers_422(client, company):
    _, _, headers = company
    setting = post_setting(client, company).json
    path = f"/api/v1/settings/{setting['id']}"
    refused = client.patch(path, headers=headers, json={"sell_tax_account": "PPN Keluaran"})
    assert refused.status_code == 422
    assert "'PPN Keluaran'" in refused.json["error"]["fields"]["sell_tax_account"]
    accepted = client.patch(path, headers=headers, json={"sell_tax_account": "2-20501"})
    assert accepted.status_code == 200 and accepted.json["sell_tax_account"] == "2-20501"


def test_missing_and_mistyped_fields_answer_422_naming_each(client, company):
    company_id, _, headers = company
    response = client.post(
        "/api/v1/settings",
        headers=headers,
        json={
            "company_id": str(company_id),
            "track_inventory": 1,
            "start_date": "01/05/2024",
            "sync_time": "late",
            "outlet_id": "45a",
            "payment_accounts": {"bitcoin": {"account": "x"}, "cash": {}},
            "colour": "blue",
        },
    )
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    for name in (
        "moka_connection_id",
        "name",
        "default_customer",
        "track_inventory",
        "start_date",
        "sync_time",
        "outlet_id",
        "payment_accounts.bitcoin",
        "payment_accounts.cash.account",
        "colour",
    ):
        assert name in fields, (name, fields)


def test_an_outlet_the_connection_does_not_have_answers_422(client, company):
    response = post_setting(client, company, outlet_id="777")
    assert response.status_code == 422
    assert "outlet_id" in response.json["error"]["fields"]


def test_a_tag_or_warehouse_above_the_companys_package_is_refused(client, gateway_container):
    company_id, connection_id, headers = setting_company(
        gateway_container, "PT Basic", package="Basic"
    )
    body = setting_fields(company_id, connection_id, tag="T", warehouse="W")
    response = client.post("/api/v1/settings", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "plan_required"
    assert "Pro" in response.json["error"]["fields"]["tag"]
    assert "Enterprise" in response.json["error"]["fields"]["warehouse"]


def test_a_setting_over_the_quota_answers_409(client, company):
    assert post_setting(client, company).status_code == 201
    assert post_setting(client, company, outlet_id="4523").status_code == 201
    third = post_setting(client, company)
    assert third.status_code == 409
    assert third.json["error"]["code"] == "quota_exceeded"
    assert "quota of 2" in third.json["error"]["message"]


def test_a_body_that_is_not_json_answers_400(client, company):
    _, _, headers = company
    response = client.post(
        "/api/v1/settings",
        data="{oops",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "not_json"


def test_show_change_and_delete_a_setting(client, gateway_container, company):
    _, _, headers = company
    setting = post_setting(client, company).json
    path = f"/api/v1/settings/{setting['id']}"
    assert client.get(path, headers=headers).json == setting

    changed = client.patch(
        path,
        headers=headers,
        json={
            "name": "Jaksel 2",
            "auto_sync": False,
            "payment_accounts": {"cash": {"account": "Cash"}},
        },
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Jaksel 2" and changed.json["auto_sync"] is False
    assert changed.json["payment_accounts"] == {"cash": {"account": "Cash", "tag": None}}
    assert client.get(path, headers=headers).json == changed.json

    assert client.delete(path, headers=headers).status_code == 204
    gone = client.get(path, headers=headers)
    assert gone.status_code == 404 and "deleted" in gone.json["error"]["message"]
    assert post_setting(client, company).status_code == 201, "the quota place was freed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_date", "2024-06-01"),
        ("default_customer", "Someone Else"),
        ("name_prefix", "Bandung"),
        ("name_suffix", "X"),
        ("outlet_id", "4523"),
    ],
)
def test_patching_a_set_once_field_answers_422_saying_it_cannot_change(
    client, company, field, value
):
    _, _, headers = company
    setting = post_setting(client, company, name_prefix="Jaksel").json
    response = client.patch(
        f"/api/v1/settings/{setting['id']}", headers=headers, json={field: value}
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "immutable_field"
    assert "cannot change" in response.json["error"]["fields"][field]


def test_sending_a_set_once_fields_current_value_is_not_a_change(client, company):
    _, _, headers = company
    setting = post_setting(client, company).json
    response = client.patch(
        f"/api/v1/settings/{setting['id']}",
        headers=headers,
        json={"start_date": "2024-05-01", "name": "Renamed"},
    )
    assert response.status_code == 200 and response.json["name"] == "Renamed"


def test_patching_an_unknown_field_answers_422(client, company):
    _, _, headers = company
    setting = post_setting(client, company).json
    response = client.patch(
        f"/api/v1/settings/{setting['id']}", headers=headers, json={"colour": "red"}
    )
    assert response.status_code == 422 and "colour" in response.json["error"]["fields"]


def test_the_list_carries_the_overview_columns(client, gateway_container, company):
    _, _, headers = company
    setting = post_setting(client, company, tag="Jaksel").json
    catch_up(gateway_container)
    (row,) = client.get("/api/v1/settings", headers=headers).json["settings"]
    assert row["id"] == setting["id"] and row["name"] == setting["name"]
    assert row["overview"]["tags"] == ["Jaksel"]
    assert set(row["overview"]["master_data"]) == {"last_success_at", "last_sync_at", "last_status"}


# -- sync -------------------------------------------------------------------------------------


def test_master_data_sync_answers_202_with_a_run_and_enqueues_it(client, gateway_container):
    tenant = make_tenant(gateway_container)
    response = client.post(
        f"/api/v1/settings/{tenant.setting_id}/sync/master-data", headers=tenant.headers
    )
    assert response.status_code == 202
    run_id = uuid.UUID(response.json["run_id"])
    assert gateway_container.log.get_run(run_id).setting_id == tenant.setting_id
    (job,) = gateway_container.queue("sync").get_jobs()
    assert job.func_name == "jobs.sync.sync_master_data"
    assert job.args == (str(tenant.setting_id), str(run_id))


def test_a_transaction_sync_before_master_data_answers_409(client, gateway_container):
    tenant = make_tenant(gateway_container)
    path = f"/api/v1/settings/{tenant.setting_id}/sync/transactions"
    refused = client.post(path, headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "master_data_not_synced"
    assert "master-data sync" in refused.json["error"]["message"]
    assert gateway_container.queue("sync").count == 0

    finish_master_data(gateway_container, tenant.setting_id)
    accepted = client.post(path, headers=tenant.headers)
    assert accepted.status_code == 202 and uuid.UUID(accepted.json["run_id"])


def test_sync_all_runs_every_ready_setting_and_says_why_it_skipped_the_others(
    client, gateway_container, admin
):
    ready = make_tenant(gateway_container, "PT Ready")
    finish_master_data(gateway_container, ready.setting_id)
    waiting = make_tenant(gateway_container, "PT Waiting")
    response = client.post("/api/v1/sync/transactions", headers=admin)
    assert response.status_code == 202
    assert len(response.json["run_ids"]) == 1
    (skipped,) = response.json["skipped"]
    assert skipped["setting_id"] == str(waiting.setting_id)
    assert skipped["code"] == "master_data_not_synced"


def test_sync_all_takes_named_settings_of_the_caller(client, gateway_container):
    tenant = make_tenant(gateway_container)
    finish_master_data(gateway_container, tenant.setting_id)
    response = client.post(
        "/api/v1/sync/transactions",
        headers=tenant.headers,
        json={"setting_ids": [str(tenant.setting_id), str(tenant.setting_id)]},
    )
    assert response.status_code == 202 and len(response.json["run_ids"]) == 1
    bad = client.post(
        "/api/v1/sync/transactions", headers=tenant.headers, json={"setting_ids": ["x"]}
    )
    assert bad.status_code == 422 and "setting_ids.0" in bad.json["error"]["fields"]


# -- replay -----------------------------------------------------------------------------------


def test_a_replay_answers_202_with_its_run_and_records_its_parameters(client, gateway_container):
    tenant = make_tenant(gateway_container)
    response = client.post(
        f"/api/v1/settings/{tenant.setting_id}/replay",
        headers=tenant.headers,
        json={"only_failed": True, "since": "2024-05-01T00:00:00+07:00", "event_ids": [3, 4]},
    )
    assert response.status_code == 202, response.json
    run = gateway_container.log.get_run(uuid.UUID(response.json["run_id"]))
    assert run.params == {
        "only_failed": True,
        "since": "2024-05-01T00:00:00+07:00",
        "event_ids": [3, 4],
    }
    (job,) = gateway_container.queue("sync").get_jobs()
    assert job.func_name == "jobs.replay.replay"


def test_a_dry_run_answers_200_with_the_documents_and_changes_nothing(client, gateway_container):
    tenant = make_tenant(gateway_container)
    finish_master_data(gateway_container, tenant.setting_id)
    payment = {
        "id": "5c2a4d0e-3f1b-4a55-9e1e-2b7f4f0c9d11",
        "payment_no": "6H7DDA1",
        "created_at": "2024-05-02T10:19:59.000001+07:00",
        "updated_at": "2024-05-02T10:19:59.000001+07:00",
        "payment_type": "cash",
        "total_collected": 92000,
        "checkouts": [],
        "payment_refunds": [],
    }
    deliver(client, envelope(payment, "moka.transaction.created"))
    head = gateway_container.log.head(tenant.setting_id)
    queued = gateway_container.queue("postings").count
    response = client.post(
        f"/api/v1/settings/{tenant.setting_id}/replay",
        headers=tenant.headers,
        json={"dry_run": True, "since": "2024-05-01T00:00:00+07:00"},
    )
    assert response.status_code == 200, response.json
    documents = response.json["documents"]
    assert documents, "the payment makes at least its invoice, or says why it cannot"
    for document in documents:
        assert document["kind"] and document["custom_id"]
        assert "body" in document or ("error" in document and document["message"])
    assert gateway_container.log.head(tenant.setting_id) == head
    assert gateway_container.queue("postings").count == queued
    assert gateway_container.queue("sync").count == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "2024-05-02T00:00:00"}, "since"),
        ({"since": "2024-05-02T00:00:00+07:00", "until": "2024-05-01T00:00:00+07:00"}, "until"),
        ({"event_ids": [0]}, "event_ids.0"),
        ({"only_failed": "yes"}, "only_failed"),
        ({"dry_run": 1}, "dry_run"),
    ],
)
def test_a_malformed_replay_answers_422(client, gateway_container, body, field):
    tenant = make_tenant(gateway_container)
    response = client.post(
        f"/api/v1/settings/{tenant.setting_id}/replay", headers=tenant.headers, json=body
    )
    assert response.status_code == 422 and field in response.json["error"]["fields"]


# -- the log ----------------------------------------------------------------------------------


def test_events_page_through_the_log(client, gateway_container):
    tenant = make_tenant(gateway_container)
    for n in range(3):
        deliver(client, envelope(customer(customer_id=100 + n)))
    path = f"/api/v1/settings/{tenant.setting_id}/events"
    first = client.get(f"{path}?limit=2", headers=tenant.headers).json
    assert [e["position"] for e in first["events"]] == [1, 2]
    assert first["events"][0]["type"] == "SettingCreated"
    assert first["events"][0]["data"]["values"]["start_date"] == "2024-05-01"
    assert first["next_after"] == 2
    rest = client.get(f"{path}?after=2&limit=2", headers=tenant.headers).json
    assert [e["type"] for e in rest["events"]] == ["CustomerReceived", "CustomerReceived"]
    assert rest["events"][0]["data"]["record"]["id"] == 101
    assert rest["next_after"] == 4
    last = client.get(f"{path}?after=3", headers=tenant.headers).json
    assert [e["position"] for e in last["events"]] == [4] and last["next_after"] is None


def test_a_sync_request_shows_in_the_log(client, gateway_container):
    tenant = make_tenant(gateway_container)
    client.post(f"/api/v1/settings/{tenant.setting_id}/sync/master-data", headers=tenant.headers)
    (requested,) = [
        e for e in gateway_container.log.read(tenant.setting_id) if isinstance(e, SyncRequested)
    ]
    assert requested.method == "Manual" and requested.kind == "master_data"


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "after=-1", "after=x", "page=2"])
def test_bad_paging_answers_422(client, gateway_container, query):
    tenant = make_tenant(gateway_container)
    response = client.get(
        f"/api/v1/settings/{tenant.setting_id}/events?{query}", headers=tenant.headers
    )
    assert response.status_code == 422
