"""Changes to a sandbox outlet, made through the control API or Moka's own item deletion:
payments (sales, invoices, refunds), invoice payments, items and customers. Each change emits
its webhook (reference §12.2) after the data is stored.

How a posted payment is read (`/_sandbox/payments`):

* with `parent_payment_uuid`, it is a **refund** of that sale. Without money fields it is
  computed by the sandbox from `checkouts[{parent_checkout_uuid, quantity}]` (every remaining
  unit when omitted); with them (`total_collected_amount`) it is stored as given. The sale then
  carries it in `payment_refunds[]` and `moka.transaction.refunded` is sent with the sale.
* with `total_collected`, it is a **complete** v3 payment stored as given, with missing keys
  filled with defaults. Its arithmetic is the caller's business: this is how a test feeds an
  inconsistent payment.
* otherwise it is a **cart**: `checkouts[{item_variant_id | item_id, quantity, modifiers
  [{modifier_option_id}], discounts[{discount_id}]}]`, optional `payment_discounts`,
  `payment_taxes`, `payment_gratuities` (by id), `sales_type_id`, `payment_type`, `customer_id`,
  `created_at`, `tendered`, `id`. The sandbox prices it from the library and the outlet's
  checkout settings, so its arithmetic is exact. `moka.transaction.created` is sent.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from domain.moka_money import moka_decimal
from sandbox.moka.catalog import build_item
from sandbox.moka.formats import display_date, display_time, iso_ms, iso_us
from sandbox.moka.generator import charge_of, discount_of
from sandbox.moka.invoices import InvoiceError, record_invoice_payment
from sandbox.moka.payments import Cart, CartLine, price_cart
from sandbox.moka.refunds import RefundError, apply_refund, refund_payment
from sandbox.moka.state import BusinessState, MokaSandbox, OutletState, not_found, unprocessable
from sandbox.moka.views import as_served

Json = dict[str, Any]


def insert_payment(sandbox: MokaSandbox, outlet_id: int, payload: Json) -> str:
    with sandbox.lock:
        business, outlet = sandbox.outlet(outlet_id)
        if payload.get("parent_payment_uuid"):
            sale = _insert_refund(sandbox, outlet, payload)
            event, body, returned = (
                "moka.transaction.refunded",
                sale,
                sale["payment_refunds"][-1]["uuid"],
            )
        else:
            if payload.get("id") in outlet.payments:
                raise unprocessable(f"Payment {payload['id']} already exists")
            if "total_collected" in payload:
                payment = _complete_payment(sandbox, outlet, payload)
            else:
                payment = _priced_with_a_new_id(sandbox, business, outlet, payload)
            outlet.payments[payment["id"]] = payment
            event, body, returned = "moka.transaction.created", payment, payment["id"]
        delay = _hold_if_offline(sandbox, outlet, body) if event.endswith("created") else 0.0
        sandbox.webhooks.publish(event, outlet.id, served(sandbox, body), delay=delay)
        return returned


def _priced_with_a_new_id(
    sandbox: MokaSandbox, business: BusinessState, outlet: OutletState, payload: Json
) -> Json:
    """The cart priced under an id no payment of the outlet has. Moka's ids never repeat, but
    the sandbox's seeded ids come from the same kind of stream as the generator's, so a live
    sale could draw a generated sale's id and replace it."""
    while True:
        payment = price_cart(_cart(sandbox, business, outlet, payload), outlet.context, sandbox.ids)
        if payment["id"] not in outlet.payments:
            return payment


def served(sandbox: MokaSandbox, payment: Json) -> Json:
    """A copy of the payment as Moka shows it (webhooks and the API alike)."""
    return copy.deepcopy(as_served(payment, sandbox.settings))


def _hold_if_offline(sandbox: MokaSandbox, outlet: OutletState, payment: Json) -> float:
    """With `offline_delay_minutes`, the payment reaches the server that long after it was made:
    its own times stay, `synchronized_at` shows the arrival, and the API and webhooks hold it
    back until then. Returns the webhook's delay in seconds."""
    minutes = sandbox.settings.offline_delay_minutes
    if not minutes:
        return 0.0
    arrival = datetime.fromisoformat(payment["created_at"]) + timedelta(minutes=minutes)
    payment["synchronized_at"] = iso_us(arrival)
    outlet.arrives_at[payment["id"]] = arrival
    return max(0.0, (arrival - sandbox.now()).total_seconds())


def add_refund(
    sandbox: MokaSandbox, payment_id: str, lines: list[Json] | None, at: datetime | None
) -> Json:
    """A refund of a sale, days after it if need be: of every unit left when `lines` is empty,
    else of `[{checkout_id, quantity}]`. Whether the sale's `updated_at` moves follows the
    switch `refunds_bump_sale_updated_at`. Sends `moka.transaction.refunded`."""
    with sandbox.lock:
        outlet = _outlet_holding(sandbox, payment_id)
        payload: Json = {"parent_payment_uuid": payment_id}
        if at is not None:
            payload["created_at"] = at.isoformat()
        if lines:
            payload["checkouts"] = [
                {"parent_checkout_uuid": line["checkout_id"], "quantity": line.get("quantity")}
                for line in lines
            ]
        refund_id = insert_payment(sandbox, outlet.id, payload)
        sale = outlet.payments[payment_id]
        return {"id": refund_id, "payment_id": payment_id, "updated_at": sale["updated_at"]}


def _insert_refund(sandbox: MokaSandbox, outlet: OutletState, payload: Json) -> Json:
    sale = outlet.payments.get(payload["parent_payment_uuid"])
    if sale is None:
        raise not_found(f"Payment {payload['parent_payment_uuid']} is not found")
    at = _moment(payload.get("created_at"), sandbox)
    if "total_collected_amount" in payload:
        refund = {
            "uuid": payload.get("uuid") or sandbox.ids.uuid(),
            "created_at": iso_us(at),
            "updated_at": iso_us(at),
            **payload,
        }
        refund.setdefault("refund_uuid", refund["uuid"])
    else:
        quantities = None
        if payload.get("checkouts"):
            quantities = {
                line["parent_checkout_uuid"]: abs(int(line.get("quantity") or 1))
                for line in payload["checkouts"]
            }
        try:
            refund = refund_payment(
                sale,
                outlet.context,
                sandbox.ids,
                at=at,
                quantities=quantities,
                reason=payload.get("refunded_reason") or "Cancelled Order",
                payment_type=payload.get("payment_type"),
            )
        except RefundError as exc:
            raise unprocessable(str(exc)) from exc
    apply_refund(sale, refund, bump_updated_at=sandbox.settings.refunds_bump_sale_updated_at)
    return sale


def _moment(value: Any, sandbox: MokaSandbox) -> datetime:
    if not value:
        return sandbox.now()
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise unprocessable(f"created_at {value} has no UTC offset")
    return moment


def _cart(
    sandbox: MokaSandbox, business: BusinessState, outlet: OutletState, payload: Json
) -> Cart:
    lines_in = payload.get("checkouts") or []
    if not lines_in:
        raise unprocessable("A payment needs at least one checkout")
    sales_type_id = payload.get("sales_type_id") or lines_in[0].get("sales_type_id")
    sales_type = _sales_type(outlet, sales_type_id)
    lines = [_cart_line(outlet, row) for row in lines_in]
    settings = outlet.checkout_settings
    customer = None
    if payload.get("customer_id") is not None:
        customer = business.customers.get(int(payload["customer_id"]))
        if customer is None:
            raise unprocessable(f"Customer {payload['customer_id']} does not exist")
    payment_type = payload.get("payment_type") or "cash"
    if payment_type == "invoice" and customer is None:
        raise unprocessable("An invoice needs a customer_id")
    taxes = _by_ids(outlet.taxes, payload.get("payment_taxes"), "tax_id", "Tax")
    if taxes is None:
        # The outlet's taxes are its configuration: a taxed sale carries every one of them.
        live = [t for t in outlet.taxes.values() if not t.get("is_deleted")]
        taxes = live if settings["enable_tax"] else []
    gratuities = _by_ids(
        outlet.gratuities, payload.get("payment_gratuities"), "gratuity_id", "Gratuity"
    )
    if gratuities is None:
        gratuities = [
            outlet.gratuities[int(g["id"])]
            for g in sales_type["gratuities"]
            if settings["enable_gratuity"] and int(g["id"]) in outlet.gratuities
        ]
    bill = (
        _by_ids(outlet.discounts, payload.get("payment_discounts"), "discount_id", "Discount") or []
    )
    tendered = payload.get("tendered")
    return Cart(
        created_at=_moment(payload.get("created_at"), sandbox),
        sales_type=sales_type,
        lines=lines,
        payment_type=payment_type,
        bill_discounts=[discount_of(d) for d in bill],
        customer=customer,
        gratuities=[charge_of(g) for g in gratuities],
        taxes=[charge_of(t) for t in taxes],
        include_gratuity_tax=bool(
            payload.get("include_gratuity_tax", settings["include_gratuity_tax"])
        ),
        enable_rounding=bool(settings["enable_rounding"]),
        enable_tax=bool(settings["enable_tax"]),
        enable_gratuity=bool(settings["enable_gratuity"]),
        tendered=None if tendered is None else moka_decimal(tendered),
        payment_note=payload.get("payment_note"),
        card_type=payload.get("card_type"),
        card_no=payload.get("card_no"),
        table_name=payload.get("table_name") or "",
        payment_id=payload.get("id"),
    )


def _sales_type(outlet: OutletState, sales_type_id: Any) -> Json:
    if sales_type_id is not None:
        found = outlet.sales_types.get(int(sales_type_id))
        if found is None:
            raise unprocessable(f"Sales type {sales_type_id} does not exist")
        return found
    return next(
        (s for s in outlet.sales_types.values() if s["default_state"]),
        next(iter(outlet.sales_types.values())),
    )


def _by_ids(rows: dict[int, Json], given: Any, key: str, label: str) -> list[Json] | None:
    if given is None:
        return None
    chosen = []
    for entry in given:
        row_id = int(entry[key] if isinstance(entry, dict) else entry)
        if row_id not in rows:
            raise unprocessable(f"{label} {row_id} does not exist")
        chosen.append(rows[row_id])
    return chosen


def _cart_line(outlet: OutletState, row: Json) -> CartLine:
    item, variant = _variant(outlet, row)
    options = []
    for chosen in row.get("modifiers") or []:
        option_id = int(chosen["modifier_option_id"])
        match = next(
            (
                (group, option)
                for group in item["active_modifiers"]
                for option in group["modifier_options"]
                if option["id"] == option_id
            ),
            None,
        )
        if match is None:
            raise unprocessable(f"Modifier option {option_id} is not offered on item {item['id']}")
        options.append(match)
    discounts = _by_ids(outlet.discounts, row.get("discounts"), "discount_id", "Discount") or []
    quantity = int(row.get("quantity") or 1)
    if quantity < 1:
        raise unprocessable("quantity must be at least 1 (refunds go through parent_payment_uuid)")
    return CartLine(
        item, variant, quantity, options, [discount_of(d) for d in discounts], note=row.get("note")
    )


def _variant(outlet: OutletState, row: Json) -> tuple[Json, Json]:
    if row.get("item_variant_id") is not None:
        wanted = int(row["item_variant_id"])
        for item in outlet.items.values():
            for variant in item["item_variants"]:
                if variant["id"] == wanted:
                    return item, variant
        raise unprocessable(f"Item variant {wanted} does not exist")
    if row.get("item_id") is not None:
        item = outlet.items.get(int(row["item_id"]))
        if item is None:
            raise unprocessable(f"Item {row['item_id']} does not exist")
        return item, item["item_variants"][0]
    raise unprocessable("A checkout needs item_variant_id or item_id")


def _complete_payment(sandbox: MokaSandbox, outlet: OutletState, payload: Json) -> Json:
    ctx = outlet.context
    created = _moment(payload.get("created_at"), sandbox)
    payment_id = payload.get("id") or sandbox.ids.uuid()
    kind = payload.get("payment_type") or "cash"
    defaults: Json = {
        "id": payment_id,
        "payment_no": ctx.next_payment_no(),
        "created_at": iso_us(created),
        "updated_at": iso_us(created),
        "parent_payment_created_at": iso_us(created),
        "total_collected": 0,
        "total_item_price_amount": 0,
        "name": "",
        "parent_payment_id": payment_id,
        "payment_type": kind,
        "payment_type_label": kind.replace("_", " ").title(),
        "customer_id": None,
        "payment_note": None,
        "discounts": 0,
        "subtotal": 0,
        "gratuities": 0,
        "taxes": 0,
        "tendered": payload.get("total_collected", 0),
        "change": 0,
        "include_gratuity_tax": False,
        "enable_tax": True,
        "enable_gratuity": True,
        "card_type": None,
        "card_no": None,
        "transaction_date": display_date(created),
        "transaction_time": display_time(created),
        "collected_by": ctx.staff[0].name,
        "served_by": ctx.staff[0].name,
        "synchronized_at": iso_us(created + timedelta(seconds=5)),
        "outlet_id": ctx.outlet_id,
    }
    for key in (
        "pg_mid",
        "mpos_device_id",
        "transaction_certificate",
        "transaction_status_info",
        "mpos_transaction_date",
        "merchant_id",
        "transaction_reference",
        "transaction_number",
        "order_info",
        "cc_name",
        "pii",
    ):
        defaults[key] = None
    defaults |= {
        "guid": sandbox.ids.guid(),
        "uniq_id": ctx.device_uniq_id,
        "invoice_due_date": None,
        "invoice_no": None,
        "invoice_deposit_amount": None,
        "invoice_payment_records": [] if kind == "invoice" else None,
        "payment_discounts": [],
        "payment_taxes": [],
        "payment_gratuities": [],
        "checkouts": [],
        "payment_refunds": [],
        "is_refund_breakdown": True,
        "total_refund": 0,
        "is_refunded": False,
        "refund_amount": 0,
        "customer_name": None,
        "customer_phone": "",
        "customer_email": "",
        "table_name": "",
        "total_rounding_amount": None,
        "order_id": ctx.next_order_id(),
    }
    payment = {key: payload.get(key, default) for key, default in defaults.items()}
    payment |= {key: value for key, value in payload.items() if key not in payment}
    if not payment["name"] and payment["checkouts"]:
        payment["name"] = payment["checkouts"][0].get("item_name", "")
    return payment


def pay_invoice(
    sandbox: MokaSandbox,
    invoice_id: str,
    *,
    amount: Decimal | None,
    payment_type: str,
    at: datetime | None,
) -> Json:
    """Record a payment on an invoice (all that is owed when `amount` is None) and send
    `moka.transaction.updated` with the invoice."""
    with sandbox.lock:
        outlet = _outlet_holding(sandbox, invoice_id)
        invoice = outlet.payments[invoice_id]
        try:
            record = record_invoice_payment(
                invoice,
                sandbox.ids,
                amount=amount,
                payment_type=payment_type,
                at=at or sandbox.now(),
            )
        except InvoiceError as exc:
            raise unprocessable(str(exc)) from exc
        sandbox.webhooks.publish("moka.transaction.updated", outlet.id, served(sandbox, invoice))
        return record


def update_payment(sandbox: MokaSandbox, payment_id: str, changes: Json) -> Json:
    """A correction at the till: attach a customer (`customer_id`), or change `payment_note` or
    `table_name`; moves `updated_at` and sends `moka.transaction.updated`."""
    with sandbox.lock:
        outlet = _outlet_holding(sandbox, payment_id)
        business, _ = sandbox.outlet(outlet.id)
        payment = outlet.payments[payment_id]
        if "customer_id" in changes:
            customer = business.customers.get(int(changes["customer_id"] or 0))
            if customer is None:
                raise unprocessable(f"Customer {changes['customer_id']} does not exist")
            payment["customer_id"], payment["customer_name"] = customer["id"], customer["name"]
            payment["customer_phone"] = customer.get("phone") or ""
            payment["customer_email"] = customer.get("email") or ""
        for key in ("payment_note", "table_name"):
            if key in changes:
                payment[key] = changes[key]
        payment["updated_at"] = iso_us(sandbox.now())
        sandbox.webhooks.publish("moka.transaction.updated", outlet.id, served(sandbox, payment))
        return payment


def _outlet_holding(sandbox: MokaSandbox, payment_id: str) -> OutletState:
    for business in sandbox.businesses.values():
        for outlet in business.outlets.values():
            if payment_id in outlet.payments:
                return outlet
    raise not_found(f"Payment {payment_id} is not found")


# -- library ----------------------------------------------------------------------------------


def _next_id(rows: dict[int, Json], *others: dict[int, Json]) -> int:
    return max([0, *rows, *(k for other in others for k in other)]) + 1


def add_item(sandbox: MokaSandbox, outlet_id: int, payload: Json) -> Json:
    """A new item: `name`, `price` or `variants[{name, price, sku}]`, optional `category_id`
    and `modifier_ids`; sends `moka.item.added`."""
    with sandbox.lock:
        _, outlet = sandbox.outlet(outlet_id)
        if not payload.get("name"):
            raise unprocessable("An item needs a name")
        category = outlet.categories.get(int(payload.get("category_id") or 0)) or next(
            iter(outlet.categories.values())
        )
        variants = payload.get("variants") or [{"name": "", "price": payload.get("price", 0)}]
        groups = [
            outlet.modifiers[int(m)]
            for m in payload.get("modifier_ids") or []
            if int(m) in outlet.modifiers
        ]
        now = sandbox.now()
        variant_ids = {v["id"]: v for i in outlet.items.values() for v in i["item_variants"]}
        ids = count(_next_id(outlet.items, variant_ids))

        def stamp() -> Json:
            return {
                "business_id": outlet.outlet["business_id"],
                "is_deleted": False,
                "created_at": iso_ms(now),
                "updated_at": iso_ms(now),
                "outlet_id": outlet.id,
                "guid": sandbox.ids.uuid(),
                "uniq_id": None,
                "synchronized_at": iso_ms(now),
            }

        item = build_item(
            sandbox.rng,
            ids,
            stamp,
            payload["name"],
            category,
            [(v.get("name") or "", 0) for v in variants],
            0,
            groups,
            list(outlet.sales_types.values()),
            tracked=False,
            code="",
        )
        item["is_sales_type_price"] = bool(payload.get("is_sales_type_price", False))
        for variant, given in zip(item["item_variants"], variants, strict=True):
            variant["price"] = given.get("price", 0)
            variant["sku"] = given.get("sku") or ""
            for entry in variant["sales_type_items"]:
                entry["sales_type_price"] = variant["price"]
        outlet.items[item["id"]] = item
        sandbox.webhooks.publish("moka.item.added", outlet.id, copy.deepcopy(item))
        return item


def update_item(sandbox: MokaSandbox, outlet_id: int, item_id: int, changes: Json) -> Json:
    """Change an item's `name`, `description`, `category_id` or its variants' `price`
    (`variant_id` picks one, else all); sends `moka.item.updated`."""
    with sandbox.lock:
        _, outlet = sandbox.outlet(outlet_id)
        item = _live_item(outlet, item_id)
        now = iso_ms(sandbox.now())
        for key in ("name", "description"):
            if key in changes:
                item[key] = changes[key]
        if "category_id" in changes:
            category = outlet.categories.get(int(changes["category_id"]))
            if category is None:
                raise unprocessable(f"Category {changes['category_id']} does not exist")
            item["category_id"], item["category"] = category["id"], dict(category)
        if "price" in changes:
            for variant in item["item_variants"]:
                if changes.get("variant_id") in (None, variant["id"]):
                    variant["price"] = changes["price"]
                    variant["updated_at"] = now
        item["updated_at"] = item["synchronized_at"] = now
        sandbox.webhooks.publish("moka.item.updated", outlet.id, copy.deepcopy(item))
        return item


def delete_item(sandbox: MokaSandbox, outlet_id: int, item_id: int) -> Json:
    """Soft-delete an item and its variants; sends `moka.item.deleted` with its last state."""
    with sandbox.lock:
        _, outlet = sandbox.outlet(outlet_id)
        item = _live_item(outlet, item_id)
        now = iso_ms(sandbox.now())
        item["is_deleted"] = True
        item["updated_at"] = item["synchronized_at"] = now
        for variant in item["item_variants"]:
            variant["is_deleted"], variant["updated_at"] = True, now
        sandbox.webhooks.publish("moka.item.deleted", outlet.id, copy.deepcopy(item))
        return item


def _live_item(outlet: OutletState, item_id: int) -> Json:
    item = outlet.items.get(item_id)
    if item is None or item["is_deleted"]:
        raise unprocessable("Item does not found or already removed.")
    return item


# -- taxes and service charges ---------------------------------------------------------------


def update_charge(sandbox: MokaSandbox, kind: str, charge_id: int, changes: Json) -> Json:
    """A change in the outlet's configuration of a tax or a service charge (`kind`: "tax" or
    "gratuity"): `name` and/or `rate` (a percent). New sales use it; the next master-data sync
    sees it by its `updated_at`. Moka has no webhook for either (§12.2), so none is sent."""
    unknown = set(changes) - {"name", "rate"}
    if unknown:
        raise unprocessable(f"Unknown fields: {', '.join(sorted(unknown))}")
    rate = None
    if "rate" in changes:
        rate = moka_decimal(changes["rate"]) if changes["rate"] is not None else None
        if rate is None or not Decimal(0) <= rate <= Decimal(100):
            raise unprocessable("rate must be a percent between 0 and 100")
    if "name" in changes and not str(changes["name"] or "").strip():
        raise unprocessable("name must not be empty")
    with sandbox.lock:
        for business in sandbox.businesses.values():
            for outlet in business.outlets.values():
                rows = outlet.taxes if kind == "tax" else outlet.gratuities
                row = rows.get(charge_id)
                if row is None:
                    continue
                if "name" in changes:
                    row["name"] = str(changes["name"]).strip()
                if rate is not None:
                    row["amount"] = float(rate)
                row["updated_at"] = row["synchronized_at"] = iso_ms(sandbox.now())
                if kind == "gratuity":
                    _update_sales_type_gratuities(outlet, row)
                return row
    label = "Tax" if kind == "tax" else "Gratuity"
    raise not_found(f"{label} {charge_id} is not found")


def _update_sales_type_gratuities(outlet: OutletState, gratuity: Json) -> None:
    # Sales types embed their service charges, with the rate as a string (§7).
    for sales_type in outlet.sales_types.values():
        for attached in sales_type.get("gratuities") or []:
            if int(attached["id"]) == int(gratuity["id"]):
                attached["name"] = gratuity["name"]
                attached["amount"] = f"{gratuity['amount']:g}"


# -- customers --------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("email", "name", "phone", "address", "city", "state", "postal_code", "birthday")


def add_customer(sandbox: MokaSandbox, business_id: int, payload: Json) -> Json:
    """A business customer (`name` required); sends `moka.customer.added` to every outlet."""
    with sandbox.lock:
        business = sandbox.business(business_id)
        if not payload.get("name"):
            raise unprocessable("A customer needs a name")
        now = iso_ms(sandbox.now())
        outlet_id = payload.get("outlet_id") or next(iter(business.outlets))
        customer = {"id": _next_id(business.customers)}
        customer |= {key: payload.get(key) for key in CUSTOMER_FIELDS}
        customer |= {
            "business_id": business.id,
            "outlet_id": outlet_id,
            "is_deleted": False,
            "created_at": now,
            "updated_at": now,
            "synchronized_at": now,
            "loyalty": payload.get("loyalty"),
        }
        customer = {
            k: customer[k]
            for k in (
                "id",
                "email",
                "name",
                "phone",
                "address",
                "city",
                "state",
                "postal_code",
                "business_id",
                "outlet_id",
                "birthday",
                "is_deleted",
                "created_at",
                "updated_at",
                "synchronized_at",
                "loyalty",
            )
        }
        business.customers[customer["id"]] = customer
        _publish_customer(sandbox, business, "moka.customer.added", customer)
        return customer


def update_customer(
    sandbox: MokaSandbox, business_id: int, customer_id: int, changes: Json
) -> Json:
    with sandbox.lock:
        business = sandbox.business(business_id)
        customer = business.customers.get(customer_id)
        if customer is None:
            raise not_found(f"Customer {customer_id} is not found")
        for key in (*CUSTOMER_FIELDS, "is_deleted"):
            if key in changes:
                customer[key] = changes[key]
        customer["updated_at"] = customer["synchronized_at"] = iso_ms(sandbox.now())
        _publish_customer(sandbox, business, "moka.customer.updated", customer)
        return customer


def _publish_customer(
    sandbox: MokaSandbox, business: BusinessState, event: str, customer: Json
) -> None:
    # Customers belong to the business: every outlet's subscriptions hear of them.
    for outlet_id in business.outlets:
        sandbox.webhooks.publish(event, outlet_id, copy.deepcopy(customer))
