"""Sales returns (`reference/jurnal-api.md` §6.9, §8): lines of one invoice given back, priced by
the sandbox's own arithmetic (`..arithmetic`); the return amount lowers the invoice's `remaining`
and any excess becomes the customer's credit: a credit memo (inferred shape: its own id and
number, the amount and what is left of it), listed on the return and on the invoice, that
`customer_credit_memo_refund` pays out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..arithmetic import NotANumber, decimal_of, sales_return
from ..errors import Invalid, Problems
from ..formats import bare, money, rupiah, show_date
from ..store import Record
from .base import TRANSACTION_SORT_KEYS, Context, Resource, stamps
from .invoices import render_credit_memo, totals_of
from .master import optional_text
from .references import Unresolved, resolve
from .transactions import check_texts, tags, transaction_date, warehouse

ZERO = Decimal(0)
CLOSED = {"id": 2, "name": "Closed", "name_bahasa": "Selesai"}


def build_return(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    problems = Problems()
    invoice = _invoice(ctx, source, own)
    lines = _lines(ctx, source, invoice, own, problems)
    texts = check_texts(source, problems)
    return_tags = tags(ctx, source, problems)
    sent_warehouse = warehouse(ctx, source, problems)
    issued = transaction_date(source, "transaction_date", problems, ctx.today())
    problems.raise_any()

    totals = sales_return(
        invoice,
        [(line["transaction_line_id"], line["return_quantity"]) for line in lines],
        ctx.company.arithmetic,
    )
    for line, amount in zip(lines, totals.line_amounts, strict=True):
        line["line_return_amount"] = amount
    unpaid = totals_of(ctx, invoice).remaining
    return {
        "transaction_no": own["transaction_no"] if own else _number(ctx, source),
        "custom_id": optional_text(source, "custom_id"),
        "transaction_date": issued,
        "invoice_id": invoice["id"],
        "invoice_no": invoice["transaction_no"],
        "person": invoice["person"],
        "warehouse": sent_warehouse if sent_warehouse["id"] else invoice["warehouse"],
        "memo": texts["memo"],
        "message": texts["message"],
        "tags": return_tags,
        "lines": lines,
        "discount_lines": totals.discount_lines,
        "discount_whole": totals.discount_whole,
        "returned_tax": totals.returned_tax,
        "returned_witholding_amount": totals.returned_witholding_amount,
        "return_amount": totals.return_amount,
        "credit_memo": _credit_memo(ctx, totals.return_amount - unpaid, invoice, own),
        "request": {
            **source,
            "transaction_return_lines_attributes": [line["request"] for line in lines],
        },
    }


def _credit_memo(
    ctx: Context, credit: Decimal, invoice: Record, own: Record | None
) -> dict[str, Any] | None:
    """What the return gives back beyond the invoice's unpaid balance. A changed return keeps
    its memo (and what was refunded of it); it may not give back less than was refunded."""
    before = own["credit_memo"] if own else None
    refunded = before["amount"] - before["remaining"] if before else ZERO
    if refunded > 0 and credit < refunded:
        raise Invalid.field(
            "return_amount", "(Cannot be less than what was refunded of its credit memo)"
        )
    if credit <= 0:
        return None
    return {
        "id": before["id"] if before else ctx.new_id(),
        "transaction_no": (
            before["transaction_no"] if before else ctx.company.next_transaction_no("credit_memo")
        ),
        "amount": credit,
        "remaining": credit - refunded,
        "person_id": invoice["person"]["id"],
    }


def check_return_delete(ctx: Context, record: Record) -> None:
    memo = record.get("credit_memo")
    if memo and memo["remaining"] != memo["amount"]:
        raise Invalid.message("Transaction has credit memo refunds and cannot be deleted")


def _number(ctx: Context, source: dict[str, Any]) -> str:
    return optional_text(source, "transaction_no") or ctx.company.next_transaction_no(
        "sales_return"
    )


def _invoice(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    """`invoice_id` and `invoice_no` must agree, and a return stays on its invoice."""
    try:
        invoice = resolve(
            ctx,
            "sales_invoices",
            by_id=source.get("invoice_id"),
            by_code=source.get("invoice_no"),
            code_field="transaction_no",
        )
    except Unresolved:
        invoice = None
    no = source.get("invoice_no")
    if invoice is not None and no not in (None, "") and str(no) != invoice["transaction_no"]:
        invoice = None
    if invoice is None:
        raise Invalid.field("invoice", "(Invoice not found)")
    if own is not None and own["invoice_id"] != invoice["id"]:
        raise Invalid.field("invoice", "(The invoice of a return cannot be changed)")
    return invoice


def _lines(
    ctx: Context, source: dict[str, Any], invoice: Record, own: Record | None, problems: Problems
) -> list[dict[str, Any]]:
    rows = source.get("transaction_return_lines_attributes")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.field("transaction_return_lines", "is not valid")
        return []
    old_ids = {line["id"] for line in own["lines"]} if own else set()
    seen: set[int] = set()
    lines = []
    for row in rows:
        invoice_line = _invoice_line(invoice, row)
        if invoice_line is None:
            problems.field("transaction_return_lines", "(Invoice line not found)")
            continue
        if invoice_line["id"] in seen:
            problems.field("transaction_return_lines", "(An invoice line may appear only once)")
            continue
        seen.add(invoice_line["id"])
        quantity = _quantity(row, invoice, invoice_line, problems)
        line_id = row["id"] if row.get("id") in old_ids else ctx.new_id()
        lines.append(
            {
                "id": line_id,
                "transaction_line_id": invoice_line["id"],
                "return_quantity": quantity,
                "invoice_line": invoice_line,
                "request": {**row, "id": line_id, "transaction_line_id": invoice_line["id"]},
            }
        )
    return lines


def _invoice_line(invoice: Record, row: dict[str, Any]) -> dict[str, Any] | None:
    """By `transaction_line_id` and/or product; when both are sent they must agree."""
    line_id = row.get("transaction_line_id")
    product_id = row.get("product_id")
    product_name = row.get("product_name")
    for line in invoice["lines"]:
        if line_id not in (None, "") and str(line["id"]) != str(line_id):
            continue
        if product_id not in (None, "") and str(line["product"]["id"]) != str(product_id):
            continue
        if product_name not in (None, "") and (
            str(product_name).casefold() != line["product"]["name"].casefold()
        ):
            continue
        if line_id in (None, "") and product_id in (None, "") and product_name in (None, ""):
            return None
        return line
    return None


def _quantity(
    row: dict[str, Any], invoice: Record, line: dict[str, Any], problems: Problems
) -> Decimal:
    try:
        quantity = decimal_of(row.get("return_quantity"))
    except NotANumber:
        quantity = Decimal(-1)
    if row.get("return_quantity") in (None, "") or not quantity.is_finite() or quantity < 0:
        problems.field("return_quantity", "(Must be greater than or equal to 0)")
        return ZERO
    returnable = line["quantity"] - invoice["returned"].get(line["id"], ZERO)
    if quantity > returnable:
        problems.field(
            "return_quantity", "(Return quantity cannot be greater than the quantity not returned)"
        )
    return quantity


def return_effect(ctx: Context, record: Record, sign: int) -> None:
    invoice = ctx.collection("sales_invoices").get(record["invoice_id"])
    if invoice is None:
        return
    invoice["return_amount"] += sign * record["return_amount"]
    returned = dict(invoice["returned"])
    for line in record["lines"]:
        left = returned.get(line["transaction_line_id"], ZERO) + sign * line["return_quantity"]
        if left > 0:
            returned[line["transaction_line_id"]] = left
        else:
            returned.pop(line["transaction_line_id"], None)
    invoice["returned"] = returned
    refs = [r for r in invoice["sales_returns"] if r["id"] != record["id"]]
    if sign > 0:
        refs.append({"id": record["id"], "transaction_no": record["transaction_no"]})
    invoice["sales_returns"] = refs


def render_return(ctx: Context, record: Record) -> dict[str, Any]:
    invoice = ctx.collection("sales_invoices").get(record["invoice_id"])
    amounts = {
        "returned_tax": record["returned_tax"],
        "discount_lines": record["discount_lines"],
        "discount_whole": record["discount_whole"],
        "return_amount": record["return_amount"],
        "returned_witholding_amount": record["returned_witholding_amount"],
    }
    answer: dict[str, Any] = {
        "id": record["id"],
        "transaction_no": record["transaction_no"],
        "message": record["message"],
        "memo": record["memo"],
        "custom_id": record["custom_id"],
        "status": "approved",
        "transaction_status": CLOSED,
        **stamps(record),
        "deletable": True,
        "editable": True,
        "transaction_date": show_date(record["transaction_date"]),
        "invoice_no": record["invoice_no"],
        "invoice_id": record["invoice_id"],
        "invoice_date": show_date(invoice["transaction_date"]) if invoice else None,
        "due_date": show_date(invoice["due_date"]) if invoice else None,
        "invoice_tax_after_discount": invoice["tax_after_discount"] if invoice else None,
        "invoice_has_discount_lines": bool(invoice)
        and any(line["discount"] > 0 for line in invoice["lines"]),
        "has_discount_in_invoice": bool(invoice) and invoice["discount_unit"] > 0,
    }
    for name, value in amounts.items():
        answer[f"{name}_currency_format"] = rupiah(value)
        answer[name] = bare(value)
    answer.update(
        {
            "transaction_type": {"id": 12, "name": "Sales Return"},
            "transaction_return_lines_attributes": [_render_line(line) for line in record["lines"]],
            "person": record["person"],
            "warehouse": record["warehouse"],
            "tags": record["tags"],
            "tags_string": ", ".join(t["name"] for t in record["tags"]),
            "currency_code": "IDR",
            "currency_rate": 1,
            "credit_memo": render_credit_memo(record["credit_memo"])
            if record["credit_memo"]
            else None,
        }
    )
    return answer


def _render_line(line: dict[str, Any]) -> dict[str, Any]:
    sold = line["invoice_line"]
    tax = sold["line_tax"]
    sold_amount = sold["quantity"] * sold["rate"] * (100 - sold["discount"]) / 100
    return {
        "id": line["id"],
        "transaction_line_id": line["transaction_line_id"],
        "return_quantity": bare(line["return_quantity"]),
        "line_return_amount": bare(line["line_return_amount"]),
        "line_return_amount_currency_format": rupiah(line["line_return_amount"]),
        "transaction_line": {
            "product": {
                "id": sold["product"]["id"],
                "product_code": sold["product"]["code"],
                "name": sold["product"]["name"],
            },
            "description": sold["description"],
            "quantity": bare(sold["quantity"]),
            "rate": money(sold["rate"]),
            "amount": money(sold_amount),
            "tax": None,
            "line_tax": (
                {"id": tax["id"], "name": tax["name"], "rate": money(tax["rate"])}
                if tax
                else {"id": None, "name": None, "rate": None}
            ),
            "discount": money(sold["discount"]),
            "unit": sold["unit"]["name"],
            "amount_currency_format": rupiah(sold_amount),
            "rate_currency_format": rupiah(sold["rate"]),
        },
    }


def merge_return(existing: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """On PATCH a line with `id` changes only its `return_quantity`; one without adds a line."""
    merged = {**existing, **changes}
    if isinstance(changes.get("transaction_return_lines_attributes"), list):
        lines = {line["id"]: dict(line) for line in existing["transaction_return_lines_attributes"]}
        added = []
        for line in changes["transaction_return_lines_attributes"]:
            if isinstance(line, dict) and line.get("id") in lines:
                lines[line["id"]]["return_quantity"] = line.get("return_quantity")
            else:
                added.append(line)
        merged["transaction_return_lines_attributes"] = [*lines.values(), *added]
    return merged


SALES_RETURNS = Resource(
    name="sales_returns",
    singular="sales_return",
    build=build_return,
    render=render_return,
    sort_keys=TRANSACTION_SORT_KEYS,
    effect=return_effect,
    check_delete=check_return_delete,
    merge=merge_return,
)
