"""Sales pushed by Moka webhooks through the gateway, the log and a worker into Jurnal."""

from __future__ import annotations

from domain.mapping import sale_invoice_custom_id
from domain.mapping.payments import payment_custom_id
from domain.mapping.returns import return_custom_id
from tests.engine_support import gateway_for, work


def invoice_of(stack, setting, sale_id):
    return sale_invoice_custom_id({"id": sale_id}, setting)


def test_a_sale_pushed_by_webhook_becomes_one_paid_invoice(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    with gateway_for(stack):
        sale = stack.sell(payment_type="cash")
        stack.drain_webhooks()
    work(stack.container)
    assert stack.held_by(invoice_of(stack, setting, sale)) == 1
    assert stack.held_by(payment_custom_id(setting, sale)) == 1
    assert not stack.container.log.has_unprocessed(setting_id)


def test_duplicated_and_reordered_webhooks_leave_each_document_once(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    stack.moka.control(
        "POST", "/faults", json={"duplicate_webhook_rate": 1.0, "reorder_webhook_rate": 1.0}
    )
    with gateway_for(stack):
        sales = [stack.sell(payment_type="cash") for _ in range(3)]
        refund = stack.refund(sales[0])
        stack.drain_webhooks()
    work(stack.container)
    for sale in sales:
        assert stack.held_by(invoice_of(stack, setting, sale)) == 1
        assert stack.held_by(payment_custom_id(setting, sale)) == 1
    assert stack.held_by(return_custom_id(setting, refund)) == 1
    assert stack.duplicates() == {}
