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


def test_a_refund_delivered_before_its_sale_still_ends_as_one_invoice_and_one_return(
    sqlite_stack,
):
    import copy
    import json
    import uuid

    from domain.moka_webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign_webhook_body
    from gateway.app import create_app

    stack = sqlite_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    sale_id = stack.sell(payment_type="cash")  # no subscription: Moka sends nothing yet
    as_sold = copy.deepcopy(outlet.payments[sale_id])
    refund_id = stack.refund(sale_id)
    as_refunded = copy.deepcopy(outlet.payments[sale_id])

    client = create_app(container=stack.container).test_client()

    def deliver(name, payment):
        header = {
            "event_id": str(uuid.uuid4()),
            "event_name": name,
            "version": 1,
            "timestamp": "2024-05-02T10:15:30.123+07:00",
            "outlet_id": stack.outlet_id,
        }
        raw = json.dumps({"header": header, "body": payment}).encode()
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign_webhook_body(raw, stack.env["MOKA_WEBHOOK_SECRET"]),
                   IDEMPOTENCY_HEADER: header["event_id"]}  # fmt: skip
        assert client.post("/webhooks/moka", data=raw, headers=headers).status_code == 202

    deliver("moka.transaction.refunded", as_refunded)
    deliver("moka.transaction.created", as_sold)  # late and older: the log keeps the newer
    work(stack.container)
    assert stack.held_by(invoice_of(stack, setting, sale_id)) == 1
    assert stack.held_by(return_custom_id(setting, refund_id)) == 1
    assert stack.held_by(payment_custom_id(setting, sale_id)) == 1


def test_a_product_added_in_moka_reaches_jurnal_through_a_master_data_run(sqlite_stack):
    from domain.mapping.products import variant_custom_id

    stack = sqlite_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    with gateway_for(stack):
        item = stack.moka.control(
            "POST", "/items",
            json={"outlet_id": int(stack.outlet_id),
                  "item": {"name": "Es Kopi Baru", "price": 21000}},
        )  # fmt: skip
        stack.drain_webhooks()
    work(stack.container)  # posts the log: the item asks for one master-data run
    work(stack.container)  # the run
    variant = item["item"]["item_variants"][0]["id"]
    assert stack.held_by(variant_custom_id(setting, variant)) == 1
    runs = [e for e in stack.container.log.read(setting_id, limit=10_000)
            if type(e).__name__ == "SyncFinished"]  # fmt: skip
    assert runs[-1].method == "Webhook" and runs[-1].status == "Sukses"
