"""Replacing a company's Jurnal credential through the API, against the Jurnal sandbox: the new
one is checked with Jurnal first, and the settings the old one blocked resume."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.log import RunStatus
from gateway.app import create_app
from infra.api_tokens import issue_token
from jobs import sync
from projections import queries
from projections.runner import catch_up
from services import audit
from tests.notify_support import burst

ROTATED = "rotated-jurnal-secret"


@pytest.fixture
def api(sqlite_stack):
    return create_app(container=sqlite_stack.container, test_config={"TESTING": True}).test_client()


@pytest.fixture
def headers(sqlite_stack):
    issued = issue_token(sqlite_stack.container.log, company_id=sqlite_stack.company_id)
    return {"Authorization": f"Bearer {issued.token}"}


def rotate_in_jurnal(stack) -> str:  # type: ignore[no-untyped-def]
    """The merchant regenerates the credential's secret in Mekari's portal: the stored one is
    refused from now on."""
    client_id = stack.container.log.jurnal_credentials(stack.company_id).client_id
    company = stack.jurnal_sandbox.company_by_client_id(client_id)
    with stack.jurnal_sandbox.lock:
        company.client_secret = ROTATED
    return client_id


def test_a_credential_jurnal_refuses_answers_422_and_keeps_the_old_one(sqlite_stack, api, headers):
    before = sqlite_stack.container.log.jurnal_credentials(sqlite_stack.company_id)
    response = api.put(
        f"/api/v1/companies/{sqlite_stack.company_id}/credential",
        json={"jurnal_client_id": before.client_id, "jurnal_client_secret": "not-it"},
        headers=headers,
    )
    assert response.status_code == 422
    assert "refused by Jurnal" in response.json["error"]["fields"]["jurnal_client_secret"]
    assert sqlite_stack.container.log.jurnal_credentials(sqlite_stack.company_id) == before
    trail = audit.audit_trail(sqlite_stack.container, sqlite_stack.company_id)
    assert trail["entries"] == []


def test_a_missing_field_answers_422_and_another_company_404(sqlite_stack, api, headers):
    url = f"/api/v1/companies/{sqlite_stack.company_id}/credential"
    missing = api.put(url, json={"jurnal_client_id": "x"}, headers=headers)
    assert missing.status_code == 422 and "jurnal_client_secret" in missing.json["error"]["fields"]
    other = sqlite_stack.container.log.register_company(
        name="PT Lain", jurnal_client_id="other", jurnal_client_secret="s", package="Pro"
    )
    foreign = issue_token(sqlite_stack.container.log, company_id=other)
    answer = api.put(
        url,
        json={"jurnal_client_id": "x", "jurnal_client_secret": "y"},
        headers={"Authorization": f"Bearer {foreign.token}"},
    )
    assert answer.status_code == 404


def test_a_new_credential_resumes_the_settings_the_old_one_blocked(sqlite_stack, api, headers):
    stack = sqlite_stack
    container = stack.container
    setting_id = stack.synced_setting()
    stack.sell()
    client_id = rotate_in_jurnal(stack)
    run = container.log.request_run(setting_id, "transactions", "Manual").run_id
    sync.run_transactions_sync(container, setting_id, run)
    refused = container.log.get_run(run)
    assert refused.status is RunStatus.FAILED
    assert "refused the company's API credential" in (refused.error or "")
    assert stack.counts()["sales_invoices"] == 0
    catch_up(container)

    response = api.put(
        f"/api/v1/companies/{stack.company_id}/credential",
        json={"jurnal_client_id": client_id, "jurnal_client_secret": ROTATED},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    assert "jurnal_client_secret" not in response.json
    assert [UUID(s) for s in response.json["resumed_setting_ids"]] == [setting_id]
    assert container.log.jurnal_credentials(stack.company_id).client_secret == ROTATED

    burst(container)  # the re-run transactions sync and the woken poster
    assert stack.counts()["sales_invoices"] > 0
    assert stack.duplicates() == {}
    catch_up(container)
    runs = [
        r for r in queries.sync_history(container.views, setting_id) if r["kind"] == "transactions"
    ]
    # The refused run, then its re-run (the seeded month holds a few sales that fail anyway).
    assert [r["status"] for r in runs][1:] == ["Gagal"]
    assert runs[0]["status"] in ("Sukses", "Sebagian")
    still_open = {g["error_class"] for g in queries.open_errors(container.views, setting_id)}
    assert "JurnalAuthError" not in still_open  # what the old credential blocked is posted
    entries = audit.audit_trail(container, stack.company_id)["entries"]
    (replaced,) = [e for e in entries if e["action"] == "company.credential_replaced"]
    assert replaced["details"] == {"jurnal_client_id": client_id, "was": client_id}
    assert ROTATED not in str(entries)
