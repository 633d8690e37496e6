"""Customers, and the contacts endpoint over the same people (`reference/jurnal-api.md` §6.6).

`/customers/{id}` takes the numeric id only (documented), so finding a customer by `custom_id`
means listing. `POST /contacts` refuses a taken `display_name` with 409; `/customers` does not.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import Invalid
from ..formats import bare, money, number, parse_date, rupiah
from ..store import Record
from .base import Context, Resource, stamps
from .master import account_by, optional_text
from .references import account_ref

NAME_FIELDS = ("title", "first_name", "middle_name", "last_name")
TEXT_FIELDS = (
    "associate_company",
    "billing_address",
    "address",
    "email",
    "tax_no",
    "mobile",
    "phone",
    "fax",
    "other_detail",
    "source",
)
MAX_ADDRESS = 250


def build_person(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    names = {key: optional_text(source, key) for key in NAME_FIELDS}
    display = optional_text(source, "display_name") or " ".join(
        n for n in (names["first_name"], names["middle_name"], names["last_name"]) if n
    )
    if not display.strip():
        raise Invalid.field("display_name", "can't be blank")
    texts = {key: optional_text(source, key) for key in TEXT_FIELDS}
    for key in ("address", "billing_address"):
        if texts[key] and len(texts[key] or "") > MAX_ADDRESS:
            raise Invalid.field(key, "too long, (maximum of 250 characters)")
    accounts = ctx.collection("accounts")
    receivable = account_by(ctx, source, "default_ar_account", "Account")
    payable = account_by(ctx, source, "default_ap_account", "Account")
    if source.get("start_balance"):
        parse_date(source["start_balance"], "start_balance")
    return {
        **names,
        **texts,
        "display_name": display.strip(),
        "custom_id": optional_text(source, "custom_id"),
        "opening_balance": number(source.get("opening_balance"), "opening_balance"),
        "default_ar_account": account_ref(receivable or accounts.first("number", "1-10100")),
        "default_ap_account": account_ref(payable or accounts.first("number", "2-20100")),
        "people_type": optional_text(source, "people_type") or "customer",
        "archive": bool(source.get("archive")),
        # kept up to date by the invoices that name this person
        "transaction_count": own["transaction_count"] if own else 0,
    }


def render_person(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        **{key: record[key] for key in NAME_FIELDS},
        "display_name": record["display_name"],
        **{key: record[key] for key in TEXT_FIELDS},
        "opening_balance": money(record["opening_balance"]),
        "opening_balance_currency_format": rupiah(record["opening_balance"]),
        "custom_id": record["custom_id"],
        "archive": record["archive"],
        "is_customer": True,
        **stamps(record),
        "deletable": not has_transactions(ctx, record),
        "editable": True,
        "has_transactions": has_transactions(ctx, record),
        "balance": bare(Decimal(0)),
        "balance_currency_format": rupiah(Decimal(0)),
        "default_term": {"id": None, "name": None, "longetivity": None},
        "default_ar_account": record["default_ar_account"],
        "default_ap_account": record["default_ap_account"],
    }


def has_transactions(ctx: Context, record: Record) -> bool:
    return bool(record["transaction_count"])


def check_person_delete(ctx: Context, record: Record) -> None:
    if has_transactions(ctx, record):
        raise Invalid.message("Contact has transactions and cannot be deleted")


CUSTOMERS = Resource(
    name="customers",
    singular="customer",
    build=build_person,
    render=render_person,
    lookup_fields=(),
    sort_keys={
        "display_name": lambda _, r: r["display_name"],
        "billing_address": lambda _, r: r["billing_address"],
        "email": lambda _, r: r["email"],
        "phone": lambda _, r: r["phone"],
        "balance_customer": lambda _, r: 0,
    },
    check_delete=check_person_delete,
    batch_status=201,
)

CONTACTS = Resource(
    name="customers",
    path="contacts",
    singular="person",
    build=build_person,
    render=render_person,
    lookup_fields=(),
    unique_fields=("custom_id", "display_name"),
    list_root="contacts",
    sort_keys=CUSTOMERS.sort_keys,
    check_delete=check_person_delete,
    answer_extras={"restricted_user": False},
)
