"""The setting form's pickers, read from the company's Jurnal sandbox: accounts per field with the
company's defaults, tags and warehouses by package, and the short-lived cache that spares the
credential's budget."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import CompanyNotFound
from gateway import reach
from infra.api_tokens import Principal
from services import choices as choices_service
from tests.engine_support import make_tags

OPERATOR = Principal(uuid4(), None, True)


def jurnal_choices(container, caller, company_id, *, fresh=False):
    company = reach.company(container, caller, company_id)
    return choices_service.jurnal_choices(container, company, fresh=fresh)


def test_the_pickers_offer_the_companys_own_accounts_and_defaults(sqlite_stack):
    choices = jurnal_choices(sqlite_stack.container, OPERATOR, sqlite_stack.company_id)
    assert choices["package"] == "Enterprise" and choices["has_warehouses"]
    deposit = {a["label"] for a in choices["accounts"]["payment_accounts"]}
    assert deposit == {"Kas (1-10001)", "Rekening Bank (1-10002)"}
    sales = {a["value"] for a in choices["accounts"]["sales_account"]}
    assert "4-40000" in sales and "1-10001" not in sales
    assert choices["default_accounts"]["sales_account"] == "Pendapatan (4-40000)"
    assert choices["default_accounts"]["purchase_account"] == "Beban Pokok Pendapatan (5-50000)"
    assert "Outlet Jaksel" in choices["tags"] and choices["warehouses"] == ["Gudang Utama"]


def test_the_choices_are_kept_a_while_and_read_again_on_request(sqlite_stack):
    container, company_id = sqlite_stack.container, sqlite_stack.company_id
    before = jurnal_choices(container, OPERATOR, company_id)
    make_tags(sqlite_stack, company_id, "Tag Baru")
    assert jurnal_choices(container, OPERATOR, company_id) == before
    fresh = jurnal_choices(container, OPERATOR, company_id, fresh=True)
    assert "Tag Baru" in fresh["tags"] and "Tag Baru" not in before["tags"]


def test_another_companys_user_gets_no_choices(sqlite_stack):
    stranger = Principal(uuid4(), uuid4(), False)
    with pytest.raises(CompanyNotFound):
        jurnal_choices(sqlite_stack.container, stranger, sqlite_stack.company_id)
