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


def test_money_paid_back_that_failed_posts_on_replay_against_the_posted_return(sqlite_stack):
    from jobs import replay
    from sandbox.jurnal.resources.base import delete
    from sandbox.jurnal.resources.credit_memos import CREDIT_MEMO_REFUNDS

    stack = sqlite_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    with gateway_for(stack):
        sale = stack.sell(payment_type="cash")
        refund = stack.refund(sale)
        stack.drain_webhooks()
    work(stack.container)
    money_id = money_back_custom_id(setting, refund)
    assert stack.held_by(money_id) == 1

    # The money's post failed for good (say Jurnal refused it) after the return was posted.
    sandbox = stack.jurnal_sandbox
    with sandbox.lock:
        ctx = sandbox.context(sandbox.default_company)
        [posted] = ctx.collection("customer_credit_memo_refund").find("custom_id", money_id)
        delete(ctx, CREDIT_MEMO_REFUNDS, posted)
    last = stack.container.log.last_outcome(setting_id, money_id)
    stack.container.log.record_failed(
        setting_id,
        kind="customer_credit_memo_refund",
        custom_id=money_id,
        error_class="JurnalValidationError",
        message="Jurnal: refused for the test",
        retryable=False,
        moka_reference=last.moka_reference,
        resolves=last.resolves,
    )
    preview = replay.dry_run(stack.container, setting_id, {"only_failed": True})
    assert [doc["kind"] for doc in preview] == ["customer_credit_memo_refund"]

    params = {"only_failed": True}
    run = stack.container.log.request_run(setting_id, "replay", "Replay", params=params).run_id
    counts = replay.replay(str(setting_id), str(run))
    assert counts["refunds_paid"] == {"synced": 1, "total": 1}
    assert stack.held_by(money_id) == 1
    assert stack.held_by(return_custom_id(setting, refund)) == 1
    assert replay.dry_run(stack.container, setting_id, {"only_failed": True}) == []
