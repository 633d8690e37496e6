"""The documents refer to the company's taxes, accounts and warehouse by Jurnal id once the
engine knows them (reference §3.3, §12), and by the setting's text only in a preview."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.chart import Account, Chart
from domain.mapping import JurnalDocument, JurnalRefs
from domain.mapping.errors import AccountNotInJurnal
from domain.mapping.setting import PaymentAccount, default_setting
from tests.moka_sales import ES_TEH, NASI, PB1, Till, company_taxes, line, sync

CHART = Chart(
    (
        Account(501, "Cash", "1-10001", 3),
        Account(502, "Bank Account", "1-10002", 3),
        Account(503, "Kas Outlet", "1-10003", 3),
    )
)
SETTING = replace(
    default_setting("4522"),
    warehouse="Gudang Jaksel",
    payment_accounts={"cash": PaymentAccount("kas outlet"), "edc": PaymentAccount("1-10002")},
)


def documents(setting, refs):
    planned = sync(Till().sell([line(ES_TEH), line(NASI)]), setting, refs)
    assert all(isinstance(d, JurnalDocument) for d in planned), planned
    return {d.kind: d.body[d.kind] for d in planned}


def test_with_the_companys_references_lines_taxes_deposits_and_warehouse_go_by_id():
    taxes = company_taxes(SETTING, PB1)
    refs = JurnalRefs(taxes=taxes, chart=CHART, warehouse_ids={"gudang jaksel": 77})
    bodies = documents(SETTING, refs)
    invoice = bodies["sales_invoice"]
    assert invoice["warehouse_id"] == 77 and "warehouse_name" not in invoice
    lines = invoice["transaction_lines_attributes"]
    assert {row.get("line_tax_id") for row in lines} == {taxes[0].id}
    assert not any("line_tax_name" in row for row in lines)
    payment = bodies["receive_payment"]
    assert payment["deposit_to_id"] == 503 and "deposit_to_name" not in payment


def test_without_jurnal_at_hand_a_preview_shows_the_settings_names():
    bodies = documents(SETTING, JurnalRefs())
    invoice = bodies["sales_invoice"]
    assert invoice["warehouse_name"] == "Gudang Jaksel"
    assert {row.get("line_tax_name") for row in invoice["transaction_lines_attributes"]} == {"PB1"}
    assert bodies["receive_payment"]["deposit_to_name"] == "kas outlet"


def test_a_deposit_account_missing_from_the_chart_fails_the_payment_with_its_name():
    setting = replace(SETTING, payment_accounts={"cash": PaymentAccount("Kas")})
    planned = sync(Till().sell([line(ES_TEH)]), setting, JurnalRefs(chart=CHART))
    (payment,) = [d for d in planned if d.kind == "receive_payment"]
    assert isinstance(payment.error, AccountNotInJurnal)
    assert "'Kas'" in payment.error.message


@pytest.mark.parametrize("chosen", ["Bank Account", "1-10002"])
def test_an_account_is_named_by_its_name_or_its_number(chosen):
    setting = replace(SETTING, payment_accounts={"cash": PaymentAccount(chosen)})
    bodies = documents(setting, JurnalRefs(chart=CHART))
    assert bodies["receive_payment"]["deposit_to_id"] == 502
