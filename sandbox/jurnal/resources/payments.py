"""Receive payments (`reference/jurnal-api.md` §6.8): each record applies its full amount to an
invoice, lowering its `remaining`; withholding is taken off what reaches the deposit account."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..arithmetic import flag
from ..errors import MUST_BE_POSITIVE, OVERPAID, Invalid, Problems
from ..formats import bare, money, number, rupiah, show_date
from ..store import Record
from .base import TRANSACTION_SORT_KEYS, Context, Resource, insert, stamps
from .invoices import totals_of
from .master import PAYMENT_METHODS, optional_text
from .references import Unresolved, resolve
from .transactions import (
    cash_account,
    check_texts,
    full_account_ref,
    optional_account,
    person_ref,
    tags,
    transaction_date,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def build_payment(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    problems = Problems()
    records = invoice_records(ctx, source, problems)
    method = _payment_method(ctx, source, problems)
    deposit_to = cash_account(ctx, source, "deposit_to", problems, required=True)
    texts = check_texts(source, problems)
    witholding_type = str(source.get("witholding_type") or "percent").lower()
    if witholding_type not in ("percent", "value"):
        problems.field("witholding_type", "(Witholding type must be percent or value)")
    try:
        witholding_value = number(source.get("witholding_value"), "witholding_value")
    except Invalid as invalid:
        problems.absorb(invalid)
        witholding_value = ZERO
    witholding_account = optional_account(ctx, source, "witholding_account", problems)
    person = _person(ctx, source, records, problems)
    payment_tags = tags(ctx, source, problems)
    problems.raise_any()

    paid = sum((r["amount"] for r in records), ZERO)
    witholding = (
        paid * witholding_value / HUNDRED if witholding_type == "percent" else witholding_value
    )
    if witholding > paid:
        raise Invalid.field(
            "witholding_value", "can't be added if transaction amount is less than witholding"
        )
    if method is None:  # an unknown name alone is created (documented)
        method = insert(ctx, PAYMENT_METHODS, {"name": str(source["payment_method_name"])})
    issued = transaction_date(source, "transaction_date", Problems(), ctx.today())
    return {
        "transaction_no": own["transaction_no"] if own else _number(ctx, source),
        "custom_id": optional_text(source, "custom_id"),
        "transaction_date": issued,
        "person": person,
        "payment_method": {"id": method["id"], "name": method["name"]},
        "deposit_to": deposit_to,
        "is_draft": flag(source.get("is_draft")),
        "memo": texts["memo"],
        "witholding": {
            "account": full_account_ref(witholding_account),
            "value": witholding_value,
            "type": witholding_type,
            "amount": witholding,
        },
        "records": records,
        "paid": paid,
        "total": paid - witholding,
        "tags": payment_tags,
    }


def _number(ctx: Context, source: dict[str, Any]) -> str:
    sent = optional_text(source, "transaction_no")
    return sent or ctx.company.next_transaction_no("receive_payment")


def invoice_records(
    ctx: Context, source: dict[str, Any], problems: Problems
) -> list[dict[str, Any]]:
    """`records_attributes`: invoices by `transaction_id` or `transaction_no`, each amount above
    0 and within what the invoice still owes."""
    rows = source.get("records_attributes")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.field("records", "is not valid")
        return []
    records = []
    applied: dict[int, Decimal] = {}
    for row in rows:
        try:
            invoice = resolve(
                ctx,
                "sales_invoices",
                by_id=row.get("transaction_id"),
                by_code=row.get("transaction_no"),
                code_field="transaction_no",
            )
        except Unresolved:
            invoice = None
        if invoice is None:
            problems.field("records", "(Transaction not found)")
            continue
        try:
            amount = number(row.get("amount"), "records.amount")
        except Invalid as invalid:
            problems.absorb(invalid)
            continue
        if amount <= 0:
            problems.field("records.amount", MUST_BE_POSITIVE)
            continue
        applied[invoice["id"]] = applied.get(invoice["id"], ZERO) + amount
        if applied[invoice["id"]] > totals_of(ctx, invoice).remaining:
            problems.field("amount_receive", OVERPAID)
        records.append(
            {
                "id": ctx.new_id(),
                "transaction_id": invoice["id"],
                "transaction_no": invoice["transaction_no"],
                "amount": amount,
                "description": optional_text(row, "description") or "",
            }
        )
    return records


def _payment_method(ctx: Context, source: dict[str, Any], problems: Problems) -> Record | None:
    """Id and name must agree; an id alone must exist; a name alone is created if unknown
    (None here means: create it once the payment is valid); neither is refused."""
    method_id = source.get("payment_method_id")
    name = source.get("payment_method_name")
    if method_id in (None, "") and name in (None, ""):
        problems.message("Payment method must be sent")
        problems.message("Payment method name must be sent")
        return None
    try:
        by_id = resolve(ctx, "payment_methods", by_id=method_id)
    except Unresolved:
        problems.field("payment_method", "(Payment method not found)")
        return None
    if by_id is not None:
        if name not in (None, "") and str(name).casefold() != by_id["name"].casefold():
            problems.field("payment_method", "(Payment method id and name do not match)")
        return by_id
    return ctx.collection("payment_methods").first("name", name)


def _person(
    ctx: Context, source: dict[str, Any], records: list[dict[str, Any]], problems: Problems
) -> dict[str, Any] | None:
    """The invoices' customer; a person sent must be that customer."""
    invoices = ctx.collection("sales_invoices")
    people = set()
    for row in records:
        invoice = invoices.get(row["transaction_id"])
        if invoice is not None:
            people.add(invoice["person"]["id"])
    if len(people) > 1:
        problems.field("records", "(All invoices must belong to one customer)")
        return None
    try:
        sent = resolve(
            ctx,
            "customers",
            by_id=source.get("person_id"),
            by_name=source.get("person_name"),
            name_field="display_name",
        )
    except Unresolved:
        problems.field("person", "Must be customer (not vendor)")
        return None
    if sent is not None and people and sent["id"] not in people:
        problems.field("person", "(Must be the customer of the invoices)")
    person_id = sent["id"] if sent is not None else next(iter(people), None)
    person = ctx.collection("customers").get(person_id) if person_id is not None else None
    return person_ref(person) if person is not None else None


def payment_effect(ctx: Context, record: Record, sign: int) -> None:
    """Drafts apply nothing; otherwise every record's amount counts as received."""
    if record["is_draft"]:
        return
    invoices = ctx.collection("sales_invoices")
    for row in record["records"]:
        invoice = invoices.get(row["transaction_id"])
        if invoice is None:
            continue
        invoice["payment_received_amount"] += sign * row["amount"]
        refs = [p for p in invoice["receive_payments"] if p["id"] != record["id"]]
        if sign > 0:
            refs.append(
                {
                    "id": record["id"],
                    "transaction_no": record["transaction_no"],
                    "transaction_date": record["transaction_date"],
                }
            )
        invoice["receive_payments"] = refs


def render_payment(ctx: Context, record: Record) -> dict[str, Any]:
    invoices = ctx.collection("sales_invoices")
    witholding = record["witholding"]
    account = witholding["account"]
    return {
        "id": record["id"],
        "transaction_no": record["transaction_no"],
        "memo": record["memo"],
        "custom_id": record["custom_id"],
        "status": "draft" if record["is_draft"] else "approved",
        "transaction_date": show_date(record["transaction_date"]),
        "person": record["person"],
        "transaction_type": {"id": 2, "name": "Receive Payment"},
        "payment_method": record["payment_method"],
        "deposit_to": record["deposit_to"],
        "is_draft": record["is_draft"],
        "witholding": {
            "witholding_account_name": account["name"],
            "witholding_account_number": account["number"],
            "account_id": account["id"],
            "value": money(witholding["value"]),
            "type": witholding["type"],
            "amount": bare(witholding["amount"]),
            "amount_currency_format": rupiah(witholding["amount"]),
            "category": account["category"],
        },
        "total": bare(record["total"]),
        "total_currency_format": rupiah(record["total"]),
        "records": [
            _render_record(ctx, row, invoices.get(row["transaction_id"]))
            for row in record["records"]
        ],
        "tags": record["tags"] or None,
        "tags_string": ", ".join(t["name"] for t in record["tags"]),
        **stamps(record),
        "currency_code": "IDR",
        "currency_rate": 1,
    }


def _render_record(ctx: Context, row: dict[str, Any], invoice: Record | None) -> dict[str, Any]:
    totals = totals_of(ctx, invoice) if invoice is not None else None
    total = totals.original_amount if totals else ZERO
    balance = totals.remaining if totals else ZERO
    return {
        "id": row["id"],
        "transaction_id": row["transaction_id"],
        "amount": money(row["amount"]),
        "description": row["description"],
        "transaction_type_id": 1,
        "transaction_type": "Invoice",
        "transaction_no": row["transaction_no"],
        "amount_currency_format": rupiah(row["amount"]),
        "transaction_due_date": show_date(invoice["due_date"]) if invoice else None,
        "transaction_total": bare(total),
        "transaction_total_currency_format": rupiah(total),
        "transaction_balance_due": bare(balance),
        "transaction_balance_due_currency_format": rupiah(balance),
    }


RECEIVE_PAYMENTS = Resource(
    name="receive_payments",
    singular="receive_payment",
    build=build_payment,
    render=render_payment,
    sort_keys=TRANSACTION_SORT_KEYS,
    effect=payment_effect,
    batch_status=200,
)
