"""Bearer tokens: stored as hashes, 401 without a live one, and a company's token reaching only
its own company's resources (404 for anyone else's, as if they did not exist)."""

from __future__ import annotations

import re
import uuid

import pytest
from click.testing import CliRunner

from domain.api_tokens import ApiToken, hash_token
from gateway.routing import ApiBlueprint
from infra import bootstrap
from infra.api_tokens import authenticate, issue_token, revoke_token
from sambung.cli import main
from tests.gateway_support import finish_master_data, make_tenant, setting_fields


def token_operations(app):
    """Every declared operation that takes a bearer token, with made-up ids in its path."""
    for blueprint in app.blueprints.values():
        if not isinstance(blueprint, ApiBlueprint):
            continue
        for op in blueprint.operations:
            if op.access in ("token", "admin"):
                path = re.sub(r"<(?:\w+:)?\w+>", str(uuid.uuid4()), op.rule)
                yield op.method, (blueprint.url_prefix or "") + path


def test_every_api_operation_answers_401_without_a_valid_token(app, client, gateway_container):
    revoked = issue_token(gateway_container.log, admin=True)
    revoke_token(gateway_container.log, revoked.id)
    operations = list(token_operations(app))
    assert len(operations) >= 20
    for method, path in operations:
        for headers in (
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer sbg_not-a-token"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": f"Bearer {revoked.token}"},
        ):
            response = client.open(path, method=method, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            assert response.json["error"]["code"] == "unauthorized"


def test_only_the_hash_of_a_token_is_stored(gateway_container):
    issued = issue_token(gateway_container.log, admin=True)
    stored = gateway_container.log.repository.get(issued.id)
    assert isinstance(stored, ApiToken)
    assert stored.token_hash == hash_token(issued.token)
    for event in gateway_container.log.events.get(issued.id):
        assert issued.token not in repr(vars(event))
    assert authenticate(gateway_container.log, issued.token).admin


def test_a_company_token_reaching_for_another_companys_setting_gets_404(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    theirs = make_tenant(gateway_container, "PT Theirs")
    finish_master_data(gateway_container, theirs.setting_id)
    setting = f"/api/v1/settings/{theirs.setting_id}"
    attempts = [
        ("GET", setting, None),
        ("PATCH", setting, {"name": "taken over"}),
        ("DELETE", setting, None),
        ("GET", f"{setting}/runs", None),
        ("GET", f"{setting}/errors", None),
        ("GET", f"{setting}/events", None),
        ("GET", f"{setting}/reconciliation?from=2024-05-01&to=2024-05-31", None),
        ("POST", f"{setting}/sync/master-data", None),
        ("POST", f"{setting}/sync/transactions", None),
        ("POST", f"{setting}/replay", {}),
        ("POST", "/api/v1/sync/transactions", {"setting_ids": [str(theirs.setting_id)]}),
        ("GET", f"/api/v1/companies/{theirs.company_id}", None),
        ("GET", f"/api/v1/moka/connections/{theirs.connection_id}/outlets", None),
        ("GET", f"/api/v1/moka/authorize?company_id={theirs.company_id}", None),
        ("POST", "/api/v1/settings", setting_fields(theirs.company_id, theirs.connection_id)),
        ("POST", "/api/v1/settings", setting_fields(mine.company_id, theirs.connection_id)),
        ("POST", "/api/v1/moka/connections",
         {"company_id": str(theirs.company_id), "access_token": "a", "refresh_token": "r"}),
    ]  # fmt: skip
    for method, path, body in attempts:
        response = client.open(path, method=method, headers=mine.headers, json=body)
        assert response.status_code == 404, (method, path, response.json)
    assert gateway_container.log.get_setting(theirs.setting_id).name == "Jakarta Selatan"
    assert gateway_container.queue("sync").count == 0


def test_another_companys_setting_answers_exactly_like_a_missing_one(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    theirs = make_tenant(gateway_container, "PT Theirs")
    foreign = client.get(f"/api/v1/settings/{theirs.setting_id}", headers=mine.headers)
    missing_id = uuid.uuid4()
    missing = client.get(f"/api/v1/settings/{missing_id}", headers=mine.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json["error"]["code"] == missing.json["error"]["code"] == "setting_not_found"
    assert foreign.json["error"]["message"].replace(str(theirs.setting_id), "X") == missing.json[
        "error"
    ]["message"].replace(str(missing_id), "X")


def test_a_company_token_sees_its_own_company_and_settings(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    make_tenant(gateway_container, "PT Theirs")
    companies = client.get("/api/v1/companies", headers=mine.headers).json["companies"]
    assert [c["id"] for c in companies] == [str(mine.company_id)]
    settings = client.get("/api/v1/settings", headers=mine.headers).json["settings"]
    assert [s["id"] for s in settings] == [str(mine.setting_id)]
    own = client.get(f"/api/v1/settings/{mine.setting_id}", headers=mine.headers)
    assert own.status_code == 200


def test_an_operator_sees_every_company(client, gateway_container, admin):
    make_tenant(gateway_container, "PT Satu")
    make_tenant(gateway_container, "PT Dua")
    names = {c["name"] for c in client.get("/api/v1/companies", headers=admin).json["companies"]}
    assert names == {"PT Satu", "PT Dua"}


def test_operator_commands_answer_403_to_a_company_token(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    quota = client.put(
        f"/api/v1/companies/{mine.company_id}/quota", headers=mine.headers, json={"quota": 9}
    )
    assert quota.status_code == 403 and quota.json["error"]["code"] == "forbidden"
    create = client.post("/api/v1/companies", headers=mine.headers, json={})
    assert create.status_code == 403
    assert gateway_container.log.get_company(mine.company_id).quota == 1


@pytest.fixture
def cli(gateway_container):
    bootstrap.install(gateway_container)
    return CliRunner()


def test_sambung_token_create_prints_a_token_that_works(cli, client, gateway_container):
    tenant = make_tenant(gateway_container)
    result = cli.invoke(main, ["token", "create", "--company", str(tenant.company_id)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("sbg_") and len(token) > 40
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/companies/{tenant.company_id}", headers=headers).status_code == 200

    admin = cli.invoke(main, ["token", "create", "--admin"]).stdout.strip()
    assert authenticate(gateway_container.log, admin).admin


def test_sambung_token_create_needs_exactly_one_scope_and_a_known_company(cli):
    assert cli.invoke(main, ["token", "create"]).exit_code == 2
    both = cli.invoke(main, ["token", "create", "--admin", "--company", str(uuid.uuid4())])
    assert both.exit_code == 2
    unknown = cli.invoke(main, ["token", "create", "--company", str(uuid.uuid4())])
    assert unknown.exit_code == 1 and "no company" in unknown.output


def test_sambung_token_revoke_stops_a_token(cli, client, gateway_container):
    result = cli.invoke(main, ["token", "create", "--admin"])
    token_id = re.search(r"token (\S+) for operator", result.stderr).group(1)
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    assert client.get("/api/v1/companies", headers=headers).status_code == 200
    assert cli.invoke(main, ["token", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/companies", headers=headers).status_code == 401
    assert cli.invoke(main, ["token", "revoke", str(uuid.uuid4())]).exit_code == 1
