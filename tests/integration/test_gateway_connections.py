"""Companies and Moka connections through the API, against the Jurnal and Moka sandboxes served
on real ports: the credential is checked with Jurnal before it is stored, and a Moka connection
is stored only once its tokens could read the profile and outlets."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from gateway.app import create_app
from infra import bootstrap
from infra.bootstrap import Container
from sandbox.jurnal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.serving import serve_in_thread
from tests.gateway_support import make_company, token_for
from tests.moka_support import authorize, running_moka


@pytest.fixture(scope="module")
def jurnal():
    sandbox = JurnalSandbox()
    server = serve_in_thread(jurnal_app(sandbox))
    yield sandbox, server.url
    server.stop()


@pytest.fixture(scope="module")
def moka_served():
    with running_moka() as running:
        yield running


@pytest.fixture
def moka(moka_served):
    moka_served.sandbox.reset()
    return moka_served


@pytest.fixture
def connected_container(gateway_config, jurnal, moka):
    sandbox, url = jurnal
    sandbox.reset()
    config = gateway_config.with_changes(jurnal_base_url=url, moka_base_url=moka.url)
    built = Container(config)
    bootstrap.install(built)
    yield built
    bootstrap.install(None)
    built.close()


@pytest.fixture
def api(connected_container):
    return create_app(container=connected_container, test_config={"TESTING": True}).test_client()


@pytest.fixture
def operator(connected_container):
    from infra.api_tokens import issue_token

    return {"Authorization": f"Bearer {issue_token(connected_container.log, admin=True).token}"}


def register(api, operator, **changes):
    body = {
        "name": "PT Prima FnB",
        "jurnal_client_id": DEFAULT_CLIENT_ID,
        "jurnal_client_secret": DEFAULT_CLIENT_SECRET,
        **changes,
    }
    return api.post("/api/v1/companies", json=body, headers=operator)


# -- companies --------------------------------------------------------------------------------


def test_a_company_is_checked_with_jurnal_and_answers_201_with_its_package(
    api, operator, connected_container
):
    response = register(api, operator)
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "name", "package", "quota", "settings_used"}
    assert (body["name"], body["package"], body["quota"]) == ("PT Prima FnB", "Enterprise", 1)
    stored = connected_container.log.jurnal_credentials(UUID(body["id"]))
    assert stored.client_secret == DEFAULT_CLIENT_SECRET
    assert api.get(f"/api/v1/companies/{body['id']}", headers=operator).json == body
    listed = api.get("/api/v1/companies", headers=operator).json["companies"]
    assert listed == [body]


def test_the_package_comes_from_jurnal(api, operator, jurnal):
    sandbox, _ = jurnal
    sandbox.add_company("Toko Kecil", "Pro", "pro-client", "pro-secret")
    response = register(
        api, operator, jurnal_client_id="pro-client", jurnal_client_secret="pro-secret"
    )
    assert response.status_code == 201 and response.json["package"] == "Pro"


def test_a_credential_jurnal_refuses_answers_422_and_stores_nothing(
    api, operator, connected_container
):
    response = register(api, operator, jurnal_client_secret="wrong")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "company_invalid"
    assert "refused by Jurnal" in response.json["error"]["fields"]["jurnal_client_secret"]
    assert connected_container.log.list_companies() == []


def test_an_unreachable_jurnal_answers_502(gateway_config, operator):
    config = gateway_config.with_changes(jurnal_base_url="http://127.0.0.1:9")
    container = Container(config)
    api = create_app(container=container, test_config={"TESTING": True}).test_client()
    response = register(api, operator)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "jurnal_unavailable"
    container.close()


def test_a_company_missing_fields_answers_422(api, operator):
    response = api.post("/api/v1/companies", json={"name": ""}, headers=operator)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"jurnal_client_id", "jurnal_client_secret"}


def test_an_operator_sets_the_quota(api, operator):
    company = register(api, operator).json
    path = f"/api/v1/companies/{company['id']}/quota"
    raised = api.put(path, json={"quota": 5}, headers=operator)
    assert raised.status_code == 200 and raised.json["quota"] == 5
    for bad in ({"quota": -1}, {"quota": "5"}, {"quota": 2.5}, {}):
        assert api.put(path, json=bad, headers=operator).status_code == 422, bad
    unknown = api.put(
        "/api/v1/companies/00000000-0000-4000-8000-000000000000/quota",
        json={"quota": 2},
        headers=operator,
    )
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "company_not_found"


# -- Moka -------------------------------------------------------------------------------------


def test_connecting_with_tokens_reads_the_profile_and_outlets(api, moka, connected_container):
    seeded = moka.seed(1)
    company_id = make_company(connected_container)
    response = api.post(
        "/api/v1/moka/connections",
        headers=token_for(connected_container, company_id),
        json={
            "company_id": str(company_id),
            "access_token": seeded["access_token"],
            "refresh_token": seeded["refresh_token"],
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["email"] == seeded["email"]
    assert body["business_id"] == str(seeded["business_id"])
    assert [o["id"] for o in body["outlets"]] == [str(i) for i in seeded["outlet_ids"]]
    assert all(o["name"] for o in body["outlets"])
    tokens = connected_container.log.moka_tokens(UUID(body["id"]))
    assert tokens.access_token == seeded["access_token"]


def test_tokens_moka_refuses_answer_422_and_store_nothing(api, moka, connected_container):
    company_id = make_company(connected_container)
    response = api.post(
        "/api/v1/moka/connections",
        headers=token_for(connected_container, company_id),
        json={"company_id": str(company_id), "access_token": "nope", "refresh_token": "nope"},
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "moka_connection_invalid"
    assert "access_token" in response.json["error"]["fields"]
    assert connected_container.log.list_moka_connections(company_id) == []


def test_the_oauth_round_trip_stores_the_connection(api, moka, connected_container):
    seeded = moka.seed(1)
    company_id = make_company(connected_container)
    headers = token_for(connected_container, company_id)
    start = api.get(f"/api/v1/moka/authorize?company_id={company_id}", headers=headers)
    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == moka.url
    assert location.path == "/oauth/authorize"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["redirect_uri"] == "http://sambung.test/api/v1/moka/callback"
    assert params["client_id"] == "sandbox-moka-client" and params["response_type"] == "code"

    answer = authorize(
        moka.url,
        seeded["email"],
        seeded["password"],
        state=params["state"],
        redirect_uri=params["redirect_uri"],
    )
    assert answer["state"] == [params["state"]]
    # The merchant's browser arrives with code and state only: no token.
    callback = api.get(
        "/api/v1/moka/callback", query_string={"code": answer["code"][0], "state": params["state"]}
    )
    assert callback.status_code == 201, callback.json
    assert callback.json["company_id"] == str(company_id)
    assert callback.json["business_id"] == str(seeded["business_id"])

    reused = api.get(
        "/api/v1/moka/callback", query_string={"code": answer["code"][0], "state": params["state"]}
    )
    assert reused.status_code == 422 and "state" in reused.json["error"]["fields"]


def test_an_install_without_state_needs_a_token_and_uses_its_company(
    api, moka, connected_container
):
    seeded = moka.seed(1)
    company_id = make_company(connected_container)
    redirect = "http://sambung.test/api/v1/moka/callback"
    code = authorize(moka.url, seeded["email"], seeded["password"], state=None,
                     redirect_uri=redirect)["code"][0]  # fmt: skip
    anonymous = api.get("/api/v1/moka/callback", query_string={"code": code})
    assert anonymous.status_code == 401

    response = api.get(
        "/api/v1/moka/callback",
        query_string={"code": code},
        headers=token_for(connected_container, company_id),
    )
    assert response.status_code == 201, response.json
    assert response.json["company_id"] == str(company_id)


def test_a_denied_or_forged_callback_answers_422(api, connected_container):
    company_id = make_company(connected_container)
    headers = token_for(connected_container, company_id)
    denied = api.get("/api/v1/moka/callback", query_string={"error": "access_denied"})
    assert denied.status_code == 422 and "access_denied" in denied.json["error"]["message"]
    forged = api.get("/api/v1/moka/callback", query_string={"code": "c", "state": "forged"})
    assert forged.status_code == 422 and "state" in forged.json["error"]["fields"]
    bad_code = api.get("/api/v1/moka/callback", query_string={"code": "bad"}, headers=headers)
    assert bad_code.status_code == 422 and "code" in bad_code.json["error"]["fields"]


def test_outlets_are_read_live_from_moka(api, moka, connected_container):
    seeded = moka.seed(1)
    company_id = make_company(connected_container)
    headers = token_for(connected_container, company_id)
    connection = api.post(
        "/api/v1/moka/connections",
        headers=headers,
        json={
            "company_id": str(company_id),
            "access_token": seeded["access_token"],
            "refresh_token": seeded["refresh_token"],
        },
    ).json
    response = api.get(f"/api/v1/moka/connections/{connection['id']}/outlets", headers=headers)
    assert response.status_code == 200
    assert response.json == {"outlets": connection["outlets"]}


def test_an_outlet_opened_since_connecting_is_remembered(api, moka, connected_container):
    seeded = moka.seed(1)
    company_id = make_company(connected_container)
    connection_id = connected_container.log.connect_moka(
        company_id=company_id,
        email=seeded["email"],
        business_id=seeded["business_id"],
        outlets={"1": "Closed long ago"},
        access_token=seeded["access_token"],
        refresh_token=seeded["refresh_token"],
    )
    response = api.get(
        f"/api/v1/moka/connections/{connection_id}/outlets",
        headers=token_for(connected_container, company_id),
    )
    live = [o["id"] for o in response.json["outlets"]]
    assert live == [str(i) for i in seeded["outlet_ids"]]
    assert list(connected_container.log.get_moka_connection(connection_id).outlets) == live
