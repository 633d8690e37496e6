"""Refunds of paid sales through the whole stack (Moka webhooks, the gateway, the log, a worker,
Jurnal over HTTP): the money the till paid back leaves the account of the refund's payment method
in Jurnal, and no customer credit is left behind."""

from __future__ import annotations

from decimal import Decimal

from domain.log import DocumentPosted
from domain.mapping.refunds import money_back_custom_id
from domain.mapping.returns import return_custom_id
from tests.engine_support import gateway_for, work


def test_every_cash_refund_of_a_paid_sale_shows_the_money_leaving_its_account(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    with gateway_for(stack):
        cash = stack.sell(payment_type="cash")
        card = stack.sell(payment_type="card")
        refunds = {cash: stack.refund(cash), card: stack.refund(card)}
        stack.drain_webhooks()
    work(stack.container)

    company = stack.jurnal_sandbox.default_company.collections
    expected_account = {cash: "Kas", card: "Rekening Bank"}
    for sale_id, refund_id in refunds.items():
        assert stack.held_by(return_custom_id(setting, refund_id)) == 1
        assert stack.held_by(money_back_custom_id(setting, refund_id)) == 1
        [money] = company["customer_credit_memo_refund"].find(
            "custom_id", money_back_custom_id(setting, refund_id)
        )
        row = next(r for r in outlet.payments[sale_id]["payment_refunds"] if r["uuid"] == refund_id)
        assert money["refund_from"]["name"] == expected_account[sale_id]
        assert money["total"] == abs(Decimal(str(row["total_collected_amount"])))
        [sales_return] = company["sales_returns"].find(
            "custom_id", return_custom_id(setting, refund_id)
        )
        assert sales_return["credit_memo"]["remaining"] == 0
    # The money is in the log like every document, with its amount for reconciliation.
    posted = [
        e
        for e in stack.container.log.read(setting_id, limit=10_000)
        if isinstance(e, DocumentPosted) and e.kind == "customer_credit_memo_refund"
    ]
    assert len(posted) == 2 and all(e.amounts and Decimal(e.amounts["total"]) > 0 for e in posted)
    assert stack.duplicates() == {}
    assert not stack.container.log.has_unprocessed(setting_id)
