"""Customer credit memos (`reference/jurnal-api.md` §6.9), which sales returns of paid invoices
leave: paid back as money out of a Cash & Bank account (`customer_credit_memo_refund`), or applied
to another invoice of the same customer (`customer_apply_credit_memo`).

Documented: `POST /customer_credit_memo_refund` with the root `customer_credit_memo_refund`,
`person_id`, `transaction_date`, `refund_from_id` and `credit_memo_refund_lines_attributes`
(`credit_memo_id`, `refund_amount`, `description`). Inferred, as Jurnal's other transactions do
(§3.3, §9): the account also by `refund_from_name|_number`, a `custom_id` (409 when reused, and
`{id}` takes it), `memo`, an auto number, 201 with the same root, and the refusals below — a
memo that is not the customer's, an amount that is not positive or exceeds what is left of the
memo, a refund account outside Cash & Bank.

`customer_apply_credit_memo` is documented by name only; its body here is inferred from the
receive payment's (§6.8): `credit_memo_id`, `transaction_date`, `records_attributes` of
`{transaction_id | transaction_no, amount}`, `custom_id`, `memo`. Each record lowers that
invoice's balance like a payment, within what is left of the memo and of the invoice, and only
for the memo's own customer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import Invalid, Problems
from ..formats import bare, money, number, rupiah
from ..store import Record
from .base import TRANSACTION_SORT_KEYS, Context, Resource, transaction_head
from .master import optional_text
from .payments import invoice_records
from .transactions import cash_account, check_texts, customer, person_ref, tags, transaction_date

ZERO = Decimal(0)
NOT_ENOUGH = "(Refund amount cannot be greater than the credit memo balance)"


def find_credit_memo(ctx: Context, memo_id: object) -> tuple[Record, dict[str, Any]] | None:
    """The sales return holding credit memo `memo_id`, and the memo."""
    for sales_return in ctx.collection("sales_returns"):
        memo = sales_return.get("credit_memo")
        if memo and str(memo["id"]) == str(memo_id):
            return sales_return, memo
    return None


def build_refund(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    problems = Problems()
    person = customer(ctx, source, problems)
    account = cash_account(ctx, source, "refund_from", problems, required=True)
    texts = check_texts(source, problems)
    refund_tags = tags(ctx, source, problems)
    issued = transaction_date(source, "transaction_date", problems, ctx.today())
    lines = _lines(ctx, source, person, own, problems)
    problems.raise_any()
    assert person is not None
    return {
        "transaction_no": own["transaction_no"] if own else _number(ctx, source),
        "custom_id": optional_text(source, "custom_id"),
        "transaction_date": issued,
        "person": person_ref(person),
        "refund_from": account,
        "memo": texts["memo"],
        "tags": refund_tags,
        "lines": lines,
        "total": sum((line["refund_amount"] for line in lines), ZERO),
    }


def _number(ctx: Context, source: dict[str, Any]) -> str:
    return optional_text(source, "transaction_no") or ctx.company.next_transaction_no(
        "credit_memo_refund"
    )


def _lines(
    ctx: Context,
    source: dict[str, Any],
    person: Record | None,
    own: Record | None,
    problems: Problems,
) -> list[dict[str, Any]]:
    rows = source.get("credit_memo_refund_lines_attributes")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.field("credit_memo_refund_lines", "is not valid")
        return []
    # A changed refund first gives back what it took (its effect is undone before the build).
    wanted: dict[int, Decimal] = {}
    lines = []
    for row in rows:
        found = find_credit_memo(ctx, row.get("credit_memo_id"))
        if found is None:
            problems.field("credit_memo", "(Credit memo not found)")
            continue
        _, memo = found
        if person is not None and memo["person_id"] != person["id"]:
            problems.field("credit_memo", "(Credit memo belongs to another customer)")
            continue
        try:
            amount = number(row.get("refund_amount"), "refund_amount")
        except Invalid as invalid:
            problems.absorb(invalid)
            continue
        if amount <= 0:
            problems.field("refund_amount", "(Must be greater than 0)")
            continue
        wanted[memo["id"]] = wanted.get(memo["id"], ZERO) + amount
        if wanted[memo["id"]] > memo["remaining"]:
            problems.field("refund_amount", NOT_ENOUGH)
            continue
        lines.append(
            {
                "id": ctx.new_id(),
                "credit_memo_id": memo["id"],
                "credit_memo_no": memo["transaction_no"],
                "refund_amount": amount,
                "description": optional_text(row, "description"),
            }
        )
    return lines


def refund_effect(ctx: Context, record: Record, sign: int) -> None:
    for line in record["lines"]:
        found = find_credit_memo(ctx, line["credit_memo_id"])
        if found is not None:
            found[1]["remaining"] -= sign * line["refund_amount"]


def render_refund(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        **transaction_head(record, 23, "Credit Memo Refund"),
        "person": record["person"],
        "refund_from": record["refund_from"],
        "memo": record["memo"],
        "tags": record["tags"],
        "tags_string": ", ".join(t["name"] for t in record["tags"]),
        "credit_memo_refund_lines_attributes": [
            {
                "id": line["id"],
                "credit_memo_id": line["credit_memo_id"],
                "credit_memo_no": line["credit_memo_no"],
                "refund_amount": money(line["refund_amount"]),
                "refund_amount_currency_format": rupiah(line["refund_amount"]),
                "description": line["description"],
            }
            for line in record["lines"]
        ],
        "total": bare(record["total"]),
        "total_currency_format": rupiah(record["total"]),
        "currency_code": "IDR",
        "currency_rate": 1,
    }


CREDIT_MEMO_REFUNDS = Resource(
    name="customer_credit_memo_refund",
    singular="customer_credit_memo_refund",
    build=build_refund,
    render=render_refund,
    lookup_fields=("custom_id", "transaction_no"),
    sort_keys=TRANSACTION_SORT_KEYS,
    effect=refund_effect,
)


# -- applying a credit memo to an invoice ------------------------------------------------------


def build_application(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    problems = Problems()
    found = find_credit_memo(ctx, source.get("credit_memo_id"))
    if found is None:
        problems.field("credit_memo", "(Credit memo not found)")
    records = invoice_records(ctx, source, problems)
    texts = check_texts(source, problems)
    issued = transaction_date(source, "transaction_date", problems, ctx.today())
    problems.raise_any()
    assert found is not None
    sales_return, memo = found
    total = sum((row["amount"] for row in records), ZERO)
    if total > memo["remaining"]:
        problems.field("amount", NOT_ENOUGH.replace("Refund amount", "Amount"))
    invoices = ctx.collection("sales_invoices")
    for row in records:
        invoice = invoices.get(row["transaction_id"])
        if invoice is not None and invoice["person"]["id"] != memo["person_id"]:
            problems.field("records", "(Invoice belongs to another customer)")
    problems.raise_any()
    return {
        "transaction_no": own["transaction_no"] if own else _application_number(ctx, source),
        "custom_id": optional_text(source, "custom_id"),
        "transaction_date": issued,
        "person": sales_return["person"],
        "credit_memo": {"id": memo["id"], "transaction_no": memo["transaction_no"]},
        "memo": texts["memo"],
        "records": records,
        "total": total,
    }


def _application_number(ctx: Context, source: dict[str, Any]) -> str:
    return optional_text(source, "transaction_no") or ctx.company.next_transaction_no(
        "apply_credit_memo"
    )


def application_effect(ctx: Context, record: Record, sign: int) -> None:
    found = find_credit_memo(ctx, record["credit_memo"]["id"])
    if found is not None:
        found[1]["remaining"] -= sign * record["total"]
    invoices = ctx.collection("sales_invoices")
    for row in record["records"]:
        invoice = invoices.get(row["transaction_id"])
        if invoice is not None:
            invoice["credit_applied"] += sign * row["amount"]


def render_application(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        **transaction_head(record, 24, "Apply Credit Memo"),
        "person": record["person"],
        "credit_memo": record["credit_memo"],
        "memo": record["memo"],
        "records": [
            {
                "id": row["id"],
                "transaction_id": row["transaction_id"],
                "transaction_no": row["transaction_no"],
                "amount": money(row["amount"]),
                "amount_currency_format": rupiah(row["amount"]),
            }
            for row in record["records"]
        ],
        "total": bare(record["total"]),
        "total_currency_format": rupiah(record["total"]),
    }


CREDIT_MEMO_APPLICATIONS = Resource(
    name="customer_apply_credit_memo",
    singular="customer_apply_credit_memo",
    build=build_application,
    render=render_application,
    lookup_fields=("custom_id", "transaction_no"),
    sort_keys=TRANSACTION_SORT_KEYS,
    effect=application_effect,
)
