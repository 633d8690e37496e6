"""A company's page in the admin: its audit trail, replacing its Jurnal credential, and how the
signed-in person hears about failed syncs (language, daily digest, or not at all) and where the
company's webhook goes; plus the CSV and XLSX downloads of a setting's history, open errors and
reconciliation. Each calls the same use case as the JSON API, as the signed-in user.

Changes made on these pages, and on every other admin page, are recorded in the audit trail as
the signed-in user's (`user:<email>`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from domain.errors import Invalid
from domain.notifications import LANGUAGES
from gateway import exports, reach
from gateway.admin import i18n
from gateway.admin.views import admin, caller, tr
from gateway.auth import container
from gateway.schemas import MAX_RECONCILIATION_DAYS
from services import audit, credentials, notify
from services import companies as companies_service
from services import history as history_service

AUDIT_PAGE = 50


@admin.before_request
def act_as_the_signed_in_user() -> None:
    # Runs after the sign-in guard, which either set `g.admin_user` or answered already.
    signed_in = g.get("admin_user")
    if signed_in is not None:
        g.audit_token = audit.begin_acting(audit.user_actor(signed_in.email))


@admin.teardown_request
def stop_acting(_: BaseException | None) -> None:
    token = g.pop("audit_token", None)
    if token is not None:
        audit.end_acting(token)


# -- the company's page -----------------------------------------------------------------------


@admin.get("/companies/<uuid:company_id>")
def company(company_id: UUID) -> ResponseReturnValue:
    return _company_page(company_id, {})


def _company_page(company_id: UUID, errors: dict[str, str], status: int = 200) -> Any:
    shown = companies_service.company_view(reach.company(container(), caller(), company_id))
    before = request.args.get("before", type=int)
    trail = audit.audit_trail(
        container(), company_id, before=before if before and before > 0 else None,
        limit=AUDIT_PAGE,
    )  # fmt: skip
    zone = ZoneInfo(container().config.timezone)
    entries = [
        {**entry, "at": entry["at"].astimezone(zone), "label": _action(entry["action"])}
        for entry in trail["entries"]
    ]
    settings = notify.notification_settings(container(), company_id)
    mine = notify.my_choice(container(), company_id, g.admin_user.email)
    return render_template(
        "company.html",
        company=shown,
        entries=entries,
        next_before=trail["next_before"],
        notify_url=settings["notify_url"] or "",
        mine=mine,
        errors=errors,
    ), status


def _action(action: str) -> str:
    key = f"audit.{action}"
    return tr(key) if key in i18n.MESSAGES else action


@admin.post("/companies/<uuid:company_id>/credential")
def replace_credential(company_id: UUID) -> ResponseReturnValue:
    body = {
        "jurnal_client_id": request.form.get("jurnal_client_id", "").strip(),
        "jurnal_client_secret": request.form.get("jurnal_client_secret", ""),
    }
    missing = {name: "is required" for name, value in body.items() if not value}
    if missing:
        return _company_page(company_id, _problems(missing), 422)
    try:
        reach.company(container(), caller(), company_id)
        done = credentials.replace_credential(container(), company_id, body)
    except Invalid as refused:
        return _company_page(company_id, _problems(refused.fields), 422)
    flash(tr("company.credential_replaced", n=len(done["resumed_setting_ids"])), "ok")
    return redirect(url_for("admin.company", company_id=company_id))


@admin.post("/companies/<uuid:company_id>/notifications/mine")
def choose_notifications(company_id: UUID) -> ResponseReturnValue:
    mode = request.form.get("mode", "now")
    lang = request.form.get("lang", "id")
    if mode not in ("now", "digest", "off") or lang not in LANGUAGES:
        return _company_page(company_id, {"mode": tr("common.form_errors")}, 422)
    choice = None if mode == "off" else {"lang": lang, "digest": mode == "digest"}
    reach.company(container(), caller(), company_id)
    notify.choose_for_myself(container(), company_id, g.admin_user.email, choice)
    flash(tr("company.notify_saved"), "ok")
    return redirect(url_for("admin.company", company_id=company_id))


@admin.post("/companies/<uuid:company_id>/notifications/webhook")
def set_webhook(company_id: UUID) -> ResponseReturnValue:
    url = request.form.get("notify_url", "").strip() or None
    reach.company(container(), caller(), company_id)
    current = notify.notification_settings(container(), company_id)
    body = {"notify_url": url, "recipients": current["recipients"]}
    try:
        notify.configure_notifications(container(), company_id, body)
    except Invalid as refused:
        return _company_page(company_id, _problems(refused.fields), 422)
    flash(tr("company.webhook_saved"), "ok")
    return redirect(url_for("admin.company", company_id=company_id))


def _problems(fields: dict[str, str]) -> dict[str, str]:
    return {name: i18n.field_problem(problem, g.lang) for name, problem in fields.items()}


# -- downloads --------------------------------------------------------------------------------


@admin.get(
    "/settings/<uuid:setting_id>/export/<any(runs, errors, reconciliation):what>"
    ".<any(csv, xlsx):file_format>"
)
def export(setting_id: UUID, what: str, file_format: str) -> Response:
    reach.setting(container(), caller(), setting_id)
    if what == "runs":
        runs = history_service.sync_history(container(), setting_id)
        return exports.download(exports.runs_table(runs), file_format, f"sync-history-{setting_id}")
    if what == "errors":
        groups = history_service.open_errors(
            container(), setting_id, items_per_cause=exports.ALL_ITEMS
        )
        return exports.download(
            exports.errors_table(groups), file_format, f"open-errors-{setting_id}"
        )
    first, last = _window(setting_id)
    days = history_service.reconciliation(container(), setting_id, first, last)
    name = f"reconciliation-{setting_id}-{first}-{last}"
    return exports.download(exports.reconciliation_table(days), file_format, name)


def _window(setting_id: UUID) -> tuple[date, date]:
    """The reconciliation page's own window: ?from=&to=, or its default."""
    current = reach.setting(container(), caller(), setting_id)
    try:
        first = date.fromisoformat(request.args["from"])
        last = date.fromisoformat(request.args["to"])
    except (KeyError, ValueError):
        first = current.transactions_from
        last = datetime.now(ZoneInfo(container().config.timezone)).date()
    if last < first or (last - first).days > MAX_RECONCILIATION_DAYS:
        last = min(last, date.fromordinal(first.toordinal() + MAX_RECONCILIATION_DAYS))
    return first, max(first, last)
