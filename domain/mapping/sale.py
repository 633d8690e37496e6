"""The documents of one Moka payment — the entry point the sync worker, the replay dry run and
`sambung map` share.

`documents_for_payment(payment, setting, refs)` returns, in posting order:

1. `sales_invoice`: the sale (paid) or the unpaid invoice;
2. `receive_payment`: the paid sale's money, or each later payment of an unpaid invoice;
3. `sales_return`: each refund nested in the payment, in the order Moka made them; for a paid
   sale each is followed by `customer_credit_memo_refund`, the money paid back, and, where
   Moka's refund and Jurnal's return land on different rupiahs, a `journal_entry` adjustment
   (see `refunds`).

A receive payment or sales return that cannot be made is an `Unmappable` entry in its place (with
the error to show the merchant); the invoice and the other entries still post.

Documents 2 and 3 refer to the posted invoice (its Jurnal number, id and line ids), so they are
listed only once `refs.invoices` holds the invoice under its custom id; a refund's money and
adjustment likewise wait for its posted return in `refs.returns`. The engine posts what it
gets (looking each custom id up first), adds the posted invoice with `refs.with_invoice`, and
calls again until no new document appears; every call is a pure function of its inputs, so a
document has the same custom id and body each time, and a refund that arrives days later is
simply one more document of the same payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.jurnal_arithmetic import to_decimal
from domain.mapping.buckets import bucket_key, deposit_for, tags
from domain.mapping.document import JurnalDocument, MokaAmounts, Planned, Unmappable
from domain.mapping.errors import BeforeSyncWindow, CustomerNotSynced, MappingError
from domain.mapping.invoice import (
    Header,
    invoice_custom_id,
    plan_invoice,
    rounding_line_custom_id,
)
from domain.mapping.master import customer_display_names
from domain.mapping.moka import ZERO, Payment, Refund, read_payment
from domain.mapping.naming import plain_text
from domain.mapping.payments import (
    MoneyIn,
    deposit_fields,
    payment_custom_id,
    receive_payment_body,
)
from domain.mapping.refs import JurnalRefs
from domain.mapping.refunds import (
    adjustment_body,
    adjustment_custom_id,
    money_back_body,
    money_back_custom_id,
)
from domain.mapping.returns import PlannedReturn, plan_returns, return_custom_id
from domain.mapping.setting import MappingSetting
from domain.mapping.taxes import taxes_for_check
from domain.mapping.wire import day
from domain.settings import one_month_before


def documents_for_payment(
    payment: Mapping[str, Any], setting: MappingSetting, refs: JurnalRefs
) -> list[Planned]:
    """Every Jurnal document for one Moka v3 payment, in posting order (see module doc).

    Raises a `MappingError` subclass when the sale itself cannot be posted exactly (or is dated
    before the setting's first synced day, a month before its start date); a receive
    payment or sales return that cannot be made is an `Unmappable` entry instead, so that the
    rest of the payment still posts."""
    sale = read_payment(payment)
    _check_window(sale, setting)
    person = person_name(sale, setting, refs)
    planned = plan_invoice(sale, setting, refs, sale_header(sale, setting, person, refs))
    if planned is None:
        return []
    moka = MokaAmounts(sale.totals.collected, sale.totals.taxes)
    documents: list[Planned] = [
        JurnalDocument("sales_invoice", planned.custom_id, planned.body, moka)
    ]
    posted = refs.invoices.get(planned.custom_id)
    if posted is None:
        return documents
    documents += _payments(sale, setting, person, posted, refs)
    table = taxes_for_check(refs, planned.tax)
    returns = plan_returns(sale, setting, posted, table)
    for refund, planned_return in zip(sale.refunds, returns, strict=True):
        custom_id = return_custom_id(setting, refund.uuid)
        if isinstance(planned_return, MappingError):
            documents.append(Unmappable("sales_return", custom_id, planned_return))
            continue
        expected = MokaAmounts(
            refund.totals.collected - planned_return.adjustment, refund.totals.taxes
        )
        documents.append(JurnalDocument("sales_return", custom_id, planned_return.body, expected))
        posted_return = refs.returns.get(custom_id)
        if posted_return is not None and not sale.is_invoice:
            documents += _money_back(sale, setting, refund, planned_return, posted_return, refs)
    return documents


def _money_back(
    sale: Payment,
    setting: MappingSetting,
    refund: Refund,
    planned: PlannedReturn,
    posted_return: Mapping[str, Any],
    refs: JurnalRefs,
) -> list[Planned]:
    money_id = money_back_custom_id(setting, refund.uuid)
    documents: list[Planned] = []
    try:
        body = money_back_body(setting, sale, refund, posted_return, refs.chart)
    except MappingError as error:
        return [Unmappable("customer_credit_memo_refund", money_id, error)]
    if body is not None:
        documents.append(JurnalDocument("customer_credit_memo_refund", money_id, body))
    if planned.adjustment != ZERO:
        adjust_id = adjustment_custom_id(setting, refund.uuid)
        try:
            entry, difference = adjustment_body(setting, sale, refund, posted_return, refs.chart)
        except MappingError as error:
            return [*documents, Unmappable("journal_entry", adjust_id, error)]
        moka = MokaAmounts(difference, Decimal(0))
        documents.append(JurnalDocument("journal_entry", adjust_id, entry, moka))
    return documents


def predicted_adjustments(sale: Payment, setting: MappingSetting) -> set[str]:
    """The refunds (by uuid) of a paid sale whose return will need a rounding adjustment, known
    from Moka alone: the invoice as the mapping plans it (Moka's own tax rates), with its lines'
    custom ids standing in for their Jurnal ids, and its returns planned against it. What the
    engine plans later against the posted invoice is the same, since Jurnal's answer echoes the
    lines, rates and discounts that were sent."""
    if sale.is_invoice or not sale.refunds:
        return set()
    refs = JurnalRefs()
    try:
        header = sale_header(sale, setting, setting.default_customer, refs)
        planned = plan_invoice(sale, setting, refs, header)
    except MappingError:
        return set()
    if planned is None:
        return set()
    invoice = dict(planned.body["sales_invoice"])
    invoice["id"] = 0
    invoice["transaction_lines_attributes"] = [
        {**line, "id": line["custom_id"]} for line in invoice["transaction_lines_attributes"]
    ]
    returns = plan_returns(sale, setting, invoice, taxes_for_check(refs, planned.tax))
    return {
        refund.uuid
        for refund, planned_return in zip(sale.refunds, returns, strict=True)
        if isinstance(planned_return, PlannedReturn) and planned_return.adjustment != ZERO
    }


def _check_window(sale: Payment, setting: MappingSetting) -> None:
    if setting.start_date is None:
        return
    first_day = one_month_before(setting.start_date)
    if sale.business_date < first_day:
        raise BeforeSyncWindow(sale.payment_no, day(sale.business_date), day(first_day))


def sale_invoice_custom_id(payment: Mapping[str, Any], setting: MappingSetting) -> str:
    """The custom id of a payment's invoice, for the engine to look the invoice up by."""
    return invoice_custom_id(setting, str(payment["id"]))


def person_name(sale: Payment, setting: MappingSetting, refs: JurnalRefs) -> str:
    """The Jurnal customer of a sale: the Moka customer's display name, or the setting's default
    customer for a walk-in sale."""
    if sale.customer_id is None:
        return setting.default_customer
    if refs.customer_names is None:
        # No Jurnal at hand (a preview): the name the master-data sync gives a lone customer.
        guessed = customer_display_names(
            [{"id": sale.customer_id, "name": sale.customer_name}],
            taken=[setting.default_customer],
        )
        return guessed[sale.customer_id]
    known = refs.customer_names.get(sale.customer_id)
    if known is None:
        raise CustomerNotSynced(sale.customer_id, sale.customer_name)
    return known


def sale_header(sale: Payment, setting: MappingSetting, person: str, refs: JurnalRefs) -> Header:
    memo = f"Moka {sale.payment_no}"
    deposit_to = None
    if sale.is_invoice:
        memo += f", invoice {sale.invoice_no}" if sale.invoice_no else ""
        chosen_tags = tags(setting.tag)
        due = sale.invoice_due_date or sale.business_date
        if sale.invoice_deposit > 0:
            # Moka does not say how a deposit was paid; it is taken as cash.
            deposit_to = deposit_fields(
                refs.chart, deposit_for(setting, "cash", "Cash").account, "Tunai deposit account"
            )
    else:
        memo += f" ({sale.payment_type_label})"
        # The bucket's tag only: a bucket without an account fails the payment, not the sale.
        bucket = setting.payment_accounts.get(bucket_key(sale.payment_type))
        chosen_tags = tags(setting.tag, bucket.tag if bucket else None)
        due = sale.business_date
    return Header(
        custom_id=invoice_custom_id(setting, sale.id),
        transaction_date=day(sale.business_date),
        due_date=day(due),
        person_name=person,
        reference_no=sale.payment_no,
        memo=plain_text(memo),
        tags=chosen_tags,
        warehouse=refs.warehouse(setting.warehouse) if setting.warehouse else None,
        rounding_line_id=rounding_line_custom_id(setting, sale.id),
        deposit=sale.invoice_deposit if deposit_to else ZERO,
        deposit_to=deposit_to,
    )


def _payable(collected: Decimal, posted: Mapping[str, Any]) -> Decimal:
    """What pays the posted invoice of a paid sale: Moka's money, or Jurnal's total where Jurnal
    rounded it some sen below (Jurnal refuses a payment above an invoice's balance; the invoice's
    own check shows any rupiah of difference)."""
    if posted.get("original_amount") in (None, ""):
        return collected
    total = to_decimal(posted["original_amount"])
    return total if ZERO < collected - total < 1 else collected


def _payments(
    sale: Payment,
    setting: MappingSetting,
    person: str,
    posted: Mapping[str, Any],
    refs: JurnalRefs,
) -> list[Planned]:
    if sale.is_invoice:
        money = [
            MoneyIn(
                moka_id=record.uuid,
                when=record.created_at.date(),
                amount=record.amount,
                payment_type=record.payment_type,
                payment_label=record.payment_type_label,
                memo=f"Moka {sale.payment_no}, invoice {sale.invoice_no or ''} "
                f"({record.payment_type_label})",
            )
            for record in sale.invoice_records
        ]
    else:
        money = [
            MoneyIn(
                moka_id=sale.id,
                when=sale.business_date,
                amount=_payable(sale.totals.collected, posted),
                payment_type=sale.payment_type,
                payment_label=sale.payment_type_label,
                memo=f"Moka {sale.payment_no} ({sale.payment_type_label})",
            )
        ]
    documents: list[Planned] = []
    for item in money:
        custom_id = payment_custom_id(setting, item.moka_id)
        try:
            body = receive_payment_body(setting, item, person, posted, refs.chart)
        except MappingError as error:
            documents.append(Unmappable("receive_payment", custom_id, error))
            continue
        if body is not None:
            documents.append(JurnalDocument("receive_payment", custom_id, body))
    return documents
