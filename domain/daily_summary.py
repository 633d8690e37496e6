"""Daily summary posting: one business day of one outlet as a handful of Jurnal documents that
total, with one balancing journal entry, exactly what Moka shows for the day.

A *batch* is what one posting of a day covers: the paid sales of the day (unpaid invoices stay
per sale, since they are paid later) and the refunds made that day of summarised sales, that
the log held when the batch was planned. The first batch of a day is its summary; anything that
arrives for the day after it was posted (a late refund, a till that uploaded late) is a further
batch of correcting documents, so the day still totals exactly. A batch is, in posting order:

1. `sales_invoice` to the default customer: one line per product (variant, modifier option,
   service charge) and tax, with the summed quantity at the net unit price, the same taxes as
   per-sale posting, and the day's cash rounding as per-sale posting does it (a Value discount
   for what is left below, an untaxed "Pembulatan" line for what is left above), so that its
   total is the day's collected money to the sen;
2. one `receive_payment` per payment bucket, each to the bucket's account and tag;
3. one `sales_return` for the day's refunds (dated the refund day: a refund belongs to the day
   it was made, as the reconciliation counts it), against the day's own invoice while it sold
   enough of the product, else against the refunded sale's own invoice (`allocate_returns`);
4. one `customer_credit_memo_refund` paying all the returns' credit out of the account of the
   bucket that paid back most;
5. a `journal_entry` that makes the day exact where Jurnal's arithmetic cannot: the tax Jurnal
   rounds per summed line against Moka's per-bill tax, the returns Jurnal values at the day's
   average price against what Moka paid back, and the money paid back per bucket. Its lines move
   the differences between the bucket accounts, the tax account and the rounding account the
   merchant chose. None when everything already agrees.

Custom ids are deterministic: (setting's outlet, day, batch, kind, bucket or invoice). Each
call is a pure function of its inputs, like `documents_for_payment`: documents that refer to
posted ones (payments to the invoice, the credit refund to the returns, the entry to all) are
listed once those are in `posted`; the engine posts, adds the answers, and calls again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.jurnal_arithmetic import Tax, invoice_totals, to_decimal
from domain.mapping.accounts import account_fields
from domain.mapping.buckets import bucket_key, deposit_for, tags
from domain.mapping.document import JurnalDocument, MokaAmounts, Planned, Unmappable
from domain.mapping.errors import MappingError, NotExpressible
from domain.mapping.invoice import (
    ROUNDING_DESCRIPTION,
    line_discount_percent,
    sale_lines,
    tax_reference,
)
from domain.mapping.moka import HUNDRED, ZERO, Line, Payment, Refund
from domain.mapping.naming import outlet_custom_id, plain_text
from domain.mapping.payments import MoneyIn, receive_payment_body
from domain.mapping.products import option_reference, rounding_reference, variant_reference
from domain.mapping.refs import JurnalRefs
from domain.mapping.setting import MappingSetting
from domain.mapping.taxes import jurnal_tax
from domain.mapping.wire import day as iso_day
from domain.mapping.wire import number, quantity

RATE_QUANTUM = Decimal("1e-6")


class PostingMode(StrEnum):
    """How a setting's sales become Jurnal documents (design §5)."""

    PER_SALE = "per_sale"  # each sale its invoice and payment: keeps customers and receipts
    DAILY_SUMMARY = "daily_summary"  # a day in a handful of documents: keeps the budget


def summarised(sale: Payment) -> bool:
    """Whether a sale goes into its day's summary: paid sales do; unpaid invoices are posted
    per sale, because their money comes later."""
    return not sale.is_invoice


class DayWaits(MappingError):
    """A sale of the day cannot be mapped, so the day's summary invoice waits for it."""

    def __init__(self, day: date, receipt: str, cause: MappingError) -> None:
        super().__init__(
            f"Moka receipt {receipt}: {cause.message} The summary of {iso_day(day)} waits for "
            "it; fix the cause, then replay that day."
        )
        self.cause = cause


# -- custom ids ---------------------------------------------------------------------------------


def day_custom_id(setting: MappingSetting, day: date, batch: int, kind: str, *more: object) -> str:
    return outlet_custom_id(setting, "day", day.isoformat(), batch, kind, *more)


def invoice_id_of(setting: MappingSetting, day: date, batch: int) -> str:
    return day_custom_id(setting, day, batch, "invoice")


# -- the batch ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRefund:
    """A refund made on the day, of a sale in the summary invoice of (`invoice_day`,
    `invoice_batch`)."""

    sale: Payment
    refund: Refund
    invoice_day: date
    invoice_batch: int


Origin = tuple[date, int]  # a summary invoice: its day and batch


@dataclass(frozen=True)
class Batch:
    day: date
    number: int
    sales: Sequence[Payment] = ()
    refunds: Sequence[DayRefund] = ()
    # Which summary invoice takes back which goods (line key → units), from
    # `allocate_returns`; None: each refund's goods go back to its sale's invoice.
    returns: Mapping[Origin, Mapping[str, Decimal]] | None = None

    @property
    def empty(self) -> bool:
        return not self.sales and not self.refunds


@dataclass(frozen=True)
class SummaryLine:
    key: str
    product: Mapping[str, str]
    description: str
    quantity: Decimal
    amount: Decimal
    tax: Tax | None


@dataclass
class _Lines:
    rows: dict[str, SummaryLine] = field(default_factory=dict)

    def add(
        self,
        product: Mapping[str, str],
        description: str,
        units: Decimal,
        amount: Decimal,
        tax: Tax | None,
    ) -> None:
        key = product_key(product, tax)
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = SummaryLine(key, product, description, units, amount, tax)
        else:
            self.rows[key] = SummaryLine(
                key, product, row.description, row.quantity + units, row.amount + amount, tax
            )


def product_key(product: Mapping[str, str], tax: Tax | None) -> str:
    ref = ",".join(f"{k}={v}" for k, v in sorted(product.items()))
    return f"{ref};tax={'' if tax is None else tax.id or tax.name}"


def line_custom_id(setting: MappingSetting, day: date, batch: int, key: str) -> str:
    return day_custom_id(setting, day, batch, "line", key)


def receipts(sales: Sequence[Payment]) -> list[str]:
    """The Moka receipts a summary stands for, in till order: the export behind its memo."""
    return [sale.payment_no for sale in sorted(sales, key=lambda s: (s.created_at, s.id))]


def plan_batch(
    batch: Batch,
    setting: MappingSetting,
    refs: JurnalRefs,
    posted: Mapping[str, Mapping[str, Any]],
) -> list[Planned]:
    """The batch's documents as far as `posted` (custom id → Jurnal's answer, for the batch's
    own documents and the summary invoices its refunds return to) allows; see module doc."""
    documents: list[Planned] = []
    invoice_id = invoice_id_of(setting, batch.day, batch.number)
    invoice_tax_gap = ZERO
    if batch.sales:
        try:
            body, moka_tax, collected = invoice_plan(batch, setting, refs)
        except MappingError as error:
            return [Unmappable("sales_invoice", invoice_id, error)]
        documents.append(
            JurnalDocument("sales_invoice", invoice_id, body, MokaAmounts(collected, moka_tax))
        )
        answer = posted.get(invoice_id)
        if answer is None:
            return documents
        invoice_tax_gap = moka_tax - to_decimal(answer.get("tax_amount") or 0)
        documents += _payments(batch, setting, refs, answer)
        if any(doc.custom_id not in posted for doc in documents[1:]):
            return documents  # returns leave credit only once the invoice is paid
    returns = _returns(batch, setting, refs, posted)
    documents += returns
    if any(doc.custom_id not in posted for doc in returns):
        return documents
    money_back = _money_back(batch, setting, refs, posted, returns)
    if money_back is not None:
        documents.append(money_back)
        if money_back.custom_id not in posted:
            return documents
    entry = balancing_entry(batch, setting, refs, posted, invoice_tax_gap, returns)
    if entry is not None:
        documents.append(entry)
    return documents


# -- 1. the invoice -----------------------------------------------------------------------------


def invoice_plan(
    batch: Batch, setting: MappingSetting, refs: JurnalRefs
) -> tuple[dict[str, Any], Decimal, Decimal]:
    """The summary invoice's body, with Moka's tax and collected money of its sales."""
    rows, taxes, moka_tax, collected = summed_lines(batch, setting, refs)
    day = batch.day
    shown = receipts(batch.sales)
    memo = (
        f"Ringkasan Harian Moka {iso_day(day)}: {len(shown)} struk ({shown[0]} - {shown[-1]})"
        if shown
        else f"Ringkasan Harian Moka {iso_day(day)}"
    )
    invoice: dict[str, Any] = {
        "transaction_date": iso_day(day),
        "due_date": iso_day(day),
        "person_name": setting.default_customer,
        "reference_no": f"Ringkasan {iso_day(day)}"
        + (f" #{batch.number}" if batch.number > 1 else ""),
        "memo": plain_text(memo),
        "custom_id": invoice_id_of(setting, day, batch.number),
        "tax_after_discount": False,
    }
    chosen = tags(setting.tag)
    if chosen:
        invoice["tags"] = chosen
    if setting.warehouse:
        invoice.update(refs.warehouse(setting.warehouse))
    invoice["transaction_lines_attributes"] = [
        _line_body(setting, day, batch.number, row) for row in rows
    ]
    known = list(refs.taxes or ())
    table = [*known, *(t for t in taxes if t not in known)]
    totals = invoice_totals(invoice, table)
    left = collected - totals.original_amount
    if left < ZERO:
        invoice["discount_type_name"] = "Value"
        invoice["discount_unit"] = number(-left)
    elif left > ZERO:
        invoice["transaction_lines_attributes"].append(
            {
                **rounding_reference(setting, refs),
                "description": ROUNDING_DESCRIPTION,
                "quantity": 1,
                "rate": number(left),
                "custom_id": day_custom_id(setting, day, batch.number, "rounding"),
            }
        )
    if not invoice["transaction_lines_attributes"]:
        raise NotExpressible(
            f"The sales of {iso_day(day)} collected {number(collected)} but have no line worth "
            "anything, and Jurnal needs at least one positive line; not posted."
        )
    final = invoice_totals(invoice, table)
    if final.original_amount != collected:
        raise NotExpressible(
            f"Jurnal would total the summary of {iso_day(day)} to {number(final.original_amount)}"
            f", but Moka collected {number(collected)}; not posted."
        )
    return {"sales_invoice": invoice}, moka_tax, collected


def summed_lines(
    batch: Batch, setting: MappingSetting, refs: JurnalRefs
) -> tuple[list[SummaryLine], list[Tax], Decimal, Decimal]:
    """The invoice's product lines (those worth something), its taxes, and Moka's tax and
    collected money of the batch's sales. Raises `DayWaits` for a sale that cannot be mapped."""
    lines = _Lines()
    moka_tax = collected = ZERO
    taxes: list[Tax] = []
    for sale in batch.sales:
        tax = jurnal_tax(setting, refs, sale.totals.tax_rows)
        if tax is not None and tax not in taxes:
            taxes.append(tax)
        try:
            drafts = sale_lines(sale, setting, refs, taxed=tax is not None)
        except MappingError as error:
            # The day's invoice waits for this sale rather than leave it out: a day posted
            # without it could not be made whole later.
            raise DayWaits(batch.day, sale.payment_no, error) from error
        for draft in drafts:
            amount = draft.quantity * draft.rate * (1 - draft.discount / HUNDRED)
            lines.add(
                draft.product,
                draft.description.split(" (")[0],
                draft.quantity,
                amount,
                tax if draft.taxed else None,
            )
        moka_tax += sale.totals.taxes
        collected += sale.totals.collected
    rows = [row for row in lines.rows.values() if row.amount > ZERO]
    return rows, taxes, moka_tax, collected


def _line_body(setting: MappingSetting, day: date, batch: int, row: SummaryLine) -> dict[str, Any]:
    rate = (row.amount / row.quantity).quantize(RATE_QUANTUM)
    line: dict[str, Any] = {
        **row.product,
        "description": plain_text(row.description, 250),
        "quantity": quantity(row.quantity),
        "rate": number(rate),
    }
    if row.tax is not None:
        line.update(tax_reference(row.tax))
    line["custom_id"] = line_custom_id(setting, day, batch, row.key)
    return line


# -- 2. the money in ----------------------------------------------------------------------------


def bucket_money(sales: Sequence[Payment]) -> dict[str, tuple[Decimal, str, str]]:
    """Per bucket: collected money and one of its Moka payment types and labels."""
    found: dict[str, tuple[Decimal, str, str]] = {}
    for sale in sales:
        key = bucket_key(sale.payment_type)
        amount, kind, label = found.get(key, (ZERO, sale.payment_type, sale.payment_type_label))
        found[key] = (amount + sale.totals.collected, kind, label)
    return found


def _payments(
    batch: Batch, setting: MappingSetting, refs: JurnalRefs, invoice: Mapping[str, Any]
) -> list[Planned]:
    documents: list[Planned] = []
    for key, (amount, kind, label) in sorted(bucket_money(batch.sales).items()):
        custom_id = day_custom_id(setting, batch.day, batch.number, "payment", key)
        money = MoneyIn(
            moka_id=custom_id,
            when=batch.day,
            amount=amount,
            payment_type=kind,
            payment_label=label,
            memo=f"Ringkasan Harian Moka {iso_day(batch.day)} ({label})",
        )
        try:
            body = receive_payment_body(
                setting, money, setting.default_customer, invoice, refs.chart
            )
        except MappingError as error:
            documents.append(Unmappable("receive_payment", custom_id, error))
            continue
        if body is not None:
            body["receive_payment"]["custom_id"] = custom_id
            documents.append(JurnalDocument("receive_payment", custom_id, body))
    return documents


# -- 3. returns ---------------------------------------------------------------------------------


def return_parts(
    setting: MappingSetting, refs: JurnalRefs, sale: Payment, refund: Refund
) -> list[tuple[str, Decimal]]:
    """(summary line key, units) of what a refund gives back, as its sale's lines were summed;
    parts the invoice left out (worth nothing) are not returned."""
    tax = jurnal_tax(setting, refs, sale.totals.tax_rows)
    by_uuid = {line.uuid: line for line in sale.totals.lines}
    parts: list[tuple[str, Decimal]] = []
    for returned in refund.totals.lines:
        sold = by_uuid.get(returned.parent_uuid or "")
        if sold is None:
            continue
        units = Decimal(returned.quantity)
        for product, worth in _parts_of(sold, setting, refs):
            if worth > ZERO:
                parts.append((product_key(product, tax), units))
    return parts


def _parts_of(
    line: Line, setting: MappingSetting, refs: JurnalRefs
) -> list[tuple[Mapping[str, str], Decimal]]:
    if line_discount_percent(line) >= HUNDRED:
        return []
    item_gross = line.gross - sum((m.gross for m in line.modifiers), ZERO)
    found: list[tuple[Mapping[str, str], Decimal]] = [
        (
            variant_reference(setting, refs, line.variant_id, line.item_name, line.variant_name),
            item_gross,
        )
    ]
    for modifier in line.modifiers:
        found.append(
            (
                option_reference(
                    setting, refs, modifier.option_id, modifier.group_name, modifier.option_name
                ),
                modifier.gross,
            )
        )
    return found


def return_id_of(setting: MappingSetting, batch: Batch, origin: Origin) -> str:
    """The batch's return to the summary invoice of `origin` (its day and batch)."""
    return day_custom_id(
        setting, batch.day, batch.number, "return", origin[0].isoformat(), origin[1]
    )


def allocate_returns(
    batches: Sequence[Batch], setting: MappingSetting, refs: JurnalRefs
) -> list[Batch]:
    """Which summary invoice each refunded good goes back to, for `batches` in posting order.

    A day's refunds go back to the day's own invoice while it sold enough of the product, so
    that a day usually has one return ("one sales return for the day's refunds"), whichever day
    the refunded sale was made; what it cannot take goes back to the sale's own invoice, or else
    to the newest earlier one that still holds the product. Each invoice's room is tracked over
    every batch before, so no return ever takes back more than an invoice sold; the balancing
    entry settles the price difference. The same log gives the same answer every time."""
    room: dict[Origin, dict[str, Decimal]] = {}
    allocated: list[Batch] = []
    for batch in batches:
        own: Origin | None = None
        if batch.sales:
            own = (batch.day, batch.number)
            try:
                rows = summed_lines(batch, setting, refs)[0]
            except MappingError:
                rows = []
            room[own] = {}
            for row in rows:
                room[own][row.key] = room[own].get(row.key, ZERO) + row.quantity
        groups: dict[Origin, dict[str, Decimal]] = {}
        ordered = sorted(batch.refunds, key=lambda r: (r.refund.created_at, r.refund.uuid))
        for item in ordered:
            origin = (item.invoice_day, item.invoice_batch)
            for key, units in return_parts(setting, refs, item.sale, item.refund):
                target = _target(own, origin, key, units, room)
                if target is None:
                    continue  # nothing sold it: the balancing entry takes the refund whole
                if target in room:
                    room[target][key] = room[target].get(key, ZERO) - units
                bucket = groups.setdefault(target, {})
                bucket[key] = bucket.get(key, ZERO) + units
        allocated.append(replace(batch, returns=groups))
    return allocated


def _target(
    own: Origin | None,
    origin: Origin,
    key: str,
    units: Decimal,
    room: Mapping[Origin, Mapping[str, Decimal]],
) -> Origin | None:
    def fits(candidate: Origin) -> bool:
        return room.get(candidate, {}).get(key, ZERO) >= units

    if own is not None and fits(own):
        return own
    if origin not in room or fits(origin):
        return origin  # an invoice this allocation has not seen is taken at its word
    for candidate in reversed(list(room)):
        if fits(candidate):
            return candidate
    return None


def _allocated(batch: Batch, setting: MappingSetting, refs: JurnalRefs) -> Batch:
    if batch.returns is not None:
        return batch
    return allocate_returns([batch], setting, refs)[0]


def _returns(
    batch: Batch,
    setting: MappingSetting,
    refs: JurnalRefs,
    posted: Mapping[str, Mapping[str, Any]],
) -> list[Planned]:
    allocation = _allocated(batch, setting, refs).returns or {}
    documents: list[Planned] = []
    for origin, goods in sorted(allocation.items()):
        custom_id = return_id_of(setting, batch, origin)
        invoice_id = invoice_id_of(setting, *origin)
        invoice = posted.get(invoice_id)
        if invoice is None:
            documents.append(
                Unmappable(
                    "sales_return",
                    custom_id,
                    NotExpressible(
                        f"the summary invoice {invoice_id} these refunds return to is not in "
                        "Jurnal; it is posted first"
                    ),
                )
            )
            continue
        documents.append(_return(batch, setting, invoice, origin, goods, custom_id))
    return documents


def _return(
    batch: Batch,
    setting: MappingSetting,
    invoice: Mapping[str, Any],
    origin: Origin,
    goods: Mapping[str, Decimal],
    custom_id: str,
) -> Planned:
    lines = {
        str(row.get("custom_id") or ""): row
        for row in invoice.get("transaction_lines_attributes") or ()
        if isinstance(row, Mapping)
    }
    day = batch.day
    rows = []
    for key, units in sorted(goods.items()):
        line = lines.get(line_custom_id(setting, origin[0], origin[1], key))
        if line is None:
            continue
        rows.append({"transaction_line_id": line.get("id"), "return_quantity": quantity(units)})
    if not rows:
        return Unmappable(
            "sales_return",
            custom_id,
            NotExpressible("none of the refunded products is a line of the summary invoice"),
        )
    body: dict[str, Any] = {
        "transaction_date": iso_day(day),
        "invoice_id": invoice.get("id"),
        "transaction_return_lines_attributes": rows,
        "memo": plain_text(
            f"Retur Ringkasan Harian Moka {iso_day(day)}: "
            + ", ".join(sorted({item.sale.payment_no for item in batch.refunds}))
        ),
        "custom_id": custom_id,
    }
    if setting.tag:
        body["tags"] = [setting.tag]
    return JurnalDocument("sales_return", custom_id, {"sales_return": body})


# -- 4. money paid back -------------------------------------------------------------------------


def refund_buckets(refunds: Sequence[DayRefund]) -> dict[str, tuple[Decimal, str, str]]:
    """Per bucket: the money Moka paid back and one payment type and label of it."""
    found: dict[str, tuple[Decimal, str, str]] = {}
    for item in refunds:
        kind = item.refund.payment_type or item.sale.payment_type
        label = item.sale.payment_type_label if kind == item.sale.payment_type else kind
        key = bucket_key(kind)
        amount, first_kind, first_label = found.get(key, (ZERO, kind, label))
        found[key] = (amount + item.refund.totals.collected, first_kind, first_label)
    return found


def _largest(buckets: Mapping[str, tuple[Decimal, str, str]]) -> str:
    return max(sorted(buckets), key=lambda key: buckets[key][0])


def _credit_memos(
    returns: Sequence[Planned], posted: Mapping[str, Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], Decimal, Mapping[str, Any]]]:
    found = []
    for doc in returns:
        answer = posted.get(doc.custom_id)
        memo = answer.get("credit_memo") if answer else None
        if isinstance(memo, Mapping) and memo.get("id") is not None:
            amount = to_decimal(memo.get("original_amount") or memo.get("amount") or 0)
            if amount > ZERO and answer is not None:
                found.append((memo, amount, answer))
    return found


def _money_back(
    batch: Batch,
    setting: MappingSetting,
    refs: JurnalRefs,
    posted: Mapping[str, Mapping[str, Any]],
    returns: Sequence[Planned],
) -> Planned | None:
    memos = _credit_memos(returns, posted)
    if not memos:
        return None
    custom_id = day_custom_id(setting, batch.day, batch.number, "payback")
    buckets = refund_buckets(batch.refunds)
    _, kind, label = buckets[_largest(buckets)]
    try:
        deposit = deposit_for(setting, kind, label)
        source = account_fields(
            refs.chart, "refund_from", deposit.account, f"{deposit.payment_method} refund account"
        )
    except MappingError as error:
        return Unmappable("customer_credit_memo_refund", custom_id, error)
    person = memos[0][2].get("person")
    body: dict[str, Any] = {
        "transaction_date": iso_day(batch.day),
        "person_id": person.get("id") if isinstance(person, Mapping) else None,
        **source,
        "credit_memo_refund_lines_attributes": [
            {
                "credit_memo_id": memo["id"],
                "refund_amount": number(amount),
                "description": plain_text(f"Retur Ringkasan Harian Moka {iso_day(batch.day)}"),
            }
            for memo, amount, _ in memos
        ],
        "custom_id": custom_id,
        "memo": plain_text(
            f"Refund Ringkasan Harian Moka {iso_day(batch.day)} ({deposit.payment_method})"
        ),
    }
    chosen = tags(setting.tag, deposit.tag)
    if chosen:
        body["tags"] = chosen
    return JurnalDocument(
        "customer_credit_memo_refund", custom_id, {"customer_credit_memo_refund": body}
    )


# -- 5. the balancing entry ---------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """What the batch's documents miss of Moka's day, by Jurnal's own answers: per bucket the
    cash to move (positive: into the bucket's account), the tax to add to what Jurnal holds,
    and the returns to add (Moka paid back more than the returns give)."""

    cash: Mapping[str, Decimal]
    tax: Decimal
    returns: Decimal

    @property
    def rounding(self) -> Decimal:
        """The rounding account's side: the debit that balances the entry (negative: credit)."""
        return self.tax - sum(self.cash.values(), ZERO)

    @property
    def empty(self) -> bool:
        return self.tax == ZERO and all(v == ZERO for v in self.cash.values())


def balance_of(
    batch: Batch,
    setting: MappingSetting,
    refs: JurnalRefs,
    posted: Mapping[str, Mapping[str, Any]],
    invoice_tax_gap: Decimal,
    returns: Sequence[Planned] | None = None,
) -> Balance:
    """`returns`: the batch's `_returns`, when the caller has them already."""
    if returns is None:
        returns = _returns(batch, setting, refs, posted)
    buckets = refund_buckets(batch.refunds)
    cash = {key: -amount for key, (amount, _, _) in buckets.items()}
    memos = _credit_memos(returns, posted)
    paid_back = sum((amount for _, amount, _ in memos), ZERO)
    if memos:
        largest = _largest(buckets)
        cash[largest] = cash[largest] + paid_back
    tax = invoice_tax_gap - sum((item.refund.totals.taxes for item in batch.refunds), ZERO)
    returned = ZERO
    for doc in returns:
        answer = posted.get(doc.custom_id)
        if answer is None or not isinstance(doc, JurnalDocument):
            continue
        returned += to_decimal(answer.get("return_amount") or 0)
        tax += to_decimal(answer.get("returned_tax") or 0)
    moka_back = sum((amount for amount, _, _ in buckets.values()), ZERO)
    return Balance(cash=cash, tax=tax, returns=moka_back - returned)


def balancing_entry(
    batch: Batch,
    setting: MappingSetting,
    refs: JurnalRefs,
    posted: Mapping[str, Mapping[str, Any]],
    invoice_tax_gap: Decimal,
    returns: Sequence[Planned],
) -> Planned | None:
    balance = balance_of(batch, setting, refs, posted, invoice_tax_gap, returns)
    if balance.empty:
        return None
    custom_id = day_custom_id(setting, batch.day, batch.number, "balance")
    buckets = refund_buckets(batch.refunds)
    rounding_account = getattr(setting, "rounding_account", None) or setting.sales_account
    try:
        lines: list[dict[str, Any]] = []
        for key, amount in sorted(balance.cash.items()):
            if amount == ZERO:
                continue
            _, kind, label = buckets[key]
            deposit = deposit_for(setting, kind, label)
            lines.append(
                _entry_line(
                    account_fields(
                        refs.chart, "account", deposit.account, f"{deposit.payment_method} account"
                    ),
                    amount,
                    f"Kas {deposit.payment_method}",
                )
            )
        if balance.tax != ZERO:
            lines.append(
                _entry_line(
                    account_fields(
                        refs.chart,
                        "account",
                        setting.sell_tax_account,
                        "sell tax account",
                        field_name="sell_tax_account",
                    ),
                    -balance.tax,
                    "Pajak",
                )
            )
        if balance.rounding != ZERO:
            lines.append(
                _entry_line(
                    account_fields(
                        refs.chart,
                        "account",
                        rounding_account,
                        "rounding account",
                        field_name="sales_account",
                    ),
                    balance.rounding,
                    "Pembulatan ringkasan",
                )
            )
    except MappingError as error:
        return Unmappable("journal_entry", custom_id, error)
    why = (
        f"Penyeimbang Ringkasan Harian Moka {iso_day(batch.day)}: tax {number(balance.tax)}, "
        f"returns {number(balance.returns)}; Jurnal rounds the summed lines and values returns "
        "at the day's price, Moka per receipt; this makes the day equal Moka's."
    )
    body: dict[str, Any] = {
        "transaction_date": iso_day(batch.day),
        "memo": plain_text(why),
        "custom_id": custom_id,
        "transaction_account_lines_attributes": lines,
    }
    if setting.tag:
        body["tags"] = [setting.tag]
    moka = MokaAmounts(balance.returns, balance.tax)
    return JurnalDocument("journal_entry", custom_id, {"journal_entry": body}, moka)


def _entry_line(account: Mapping[str, object], debit: Decimal, text: str) -> dict[str, Any]:
    amount = number(abs(debit))
    return {
        **account,
        "debit": amount if debit > ZERO else "0",
        "credit": amount if debit < ZERO else "0",
        "description": text,
    }
