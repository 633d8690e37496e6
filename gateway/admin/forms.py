"""The setting form: from the posted fields to the JSON API's request body (then loaded by the
API's own schemas, so the pages accept exactly what the API accepts), and from a setting back to
the values the form shows.

HTML forms speak strings: an empty optional field means "none" (an empty account field: the
company's default account), a checkbox is present or absent,
and each payment method is two fields, `payment_accounts.<bucket>.account` and `.tag`. A bucket
with no account is left unmapped. Fields the company's package does not allow are disabled in the
form and never sent, so editing a setting cannot silently clear them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from domain.settings import IMMUTABLE_FIELDS, PAYMENT_BUCKETS
from gateway.errors import flatten_messages

TEXT_FIELDS = ("name", "default_customer", "name_prefix", "name_suffix")
# Empty: the company's own default account (`domain.chart`).
ACCOUNT_FIELDS = (
    "sales_account",
    "purchase_account",
    "sell_tax_account",
    "buy_tax_account",
    "rounding_account",
)
OPTIONAL_CHOICES = ("tag", "warehouse")
FLAGS = ("track_inventory", "auto_sync", "sync_by_product_name")


def setting_body(
    form: Mapping[str, str], *, creating: bool, has_tags: bool, has_warehouses: bool
) -> dict[str, Any]:
    """The JSON body the API would take for this form: all fields when creating, the mutable
    ones when editing."""
    body: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in form:
            body[name] = form[name].strip()
    for name in ACCOUNT_FIELDS:
        if name in form:
            body[name] = form[name].strip() or None
    for name in FLAGS:
        body[name] = form.get(name) == "on"
    if form.get("sync_time"):
        body["sync_time"] = form["sync_time"].strip()
    if form.get("start_date"):
        body["start_date"] = form["start_date"].strip()
    if form.get("posting_mode"):
        body["posting_mode"] = form["posting_mode"].strip()
    if "summary_close_time" in form:
        body["summary_close_time"] = form["summary_close_time"].strip() or None
    allowed = {"tag": has_tags, "warehouse": has_warehouses}
    for name in OPTIONAL_CHOICES:
        if allowed[name]:
            body[name] = form.get(name, "").strip() or None
    accounts: dict[str, Any] = {}
    for bucket in PAYMENT_BUCKETS:
        account = form.get(f"payment_accounts.{bucket}.account", "").strip()
        if account:
            tag = form.get(f"payment_accounts.{bucket}.tag", "").strip() if has_tags else ""
            accounts[bucket] = {"account": account, "tag": tag or None}
    body["payment_accounts"] = accounts
    if not creating:
        body = {name: value for name, value in body.items() if name not in IMMUTABLE_FIELDS}
    return body


def load(schema: type[Schema], body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The body loaded by the API's schema, or the problems of each field by its dotted path."""
    try:
        return schema().load(body), {}
    except ValidationError as invalid:
        return {}, flatten_messages(invalid.messages)


def form_values(setting: Mapping[str, Any]) -> dict[str, str]:
    """A setting (as the API shows it) as the form's field values."""
    values: dict[str, str] = {}
    for name, value in setting.items():
        if name == "payment_accounts":
            for bucket, entry in (value or {}).items():
                values[f"payment_accounts.{bucket}.account"] = entry.get("account") or ""
                values[f"payment_accounts.{bucket}.tag"] = entry.get("tag") or ""
        elif isinstance(value, bool):
            values[name] = "on" if value else ""
        elif name in ("sync_time", "summary_close_time") and value is not None:
            values[name] = value.strftime("%H:%M")
        elif value is not None:
            values[name] = str(value)
    return values
