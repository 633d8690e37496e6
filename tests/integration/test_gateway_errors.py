"""Every error is JSON `{error: {code, message, fields?}}`; no answer carries a stack trace or a
secret, and neither does any log line, through a whole onboarding with the real sandboxes."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.app import create_app
from infra import bootstrap
from infra.api_tokens import issue_token
from infra.bootstrap import Container
from sandbox.jurnal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from sandbox.jurnal import create_app as jurnal_app
from sandbox.serving import serve_in_thread
from tests.gateway_support import (
    SECRETS,
    WEBHOOK_SECRET,
    customer,
    envelope,
    json_lines,
    setting_fields,
    signed,
)
from tests.moka_support import running_moka


def test_unknown_routes_and_methods_answer_json(client):
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/companies")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    hook = client.get("/webhooks/moka")
    assert hook.status_code == 405 and hook.json["error"]["code"] == "method_not_allowed"


def test_an_api_body_over_the_limit_answers_413(client, admin):
    response = client.post(
        "/api/v1/companies",
        data=b"{" + b" " * (1024 * 1024 + 1) + b"}",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"


def test_an_unexpected_failure_answers_500_without_the_trace(gateway_container, caplog):
    app = create_app(container=gateway_container, test_config={"TESTING": True})

    @app.get("/api/v1/explode")
    def explode():
        raise RuntimeError("database password=hunter2 in a message")

    response = app.test_client().get("/api/v1/explode")
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": "Sambung could not complete the request"}
    }
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert any(r.exc_info for r in caplog.records), "the trace goes to the log instead"


def test_log_lines_are_json_with_the_identifiers(client, gateway_container, caplog):
    from tests.gateway_support import make_tenant

    tenant = make_tenant(gateway_container)
    caplog.set_level(logging.INFO)
    raw = json.dumps(envelope(customer())).encode()
    client.post("/webhooks/moka", data=raw, headers=signed(raw))
    client.get(f"/api/v1/settings/{tenant.setting_id}", headers=tenant.headers)
    lines = [json.loads(line) for line in json_lines(caplog.records)]
    # One line per webhook: its request's, with what it received and where it went.
    (stored,) = [line for line in lines if line.get("route") == "/webhooks/moka"]
    assert stored["message"] == "POST /webhooks/moka 202" and stored["outcome"] == "stored"
    assert stored["setting_ids"] == [str(tenant.setting_id)] and stored["positions"] == [2]
    assert stored["outlet_id"] == "4522" and stored["moka_id"] == "1950404"
    assert stored["event_id"] == "8f14e45f-ceea-4c6b-a7e5-3b2c1f0d9a61"
    request = next(
        line for line in lines if line.get("route") == "/api/v1/settings/<uuid:setting_id>"
    )
    assert request["setting_id"] == str(tenant.setting_id) and request["status"] == 200
    assert request["token_id"] and request["level"] == "info" and request["time"]


def test_the_formatter_redacts_fields_named_like_secrets():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.access_token = "abc"
    record.jurnal_client_secret = "def"
    record.setting_id = "s-1"
    line = json.loads(json_lines([record])[0])
    assert line["access_token"] == line["jurnal_client_secret"] == "[redacted]"
    assert line["setting_id"] == "s-1"


# -- no secrets anywhere ----------------------------------------------------------------------


@pytest.fixture
def sandboxes():
    jurnal = serve_in_thread(jurnal_app())
    with running_moka() as moka:
        yield jurnal.url, moka
    jurnal.stop()


def test_secrets_appear_in_no_answer_and_no_log_line(gateway_config, sandboxes, caplog):
    """An operator onboards a company, connects Moka, makes a setting, receives webhooks and
    reads everything back, including every error answer; meanwhile every log line is kept."""
    jurnal_url, moka = sandboxes
    seeded = moka.seed(1)
    config = gateway_config.with_changes(jurnal_base_url=jurnal_url, moka_base_url=moka.url)
    container = Container(config)
    bootstrap.install(container)
    client = create_app(container=container, test_config={"TESTING": True}).test_client()
    caplog.set_level(logging.DEBUG)
    operator_token = issue_token(container.log, admin=True).token
    operator = {"Authorization": f"Bearer {operator_token}"}
    secrets = (
        *SECRETS,
        DEFAULT_CLIENT_SECRET,
        seeded["access_token"],
        seeded["refresh_token"],
        seeded["password"],
        operator_token,
        config.moka_client_secret,
        "gateway-test-secret-key",
    )
    answers = []

    def call(method, path, **kwargs):
        response = client.open(path, method=method, **kwargs)
        answers.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    company = call("POST", "/api/v1/companies", headers=operator, json={
        "name": "PT Prima", "jurnal_client_id": DEFAULT_CLIENT_ID,
        "jurnal_client_secret": DEFAULT_CLIENT_SECRET}).json  # fmt: skip
    call("POST", "/api/v1/companies", headers=operator, json={
        "name": "PT Salah", "jurnal_client_id": DEFAULT_CLIENT_ID,
        "jurnal_client_secret": "wrong-" + DEFAULT_CLIENT_SECRET})  # fmt: skip
    connection = call("POST", "/api/v1/moka/connections", headers=operator, json={
        "company_id": company["id"], "access_token": seeded["access_token"],
        "refresh_token": seeded["refresh_token"]}).json  # fmt: skip
    bad = {"company_id": company["id"], "access_token": "f" * 64, "refresh_token": "f" * 64}
    call("POST", "/api/v1/moka/connections", headers=operator, json=bad)
    call("GET", f"/api/v1/moka/connections/{connection['id']}/outlets", headers=operator)
    call("GET", f"/api/v1/moka/authorize?company_id={company['id']}", headers=operator)
    outlet = connection["outlets"][0]["id"]
    fields = setting_fields(company["id"], connection["id"], outlet_id=outlet)
    setting = call("POST", "/api/v1/settings", headers=operator, json=fields).json
    raw = json.dumps(envelope(customer(), outlet_id=outlet)).encode()
    call("POST", "/webhooks/moka", data=raw, headers=signed(raw))
    call("POST", "/webhooks/moka", data=raw, headers=signed(raw, "guessed-secret"))
    call("POST", "/webhooks/moka", data=b"nope", headers=signed(b"nope"))
    for path in (
        "/api/v1/companies",
        f"/api/v1/companies/{company['id']}",
        "/api/v1/settings",
        f"/api/v1/settings/{setting['id']}",
        f"/api/v1/settings/{setting['id']}/events",
        f"/api/v1/settings/{setting['id']}/runs",
        "/api/openapi.json",
        "/metrics",
    ):
        call("GET", path, headers=operator)  # fmt: skip
    call("GET", "/api/v1/companies", headers={"Authorization": "Bearer " + operator_token[:-1]})

    assert len(answers) == 19
    logged = "\n".join(json_lines(caplog.records))
    for secret in secrets:
        for answer in answers:
            assert secret not in answer, (secret, answer[:300])
        assert secret not in logged, secret
    assert company["package"] == "Enterprise" and WEBHOOK_SECRET in secrets
    bootstrap.install(None)
    container.close()
