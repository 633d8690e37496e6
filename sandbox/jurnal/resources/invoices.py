"""Sales invoices (`reference/jurnal-api.md` §6.7, §7): validation with Jurnal's messages, the
sandbox's own arithmetic (`..arithmetic`, under the company's rounding switches), the embedded
payment of a `deposit`, the credit memos that returns of a paid invoice leave, and the status that
payments, returns and the passing due date move."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..arithmetic import Invoice, Status, flag
from ..arithmetic import invoice as invoice_arithmetic
from ..errors import (
    MUST_BE_POSITIVE,
    OVERPAID,
    VALUE_MUST_BE_POSITIVE,
    Invalid,
    Problems,
)
from ..formats import bare, money, number, rupiah, show_date
from ..store import Record
from .base import Context, Resource, stamps
from .references import Unresolved, resolve
from .transactions import (
    cash_account,
    check_texts,
    customer,
    full_account_ref,
    optional_account,
    person_ref,
    status_object,
    tags,
    transaction_date,
    warehouse,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)
HEADER_TEXTS = ("email", "reference_no", "ship_via", "tracking_no", "source")


# -- building ---------------------------------------------------------------------------------


def build_invoice(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    problems = Problems()
    lines = _lines(ctx, source, own, problems)
    person = customer(ctx, source, problems)
    texts = check_texts(source, problems)
    today = ctx.today()
    issued = transaction_date(source, "transaction_date", problems, today)
    term, due = _term_and_due(ctx, source, issued, problems)
    kind = _discount_type(source, problems)
    discount_unit = _non_negative(source, "discount_unit", problems)
    witholding_value = _non_negative(source, "witholding_value", problems)
    deposit = _non_negative(source, "deposit", problems)
    deposit_to = cash_account(ctx, source, "deposit_to", problems, required=deposit > 0)
    record: Record = {
        "custom_id": _text(source, "custom_id"),
        "person": person_ref(person) if person else None,
        "transaction_date": issued,
        "due_date": due,
        "term": term,
        "shipping_date": transaction_date(source, "shipping_date", problems, issued),
        "is_shipped": flag(source.get("is_shipped")),
        "shipping_price": _non_negative(source, "shipping_price", problems),
        **texts,
        **{key: _text(source, key) for key in HEADER_TEXTS},
        "discount_type": kind,
        "discount_unit": discount_unit,
        "tax_after_discount": flag(source.get("tax_after_discount")),
        "use_tax_inclusive": flag(source.get("use_tax_inclusive")),
        "witholding_type": _witholding_type(source, problems),
        "witholding_value": witholding_value,
        "witholding_account": full_account_ref(
            optional_account(ctx, source, "witholding_account", problems)
        ),
        "deposit": deposit,
        "deposit_to": deposit_to,
        "tags": tags(ctx, source, problems),
        "warehouse": warehouse(ctx, source, problems),
        "lines": lines,
        # what other documents did to this invoice survives an edit
        "payment_received_amount": own["payment_received_amount"] if own else ZERO,
        "credit_applied": own["credit_applied"] if own else ZERO,
        "return_amount": own["return_amount"] if own else ZERO,
        "receive_payments": own["receive_payments"] if own else [],
        "sales_returns": own["sales_returns"] if own else [],
        "returned": own["returned"] if own else {},
    }
    problems.raise_any()
    _check_totals(ctx, record, problems)
    problems.raise_any()
    record["transaction_no"] = _transaction_no(ctx, source, own)
    record["deposit_payment"] = _deposit_payment(ctx, record, own)
    record["request"] = {
        **source,
        "transaction_lines_attributes": [line["request"] for line in lines],
        "transaction_no": record["transaction_no"],
    }
    return record


def _lines(
    ctx: Context, source: dict[str, Any], own: Record | None, problems: Problems
) -> list[dict[str, Any]]:
    rows = source.get("transaction_lines_attributes")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.field("transaction_lines", "is not valid")
        return []
    old_ids = {line["id"] for line in own["lines"]} if own else set()
    lines = []
    for row_number, row in enumerate(rows, start=1):
        if row.get("id") is not None and row["id"] not in old_ids:
            problems.field("transaction_lines", "is not valid")
            continue
        line = _line(ctx, row, row_number, problems)
        if line is not None:
            line_id = row.get("id") or ctx.new_id()
            line["id"] = line_id
            line["request"] = {**row, "id": line_id}
            lines.append(line)
    return lines


def _line(
    ctx: Context, row: dict[str, Any], row_number: int, problems: Problems
) -> dict[str, Any] | None:
    try:
        product = resolve(
            ctx,
            "products",
            by_id=row.get("product_id"),
            by_custom_id=row.get("product_custom_id"),
            by_name=row.get("product_name"),
            by_code=row.get("product_code"),
            code_field="product_code",
        )
    except Unresolved:
        product = None
    if product is None:
        problems.message(
            f"Product in transaction lines attributes on row {row_number} not available"
        )
        return None
    try:
        tax = resolve(
            ctx,
            "taxes",
            by_id=row.get("line_tax_id"),
            by_custom_id=row.get("line_tax_custom_id"),
            by_name=row.get("line_tax_name"),
        )
    except Unresolved:
        problems.message(
            f"Line tax in transaction lines attributes on row {row_number} not available"
        )
        tax = None
    try:
        quantity = number(row.get("quantity", 1), "transaction_lines.quantity")
        rate = (
            number(row["rate"], "transaction_lines.rate")
            if row.get("rate") not in (None, "")
            else product["sell_price_per_unit"]
        )
        discount = number(row.get("discount"), "transaction_lines.discount")
    except Invalid as invalid:
        problems.absorb(invalid)
        return None
    if discount > HUNDRED:
        problems.message("Discount cannot exceed the total item amount")
    elif discount < 0:
        problems.field("transaction_lines.discount", VALUE_MUST_BE_POSITIVE)
    elif quantity * rate * (HUNDRED - discount) / HUNDRED <= 0:
        problems.field("transaction_lines.amount", MUST_BE_POSITIVE)
    return {
        "custom_id": _text(row, "custom_id"),
        "description": _text(row, "description") or product["description"],
        "quantity": quantity,
        "rate": rate,
        "discount": discount,
        "line_tax": {"id": tax["id"], "name": tax["name"], "rate": tax["rate"]} if tax else None,
        "unit": product["unit"],
        "product": {
            "id": product["id"],
            "name": product["name"],
            "code": product["product_code"],
            "product_custom_id": product["custom_id"],
            "archive": product["archive"],
            "quantity": 0,
            "track_inventory": product["track_inventory"],
        },
    }


def _term_and_due(
    ctx: Context, source: dict[str, Any], issued: Any, problems: Problems
) -> tuple[dict[str, Any], Any]:
    """A due date that does not fit the term makes the term `Custom` (documented example); a
    term alone sets the due date; neither takes the company's preferred term."""
    terms = ctx.collection("terms")
    term = None
    if source.get("term_id") not in (None, "") or source.get("term_name") not in (None, ""):
        try:
            term = resolve(
                ctx, "terms", by_id=source.get("term_id"), by_name=source.get("term_name")
            )
        except Unresolved:
            problems.field("term", "(Term not found)")
    if source.get("due_date") in (None, ""):
        term = term or next((t for t in terms if t["is_default"]), None)
        days = term["longetivity"] if term else 0
        return _term_ref(term), issued + timedelta(days=days)
    due = transaction_date(source, "due_date", problems, issued)
    if term is None or issued + timedelta(days=term["longetivity"]) != due:
        term = terms.first("name", "Custom")
    return _term_ref(term), due


def _term_ref(term: Record | None) -> dict[str, Any]:
    if term is None:
        return {"id": None, "name": None, "longetivity": None}
    return {"id": term["id"], "name": term["name"], "longetivity": term["longetivity"]}


def _discount_type(source: dict[str, Any], problems: Problems) -> str | None:
    """`discount_type_name`, Percent or Value in any case; a discount without one is a
    percentage."""
    raw = source.get("discount_type_name")
    if raw in (None, ""):
        return "Percent" if source.get("discount_unit") not in (None, "", 0, "0") else None
    for kind in ("Percent", "Value"):
        if str(raw).strip().casefold() == kind.casefold():
            return kind
    problems.field("discount_type", "(Discount type must be Percent or Value)")
    return None


def _witholding_type(source: dict[str, Any], problems: Problems) -> str:
    raw = source.get("witholding_type")
    if raw in (None, ""):
        return "percent"
    kind = str(raw).strip().casefold()
    if kind not in ("percent", "value"):
        problems.field("witholding_type", "(Witholding type must be percent or value)")
        return "percent"
    return kind


def _non_negative(source: dict[str, Any], key: str, problems: Problems) -> Decimal:
    try:
        value = number(source.get(key), key)
    except Invalid as invalid:
        problems.absorb(invalid)
        return ZERO
    if value < 0:
        problems.field(key, VALUE_MUST_BE_POSITIVE)
    return value


def _text(source: dict[str, Any], key: str) -> str | None:
    value = source.get(key)
    return None if value is None or value == "" else str(value)


def _transaction_no(ctx: Context, source: dict[str, Any], own: Record | None) -> str:
    """PATCH keeps the number; a new invoice takes the one sent or the next of the company's."""
    if own is not None:
        return str(own["transaction_no"])
    sent = _text(source, "transaction_no")
    return sent or ctx.company.next_transaction_no("sales_invoice")


def _check_totals(ctx: Context, record: Record, problems: Problems) -> None:
    totals = totals_of(ctx, record)
    if record["discount_type"] == "Percent" and record["discount_unit"] > HUNDRED:
        problems.field("discount_unit", "(Discount cannot exceed 100%)")
    if totals.original_amount <= 0:
        problems.field("original_amount", VALUE_MUST_BE_POSITIVE)
    if totals.tax_amount < 0:
        problems.field("tax_amount", "Negative Tax Value Only Permitted For Witholding Tax")
    if totals.witholding_amount > totals.original_amount:
        problems.field(
            "witholding_value", "can't be added if transaction amount is less than witholding"
        )
    elif totals.original_amount - totals.witholding_amount - totals.amount_receive < 0:
        problems.field("amount_receive", OVERPAID)
    for line in record["lines"]:
        if line["quantity"] < record["returned"].get(line["id"], ZERO):
            problems.field(
                "transaction_lines.quantity", "(Cannot be less than the returned quantity)"
            )


def _deposit_payment(ctx: Context, record: Record, own: Record | None) -> dict[str, Any] | None:
    """A deposit is a payment inside the invoice, listed in `payments[]` with its own number."""
    if record["deposit"] <= 0:
        return None
    if own is not None and own["deposit_payment"] is not None:
        return {**own["deposit_payment"], "transaction_date": record["transaction_date"]}
    return {
        "id": ctx.new_id(),
        "transaction_no": ctx.company.next_transaction_no("receive_payment"),
        "transaction_date": record["transaction_date"],
    }


# -- arithmetic -------------------------------------------------------------------------------


def totals_of(ctx: Context, record: Record) -> Invoice:
    """The invoice's totals under the company's rounding switches, after what receive payments
    and applied credit memos paid and returns gave back."""
    return invoice_arithmetic(
        record,
        ctx.company.arithmetic,
        received=record["payment_received_amount"] + record["credit_applied"],
        returned=record["return_amount"],
    )


def credit_memos(ctx: Context, record: Record) -> list[Record]:
    """The credit memos of the invoice's returns (what they gave back beyond what was unpaid)."""
    returns = ctx.collection("sales_returns")
    memos = []
    for ref in record["sales_returns"]:
        sales_return = returns.get(ref["id"])
        if sales_return is not None and sales_return.get("credit_memo"):
            memos.append(sales_return["credit_memo"])
    return memos


# -- effects ----------------------------------------------------------------------------------


def invoice_effect(ctx: Context, record: Record, sign: int) -> None:
    """Customers and products with transactions cannot be deleted."""
    people = ctx.collection("customers")
    person = people.get(record["person"]["id"])
    if person is not None:
        person["transaction_count"] += sign
    products = ctx.collection("products")
    for line in record["lines"]:
        product = products.get(line["product"]["id"])
        if product is not None:
            product["transaction_count"] += sign


def check_invoice_delete(ctx: Context, record: Record) -> None:
    if record["deposit_payment"] or record["receive_payments"] or record["credit_applied"]:
        raise Invalid.message("Transaction has payments and cannot be deleted")
    if record["sales_returns"]:
        raise Invalid.message("Transaction has sales returns and cannot be deleted")


def merge_invoice(existing: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH takes the whole header; lines with an `id` change that line, lines without one are
    added, and lines left out stay."""
    merged = {**existing, **changes}
    if "transaction_lines_attributes" in changes and isinstance(
        changes["transaction_lines_attributes"], list
    ):
        lines = {line["id"]: dict(line) for line in existing["transaction_lines_attributes"]}
        added = []
        for line in changes["transaction_lines_attributes"]:
            if isinstance(line, dict) and line.get("id") in lines:
                lines[line["id"]].update(line)
            else:
                added.append(line)
        merged["transaction_lines_attributes"] = [*lines.values(), *added]
    return merged


# -- rendering --------------------------------------------------------------------------------


def status_of(ctx: Context, record: Record) -> Status:
    return totals_of(ctx, record).status(record["due_date"], ctx.today())


def render_invoice(ctx: Context, record: Record) -> dict[str, Any]:
    totals = totals_of(ctx, record)
    memos = credit_memos(ctx, record)
    status = totals.status(record["due_date"], ctx.today())
    kind = record["discount_type"]
    payments = ([record["deposit_payment"]] if record["deposit_payment"] else []) + record[
        "receive_payments"
    ]
    money_fields = {
        "remaining": totals.remaining,
        "original_amount": totals.original_amount,
        "shipping_price": totals.shipping_price,
        "tax_amount": totals.tax_amount,
        "witholding_amount": totals.witholding_amount,
        "discount_price": totals.discount_price,
        "amount_receive": totals.amount_receive,
        "subtotal": totals.subtotal,
        "deposit": totals.deposit,
        "discount_per_lines": totals.discount_per_lines,
        "payment_received_amount": totals.payment_received_amount,
        "credit_memo_balance": sum((memo["remaining"] for memo in memos), ZERO),
    }
    answer: dict[str, Any] = {
        "id": record["id"],
        "transaction_no": record["transaction_no"],
        "email": record["email"],
        "address": record["address"],
        "message": record["message"],
        "memo": record["memo"],
        "shipping_address": record["shipping_address"],
        "is_shipped": record["is_shipped"],
        "ship_via": record["ship_via"],
        "reference_no": record["reference_no"],
        "tracking_no": record["tracking_no"],
        "tax_after_discount": record["tax_after_discount"],
        "use_tax_inclusive": record["use_tax_inclusive"],
        "witholding_value": money(record["witholding_value"]),
        "witholding_type": record["witholding_type"],
        "status": "approved",
        "custom_id": record["custom_id"],
        "source": record["source"] or "apikey",
        **stamps(record),
        "deletable": not payments and not record["sales_returns"],
        "editable": True,
        "transaction_date": show_date(record["transaction_date"]),
        "due_date": show_date(record["due_date"]),
        "shipping_date": show_date(record["shipping_date"]),
    }
    for name, value in money_fields.items():
        answer[name] = bare(value) if name == "witholding_amount" else money(value)
        answer[f"{name}_currency_format"] = rupiah(value)
    answer.update(
        {
            "transaction_status": status_object(status),
            "transaction_lines_attributes": [
                _render_line(line, totals, index, record)
                for index, line in enumerate(record["lines"])
            ],
            "payments": [_payment_ref(p) for p in payments],
            "has_payments": bool(payments),
            "sales_returns": list(record["sales_returns"]),
            "has_credit_memos": bool(memos),
            "credit_memos": [render_credit_memo(memo) for memo in memos],
            "person": record["person"],
            "discount_type": (
                {
                    "id": 1 if kind == "Percent" else 2,
                    "name": kind,
                    "name_bahasa": "Persen" if kind == "Percent" else "Nilai",
                }
                if kind
                else {"id": None, "name": None, "name_bahasa": None}
            ),
            "discount_unit": money(record["discount_unit"]),
            "warehouse": record["warehouse"],
            "deposit_to": record["deposit_to"] or full_account_ref(None),
            "witholding_account": record["witholding_account"],
            "term": record["term"],
            "tags": record["tags"],
            "tags_string": ", ".join(t["name"] for t in record["tags"]),
            "tax_details": [
                {
                    "name": name,
                    "tax_amount": bare(amount),
                    "tax_amount_currency_format": rupiah(amount),
                }
                for name, amount in totals.tax_details
            ],
            "currency_code": "IDR",
            "currency_rate": 1,
            "company_currency": {"code": "IDR", "symbol": "Rp."},
        }
    )
    return answer


def _render_line(
    line: dict[str, Any], totals: Invoice, index: int, record: Record
) -> dict[str, Any]:
    amount = totals.lines[index].amount
    tax = line["line_tax"]
    return {
        "id": line["id"],
        "custom_id": line["custom_id"],
        "description": line["description"],
        "amount": money(amount),
        "discount": money(line["discount"]),
        "rate": money(line["rate"]),
        "tax": None,
        "line_tax": (
            {"id": tax["id"], "name": tax["name"], "rate": money(tax["rate"])}
            if tax
            else {"id": None, "name": None, "rate": None}
        ),
        "has_return_line": record["returned"].get(line["id"], ZERO) > 0,
        "quantity": bare(line["quantity"]),
        "amount_currency_format": rupiah(amount),
        "rate_currency_format": rupiah(line["rate"]),
        "unit": line["unit"],
        "product": line["product"],
    }


def render_credit_memo(memo: dict[str, Any]) -> dict[str, Any]:
    """A credit memo as invoices and returns show it (inferred: the reference names
    `credit_memos`, `has_credit_memos` and `credit_memo_balance` but shows no memo)."""
    return {
        "id": memo["id"],
        "transaction_no": memo["transaction_no"],
        "original_amount": money(memo["amount"]),
        "remaining": money(memo["remaining"]),
        "original_amount_currency_format": rupiah(memo["amount"]),
        "remaining_currency_format": rupiah(memo["remaining"]),
    }


def _payment_ref(payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": payment["id"],
        "transaction_no": payment["transaction_no"],
        "transaction_date": show_date(payment["transaction_date"]),
    }


INVOICE_SORT_KEYS = {
    "transaction_date": lambda _, r: r["transaction_date"],
    "get_number": lambda _, r: r["transaction_no"],
    "people_display_name": lambda _, r: r["person"]["display_name"],
    "transaction_status_name": lambda ctx, r: status_of(ctx, r).label,
    "remaining": lambda ctx, r: totals_of(ctx, r).remaining,
    "original_amount": lambda ctx, r: totals_of(ctx, r).original_amount,
    "tags_name": lambda _, r: ", ".join(t["name"] for t in r["tags"]),
    "total_expense_amount": lambda _, r: 0,
    "transaction_lines_account_category": lambda _, r: 0,
    "person_id": lambda _, r: r["person"]["id"],
    "created_at": lambda _, r: r["created_at"],
}

SALES_INVOICES = Resource(
    name="sales_invoices",
    singular="sales_invoice",
    build=build_invoice,
    render=render_invoice,
    lookup_fields=("transaction_no", "custom_id"),
    unique_fields=("custom_id", "transaction_no"),
    sort_keys=INVOICE_SORT_KEYS,
    refused_sort_keys=frozenset({"id", "transaction_no"}),
    effect=invoice_effect,
    check_delete=check_invoice_delete,
    merge=merge_invoice,
    batch_status=201,
)
