"""The Jurnal API under `/public/jurnal/api/v1/`: the gateway's checks (HMAC or bearer auth, rate
limits, injected faults) in front of generic resource views, plus `companies/active`."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from .auth import (
    AuthFailure,
    check_date,
    parse_hmac_header,
    raw_request_target,
    verify_digest,
    verify_hmac,
)
from .errors import Invalid, JurnalRefusal, MalformedBody
from .limits import RATE_LIMITED
from .resources import RESOURCES
from .resources.base import (
    Context,
    Resource,
    check_unique,
    delete,
    insert,
    lookup,
    page_of,
    update,
)
from .resources.companies import render_active_company
from .resources.payments import RECEIVE_PAYMENTS
from .resources.products import PRODUCTS
from .state import JurnalSandbox

API_PREFIX = "/public/jurnal/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UPSTREAM_RESET = (
    "upstream connect error or disconnect/reset before headers. "
    "reset reason: connection termination"
)
DROP_FLAG = "sandbox.drop_response"
MAX_BATCH = 100


def json_response(body: Any, status: int = 200) -> Response:
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


def read_body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise MalformedBody() from None
    if not isinstance(body, dict):
        raise MalformedBody()
    return body


def root_object(body: dict[str, Any], root: str) -> dict[str, Any]:
    value = body.get(root)
    if not isinstance(value, dict) or not value:
        raise Invalid.message(f"param is missing or the value is empty: {root}")
    return value


def api_blueprint(sandbox: JurnalSandbox) -> Blueprint:
    api = Blueprint("jurnal_api", __name__, url_prefix=API_PREFIX)

    @api.before_request
    def gateway() -> Response | None:
        g.started = time.monotonic()
        try:
            g.company, g.credential = authenticate(sandbox)
        except AuthFailure as failure:
            response = json_response({"message": "Unauthorized"}, 401)
            response.headers["X-Sandbox-Auth-Reason"] = failure.reason
            return response
        with sandbox.lock:
            decision = sandbox.limiter.decide(
                g.credential, request.remote_addr or "", sandbox.limits
            )
            faults = sandbox.faults
        g.rate_headers = decision.headers
        if not decision.allowed:
            return json_response({"message": decision.message}, 429)
        return injected_fault(sandbox, faults)

    @api.after_request
    def gateway_headers(response: Response) -> Response:
        response.headers["Server"] = "Mekari"
        started = g.get("started")
        if started is not None:
            elapsed_ms = int((time.monotonic() - started) * 1000)
            response.headers["X-Envoy-Upstream-Service-Time"] = str(elapsed_ms)
        response.headers.update(g.get("rate_headers", {}))
        committed = request.method in WRITE_METHODS and 200 <= response.status_code < 300
        drop_rate = sandbox.faults.drop_after_commit_rate
        if committed and sandbox.roll(drop_rate, request.method):
            request.environ[DROP_FLAG] = True
        return response

    @api.errorhandler(JurnalRefusal)
    def refused(refusal: JurnalRefusal) -> Response:
        return json_response(refusal.body(), refusal.status)

    @api.get("/companies/active")
    def active_company() -> Response:
        with sandbox.lock:
            return json_response(render_active_company(context(sandbox)))

    @api.get("/<segment>")
    def list_documents(segment: str) -> Response:
        resource = resource_at(segment)
        with sandbox.lock:
            ctx = context(sandbox)
            records = list(ctx.collection(resource.name))
            if request.args.get("include_archive", "true").lower() == "false":
                records = [r for r in records if not r.get("archive")]
            if resource.name == "payment_methods" and request.args.get("key"):
                wanted = request.args["key"].casefold()
                records = [r for r in records if wanted in r["name"].casefold()]
            return json_response(page_of(ctx, resource, records, request.args, request.base_url))

    @api.post("/<segment>")
    def create(segment: str) -> Response:
        resource = resource_at(segment)
        source = root_object(read_body(), resource.singular)
        ctx = context(sandbox)
        gate(ctx, resource)
        record = create_once(sandbox, ctx, resource, source)
        with sandbox.lock:
            rendered = resource.render(ctx, record)
        return json_response(resource.wrap(rendered, created=True), resource.create_status)

    @api.post("/<segment>/batch_create")
    def batch_create(segment: str) -> Response:
        resource = resource_at(segment)
        if resource.batch_status is None:
            raise NotRouted()
        items = read_body().get(resource.plural_root)
        if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
            raise Invalid.field(resource.plural_root, f"(Send 1 to {MAX_BATCH} items)")
        ctx = context(sandbox)
        gate(ctx, resource)
        results = []
        with sandbox.lock:
            for item in items:
                results.append({resource.singular: batch_item(ctx, resource, item)})
        return json_response({resource.plural_root: results}, resource.batch_status)

    @api.get("/<segment>/<path:reference>")
    def get_document(segment: str, reference: str) -> Response:
        resource = resource_at(segment)
        with sandbox.lock:
            ctx = context(sandbox)
            record = lookup(ctx, resource, reference)
            return json_response(resource.wrap(resource.render(ctx, record)))

    @api.route("/<segment>/<path:reference>", methods=["PATCH", "PUT"])
    def update_document(segment: str, reference: str) -> Response:
        resource = resource_at(segment)
        changes = root_object(read_body(), resource.singular)
        with sandbox.lock:
            ctx = context(sandbox)
            record = update(ctx, resource, lookup(ctx, resource, reference), changes)
            return json_response(resource.wrap(resource.render(ctx, record)))

    @api.delete("/<segment>/<path:reference>")
    def delete_document(segment: str, reference: str) -> Response:
        resource = resource_at(segment)
        with sandbox.lock:
            ctx = context(sandbox)
            delete(ctx, resource, lookup(ctx, resource, reference))
        return Response(status=204)

    @api.get("/sales_invoices/<path:reference>/receive_payments")
    def invoice_payments(reference: str) -> Response:
        with sandbox.lock:
            ctx = context(sandbox)
            invoice = lookup(ctx, RESOURCES["sales_invoices"], reference)
            ids = {p["id"] for p in invoice["receive_payments"]}
            payments = [p for p in ctx.collection("receive_payments") if p["id"] in ids]
            return json_response(
                {"receive_payments": [RECEIVE_PAYMENTS.render(ctx, p) for p in payments]}
            )

    @api.post("/products/<path:reference>/<any(activate, deactivate):action>")
    def archive_product(reference: str, action: str) -> Response:
        with sandbox.lock:
            ctx = context(sandbox)
            product = lookup(ctx, PRODUCTS, reference)
            product["archive"] = action == "deactivate"
            return json_response(PRODUCTS.wrap(PRODUCTS.render(ctx, product)))

    return api


def authenticate(sandbox: JurnalSandbox) -> tuple[Any, str]:
    """The company a request speaks for and its rate-limit key, or `AuthFailure`."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise AuthFailure("missing")
    if header.lower().startswith("bearer "):
        token = header[len("bearer ") :].strip()
        with sandbox.lock:
            company = sandbox.company_by_token(token) if token else None
        if company is None:
            raise AuthFailure("unknown-token")
        return company, f"token:{token}"
    hmac_header = parse_hmac_header(header)
    with sandbox.lock:
        company = sandbox.company_by_client_id(hmac_header.username)
    if company is None:
        raise AuthFailure("unknown-client")
    date = request.headers.get("Date")
    check_date(date, sandbox.clock())
    verify_hmac(
        hmac_header,
        company.client_secret,
        date=date or "",
        method=request.method,
        target=raw_request_target(request.environ),
    )
    verify_digest(request.headers.get("Digest"), request.get_data(cache=True))
    return company, f"client:{company.client_id}"


def injected_fault(sandbox: JurnalSandbox, faults: Any) -> Response | None:
    """Latency first, then at most one of: a hang past the client's timeout, a 503, a 429."""
    if faults.latency_ms:
        sandbox.sleep(faults.latency_ms / 1000)
    method = request.method
    if sandbox.roll(faults.timeout_rate, method):
        sandbox.sleep(faults.timeout_seconds)
        return Response("upstream request timeout", status=504, mimetype="text/plain")
    if sandbox.roll(faults.error_rate, method):
        return Response(UPSTREAM_RESET, status=503, mimetype="text/plain")
    if sandbox.roll(faults.rate_limited_rate, method):
        return json_response({"message": RATE_LIMITED}, 429)
    return None


def context(sandbox: JurnalSandbox) -> Context:
    return sandbox.context(g.company)


def resource_at(segment: str) -> Resource:
    resource = RESOURCES.get(segment)
    if resource is None:
        raise NotRouted()
    return resource


class NotRouted(JurnalRefusal):
    """Kong's answer for a path it has no route for."""

    status = 404

    def body(self) -> dict[str, object]:
        return {"message": "no Route matched with those values"}


def gate(ctx: Context, resource: Resource) -> None:
    if resource.required_plan and not ctx.company.allows(resource.required_plan):
        plan = resource.required_plan.title()
        raise Invalid.message(f"This feature needs the Jurnal {plan} package or higher")


def create_once(
    sandbox: JurnalSandbox, ctx: Context, resource: Resource, source: dict[str, Any]
) -> Any:
    """The single create's duplicate check. Atomic unless a race window is set: then the check
    runs, the lock is let go for the window, and the insert does not look again — as the live
    API let two creates with one `custom_id` through a second apart."""
    window_ms = sandbox.faults.race_window_ms
    with sandbox.lock:
        check_unique(ctx, resource, source, None)
        if not window_ms:
            return insert(ctx, resource, source)
    sandbox.sleep(window_ms / 1000)
    with sandbox.lock:
        return insert(ctx, resource, source)


def batch_item(ctx: Context, resource: Resource, item: Any) -> dict[str, Any]:
    """`batch_create` checks no `custom_id` (observed live: a re-sent batch doubled)."""
    try:
        if not isinstance(item, dict):
            raise Invalid.message(f"param is missing or the value is empty: {resource.singular}")
        record = insert(ctx, resource, root_object(item, resource.singular))
    except JurnalRefusal as refusal:
        return {"status": refusal.status, "content": refusal.body()}
    return {"status": resource.create_status, "content": resource.render(ctx, record)}
