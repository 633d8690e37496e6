"""One company's token against another company's data, for every route in the app's URL map
that names a company, connection, setting or run: the answer is 404 (403 for an operator's
command), exactly as for an id that does not exist, the other company's data is unchanged, no
work is queued, and no list shows the other company's ids."""

from __future__ import annotations

import re

import pytest

from tests.gateway_support import finish_master_data, make_tenant, setting_fields

pytestmark = pytest.mark.integration

# Valid queries, so that the ownership check is what answers (the query is checked first, for an
# id that exists or not alike).
QUERIES = {"/reconciliation": "?from=2024-05-01&to=2024-05-31"}
# Valid bodies, for the same reason.
BODIES = {
    "PATCH": {"name": "taken over", "auto_sync": False},
    "/quota": {"quota": 99},
    "/credential": {"jurnal_client_id": "taken-over", "jurnal_client_secret": "taken-over"},
}


def test_a_company_token_reaches_nothing_of_another_company(app, client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    theirs = make_tenant(gateway_container, "PT Theirs")
    run_id = finish_master_data(gateway_container, theirs.setting_id)
    ids = {
        "company_id": theirs.company_id,
        "connection_id": theirs.connection_id,
        "setting_id": theirs.setting_id,
        "run_id": run_id,
    }
    before = gateway_container.log.get_setting(theirs.setting_id)
    reached = 0
    for rule in app.url_map.iter_rules():
        names = set(rule.arguments)
        # Bearer tokens are the API's; the admin UI's pages take a session (test_security_routes).
        if not rule.rule.startswith("/api/") or not names or not names <= set(ids):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m[1]]), rule.rule)
        path += next((q for end, q in QUERIES.items() if rule.rule.endswith(end)), "")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            body = next((b for k, b in BODIES.items() if rule.rule.endswith(k)), None)
            body = BODIES.get(method, {}) if body is None else body
            response = client.open(path, method=method, headers=mine.headers, json=body)
            assert response.status_code in (403, 404), (method, path, response.json)
            if response.status_code == 404:
                assert response.json["error"]["code"].endswith("not_found"), response.json
            reached += 1
    assert reached >= 12
    after = gateway_container.log.get_setting(theirs.setting_id)
    assert after == before
    assert gateway_container.log.get_company(theirs.company_id).quota == 1
    credential = gateway_container.log.jurnal_credentials(theirs.company_id)
    assert credential.client_id == "client-PT Theirs"
    assert gateway_container.queue("sync").count == 0


def test_bodies_and_queries_naming_another_companys_ids_are_refused(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    theirs = make_tenant(gateway_container, "PT Theirs")
    finish_master_data(gateway_container, theirs.setting_id)
    attempts = [
        ("POST", "/api/v1/settings", setting_fields(theirs.company_id, theirs.connection_id)),
        ("POST", "/api/v1/settings", setting_fields(mine.company_id, theirs.connection_id)),
        ("POST", "/api/v1/sync/transactions", {"setting_ids": [str(theirs.setting_id)]}),
        ("POST", "/api/v1/moka/connections",
         {"company_id": str(theirs.company_id), "access_token": "a", "refresh_token": "r"}),
        ("GET", f"/api/v1/moka/authorize?company_id={theirs.company_id}", None),
        ("GET", f"/api/v1/moka/callback?code=c&company_id={theirs.company_id}", None),
    ]  # fmt: skip
    for method, path, body in attempts:
        response = client.open(path, method=method, headers=mine.headers, json=body)
        assert response.status_code == 404, (method, path, response.json)
    assert len(gateway_container.log.list_settings(theirs.company_id)) == 1
    assert len(gateway_container.log.list_moka_connections(theirs.company_id)) == 1
    assert gateway_container.queue("sync").count == 0


def test_no_list_shows_another_companys_ids(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    theirs = make_tenant(gateway_container, "PT Theirs")
    finish_master_data(gateway_container, theirs.setting_id)
    secret_ids = {str(theirs.company_id), str(theirs.setting_id), str(theirs.connection_id)}
    for path in ("/api/v1/companies", "/api/v1/settings"):
        text = client.get(path, headers=mine.headers).get_data(as_text=True)
        assert not any(found in text for found in secret_ids), path
