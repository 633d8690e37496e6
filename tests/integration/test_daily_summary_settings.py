"""Choosing the posting mode: through the API (validated), the admin form (with what each mode
gives up, in both languages) and the CLI; a change takes effect from the next business day and
is recorded in the setting's log."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from domain.log import SettingChanged
from infra.users import add_user
from sambung.cli import main
from tests.gateway_support import (
    post_setting,
    served_jurnal,
    setting_company,
    setting_fields,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
PASSWORD = "kata-sandi-rahasia"


@pytest.fixture
def jurnal_sandbox():
    with served_jurnal() as url:
        yield url


@pytest.fixture
def gateway_config(gateway_config, jurnal_sandbox):
    return gateway_config.with_changes(jurnal_base_url=jurnal_sandbox)


@pytest.fixture
def company(gateway_container):
    return setting_company(gateway_container, quota=3)


def tomorrow_in_jakarta() -> set[str]:
    """Tomorrow where the merchant is, read around the call (a test at midnight sees both)."""
    today = datetime.now(JAKARTA).date()
    return {(today + timedelta(days=n)).isoformat() for n in (1, 2)}


def test_a_setting_is_created_in_daily_summary_mode(client, company):
    answer = post_setting(client, company, posting_mode="daily_summary", summary_close_time="23:30")
    assert answer.status_code == 201, answer.json
    assert answer.json["posting_mode"] == "daily_summary"
    assert answer.json["summary_close_time"] == "23:30"
    assert answer.json["posting_mode_changes"] == {}
    assert post_setting(client, company).json["posting_mode"] == "per_sale"


def test_an_unknown_mode_or_rounding_account_answers_422_naming_the_field(client, company):
    answer = post_setting(client, company, posting_mode="weekly")
    assert answer.status_code == 422
    assert "posting_mode" in answer.json["error"]["fields"]
    answer = post_setting(
        client, company, posting_mode="daily_summary", rounding_account="Pembulatan"
    )
    assert answer.status_code == 422
    assert (
        "not an account of this Jurnal company"
        in answer.json["error"]["fields"]["rounding_account"]
    )


def test_a_mode_change_takes_effect_from_the_next_business_day(client, company, gateway_container):
    _, _, headers = company
    setting = post_setting(client, company).json
    before = tomorrow_in_jakarta()
    answer = client.patch(
        f"/api/v1/settings/{setting['id']}", json={"posting_mode": "daily_summary"}, headers=headers
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["posting_mode"] == "daily_summary"
    (since,) = answer.json["posting_mode_changes"]
    assert since in before | tomorrow_in_jakarta()
    stored = gateway_container.log.get_setting(UUID(setting["id"]))
    today = date.fromisoformat(since) - timedelta(days=1)
    assert stored.posting_mode_on(today) == "per_sale"  # today, maybe already posted, keeps it
    assert stored.posting_mode_on(date.fromisoformat(since)) == "daily_summary"
    changes = [
        e.changes
        for e in gateway_container.log.read(stored.id, limit=100)
        if isinstance(e, SettingChanged)
    ]
    assert changes == [
        {"posting_mode": "daily_summary", "posting_mode_changes": {since: "daily_summary"}}
    ]


def test_the_admin_form_offers_both_modes_with_what_each_gives_up(
    client, company, gateway_container
):
    add_user(gateway_container.log, "ops@sambung.test", PASSWORD, admin=True)
    setting = post_setting(client, company).json
    token = _csrf(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "ops@sambung.test", "password": PASSWORD,
                                "csrf_token": token})  # fmt: skip
    page = client.get(f"/settings/{setting['id']}").get_data(as_text=True)
    assert 'name="posting_mode" value="daily_summary"' in page
    assert "pelanggan dan nomor struk" in page  # per sale keeps customers and receipts
    assert "hemat kuota" in page  # the summary keeps the budget
    client.get("/lang/en")
    english = client.get(f"/settings/{setting['id']}").get_data(as_text=True)
    assert "each customer and Moka receipt stays visible" in english
    assert "keeps Jurnal&#39;s API budget" in english or "keeps Jurnal's API budget" in english


def test_the_cli_creates_a_daily_summary_setting_from_a_file(
    client,
    company,
    gateway_container,
    tmp_path,
    gateway_config,
):
    company_id, connection_id, _ = company

    body = setting_fields(company_id, connection_id, posting_mode="daily_summary")
    path = tmp_path / "setting.json"
    path.write_text(json.dumps(body, default=str), encoding="utf-8")
    from infra import bootstrap

    bootstrap.install(gateway_container)
    try:
        result = CliRunner().invoke(main, ["setting", "create", str(path)])
    finally:
        bootstrap.install(None)
    assert result.exit_code == 0, result.output
    setting_id = re.search(r"[0-9a-f-]{36}", result.output).group(0)
    assert gateway_container.log.get_setting(UUID(setting_id)).posting_mode == "daily_summary"
    assert "daily_summary" in result.output


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)
