"""Who may call what, from the app's own URL map: every route the app serves (not only the
declared API operations) answers 401, or redirects to a login page, to a caller without
credentials, except a short list of open routes, each open for a stated reason and each still
refusing what it must. A route added later without auth fails here until it is listed.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from gateway.admin import i18n
from gateway.app import create_app
from infra.api_tokens import issue_token, revoke_token
from infra.config import Config
from tests.gateway_support import OUTLET, customer, envelope, make_tenant, signed

pytestmark = pytest.mark.integration

# (method, rule) → why it takes no credentials.
OPEN = {
    ("GET", "/healthz"): "load balancers' liveness probe; says only 'ok'",
    ("GET", "/readyz"): "readiness probe; names the parts that are down, nothing else",
    ("GET", "/metrics"): "Prometheus scrape; SAMBUNG_METRICS_PUBLIC=0 closes it",
    ("POST", "/webhooks/moka"): "Moka's deliveries; authenticated by X-Go-Signature instead",
    ("GET", "/api/openapi.json"): "the public description of the API; holds no data",
    ("GET", "/api/v1/moka/callback"): "a browser back from Moka's login; the signed state "
    "stands in for the token, and without state a token is required",
    ("GET", "/static/<path:filename>"): "public assets",
    ("GET", "/static/admin/<path:filename>"): "the admin UI's public assets (CSS, JS)",
    ("GET", "/login"): "the admin UI's sign-in form",
    ("POST", "/login"): "signing in (CSRF-checked)",
    ("GET", "/lang/<any(id, en):code>"): "switching the UI's language; touches no data",
}
CSRF_REFUSED = i18n.t("csrf.refused", i18n.DEFAULT_LANGUAGE)
LOGIN = re.compile(r"/(login|masuk)\b")
UNAUTHENTICATED_HEADERS = (
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer sbg_not-a-token"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Cookie": "session=forged"},
)


def concrete(rule: str) -> str:
    """A path the rule matches, with made-up ids."""
    path = re.sub(r"<uuid:\w+>", str(uuid.uuid4()), rule)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<any\(([^,)]*)[^)]*\):\w+>", lambda m: m[1].strip(" '\""), path)
    return re.sub(r"<(?:\w+:)?\w+>", "x", path)


def every_route(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule


def refuses(response, method: str = "GET", rule: str = "") -> bool:
    if response.status_code == 401:
        return True
    if method == "POST" and not rule.startswith("/api/") and response.status_code == 400:
        return CSRF_REFUSED in response.get_data(as_text=True)  # the UI refuses a form first
    return response.status_code in (302, 303) and bool(
        LOGIN.search(response.headers.get("Location", ""))
    )


def test_every_route_but_the_open_ones_refuses_a_caller_without_credentials(
    app, client, gateway_container
):
    revoked = issue_token(gateway_container.log, admin=True)
    revoke_token(gateway_container.log, revoked.id)
    routes = list(every_route(app))
    assert len(routes) >= 25, routes
    closed = [(method, rule) for method, rule in routes if (method, rule) not in OPEN]
    for method, rule in closed:
        path = concrete(rule)
        for headers in (*UNAUTHENTICATED_HEADERS, {"Authorization": f"Bearer {revoked.token}"}):
            response = client.open(path, method=method, headers=headers, json={})
            assert refuses(response, method, rule), (method, rule, headers, response.status_code)
            assert str(revoked.token) not in response.get_data(as_text=True)


def test_the_open_list_names_only_routes_that_exist(app):
    assert set(OPEN) - set(every_route(app)) <= {
        ("GET", "/static/<path:filename>"),
        ("GET", "/static/admin/<path:filename>"),
    }


def test_the_open_routes_answer_without_credentials_and_give_nothing_away(
    client, gateway_container
):
    tenant = make_tenant(gateway_container)
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and set(ready.json) == {"status", "checks"}
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/openapi.json").json["openapi"].startswith("3.")
    raw = json.dumps(envelope(customer(), outlet_id=OUTLET)).encode()
    unsigned = client.post("/webhooks/moka", data=raw, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert client.post("/webhooks/moka", data=raw, headers=signed(raw)).status_code == 202
    # The OAuth callback: without state a token is required; a forged state is refused.
    no_state = client.get(f"/api/v1/moka/callback?code=abc&company_id={tenant.company_id}")
    assert no_state.status_code == 401
    forged = client.get("/api/v1/moka/callback?code=abc&state=forged.state.value")
    assert 400 <= forged.status_code < 500 and forged.status_code != 404, forged.json
    connections = gateway_container.log.list_moka_connections(tenant.company_id)
    assert [c.id for c in connections] == [tenant.connection_id]


def test_metrics_can_be_closed_to_all_but_an_operator(gateway_container):
    closed = gateway_container.config.with_changes(metrics_public=False)
    gateway_container.config = closed
    client = create_app(container=gateway_container, test_config={"TESTING": True}).test_client()
    tenant = make_tenant(gateway_container)
    operator = issue_token(gateway_container.log, admin=True).token
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=tenant.headers).status_code == 403
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {operator}"})
    assert scraped.status_code == 200 and "sambung_" in scraped.text


def test_the_environment_closes_metrics():
    assert Config.from_env({}).metrics_public is True
    for off in ("0", "false", "OFF"):
        assert Config.from_env({"SAMBUNG_METRICS_PUBLIC": off}).metrics_public is False


def test_the_ui_session_cookie_is_httponly_samesite_and_secure_behind_https(gateway_container):
    public = gateway_container.config.with_changes(
        public_url="https://sambung.example", secure_cookies=True
    )
    gateway_container.config = public
    client = create_app(container=gateway_container, test_config={"TESTING": True}).test_client()
    page = client.get("/login")
    assert page.status_code == 200
    cookie = page.headers.get("Set-Cookie", "")
    assert "sambung_admin=" in cookie, cookie
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite"} <= flags, cookie
    assert "samesite=lax" in cookie.lower() or "samesite=strict" in cookie.lower(), cookie


def test_the_ui_refuses_a_form_without_its_csrf_token(client):
    assert client.get("/login").status_code == 200  # a session with a CSRF token exists now
    refused = client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert refused.status_code == 400 and CSRF_REFUSED in refused.get_data(as_text=True)
