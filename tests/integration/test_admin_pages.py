"""The admin pages through Flask's test client: signing in and out, the lockout, CSRF on every
form, each credential on its own side (sessions for pages, bearer tokens for the API), and a
company's user confined to that company. The browser tests drive the whole story."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from domain.users import User
from gateway.admin.views import admin
from infra.users import MAX_FAILURES, add_user, check_password
from sambung.cli import main
from tests.gateway_support import (
    finish_master_data,
    make_company,
    make_connection,
    make_tenant,
    setting_fields,
    token_for,
)

PASSWORD = "kata-sandi-rahasia"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def gateway_config(gateway_config):
    # Pages that read the company's Jurnal meet a closed local port here, never the internet;
    # they still render, saying Jurnal cannot be reached.
    return gateway_config.with_changes(jurnal_base_url="http://127.0.0.1:9")


@pytest.fixture
def operator(gateway_container):
    return add_user(gateway_container.log, "ops@sambung.test", PASSWORD, admin=True)


def test_pages_need_a_session_and_send_the_visitor_to_sign_in(client):
    answer = client.get("/settings")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/settings")


def test_signing_in_and_out(client, operator):
    answer = sign_in(client, "OPS@sambung.test ")
    assert answer.status_code == 302 and answer.headers["Location"] == "/settings"
    page = client.get("/settings")
    assert page.status_code == 200 and "Daftar Pengaturan" in page.get_data(as_text=True)
    token = csrf_of(page.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/settings").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(client, operator):
    answer = sign_in(client, "ops@sambung.test")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over http here; see the https test


def test_cookies_are_secure_when_the_public_url_is_https(gateway_config):
    from gateway.app import create_app
    from infra.bootstrap import Container
    from infra.config import Config

    config = Config.from_env(
        {"SAMBUNG_DATA_DIR": str(gateway_config.data_dir), "REDIS_URL": gateway_config.redis_url,
         "SAMBUNG_SECRET_KEY": "gateway-test-secret-key",
         "SAMBUNG_PUBLIC_URL": "https://sambung.example"}
    )  # fmt: skip
    assert config.secure_cookies
    app = create_app(container=Container(config), test_config={"TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not Config.from_env(
        {"SAMBUNG_PUBLIC_URL": "https://x.example", "SAMBUNG_SECURE_COOKIES": "0"}
    ).secure_cookies


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_email(client, operator):
    for _ in range(MAX_FAILURES):
        answer = sign_in(client, "ops@sambung.test", "wrong password")
        assert answer.status_code == 401
        assert "Email atau password salah." in answer.get_data(as_text=True)
    locked = sign_in(client, "ops@sambung.test")  # the right password, too late
    assert locked.status_code == 429
    assert "Terlalu banyak percobaan" in locked.get_data(as_text=True)
    assert client.get("/settings").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(client, operator, gateway_container):
    tenant = make_tenant(gateway_container)
    sign_in(client, "ops@sambung.test")
    for path in ("/logout", "/settings/sync-all", f"/settings/{tenant.setting_id}/delete"):
        for data in ({}, {"csrf_token": "forged"}):
            answer = client.post(path, data=data)
            assert answer.status_code == 400, path
            assert "kedaluwarsa" in answer.get_data(as_text=True)
    assert gateway_container.log.get_setting(tenant.setting_id).name  # not deleted
    login = client.post("/login", data={"email": "ops@sambung.test", "password": PASSWORD})
    assert login.status_code == 400


def test_pages_refuse_a_bearer_token_and_the_api_refuses_a_session(
    client, operator, gateway_container
):
    tenant = make_tenant(gateway_container)
    assert client.get("/settings", headers=tenant.headers).status_code == 302
    sign_in(client, "ops@sambung.test")
    assert client.get("/settings").status_code == 200
    answer = client.get("/api/v1/settings")
    assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"


def test_a_company_user_sees_only_that_company(client, gateway_container):
    mine = make_tenant(gateway_container, "PT Mine")
    theirs = make_tenant(gateway_container, "PT Theirs")
    gateway_container.log.update_setting(theirs.setting_id, {"name": "Rahasia Mereka"})
    add_user(gateway_container.log, "kasir@mine.test", PASSWORD, company_id=mine.company_id)
    sign_in(client, "kasir@mine.test")
    listing = client.get("/settings").get_data(as_text=True)
    assert "PT Mine" in listing and "PT Theirs" not in listing and "Rahasia Mereka" not in listing
    for path in (
        f"/settings/{theirs.setting_id}/history",
        f"/settings/{theirs.setting_id}/errors",
        f"/settings/{theirs.setting_id}/reconciliation",
        f"/settings/{theirs.setting_id}/delete",
        f"/companies/{theirs.company_id}/settings/new",
        f"/moka/{theirs.connection_id}/outlets",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "tidak ditemukan" in answer.get_data(as_text=True)
    token = csrf_of(listing)
    answer = client.post(f"/settings/{theirs.setting_id}/delete", data={"csrf_token": token})
    assert answer.status_code == 404
    assert gateway_container.log.get_setting(theirs.setting_id).name == "Rahasia Mereka"
    companies = client.post("/companies", data={"csrf_token": token, "name": "PT Baru"})
    assert companies.status_code == 403


def test_the_english_switch_changes_the_pages_language(client, operator):
    sign_in(client, "ops@sambung.test")
    answer = client.get("/lang/en?next=/settings", follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "Sync All Transactions" in text and "Sinkronisasi Semua Transaksi" not in text
    client.get("/lang/id")
    assert "Sinkronisasi Semua Transaksi" in client.get("/settings").get_data(as_text=True)


def test_a_next_address_elsewhere_is_not_followed(client, operator):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login?next=//evil.example/x",
        data={"email": "ops@sambung.test", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.headers["Location"] == "/settings"


def test_user_add_reads_the_password_from_stdin_and_stores_only_a_hash(gateway_container):
    tenant = make_tenant(gateway_container)
    runner = CliRunner()
    made = runner.invoke(
        main, ["user", "add", "Akuntan@Mine.test", "--company", str(tenant.company_id),
               "--password-stdin"], input=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "akuntan@mine.test" in made.output
    stored = gateway_container.log.repository.get(User.create_id("akuntan@mine.test"))
    assert stored.company_id == tenant.company_id and not stored.admin
    assert stored.password_hash.startswith("scrypt:") and PASSWORD not in stored.password_hash
    again = runner.invoke(main, ["user", "add", "akuntan@mine.test", "--admin", "--password-stdin"],
                          input=PASSWORD + "\n")  # fmt: skip
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(main, ["user", "add", "b@mine.test", "--admin", "--password-stdin"],
                          input="pendek\n")  # fmt: skip
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    both = runner.invoke(main, ["user", "add", "c@mine.test", "--password-stdin"], input="x\n")
    assert both.exit_code != 0


def test_every_admin_post_view_is_behind_the_csrf_check(app):
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("admin.") and "POST" in rule.methods]  # fmt: skip
    assert len(posts) >= 10
    assert admin.before_request_funcs  # the guard that checks them all
    _ = token_for


def test_fields_the_plan_does_not_allow_are_disabled_with_the_reason(
    client, operator, gateway_container
):
    company = make_company(gateway_container, "PT Dasar", package="Basic")
    connection = make_connection(gateway_container, company)
    values = {**setting_fields(company, connection), "company_id": company,
              "moka_connection_id": connection}  # fmt: skip
    setting_id = gateway_container.log.create_setting(**values)
    sign_in(client, "ops@sambung.test")
    page = client.get(f"/settings/{setting_id}").get_data(as_text=True)
    assert re.search(r'<select name="tag"\s+disabled', page)
    assert re.search(r'<select name="warehouse"\s+disabled', page)
    assert (
        "Tag hanya tersedia pada paket Jurnal Pro atau Enterprise; paket perusahaan ini Basic"
        in page
    )
    assert "Gudang hanya tersedia pada paket Jurnal Enterprise; paket perusahaan ini Basic" in page
    assert "Jurnal tidak dapat dihubungi saat ini" in page
    # Set-once fields are shown read-only; a forged value for them, or for a disabled field,
    # is not sent.
    assert re.search(r'value="2024-05-01" readonly', page)
    answer = client.post(
        f"/settings/{setting_id}",
        data={"csrf_token": csrf_of(page), "name": "Kasir Baru", "sales_account": "",
              "purchase_account": "", "tag": "Forged", "warehouse": "Forged",
              "start_date": "2030-01-01", "default_customer": "Forged"},
    )  # fmt: skip
    assert answer.status_code == 302
    changed = gateway_container.log.get_setting(setting_id)
    assert changed.name == "Kasir Baru" and changed.tag is None and changed.warehouse is None
    assert changed.start_date.isoformat() == "2024-05-01"
    assert changed.default_customer == "Pelanggan Umum"


def test_a_form_error_names_the_field_in_the_merchants_language(
    client, operator, gateway_container
):
    tenant = make_tenant(gateway_container)
    sign_in(client, "ops@sambung.test")
    page = client.get(f"/settings/{tenant.setting_id}").get_data(as_text=True)
    answer = client.post(
        f"/settings/{tenant.setting_id}",
        data={"csrf_token": csrf_of(page), "name": "x" * 101, "sales_account": "4-40000",
              "purchase_account": "5-50000", "sync_time": "25:99"},
    )  # fmt: skip
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Periksa kolom yang ditandai di bawah." in text
    assert "maksimal 100 karakter" in text and "harus berupa jam" in text


def test_sync_buttons_refuse_transactions_before_master_data_and_sync_all_says_who_waits(
    client, operator, gateway_container
):
    ready = make_tenant(gateway_container, "PT Siap")
    finish_master_data(gateway_container, ready.setting_id)
    waiting = make_tenant(gateway_container, "PT Tunggu")
    gateway_container.log.update_setting(waiting.setting_id, {"name": "Outlet Menunggu"})
    sign_in(client, "ops@sambung.test")
    token = csrf_of(client.get("/settings").get_data(as_text=True))

    refused = client.post(
        f"/settings/{waiting.setting_id}/sync/transactions",
        data={"csrf_token": token}, follow_redirects=True,
    )  # fmt: skip
    assert "sinkronkan master data terlebih dahulu" in refused.get_data(as_text=True)
    started = client.post(
        f"/settings/{waiting.setting_id}/sync/master-data", data={"csrf_token": token}
    )
    assert started.status_code == 302
    assert f"/settings/{waiting.setting_id}/history?expect=" in started.headers["Location"]

    everything = client.post(
        "/settings/sync-all", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Sinkronisasi transaksi dimulai untuk 1 pengaturan." in everything
    assert "Outlet Menunggu dilewati: sinkronkan master data terlebih dahulu." in everything
    queued = {job.args[0] for job in gateway_container.queue("sync").jobs if job.args}
    assert str(ready.setting_id) in queued or ready.setting_id in queued


def test_a_moka_callback_this_browser_did_not_start_is_refused(client, operator, gateway_container):
    tenant = make_tenant(gateway_container)
    sign_in(client, "ops@sambung.test")
    answer = client.get("/moka/connected?code=stolen&state=someone-elses")
    assert answer.status_code == 400
    assert gateway_container.log.list_moka_connections(tenant.company_id)[0].id == (
        tenant.connection_id
    )
    assert len(gateway_container.log.list_moka_connections(tenant.company_id)) == 1


def test_sessions_outlive_a_key_rotation_while_the_old_key_is_listed(
    client, operator, gateway_config
):
    from gateway.app import create_app
    from infra.bootstrap import Container

    sign_in(client, "ops@sambung.test")
    cookie = client.get_cookie("sambung_admin").value
    new_key = "a-brand-new-secret-key-after-rotation"

    def settings_page(**changes):
        container = Container(gateway_config.with_changes(**changes))
        try:
            rotated = create_app(container=container, test_config={"TESTING": True}).test_client()
            rotated.set_cookie("sambung_admin", cookie)
            return rotated.get("/settings").status_code
        finally:
            container.close()

    assert settings_page(secret_key=new_key, old_secret_keys=(gateway_config.secret_key,)) == 200
    assert settings_page(secret_key=new_key, old_secret_keys=()) == 302


def test_an_app_without_a_secret_key_still_answers_its_health_checks(tmp_path, redis_url):
    from gateway.app import create_app
    from infra.bootstrap import Container
    from infra.config import Config

    config = Config.from_env({"PERSISTENCE_MODULE": "eventsourcing.postgres",
                              "POSTGRES_DBNAME": "x", "POSTGRES_HOST": "127.0.0.1",
                              "REDIS_URL": redis_url})  # fmt: skip
    app = create_app(container=Container(config), test_config={"TESTING": True})
    assert app.test_client().get("/healthz").status_code == 200


def test_user_add_prompts_for_the_password_twice(gateway_container):
    runner = CliRunner()
    made = runner.invoke(main, ["user", "add", "ops2@sambung.test", "--admin"],
                         input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output
    assert check_password(gateway_container.log, "ops2@sambung.test", PASSWORD).principal.admin
    assert check_password(gateway_container.log, "ops2@sambung.test", "wrong password") is None
