"""Moka's API paths (reference §6): profile, businesses, outlets, the v1 library and customers,
v3/v4 latest transactions, v3 invoices and v2 reports, with Moka's envelopes, errors, paging
styles, scopes, `+07:00` times and float money."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request

from sandbox.moka import changes
from sandbox.moka.formats import WIB
from sandbox.moka.reports import payment_methods, sales_summary
from sandbox.moka.state import (
    AccessToken,
    ApiError,
    BusinessState,
    MokaSandbox,
    OutletState,
    missing_param,
    not_found,
)
from sandbox.moka.views import as_served, as_v4, invoice_detail, invoice_row, loyalty_of

Json = dict[str, Any]
# `since` and `until` are absolute epoch seconds (§4.2, §14): the epoch is midnight UTC.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIME_FILTERS = ("created_at", "updated_at", "synchronized_at")

api = Blueprint("moka_api", __name__)


def sandbox() -> MokaSandbox:
    found: MokaSandbox = current_app.extensions["moka_sandbox"]
    return found


def respond(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def envelope(data: Any) -> Json:
    return {"data": data, "meta": {"code": 200, "errors": {}}}


@api.before_request
def inject_faults() -> Response | None:
    box = sandbox()
    faults = box.faults
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if request.method in ("POST", "PUT", "PATCH") and not request.is_json:
        raise ApiError(
            415,
            "Please use 'Content-Type: application/json' as your http headers",
            "ApiErrors::SetApplicationJsonAsContentTypeError",
            null_data=True,
        )
    if box.roll(faults.error_rate):
        raise ApiError(500, "Internal Server Error", "Exception")
    if box.roll(faults.rate_limit_rate):
        raise rate_limited()
    return None


def rate_limited() -> ApiError:
    return ApiError(429, "Quota limit exceeded", "Too Many Request")


def token_value() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.args.get("access_token")


def authorize(*scopes: str) -> AccessToken:
    """The caller's token, holding at least one of `scopes` (the first is named in the 403)."""
    box = sandbox()
    token = box.valid_token(token_value())
    if not any(scope in token.scopes for scope in scopes):
        raise ApiError(
            403,
            f"The token isn't granted at least one of these scopes: {scopes[0]}",
            "Doorkeeper::OAuth::ForbiddenTokenResponse",
            null_data=True,
        )
    if box.over_rate_limit(token):
        raise rate_limited()
    return token


def own_business(token: AccessToken, business_id: int) -> BusinessState:
    if business_id != token.business_id:
        raise not_found(f"Business {business_id} is not found")
    return sandbox().business(business_id)


def own_outlet(token: AccessToken, outlet_id: int) -> tuple[BusinessState, OutletState]:
    try:
        business, outlet = sandbox().outlet(outlet_id)
    except ApiError:
        raise not_found(f"Outlet {outlet_id} is not found") from None
    if business.id != token.business_id:
        raise not_found(f"Outlet {outlet_id} is not found")
    if outlet.expired:
        name = outlet.outlet["name"]
        raise ApiError(
            403,
            f"Outlet {name} (ID:{outlet_id}) has been expired. Owner must renew "
            "the subscription by logging in to Moka's Back-Office.",
            "ApiErrors::OutletExpiredError",
            null_data=True,
        )
    return business, outlet


# -- parameters ---------------------------------------------------------------------------------


def int_param(name: str, default: int, *, low: int = 1, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise missing_param(name) from None
    if value < low:
        raise missing_param(name)
    return min(value, high) if high else value


def flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def epoch_param(name: str) -> int | None:
    """`since`/`until`: epoch seconds as floats, read exactly to the microsecond."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int((Decimal(raw) * 1_000_000).to_integral_value(ROUND_HALF_EVEN))
    except InvalidOperation:
        raise missing_param(name) from None


def epoch_text(value: int) -> str:
    return f"{value // 1_000_000}.{value % 1_000_000:06d}"


def per_page(cap: int | None = None) -> int:
    settings = sandbox().settings
    return int_param("per_page", settings.default_per_page, high=cap or settings.max_per_page)


def date_param(name: str, *, required: bool) -> date | None:
    raw = request.args.get(name)
    if not raw:
        if required:
            raise missing_param(name)
        return None
    try:
        return datetime.strptime(raw, "%d/%m/%Y").date()
    except ValueError:
        raise missing_param(name) from None


# -- profile, businesses, outlets ---------------------------------------------------------------


@api.get("/v1/profile/self")
def profile() -> Response:
    token = authorize("profile")
    with sandbox().lock:
        return respond(sandbox().business(token.business_id).user)


@api.get("/v1/businesses")
def businesses() -> Response:
    token = authorize("profile")
    with sandbox().lock:
        return respond(envelope({"business": sandbox().business(token.business_id).business}))


@api.get("/v1/businesses/<int:business_id>/outlets")
def outlets(business_id: int) -> Response:
    business = own_business(authorize("profile"), business_id)
    with sandbox().lock:
        return respond(envelope({"outlets": [o.outlet for o in business.outlets.values()]}))


@api.get("/v1/businesses/<int:business_id>/checkout_settings")
def checkout_settings(business_id: int) -> Response:
    business = own_business(authorize("profile"), business_id)
    with sandbox().lock:
        first = next(iter(business.outlets.values()))
        return respond(envelope(dict(first.checkout_settings)))


@api.get("/v1/businesses/<int:business_id>/customers")
def customers(business_id: int) -> Response:
    business = own_business(authorize("customer"), business_id)
    box = sandbox()
    with box.lock:
        rows = library_page(business.customers.values(), cap=box.settings.customers_max_per_page)
        # Customers come without totals, and the page may be capped below `per_page` (§4.1).
        return respond(envelope({"customers": rows["rows"]}))


# -- library ------------------------------------------------------------------------------------


def library_page(rows: Iterable[Json], cap: int | None = None) -> Json:
    """`since`/`until` on `updated_at`, `include_deleted`, then `page`/`per_page`."""
    since, until = epoch_param("since"), epoch_param("until")
    include_deleted = flag("include_deleted")
    kept = []
    for row in sorted(rows, key=lambda r: r["id"]):
        if row.get("is_deleted") and not include_deleted:
            continue
        if since is not None or until is not None:
            moment = micros(datetime.fromisoformat(row["updated_at"]))
            if (since is not None and moment < since) or (until is not None and moment > until):
                continue
        kept.append(row)
    size = per_page(cap)
    page = int_param("page", 1)
    return {
        "total_pages": math.ceil(len(kept) / size),
        "total_count": len(kept),
        "rows": kept[(page - 1) * size : page * size],
    }


LIBRARY: dict[str, tuple[str, Callable[[OutletState], dict[int, Json]]]] = {
    "items": ("items", lambda o: o.items),
    "categories": ("category", lambda o: o.categories),
    "modifiers": ("modifier", lambda o: o.modifiers),
    "discounts": ("discount", lambda o: o.discounts),
    "taxes": ("tax", lambda o: o.taxes),
    "gratuities": ("gratuity", lambda o: o.gratuities),
    "sales_type": ("results", lambda o: o.sales_types),
}


@api.get(
    "/v1/outlets/<int:outlet_id>/<any(items, categories, modifiers, discounts, taxes, "
    "gratuities, sales_type):kind>"
)
def library(outlet_id: int, kind: str) -> Response:
    # The spec's security for sales types is `profile`, its prose `library`: accept either.
    scopes = ("profile", "library") if kind == "sales_type" else ("library",)
    _, outlet = own_outlet(authorize(*scopes), outlet_id)
    key, rows_of = LIBRARY[kind]
    with sandbox().lock:
        page = library_page(rows_of(outlet).values())
        return respond(
            envelope(
                {
                    "total_pages": page["total_pages"],
                    "total_count": page["total_count"],
                    key: page["rows"],
                }
            )
        )


@api.get("/v1/outlets/<int:outlet_id>/sales_type/<int:sales_type_id>")
def one_sales_type(outlet_id: int, sales_type_id: int) -> Response:
    _, outlet = own_outlet(authorize("profile", "library"), outlet_id)
    with sandbox().lock:
        found = outlet.sales_types.get(sales_type_id)
        if found is None:
            raise not_found(f"Sales type {sales_type_id} is not found")
        return respond(envelope(found))


@api.post("/v1/outlets/<int:outlet_id>/items")
def create_item(outlet_id: int) -> Response:
    """`{"item": {name, category_id?, variants: [{name, price, sku}] | price}}` (a simplified
    body: Sambung never writes items); sends `moka.item.added`."""
    own_outlet(authorize("library"), outlet_id)
    given = request.get_json(silent=True) or {}
    item = changes.add_item(sandbox(), outlet_id, given.get("item") or {})
    return respond(envelope(item))


@api.delete("/v1/outlets/<int:outlet_id>/items/<int:item_id>")
def delete_item(outlet_id: int, item_id: int) -> Response:
    own_outlet(authorize("library"), outlet_id)
    changes.delete_item(sandbox(), outlet_id, item_id)
    return respond(envelope({}))


# -- latest transactions ------------------------------------------------------------------------


@api.get("/<any(v1, v2):version>/outlets/<int:outlet_id>/reports/get_latest_transactions")
def deprecated_latest_transactions(version: str, outlet_id: int) -> Response:
    raise ApiError(410, "Service Deprecated", "ApiErrors::TerminatedEndPoint")


@api.get("/<any(v3, v4):version>/outlets/<int:outlet_id>/reports/get_latest_transactions")
def latest_transactions(version: str, outlet_id: int) -> Response:
    # v4's security says `report`, its prose `transaction` (§6): accept either.
    scopes = ("transaction",) if version == "v3" else ("report", "transaction")
    business, outlet = own_outlet(authorize(*scopes), outlet_id)
    box = sandbox()
    time_filter = request.args.get("time_filter") or box.settings.default_time_filter
    if time_filter not in TIME_FILTERS:
        raise missing_param("time_filter")
    ascending = (request.args.get("reorder_type") or "DESC").upper() == "ASC"
    size = per_page()
    since = epoch_param("since") or 0
    until = epoch_param("until")
    with box.lock:
        if until is None:
            until = micros(box.now())
        keyed = []
        for payment in outlet.served_payments(box.now()):
            if (
                payment["payment_type"] == "invoice"
                and not box.settings.invoices_in_latest_transactions
            ):
                continue
            moment = micros(datetime.fromisoformat(payment[time_filter]))
            if since <= moment <= until:
                keyed.append((moment, payment["id"], payment))
        keyed.sort(key=lambda row: (row[0], row[1]), reverse=not ascending)
        page = keyed[:size]
        completed = len(keyed) <= size
        payments = [as_served(row[2], box.settings) for row in page]
        if version == "v4":
            name = outlet.outlet["name"]
            payments = [
                as_v4(p, name, loyalty_of(p, business.customers.get(p["customer_id"] or 0)))
                for p in payments
            ]
        next_url = "" if completed else next_page_url(page, since, until, ascending)
        body = {"data": {"next_url": next_url, "completed": completed, "payments": payments}}
        return respond(body)


def next_page_url(
    page: list[tuple[int, str, Json]], since: int, until: int, ascending: bool
) -> str:
    """Keyset paging (§4.2): narrow `until` (DESC) or `since` (ASC) to the last row's time,
    inclusively, so a boundary row may repeat. When a whole page shares one instant, step past
    it so that paging always ends."""
    boundary = page[-1][0]
    if boundary == page[0][0]:
        boundary += 1 if ascending else -1
    if ascending:
        since = boundary
    else:
        until = boundary
    if sandbox().settings.next_url_keeps_filters:
        kept = [
            (k, v)
            for k, v in request.args.items(multi=True)
            if k not in ("since", "until", "access_token")
        ]
    else:
        # Only what the official example's next_url carries: filters and order are lost.
        kept = [("per_page", str(per_page())), ("mobile_device", "true")]
    kept += [("since", epoch_text(since)), ("until", epoch_text(until))]
    # The token rides along only when the caller sent it in the query (§4.2).
    if "access_token" in request.args:
        kept.append(("access_token", request.args["access_token"]))
    return f"{request.host_url.rstrip('/')}{request.path}?{urlencode(kept)}"


# -- invoices -----------------------------------------------------------------------------------


@api.get("/v3/outlets/<int:outlet_id>/reports/invoices")
def invoices(outlet_id: int) -> Response:
    _, outlet = own_outlet(authorize("transaction"), outlet_id)
    box = sandbox()
    start, end = date_param("start", required=False), date_param("end", required=False)
    time_filter = request.args.get("time_filter") or "created_at"
    if time_filter not in TIME_FILTERS:
        raise missing_param("time_filter")
    ascending = (request.args.get("reorder_type") or "DESC").upper() == "ASC"
    size, page = per_page(), int_param("page", 1)
    with box.lock:
        chosen = []
        for payment in outlet.served_payments(box.now()):
            if payment["payment_type"] != "invoice":
                continue
            day = datetime.fromisoformat(payment[time_filter]).astimezone(WIB).date()
            if (start and day < start) or (end and day > end):
                continue
            chosen.append(payment)
        chosen.sort(key=lambda p: (p[time_filter], p["id"]), reverse=not ascending)
        rows = [invoice_row(p, outlet.context) for p in chosen[(page - 1) * size : page * size]]
        completed = page * size >= len(chosen)
        next_url = ""
        if not box.settings.invoices_report_paging_hints:
            completed = True  # as in the example, whether or not more pages follow (§4.1)
        elif not completed:
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
            next_url = f"{request.base_url}?{urlencode([*args, ('page', page + 1)])}"
        return respond(envelope({"invoices": rows, "next_url": next_url, "completed": completed}))


@api.get("/v3/outlets/<int:outlet_id>/invoices/<invoice_id>")
@api.get("/v3/outlets/<int:outlet_id>/invoices")
def invoice(outlet_id: int, invoice_id: str | None = None) -> Response:
    business, outlet = own_outlet(authorize("transaction"), outlet_id)
    wanted = invoice_id or request.args.get("invoice_id")
    if not wanted:
        raise missing_param("invoice_id")
    box = sandbox()
    with box.lock:
        payment = outlet.payments.get(wanted)
        held = outlet.held(wanted, box.now())
        if payment is None or payment["payment_type"] != "invoice" or held:
            raise not_found(f"Invoice {wanted} is not found")
        customer = business.customers.get(payment["customer_id"] or 0)
        detail = invoice_detail(payment, outlet.context, outlet.outlet, customer)
        if not box.settings.invoice_payment_records:
            detail["payment_records"] = []
        return respond(envelope(detail))


# -- v2 reports ---------------------------------------------------------------------------------


@api.get("/v2/outlets/<int:outlet_id>/reports/<any(payment_methods, sales_summary):report>")
def report(outlet_id: int, report: str) -> Response:
    _, outlet = own_outlet(authorize("report"), outlet_id)
    start, end = date_param("start", required=True), date_param("end", required=True)
    assert start is not None and end is not None
    build = payment_methods if report == "payment_methods" else sales_summary
    with sandbox().lock:
        return respond(envelope(build(outlet.payments.values(), start, end)))
