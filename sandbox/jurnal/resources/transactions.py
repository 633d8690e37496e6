"""What sales invoices, receive payments and sales returns share: dates, the customer, tags and
warehouse under plan gating, free-text limits, and the transaction status object."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..arithmetic import Status
from ..errors import Invalid, Problems
from ..formats import parse_date
from ..store import Record
from .base import Context
from .master import CASH_AND_BANK, CATEGORIES, account_by
from .references import Unresolved, resolve_prefixed

MAX_TEXT = 250
# Pictographs, dingbats, flags and the variation selector that makes a character an emoji.
_EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\U0000fe0f\U0001f1e6-\U0001f1ff]")
TEXT_FIELDS = ("memo", "message", "address", "shipping_address")
NULL_WAREHOUSE = {"id": None, "name": None, "code": None}


def transaction_date(source: dict[str, Any], key: str, problems: Problems, default: date) -> date:
    if source.get(key) in (None, ""):
        return default
    try:
        return parse_date(source[key], key)
    except Invalid as invalid:
        problems.absorb(invalid)
        return default


def check_texts(source: dict[str, Any], problems: Problems) -> dict[str, str | None]:
    """Free text as Jurnal stores it: no emoji in the memo, at most 250 characters of address."""
    texts: dict[str, str | None] = {}
    for key in TEXT_FIELDS:
        value = source.get(key)
        text = None if value is None else str(value)
        if text and _EMOJI.search(text):
            problems.message(f"{key.replace('_', ' ').capitalize()} may not contain emoji")
        if text and key in ("address", "shipping_address") and len(text) > MAX_TEXT:
            problems.field(key, "too long, (maximum of 250 characters)")
        texts[key] = text
    return texts


def customer(ctx: Context, source: dict[str, Any], problems: Problems) -> Record | None:
    try:
        person = resolve_prefixed(ctx, "customers", source, "person", name_field="display_name")
    except Unresolved:
        person = None
    if person is None:
        problems.field("person", "Must be customer (not vendor)")
    return person


def person_ref(person: Record) -> dict[str, Any]:
    return {
        "id": person["id"],
        "display_name": person["display_name"],
        "name": person["display_name"],
        "title": person["title"],
        "first_name": person["first_name"],
        "middle_name": person["middle_name"],
        "last_name": person["last_name"],
        "tax_no": person["tax_no"],
        "email": person["email"] or "",
        "address": person["address"],
        "billing_address": person["billing_address"] or "",
        "phone": person["phone"] or "",
        "fax": person["fax"],
    }


def tags(ctx: Context, source: dict[str, Any], problems: Problems) -> list[dict[str, Any]]:
    """Tags by name; Pro and Enterprise only (§10). A lower plan is refused or, if the company
    is set to ignore, silently loses them."""
    names = source.get("tags")
    if names in (None, "", []):
        return []
    if not ctx.company.allows("pro"):
        if ctx.company.gating == "refuse":
            problems.field("tags", "(Tags are only available on Jurnal Pro and Enterprise)")
        return []
    if not isinstance(names, list):
        problems.field("tags", "(Must be a list of tag names)")
        return []
    found = []
    for name in names:
        tag = ctx.collection("tags").first("name", name)
        if tag is None:
            problems.field("tags", f"(Tag {name} not found)")
        else:
            found.append({"id": tag["id"], "name": tag["name"]})
    return found


def warehouse(ctx: Context, source: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """`warehouse_id|_name|_code`; Enterprise only (§10), refused or ignored below it."""
    sent = any(source.get(f"warehouse_{k}") not in (None, "") for k in ("id", "name", "code"))
    if not sent:
        return dict(NULL_WAREHOUSE)
    if not ctx.company.allows("enterprise"):
        if ctx.company.gating == "refuse":
            problems.field("warehouse", "(Warehouses are only available on Jurnal Enterprise)")
        return dict(NULL_WAREHOUSE)
    try:
        found = resolve_prefixed(ctx, "warehouses", source, "warehouse")
    except Unresolved:
        found = None
    if found is None:
        problems.field("warehouse", "(Warehouse not found)")
        return dict(NULL_WAREHOUSE)
    return {"id": found["id"], "name": found["name"], "code": found["code"]}


def cash_account(
    ctx: Context, source: dict[str, Any], prefix: str, problems: Problems, *, required: bool
) -> dict[str, Any] | None:
    """A deposit account: a Cash & Bank account by id, name, number or custom id."""
    try:
        account = account_by(ctx, source, prefix, "Account")
    except Invalid as invalid:
        problems.absorb(invalid)
        return None
    if account is None:
        if required:
            problems.field(prefix, "(Deposit account must be sent)")
        return None
    if account["category_id"] != CASH_AND_BANK:
        problems.field(prefix, "(Must be a Cash & Bank account)")
    return full_account_ref(account)


def full_account_ref(account: Record | None) -> dict[str, Any]:
    if account is None:
        return {"id": None, "name": None, "number": None, "category": {"id": None, "name": None}}
    category = account["category_id"]
    return {
        "id": account["id"],
        "name": account["name"],
        "number": account["number"],
        "category": {"id": category, "name": CATEGORIES[category][0]},
    }


def optional_account(
    ctx: Context, source: dict[str, Any], prefix: str, problems: Problems
) -> Record | None:
    try:
        return account_by(ctx, source, prefix, "Account")
    except Invalid as invalid:
        problems.absorb(invalid)
        return None


def status_object(status: Status) -> dict[str, Any]:
    return status.as_object()
