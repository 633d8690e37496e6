"""The audit trail through the API: each change a person makes is recorded with who (the
token) and when, listed per company, newest first, in pages, to that company only."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from domain.audit import Action
from gateway import reach
from gateway.app import create_app
from infra import bootstrap
from infra.api_tokens import issue_token
from infra.bootstrap import Container
from sandbox.jurnal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.serving import serve_in_thread
from services import audit
from services.syncing import sync_master_data
from tests.gateway_support import make_connection, setting_fields


@pytest.fixture(scope="module")
def jurnal_url():
    server = serve_in_thread(jurnal_app(JurnalSandbox()))
    yield server.url
    server.stop()


@pytest.fixture
def container(gateway_config, jurnal_url):
    built = Container(gateway_config.with_changes(jurnal_base_url=jurnal_url))
    bootstrap.install(built)
    yield built
    bootstrap.install(None)
    built.close()


@pytest.fixture
def api(container):
    return create_app(container=container, test_config={"TESTING": True}).test_client()


def bearer(issued) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issued.token}"}


def test_every_change_by_a_person_is_recorded_with_who_and_when(api, container):
    operator = issue_token(container.log, admin=True)
    started = datetime.now(UTC)
    company = api.post(
        "/api/v1/companies",
        json={"name": "PT Prima FnB", "jurnal_client_id": DEFAULT_CLIENT_ID,
              "jurnal_client_secret": DEFAULT_CLIENT_SECRET},
        headers=bearer(operator),
    ).json  # fmt: skip
    company_id = UUID(company["id"])
    own = issue_token(container.log, company_id=company_id)
    assert api.put(f"/api/v1/companies/{company_id}/quota", json={"quota": 3},
                   headers=bearer(operator)).status_code == 200  # fmt: skip
    connection = make_connection(container, company_id)
    fields = setting_fields(company_id, connection, sales_account=None, purchase_account=None)
    setting = api.post("/api/v1/settings", json=fields, headers=bearer(own)).json
    setting_id = setting["id"]
    changed = api.patch(f"/api/v1/settings/{setting_id}", json={"sync_time": "21:30"},
                        headers=bearer(own))  # fmt: skip
    assert changed.status_code == 200, changed.json
    run = api.post(f"/api/v1/settings/{setting_id}/sync/master-data", headers=bearer(own)).json
    replay = api.post(f"/api/v1/settings/{setting_id}/replay", json={"only_failed": True},
                      headers=bearer(own))  # fmt: skip
    assert replay.status_code == 202, replay.json
    credential = api.put(
        f"/api/v1/companies/{company_id}/credential",
        json={"jurnal_client_id": DEFAULT_CLIENT_ID, "jurnal_client_secret": DEFAULT_CLIENT_SECRET},
        headers=bearer(own),
    )
    assert credential.status_code == 200, credential.json
    assert api.delete(f"/api/v1/settings/{setting_id}", headers=bearer(own)).status_code == 204

    page = api.get(f"/api/v1/companies/{company_id}/audit", headers=bearer(own))
    assert page.status_code == 200, page.json
    entries = page.json["entries"]
    assert [e["action"] for e in entries] == [
        "setting.deleted",
        "company.credential_replaced",
        "replay.requested",
        "sync.requested",
        "setting.changed",
        "setting.created",
        "company.quota_changed",
        "company.added",
    ]
    by_action = {e["action"]: e for e in entries}
    assert by_action["company.added"]["actor"] == f"token:{operator.id}"
    assert by_action["company.quota_changed"]["details"] == {"quota": 3, "was": 1}
    assert by_action["setting.created"]["actor"] == f"token:{own.id}"
    assert by_action["setting.created"]["subject_id"] == setting_id
    assert by_action["setting.changed"]["details"] == {"changes": {"sync_time": "21:30:00"}}
    assert by_action["sync.requested"]["details"]["run_id"] == run["run_id"]
    assert by_action["replay.requested"]["details"]["params"] == {"only_failed": True}
    assert DEFAULT_CLIENT_SECRET not in page.get_data(as_text=True)
    for entry in entries:
        assert entry["actor_kind"] == "token"
        assert started <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)
    assert [e["position"] for e in entries] == list(range(8, 0, -1))


def test_the_trail_pages_newest_first_and_is_the_companys_own(api, container):
    company_id = container.log.register_company(
        name="PT Prima FnB", jurnal_client_id="c", jurnal_client_secret="s", package="Pro"
    )
    own = issue_token(container.log, company_id=company_id)
    with audit.acting_as(audit.cli_actor()):
        for quota in range(2, 7):
            container.log.set_quota(company_id, quota)
            audit.record(container, company_id, Action.QUOTA_CHANGED, quota=quota)
    url = f"/api/v1/companies/{company_id}/audit"
    first = api.get(f"{url}?limit=2", headers=bearer(own)).json
    assert [e["details"]["quota"] for e in first["entries"]] == [6, 5]
    assert first["entries"][0]["actor_kind"] == "cli"
    second = api.get(f"{url}?limit=2&before={first['next_before']}", headers=bearer(own)).json
    assert [e["details"]["quota"] for e in second["entries"]] == [4, 3]
    last = api.get(f"{url}?limit=2&before={second['next_before']}", headers=bearer(own)).json
    assert [e["details"]["quota"] for e in last["entries"]] == [2]
    assert last["next_before"] is None
    assert api.get(f"{url}?limit=0", headers=bearer(own)).status_code == 422
    stranger = container.log.register_company(
        name="PT Lain", jurnal_client_id="o", jurnal_client_secret="s", package="Pro"
    )
    other = issue_token(container.log, company_id=stranger)
    assert api.get(url, headers=bearer(other)).status_code == 404


def test_what_the_system_does_on_its_own_is_not_an_action(container):
    company_id = container.log.register_company(
        name="PT Prima FnB", jurnal_client_id="c", jurnal_client_secret="s", package="Pro"
    )
    connection = make_connection(container, company_id)
    values = setting_fields(company_id, connection)
    values["company_id"], values["moka_connection_id"] = company_id, connection
    setting_id = container.log.create_setting(**values)
    operator = issue_token(container.log, admin=True).principal
    sync_master_data(
        container, reach.setting(container, operator, setting_id)
    )  # no actor: the scheduler's own doing
    assert audit.audit_trail(container, company_id)["entries"] == []
