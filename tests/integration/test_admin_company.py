"""The company's admin page (audit trail, credential form, the person's own notification choice,
the webhook) and the downloads on the history, errors and reconciliation pages, through Flask's
test client, with the Jurnal sandbox on a real port for the credential check."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from domain.log import RunStatus
from projections.runner import catch_up
from sambung.cli import main
from sandbox.jurnal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.serving import serve_in_thread
from services import audit, notify
from services.users import add_person
from tests.gateway_support import finish_master_data, make_tenant

PASSWORD = "kata-sandi-rahasia"


@pytest.fixture(scope="module")
def jurnal_url():
    server = serve_in_thread(jurnal_app(JurnalSandbox()))
    yield server.url
    server.stop()


@pytest.fixture
def gateway_config(gateway_config, jurnal_url):
    return gateway_config.with_changes(jurnal_base_url=jurnal_url)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
def signed_in(client, gateway_container):
    """A company's user, signed in; returns (tenant, client)."""
    tenant = make_tenant(gateway_container)
    add_person(gateway_container, "akuntan@kafe.id", PASSWORD, company_id=tenant.company_id)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login", data={"email": "akuntan@kafe.id", "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302
    return tenant


def page_of(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def test_a_new_user_is_told_by_default_and_chooses_a_digest_in_english(
    client, gateway_container, signed_in
):
    url = f"/companies/{signed_in.company_id}"
    page = page_of(client, url)
    assert "Pemberitahuan untuk saya" in page and "Jejak audit" in page
    assert notify.my_choice(gateway_container, signed_in.company_id,
                            "akuntan@kafe.id") == {"email": "akuntan@kafe.id", "lang": "id",
                                                   "digest": False}  # fmt: skip
    token = csrf_of(page)
    answer = client.post(
        f"{url}/notifications/mine", data={"mode": "digest", "lang": "en", "csrf_token": token}
    )
    assert answer.status_code == 302
    assert notify.my_choice(gateway_container, signed_in.company_id,
                            "akuntan@kafe.id") == {"email": "akuntan@kafe.id", "lang": "en",
                                                   "digest": True}  # fmt: skip
    off = client.post(f"{url}/notifications/mine",
                      data={"mode": "off", "lang": "en", "csrf_token": csrf_of(page)})  # fmt: skip
    assert off.status_code == 302
    assert notify.my_choice(gateway_container, signed_in.company_id,
                            "akuntan@kafe.id") is None  # fmt: skip


def test_changes_on_the_pages_are_audited_as_the_signed_in_user(
    client, gateway_container, signed_in
):
    url = f"/companies/{signed_in.company_id}"
    page = page_of(client, url)
    answer = client.post(f"{url}/notifications/webhook",
                         data={"notify_url": "https://hooks.example.com/x",
                               "csrf_token": csrf_of(page)})  # fmt: skip
    assert answer.status_code == 302
    page = page_of(client, url)
    assert 'data-action="company.notifications_changed"' in page
    assert "user:akuntan@kafe.id" in page and "Pemberitahuan diubah" in page
    entries = audit.audit_trail(gateway_container, signed_in.company_id)["entries"]
    assert entries[0]["actor"] == "user:akuntan@kafe.id"
    assert entries[0]["details"]["notify_url"] == "https://hooks.example.com/x"
    bad = client.post(f"{url}/notifications/webhook",
                      data={"notify_url": "ftp://x", "csrf_token": csrf_of(page)})  # fmt: skip
    assert bad.status_code == 422


def test_the_credential_form_checks_with_jurnal(client, gateway_container, signed_in):
    url = f"/companies/{signed_in.company_id}"
    page = page_of(client, url)
    refused = client.post(f"{url}/credential", data={
        "jurnal_client_id": DEFAULT_CLIENT_ID, "jurnal_client_secret": "salah",
        "csrf_token": csrf_of(page)})  # fmt: skip
    assert refused.status_code == 422
    assert 'role="alert"' in refused.get_data(as_text=True)
    done = client.post(f"{url}/credential", data={
        "jurnal_client_id": DEFAULT_CLIENT_ID, "jurnal_client_secret": DEFAULT_CLIENT_SECRET,
        "csrf_token": csrf_of(page)})  # fmt: skip
    assert done.status_code == 302
    stored = gateway_container.log.jurnal_credentials(signed_in.company_id)
    assert (stored.client_id, stored.client_secret) == (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    page = page_of(client, url)
    assert "Kredensial Jurnal diganti" in page and DEFAULT_CLIENT_SECRET not in page


def test_another_companys_page_is_not_found(client, gateway_container, signed_in):
    other = make_tenant(gateway_container, "PT Lain")
    assert client.get(f"/companies/{other.company_id}").status_code == 404
    other_setting = f"/settings/{other.setting_id}/export/runs.csv"
    assert client.get(other_setting).status_code == 404


def test_history_errors_and_reconciliation_pages_offer_the_downloads(
    client, gateway_container, signed_in
):
    setting_id = signed_in.setting_id
    finish_master_data(gateway_container, setting_id)
    catch_up(gateway_container)
    history = page_of(client, f"/settings/{setting_id}/history")
    assert f"/settings/{setting_id}/export/runs.csv" in history
    assert f"/settings/{setting_id}/export/runs.xlsx" in history
    text = client.get(f"/settings/{setting_id}/export/runs.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["kind"], r["status"]) for r in rows] == [("master_data", RunStatus.SUCCEEDED)]
    book = load_workbook(io.BytesIO(client.get(f"/settings/{setting_id}/export/runs.xlsx").data))
    assert book.active["F2"].value == "Sukses"
    window = "from=2024-05-01&to=2024-05-31"
    recon = page_of(client, f"/settings/{setting_id}/reconciliation?{window}")
    link = f"/settings/{setting_id}/export/reconciliation.csv?{window.replace('&', '&amp;')}"
    assert link in recon
    answer = client.get(f"/settings/{setting_id}/export/errors.xlsx")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")


def test_user_add_on_the_command_line_is_audited_and_subscribes_the_user(gateway_container):
    tenant = make_tenant(gateway_container)
    made = CliRunner().invoke(
        main, ["user", "add", "Baru@Kafe.id", "--company", str(tenant.company_id),
               "--password-stdin"], input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    (entry,) = audit.audit_trail(gateway_container, tenant.company_id)["entries"]
    assert entry["action"] == "user.added" and entry["actor_kind"] == "cli"
    assert entry["details"] == {"email": "baru@kafe.id"}
    assert notify.my_choice(gateway_container, tenant.company_id, "baru@kafe.id")
