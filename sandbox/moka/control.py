"""The sandbox's control API under `/_sandbox/`, for tests, benchmarks and the demo: reset,
seed a generated outlet, insert payments and other changes (each sending its webhook), manage
webhook subscriptions, inject faults, flip switches, and read the state. Unauthenticated: the
sandbox is never exposed beyond the developer's machine."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, request

from domain.moka_money import NotANumber, moka_decimal
from sandbox.moka import changes
from sandbox.moka.invoices import invoice_outstanding
from sandbox.moka.state import ApiError, MokaSandbox, unprocessable

control = Blueprint("moka_control", __name__, url_prefix="/_sandbox")

SEED_FIELDS = {
    "seed": int,
    "products": int,
    "customers": int,
    "days": int,
    "transactions_per_day": int,
    "email": str,
    "password": str,
    "deleted_products": int,
}
RATE_FIELDS = ("inconsistent_rate", "refund_rate", "invoice_rate")


def sandbox() -> MokaSandbox:
    found: MokaSandbox = current_app.extensions["moka_sandbox"]
    return found


def respond(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.data else {}
    if not isinstance(data, dict):
        raise unprocessable("The body must be a JSON object")
    return data


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise unprocessable(f"{name} must be an integer") from None


@control.post("/reset")
def reset() -> Response:
    sandbox().reset()
    return respond({"ok": True})


@control.post("/seed")
def seed() -> Response:
    given = body()
    options: dict[str, Any] = {}
    for key, kind in SEED_FIELDS.items():
        if given.get(key) is not None:
            options[key] = kind(given[key]) if kind is str else _int(given[key], key)
    if given.get("start_date"):
        try:
            options["start_date"] = date.fromisoformat(given["start_date"])
        except ValueError:
            raise unprocessable("start_date must be YYYY-MM-DD") from None
    for name in RATE_FIELDS:
        if given.get(name) is not None:
            try:
                options[name] = float(given[name])
            except (TypeError, ValueError):
                raise unprocessable(f"{name} must be a number") from None
    seed_value = options.pop("seed", 1)
    return respond(sandbox().seed(seed_value, **options), 201)


@control.post("/payments")
def insert_payment() -> Response:
    given = body()
    if not isinstance(given.get("payment"), dict):
        raise unprocessable("payment must be an object")
    new_id = changes.insert_payment(
        sandbox(), _int(given.get("outlet_id"), "outlet_id"), given["payment"]
    )
    return respond({"id": new_id}, 201)


@control.patch("/payments/<payment_id>")
def update_payment(payment_id: str) -> Response:
    """`{customer_id?, payment_note?, table_name?}`; sends `moka.transaction.updated`."""
    payment = changes.update_payment(sandbox(), payment_id, body())
    return respond({"id": payment["id"], "updated_at": payment["updated_at"]})


@control.post("/payments/<payment_id>/refunds")
def refund_payment(payment_id: str) -> Response:
    """`{lines?: [{checkout_id, quantity}], created_at?}`: refund a sale, in full when no lines
    are given; sends `moka.transaction.refunded` where a subscription wants it."""
    given = body()
    lines = given.get("lines")
    if lines is not None and (
        not isinstance(lines, list)
        or not all(isinstance(line, dict) and line.get("checkout_id") for line in lines)
    ):
        raise unprocessable("lines must be a list of {checkout_id, quantity}")
    for line in lines or []:
        line["quantity"] = _int(line.get("quantity", 1), "quantity")
    refund = changes.add_refund(sandbox(), payment_id, lines, _moment(given.get("created_at")))
    return respond(refund, 201)


@control.patch("/taxes/<int:tax_id>")
def update_tax(tax_id: int) -> Response:
    """`{name?, rate?}`: the outlet's tax changes; the next master-data sync sees it."""
    return respond(changes.update_charge(sandbox(), "tax", tax_id, body()))


@control.patch("/gratuities/<int:gratuity_id>")
def update_gratuity(gratuity_id: int) -> Response:
    """`{name?, rate?}`: the outlet's service charge changes, in its sales types too."""
    return respond(changes.update_charge(sandbox(), "gratuity", gratuity_id, body()))


@control.post("/invoices/<invoice_id>/payments")
def pay_invoice(invoice_id: str) -> Response:
    """`{amount?, payment_type?, created_at?}`: pay an invoice in full (no amount) or in part;
    sends `moka.transaction.updated`."""
    given = body()
    record = changes.pay_invoice(
        sandbox(),
        invoice_id,
        amount=_amount(given.get("amount")),
        payment_type=str(given.get("payment_type") or "cash"),
        at=_moment(given.get("created_at")),
    )
    return respond(record, 201)


@control.post("/items")
def add_item() -> Response:
    given = body()
    item = changes.add_item(
        sandbox(), _int(given.get("outlet_id"), "outlet_id"), given.get("item") or {}
    )
    return respond({"id": item["id"], "item": item}, 201)


@control.patch("/items/<int:item_id>")
def update_item(item_id: int) -> Response:
    given = body()
    item = changes.update_item(
        sandbox(), _int(given.get("outlet_id"), "outlet_id"), item_id, given.get("changes") or {}
    )
    return respond({"id": item["id"], "item": item})


@control.delete("/items/<int:item_id>")
def delete_item(item_id: int) -> Response:
    outlet_id = _int(request.args.get("outlet_id"), "outlet_id")
    item = changes.delete_item(sandbox(), outlet_id, item_id)
    return respond({"id": item["id"], "item": item})


@control.post("/customers")
def add_customer() -> Response:
    given = body()
    customer = changes.add_customer(
        sandbox(), _int(given.get("business_id"), "business_id"), given.get("customer") or {}
    )
    return respond({"id": customer["id"], "customer": customer}, 201)


@control.patch("/customers/<int:customer_id>")
def update_customer(customer_id: int) -> Response:
    given = body()
    customer = changes.update_customer(
        sandbox(),
        _int(given.get("business_id"), "business_id"),
        customer_id,
        given.get("changes") or {},
    )
    return respond({"id": customer["id"], "customer": customer})


@control.post("/outlets/<int:outlet_id>")
def outlet_switches(outlet_id: int) -> Response:
    """`{"expired": true}` makes every API call on the outlet answer the "expired" 403."""
    given = body()
    box = sandbox()
    with box.lock:
        _, outlet = box.outlet(outlet_id)
        if "expired" in given:
            outlet.expired = bool(given["expired"])
        return respond({"id": outlet.id, "expired": outlet.expired})


@control.post("/subscriptions")
def subscribe() -> Response:
    given = body()
    if not given.get("url"):
        raise unprocessable("url is required")
    outlet_id = given.get("outlet_id")
    try:
        subscription = sandbox().webhooks.subscribe(
            str(given["url"]),
            str(given.get("secret") or sandbox().webhook_secret),
            given.get("events"),
            None if outlet_id in (None, "") else _int(outlet_id, "outlet_id"),
        )
    except ValueError as exc:
        raise unprocessable(str(exc)) from None
    return respond(subscription.as_json(), 201)


@control.get("/subscriptions")
def subscriptions() -> Response:
    hooks = sandbox().webhooks
    return respond({"subscriptions": [s.as_json() for s in list(hooks.subscriptions.values())]})


@control.delete("/subscriptions/<subscription_id>")
def unsubscribe(subscription_id: str) -> Response:
    if not sandbox().webhooks.unsubscribe(subscription_id):
        raise ApiError(
            404, f"Subscription {subscription_id} is not found", "ApiErrors::ResourceNotFoundError"
        )
    return respond({"ok": True})


@control.post("/webhooks/drain")
def drain() -> Response:
    timeout = float(body().get("timeout") or 10)
    return respond({"drained": sandbox().webhooks.wait_for_deliveries(timeout)})


@control.get("/webhooks/deliveries")
def deliveries() -> Response:
    hooks = sandbox().webhooks
    return respond({"pending": hooks.pending(), "attempts": list(hooks.attempts)})


@control.post("/faults")
def faults() -> Response:
    try:
        current = sandbox().set_faults(body())
    except (TypeError, ValueError) as exc:
        raise unprocessable(str(exc)) from None
    return respond(asdict(current))


@control.post("/settings")
def settings() -> Response:
    box = sandbox()
    with box.lock:
        try:
            box.settings.update(body())
        except ValueError as exc:
            raise unprocessable(str(exc)) from None
        return respond(asdict(box.settings))


@control.post("/tokens/expire")
def expire_tokens() -> Response:
    return respond({"expired": sandbox().expire_tokens(body().get("access_token"))})


@control.get("/state")
def state() -> Response:
    box = sandbox()
    with box.lock:
        businesses = []
        for business in box.businesses.values():
            outlets = []
            for outlet in business.outlets.values():
                payments = list(outlet.payments.values())
                invoices = [p for p in payments if p["payment_type"] == "invoice"]
                outlets.append(
                    {
                        "id": outlet.id,
                        "name": outlet.outlet["name"],
                        "expired": outlet.expired,
                        "payments": len(payments),
                        "refunds": sum(len(p["payment_refunds"]) for p in payments),
                        "invoices": len(invoices),
                        "unpaid_invoices": sum(1 for p in invoices if invoice_outstanding(p) > 0),
                        "items": len(outlet.items),
                        "products": sum(len(i["item_variants"]) for i in outlet.items.values()),
                        "deleted_items": sum(1 for i in outlet.items.values() if i["is_deleted"]),
                    }
                )
            businesses.append(
                {
                    "id": business.id,
                    "name": business.business["name"],
                    "email": business.user["email"],
                    "customers": len(business.customers),
                    "outlets": outlets,
                }
            )
        return respond(
            {
                "businesses": businesses,
                "tokens": sum(1 for t in box.tokens.values() if not t.revoked),
                "subscriptions": [s.as_json() for s in box.webhooks.subscriptions.values()],
                "webhooks": {
                    "pending": box.webhooks.pending(),
                    "attempts": len(box.webhooks.attempts),
                },
                "faults": asdict(box.faults),
                "settings": asdict(box.settings),
            }
        )


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        if value == "":
            raise NotANumber("empty")
        return moka_decimal(value)
    except NotANumber:
        raise unprocessable("amount must be a number") from None


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise unprocessable("created_at needs a UTC offset")
    return moment
