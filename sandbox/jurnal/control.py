"""The sandbox's control API under `/_sandbox/`, for tests, benchmarks and the demo. It is not
part of Jurnal and takes no auth: run the sandbox only where its callers are trusted.

- `POST /_sandbox/reset` — back to the boot state.
- `GET /_sandbox/companies`, `POST /_sandbox/companies` `{name, package, client_id,
  client_secret[, access_token, gating, chart, strict_names, tax_account_defaults,
  arithmetic]}` → `{id}`, `PATCH /_sandbox/companies/<id>` `{package, gating, strict_names,
  tax_account_defaults, arithmetic}` (switch a plan or a rule at run time). `chart` is `"id"`
  (Indonesian, the default) or `"en"` (English, like the documented example company); see
  `seed`. `strict_names` refuses a taken name on master data, `tax_account_defaults` lets a tax
  be created without accounts (see `store.Company`). `arithmetic` is how the company rounds
  where the reference is silent: `{discount_spread, tax_rounding, tax_inclusive}`, see
  `arithmetic.Rules`.
- `GET|POST /_sandbox/faults` — see `faults.py` for the settings.
- `GET /_sandbox/state[?custom_ids=1]` — document counts keyed by resource (all companies and per
  company), requests served by status (`dropped` for committed-then-dropped writes), faults and
  limits; with `custom_ids=1`, how many documents carry each `custom_id`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from .arithmetic import Rules, RulesInvalid
from .errors import Invalid, JurnalRefusal, MalformedBody
from .state import JurnalSandbox, rules_of, set_rules


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise MalformedBody() from None
    if not isinstance(body, dict):
        raise MalformedBody()
    return body


def _rules(current: Rules, settings: Any) -> Rules:
    if not isinstance(settings, dict):
        raise Invalid.field("arithmetic", "(Must be an object of rounding switches)")
    try:
        return current.changed(settings)
    except RulesInvalid as error:
        raise Invalid.field("arithmetic", f"({error})") from None


def control_blueprint(sandbox: JurnalSandbox) -> Blueprint:
    control = Blueprint("jurnal_control", __name__, url_prefix="/_sandbox")

    @control.errorhandler(JurnalRefusal)
    def refused(refusal: JurnalRefusal) -> Response:
        return _json(refusal.body(), refusal.status)

    @control.post("/reset")
    def reset() -> Response:
        sandbox.reset()
        return _json({"reset": True, "default_company_id": sandbox.default_company.id})

    @control.get("/companies")
    def companies() -> Response:
        with sandbox.lock:
            return _json(
                {
                    "companies": [
                        {
                            "id": c.id,
                            "name": c.name,
                            "package": c.package,
                            "client_id": c.client_id,
                            "gating": c.gating,
                            "chart": c.chart,
                            **rules_of(c),
                            "arithmetic": c.arithmetic.as_dict(),
                        }
                        for c in sandbox.companies.values()
                    ]
                }
            )

    @control.post("/companies")
    def add_company() -> Response:
        body = _body()
        missing = [k for k in ("name", "package", "client_id", "client_secret") if not body.get(k)]
        if missing:
            raise Invalid({key: "can't be blank" for key in missing})
        company = sandbox.add_company(
            str(body["name"]),
            str(body["package"]),
            str(body["client_id"]),
            str(body["client_secret"]),
            access_token=body.get("access_token"),
            gating=str(body.get("gating", "refuse")),
            chart=str(body.get("chart", "id")),
            rules=body,
        )
        if "arithmetic" in body:
            with sandbox.lock:
                company.arithmetic = _rules(company.arithmetic, body["arithmetic"])
        return _json({"id": company.id}, 201)

    @control.patch("/companies/<int:company_id>")
    def change_company(company_id: int) -> Response:
        body = _body()
        with sandbox.lock:
            company = sandbox.company(company_id)
            if "package" in body:
                company.package = str(body["package"])
            if "gating" in body:
                if body["gating"] not in ("refuse", "ignore"):
                    raise Invalid.field("gating", "(Must be refuse or ignore)")
                company.gating = body["gating"]
            set_rules(company, body)
            if "arithmetic" in body:
                company.arithmetic = _rules(company.arithmetic, body["arithmetic"])
            return _json(
                {
                    "id": company.id,
                    "package": company.package,
                    "plan": company.plan,
                    "gating": company.gating,
                    "chart": company.chart,
                    **rules_of(company),
                    "arithmetic": company.arithmetic.as_dict(),
                }
            )

    @control.get("/faults")
    def faults() -> Response:
        with sandbox.lock:
            return _json({**sandbox.faults.as_dict(), "limits": vars(sandbox.limits).copy()})

    @control.post("/faults")
    def set_faults() -> Response:
        sandbox.set_faults(_body())
        return faults()

    @control.get("/state")
    def state() -> Response:
        detail = request.args.get("custom_ids", "").lower() in ("1", "true", "yes")
        return _json(sandbox.state(with_custom_ids=detail))

    return control
