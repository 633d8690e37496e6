"""The daily summary's rules, with no server: the posting mode by business day, and one
generated day planned into documents whose Jurnal arithmetic, with the balancing entry, is
Moka's day to the sen."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.daily_summary import (
    Batch,
    DayRefund,
    allocate_returns,
    balance_of,
    bucket_money,
    invoice_id_of,
    plan_batch,
    receipts,
    return_parts,
    summed_lines,
)
from domain.errors import SettingInvalid
from domain.jurnal_arithmetic import invoice_totals, sales_return_totals
from domain.mapping import JurnalDocument, JurnalRefs
from domain.mapping.moka import read_payment
from domain.mapping.setting import default_setting
from domain.mapping.taxes import jurnal_tax
from domain.settings import posting_mode_on
from sandbox.moka.generator import generate_outlet
from tests.unit.test_settings import company, setting

DAY = date(2024, 5, 1)
ZERO = Decimal(0)


def test_each_day_keeps_the_mode_that_governed_it():
    changes = {"2024-05-10": "daily_summary", "2024-06-01": "per_sale"}
    assert posting_mode_on(date(2024, 5, 9), "per_sale", changes) == "per_sale"
    assert posting_mode_on(date(2024, 5, 10), "per_sale", changes) == "daily_summary"
    assert posting_mode_on(date(2024, 5, 31), "per_sale", changes) == "daily_summary"
    assert posting_mode_on(date(2024, 6, 1), "per_sale", changes) == "per_sale"


def test_a_mode_change_starts_the_next_business_day_and_never_rewrites_a_past_one():
    made = setting(owner=company(), posting_mode="per_sale")
    changed = made.update({"posting_mode": "daily_summary"}, made_package(), today=DAY)
    assert changed["posting_mode_changes"] == {"2024-05-02": "daily_summary"}
    assert made.posting_mode_on(DAY) == "per_sale"
    assert made.posting_mode_on(DAY + timedelta(days=1)) == "daily_summary"
    made.update({"posting_mode": "per_sale"}, made_package(), today=DAY + timedelta(days=5))
    assert made.posting_mode_on(DAY + timedelta(days=3)) == "daily_summary"
    assert made.posting_mode_on(DAY + timedelta(days=6)) == "per_sale"
    with pytest.raises(SettingInvalid):
        made.update({"posting_mode": "daily_summary"}, made_package())  # no merchant's date
    with pytest.raises(SettingInvalid):
        setting(posting_mode="weekly")


def made_package():
    from domain.settings import JurnalPackage

    return JurnalPackage.ENTERPRISE


@pytest.fixture(scope="module")
def day_of_sales():
    outlet = generate_outlet(
        21, products=40, customers=10, days=1, transactions_per_day=300, start_date=DAY,
        refund_rate=0.05, deleted_products=0,
    )  # fmt: skip
    sales = [read_payment(p) for p in outlet.payments]
    return str(outlet.outlet["id"]), [s for s in sales if not s.is_invoice]


def as_posted(doc: JurnalDocument, **more: Any) -> dict[str, Any]:
    """Jurnal's answer as the sandbox gives it: the body with ids on it and its totals."""
    body = dict(doc.body[doc.kind])
    return {**body, "id": abs(hash(doc.custom_id)) % 10**6, "transaction_no": "1", **more}


def test_a_day_becomes_one_invoice_a_payment_per_bucket_and_a_balancing_entry(day_of_sales):
    outlet_id, sales = day_of_sales
    settings = default_setting(outlet_id)
    same_day = [
        DayRefund(sale, refund, DAY, 1)
        for sale in sales
        for refund in sale.refunds
        if refund.created_at.date() == DAY
    ]
    assert same_day, "the generated day has refunds"
    batch = Batch(DAY, 1, tuple(sales), tuple(same_day))
    refs = JurnalRefs()
    posted: dict[str, dict[str, Any]] = {}

    planned = plan_batch(batch, settings, refs, posted)
    (invoice,) = planned
    assert isinstance(invoice, JurnalDocument) and invoice.kind == "sales_invoice"
    body = invoice.body["sales_invoice"]
    assert body["person_name"] == settings.default_customer
    assert "300 struk" not in body["memo"] and f"{len(sales)} struk" in body["memo"]
    lines = body["transaction_lines_attributes"]
    assert len(lines) < len(sales)  # a line per product, not per sale
    assert len({line["custom_id"] for line in lines}) == len(lines)
    table = list({t for s in sales if (t := jurnal_tax(settings, refs, s.totals.tax_rows))})
    totals = invoice_totals(body, table)
    collected = sum((s.totals.collected for s in sales), ZERO)
    assert totals.original_amount == collected

    answer = as_posted(invoice, original_amount=str(totals.original_amount),
                       tax_amount=str(totals.tax_amount))  # fmt: skip
    answer["transaction_lines_attributes"] = [
        {**line, "id": n} for n, line in enumerate(lines, start=1)
    ]
    posted[invoice.custom_id] = answer
    planned = plan_batch(batch, settings, refs, posted)
    payments = [d for d in planned if d.kind == "receive_payment"]
    assert len(payments) == len(bucket_money(sales))
    paid = sum(
        (Decimal(d.body["receive_payment"]["records_attributes"][0]["amount"]) for d in payments),
        ZERO,
    )
    assert paid == collected
    for doc in payments:
        posted[doc.custom_id] = as_posted(doc)

    planned = plan_batch(batch, settings, refs, posted)
    (sales_return,) = [d for d in planned if d.kind == "sales_return"]
    returned = sales_return_totals(sales_return.body["sales_return"], answer, table)
    posted[sales_return.custom_id] = as_posted(
        sales_return,
        return_amount=str(returned.return_amount),
        returned_tax=str(returned.returned_tax),
        credit_memo={"id": 9, "original_amount": str(returned.return_amount)},
        person={"id": 5},
    )
    planned = plan_batch(batch, settings, refs, posted)
    (payback,) = [d for d in planned if d.kind == "customer_credit_memo_refund"]
    posted[payback.custom_id] = as_posted(payback)
    planned = plan_batch(batch, settings, refs, posted)
    (entry,) = [d for d in planned if d.kind == "journal_entry"]

    # The entry balances, and with it Jurnal's day is Moka's: tax, returns and cash per bucket.
    rows = entry.body["journal_entry"]["transaction_account_lines_attributes"]
    debit = sum((Decimal(r["debit"]) for r in rows), ZERO)
    credit = sum((Decimal(r["credit"]) for r in rows), ZERO)
    assert debit == credit > 0
    moka_tax = sum((s.totals.taxes for s in sales), ZERO)
    moka_refund_tax = sum((r.refund.totals.taxes for r in same_day), ZERO)
    full = balance_of(batch, settings, refs, posted, moka_tax - totals.tax_amount)
    assert totals.tax_amount - returned.returned_tax + full.tax == moka_tax - moka_refund_tax
    moka_back = sum((r.refund.totals.collected for r in same_day), ZERO)
    assert returned.return_amount + full.returns == moka_back
    cash: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key, amount in full.cash.items():
        cash[key] += amount
    assert sum(cash.values(), ZERO) == returned.return_amount - moka_back
    assert entry.moka is not None and (entry.moka.total, entry.moka.tax) == (full.returns, full.tax)


def test_a_refund_of_an_earlier_day_returns_to_that_days_invoice(day_of_sales):
    outlet_id, sales = day_of_sales
    settings = default_setting(outlet_id)
    sale = next(s for s in sales if s.refunds)
    later = Batch(DAY + timedelta(days=2), 1, (), (DayRefund(sale, sale.refunds[0], DAY, 1),))
    (waiting,) = plan_batch(later, settings, JurnalRefs(), {})
    assert waiting.kind == "sales_return" and not isinstance(waiting, JurnalDocument)
    assert invoice_id_of(settings, DAY, 1) in waiting.error.message
    assert "-day-2024-05-03-1-return-2024-05-01-1" in waiting.custom_id


def test_receipts_list_the_days_sales_in_till_order(day_of_sales):
    _, sales = day_of_sales
    listed = receipts(list(reversed(sales)))
    assert (
        len(listed) == len(sales)
        and listed[0] == min(sales, key=lambda s: (s.created_at, s.id)).payment_no
    )


def test_refunds_go_back_to_their_days_invoice_and_no_invoice_ever_takes_back_more_than_it_sold():
    outlet = generate_outlet(
        5, products=15, customers=5, days=4, transactions_per_day=60, start_date=DAY,
        refund_rate=0.3, invoice_rate=0.0, deleted_products=0,
    )  # fmt: skip
    sales = [s for s in (read_payment(p) for p in outlet.payments) if not s.is_invoice]
    settings = default_setting(str(outlet.outlet["id"]))
    refs = JurnalRefs()
    by_day: dict[date, list] = defaultdict(list)
    for sale in sales:
        by_day[sale.business_date].append(sale)
    refunds: dict[date, list[DayRefund]] = defaultdict(list)
    for sale in sales:
        for refund in sale.refunds:
            refunds[refund.created_at.date()].append(DayRefund(sale, refund, sale.business_date, 1))
    days = sorted(by_day)
    batches = [Batch(d, 1, tuple(by_day[d]), tuple(refunds.get(d, ()))) for d in days]
    allocated = allocate_returns(batches, settings, refs)

    sold = {
        (b.day, 1): {row.key: row.quantity for row in summed_lines(b, settings, refs)[0]}
        for b in batches
    }
    taken: dict[tuple[date, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    earlier_to_own = 0
    for batch in allocated:
        assert batch.returns is not None
        for target, goods in batch.returns.items():
            assert target[0] <= batch.day  # only an invoice already posted
            for key, units in goods.items():
                taken[target][key] += units
            earlier_to_own += target == (batch.day, 1) and any(
                r.invoice_day < batch.day for r in batch.refunds
            )
    for target, goods in taken.items():
        for key, units in goods.items():
            assert units <= sold[target].get(key, ZERO), (target, key)
    # Most days need one return: a later day's refunds mostly go back to that day's invoice.
    returns_per_day = [len(b.returns or {}) for b in allocated if b.refunds]
    assert sum(returns_per_day) / len(returns_per_day) < 1.6
    assert earlier_to_own > 0
    units = sum((u for g in taken.values() for u in g.values()), ZERO)
    refunded = sum(
        (len(_parts(settings, refs, r)) and sum(n for _, n in _parts(settings, refs, r)))
        for rs in refunds.values() for r in rs
    )  # fmt: skip
    assert units == refunded  # every refunded good went back somewhere


def _parts(settings, refs, item: DayRefund):
    return return_parts(settings, refs, item.sale, item.refund)
