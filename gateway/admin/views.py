"""The admin pages. Each view reads the form or the query, checks the signed-in user's reach
(`gateway.reach`, exactly as for a token of the same scope), calls the JSON API's use case in
`services` and renders the answer in the merchant's language. Nothing here decides anything a use
case decides.

A company's user reaches only that company: another company's setting, run or Moka connection
answers 404, as in the API.
"""

from __future__ import annotations

import hmac
import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from domain.errors import CompanyInvalid, Invalid, NotFound, Refused
from gateway import reach
from gateway.admin import i18n
from gateway.admin.forms import form_values, load, setting_body
from gateway.admin.session import (
    csrf_ok,
    csrf_token,
    current_user,
    language,
    sign_in,
    sign_out,
    user,
)
from gateway.auth import container
from gateway.schemas import (
    MAX_RECONCILIATION_DAYS,
    CompanyCreateSchema,
    ReconciliationQuerySchema,
    SettingChangesSchema,
    SettingCreateSchema,
)
from infra.api_tokens import Principal
from infra.users import LOCKOUT_SECONDS, LoginThrottle, check_password
from jobs import replay as replay_job
from projections.queries import format_summary
from services import choices as choices_service
from services import companies as companies_service
from services import history as history_service
from services import moka as moka_service
from services import replay as replay_service
from services import settings as settings_service
from services import syncing
from services.errors import UpstreamUnavailable

admin = Blueprint(
    "admin",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/admin",
)

log = logging.getLogger(__name__)

CALLBACK_PATH = "/moka/connected"
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static", "admin.switch_language"})
POLL_MILLISECONDS = 1000


def caller() -> Principal:
    return user().principal


def tr(key: str, **values: Any) -> str:
    return i18n.t(key, g.get("lang") or language(), **values)


@admin.before_request
def guard() -> ResponseReturnValue | None:
    g.lang = language()
    if request.method == "POST" and not csrf_ok():
        return page_message(tr("page.error"), tr("csrf.refused"), 400)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    found = current_user(container())
    if found is None:
        flash(tr("login.needed"), "info")
        wanted = request.full_path if request.method == "GET" else None
        return redirect(url_for("admin.login", next=wanted))
    g.admin_user = found
    return None


@admin.context_processor
def words() -> dict[str, Any]:
    lang = g.get("lang", i18n.DEFAULT_LANGUAGE)
    return {
        "t": lambda key, **values: i18n.t(key, lang, **values),
        "lang": lang,
        "other_lang": "en" if lang == "id" else "id",
        "csrf_token": csrf_token,
        "field_label": lambda name: i18n.field_label(name, lang),
        "field_help": lambda name: i18n.field_help(name, lang),
        "bucket_label": lambda bucket: i18n.BUCKETS[bucket][i18n.lang_index(lang)],
        "engine_message": lambda cls, message: i18n.engine_message(cls, message, lang),
        "summary_lines": lambda summary: summary_lines(summary, lang),
        "signed_in": g.get("admin_user"),
        "kind_label": lambda kind: i18n.kind_label(kind, lang),
        "when": lambda value: i18n.when(value, lang),
        "day": lambda value: i18n.day(value, lang),
        "money": lambda value: i18n.money(value, lang),
    }


def page_message(title: str, message: str, status: int) -> ResponseReturnValue:
    return render_template("message.html", title=title, message=message), status


@admin.errorhandler(NotFound)
def not_found(error: NotFound) -> ResponseReturnValue:
    return page_message(tr("page.error"), tr("page.not_found"), 404)


@admin.errorhandler(Refused)
def refused(error: Refused) -> ResponseReturnValue:
    return page_message(tr("page.error"), i18n.error_text(error, g.lang), 409)


@admin.errorhandler(Invalid)
def invalid(error: Invalid) -> ResponseReturnValue:
    return page_message(tr("page.error"), i18n.error_text(error, g.lang), 422)


@admin.errorhandler(Exception)
def unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return error
    # The trace goes to the log; the page says only that something failed, in both languages.
    log.exception("admin page failed", extra={"path": request.path})
    return page_message(tr("page.error"), tr("page.failed"), 500)


@admin.errorhandler(UpstreamUnavailable)
def upstream(error: UpstreamUnavailable) -> ResponseReturnValue:
    service = "Jurnal" if error.service == "jurnal" else "Moka"
    return page_message(tr("page.error"), tr("page.upstream", service=service), 502)


# -- signing in -------------------------------------------------------------------------------


@admin.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("admin.settings"))


@admin.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error, status, email = None, 200, ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        throttle = LoginThrottle(container().redis)
        if throttle.locked(email):
            error, status = tr("login.locked", minutes=LOCKOUT_SECONDS // 60), 429
        else:
            found = check_password(container().log, email, request.form.get("password", ""))
            if found is None:
                throttle.failed(email)
                error, status = tr("login.failed"), 401
            else:
                throttle.succeeded(email)
                sign_in(found)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, email=email), status


def _safe_next(target: str | None) -> str:
    # Only a path of this site: never another host ("//evil", "https://...").
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.settings")


@admin.post("/logout")
def logout() -> ResponseReturnValue:
    sign_out()
    flash(i18n.t("logout.done", language()), "info")
    return redirect(url_for("admin.login"))


@admin.get("/lang/<any(id, en):code>")
def switch_language(code: str) -> ResponseReturnValue:
    session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


# -- companies --------------------------------------------------------------------------------


@admin.get("/companies")
def companies() -> ResponseReturnValue:
    return _companies_page({}, {})


def _companies_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    rows = [companies_service.company_view(c) for c in reach.companies(container(), caller())]
    return render_template("companies.html", companies=rows, values=values, errors=errors), status


@admin.post("/companies")
def add_company() -> ResponseReturnValue:
    if not caller().admin:
        return page_message(tr("page.error"), tr("companies.operator_only"), 403)
    body = {name: request.form.get(name, "").strip()
            for name in ("name", "jurnal_client_id", "jurnal_client_secret")}  # fmt: skip
    loaded, problems = load(CompanyCreateSchema, body)
    if not problems:
        try:
            registered = companies_service.register_company(container(), **loaded)
            company = companies_service.company_view(registered)
        except Invalid as error:
            problems = error.fields
        else:
            flash(tr("companies.added", name=company["name"], package=company["package"]), "ok")
            return redirect(url_for("admin.companies"))
    errors = {name: i18n.field_problem(problem, g.lang) for name, problem in problems.items()}
    shown = {k: v for k, v in body.items() if k != "jurnal_client_secret"}
    return _companies_page(shown, errors, 422)


# -- the settings list and syncing --------------------------------------------------------------


@admin.get("/settings")
def settings() -> ResponseReturnValue:
    found = [companies_service.company_view(c) for c in reach.companies(container(), caller())]
    rows = settings_service.with_overview(container(), reach.settings(container(), caller()))
    by_company: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_company[str(row["company_id"])].append(row)
    return render_template("settings.html", companies=found, by_company=by_company)


@admin.post("/settings/<uuid:setting_id>/sync/<any('master-data', 'transactions'):kind>")
def sync(setting_id: UUID, kind: str) -> ResponseReturnValue:
    start = syncing.sync_master_data if kind == "master-data" else syncing.sync_transactions
    found = reach.setting(container(), caller(), setting_id)
    try:
        run_id = start(container(), found)
    except Refused as error:
        flash(i18n.error_text(error, g.lang), "error")
        return redirect(url_for("admin.settings"))
    flash(tr("settings.sync_started"), "ok")
    return redirect(url_for("admin.history", setting_id=setting_id, expect=run_id))


@admin.post("/settings/sync-all")
def sync_all() -> ResponseReturnValue:
    chosen = reach.settings_named(container(), caller(), None)
    result = syncing.sync_all_transactions(container(), chosen)
    flash(tr("settings.sync_all_started", n=len(result["run_ids"])), "ok")
    if result["skipped"]:
        names = {str(s.id): s.name for s in reach.settings(container(), caller())}
        for skipped in result["skipped"]:
            name = names.get(str(skipped["setting_id"]), str(skipped["setting_id"]))
            flash(tr("settings.sync_all_skipped", name=name), "error")
    return redirect(url_for("admin.settings"))


# -- a new setting: connect Moka, pick the outlet, fill the form --------------------------------


@admin.get("/companies/<uuid:company_id>/settings/new")
def new_setting(company_id: UUID) -> ResponseReturnValue:
    found = reach.company(container(), caller(), company_id)
    company = companies_service.company_view(found)
    connections = [
        moka_service.connection_view(c)
        for c in moka_service.company_connections(container(), found.id)
    ]
    return render_template("new_connect.html", company=company, connections=connections)


@admin.post("/companies/<uuid:company_id>/moka/connect")
def connect_moka(company_id: UUID) -> ResponseReturnValue:
    reach.company(container(), caller(), company_id)
    url = moka_service.authorization_url(container(), company_id, CALLBACK_PATH)
    # The callback must come back to this browser: a state started elsewhere is refused.
    session["moka_state"] = parse_qs(urlsplit(url).query)["state"][0]
    return redirect(url, 302)


@admin.get(CALLBACK_PATH)
def moka_connected() -> ResponseReturnValue:
    started = str(session.pop("moka_state", ""))
    given = request.args.get("state", "")
    if not started or not hmac.compare_digest(started, given):
        return page_message(tr("page.error"), tr("csrf.refused"), 400)
    # The state is required, and the signed-in caller must reach the company it was issued for
    # (a state is not a credential of its own here).
    query = request.args.to_dict()
    code = moka_service.callback_code(query)
    company_id = moka_service.company_of_state(container(), str(query.get("state") or "-"))
    reach.company(container(), caller(), company_id)
    connection = moka_service.connection_view(
        moka_service.complete_authorization(container(), company_id, code, CALLBACK_PATH)
    )
    flash(tr("new.connected", email=connection["email"]), "ok")
    return redirect(url_for("admin.outlets", connection_id=connection["id"]))


@admin.get("/moka/<uuid:connection_id>/outlets")
def outlets(connection_id: UUID) -> ResponseReturnValue:
    connection, company = _connection_and_company(connection_id)
    found = moka_service.outlet_list(moka_service.live_outlets(container(), connection_id))
    return render_template("outlets.html", connection=connection, company=company, outlets=found)


@admin.route("/moka/<uuid:connection_id>/outlets/<outlet_id>/setting", methods=["GET", "POST"])
def create_setting(connection_id: UUID, outlet_id: str) -> ResponseReturnValue:
    connection, company = _connection_and_company(connection_id)
    choices, choices_error = _choices(company["id"])
    outlet_name = next((o["name"] for o in connection["outlets"] if o["id"] == outlet_id), "")
    problems: dict[str, str] = {}
    message = None
    if request.method == "POST":
        body = setting_body(
            request.form,
            creating=True,
            has_tags=choices["has_tags"],
            has_warehouses=choices["has_warehouses"],
        )
        body.update(company_id=str(company["id"]), moka_connection_id=str(connection_id),
                    outlet_id=outlet_id)  # fmt: skip
        loaded, problems = load(SettingCreateSchema, body)
        if not problems:
            try:
                made = settings_service.create_setting(container(), loaded)
                created = settings_service.setting_view(made)
            except Invalid as error:
                problems = error.fields
            except Refused as error:
                message = i18n.error_text(error, g.lang)
            else:
                flash(tr("new.created", name=created["name"]), "ok")
                return redirect(url_for("admin.setting", setting_id=created["id"]))
        values = request.form.to_dict()
    else:
        values = {
            "name": f"Setting {outlet_name}".strip(),
            "start_date": _today().isoformat(),
            "auto_sync": "on",
            "sync_time": "22:00",
        }
    status = 422 if problems or message else 200
    return render_template(
        "setting_form.html",
        mode="create",
        company=company,
        connection=connection,
        outlet_name=outlet_name,
        setting=None,
        values=values,
        errors=_field_errors(problems),
        message=message or (tr("common.form_errors") if problems else None),
        choices=choices,
        choices_error=choices_error,
    ), status


def _connection_and_company(connection_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    found = reach.connection(container(), caller(), connection_id)
    company = reach.company(container(), caller(), found.company_id)
    return moka_service.connection_view(found), companies_service.company_view(company)


def _choices(company_id: UUID) -> tuple[dict[str, Any], str | None]:
    """The pickers' options; when Jurnal cannot be reached the form still shows, saying so."""
    company = reach.company(container(), caller(), company_id)
    try:
        fresh = request.args.get("refresh") == "1"
        return choices_service.jurnal_choices(container(), company, fresh=fresh), None
    except (UpstreamUnavailable, CompanyInvalid):
        package = company.package
        empty: dict[str, Any] = {
            "package": package.value,
            "has_tags": package.has_tags,
            "has_warehouses": package.has_warehouses,
            "accounts": defaultdict(list),
            "default_accounts": {},
            "tags": [],
            "warehouses": [],
            "customers": [],
        }
        return empty, tr("page.upstream", service="Jurnal")


def _field_errors(problems: dict[str, str]) -> dict[str, str]:
    return {name: i18n.field_problem(problem, g.lang) for name, problem in problems.items()}


def _today() -> date:
    return datetime.now(ZoneInfo(container().config.timezone)).date()


# -- a setting: detail, edit, delete ------------------------------------------------------------


@admin.route("/settings/<uuid:setting_id>", methods=["GET", "POST"])
def setting(setting_id: UUID) -> ResponseReturnValue:
    current = _setting(setting_id)
    connection, company = _connection_and_company(current["moka_connection_id"])
    choices, choices_error = _choices(company["id"])
    problems: dict[str, str] = {}
    values = form_values(current)
    if request.method == "POST":
        body = setting_body(
            request.form,
            creating=False,
            has_tags=choices["has_tags"],
            has_warehouses=choices["has_warehouses"],
        )
        loaded, problems = load(SettingChangesSchema, body)
        if not problems:
            try:
                settings_service.change_setting(container(), setting_id, loaded)
            except Invalid as error:
                problems = error.fields
            else:
                flash(tr("detail.saved"), "ok")
                return redirect(url_for("admin.setting", setting_id=setting_id))
        values = {**values, **request.form.to_dict()}
        for flag in ("track_inventory", "auto_sync", "sync_by_product_name"):
            values[flag] = request.form.get(flag, "")
    outlet_name = next(
        (o["name"] for o in connection["outlets"] if o["id"] == current["outlet_id"]), ""
    )
    return render_template(
        "setting_form.html",
        mode="edit",
        company=company,
        connection=connection,
        outlet_name=outlet_name,
        setting=current,
        values=values,
        errors=_field_errors(problems),
        message=tr("common.form_errors") if problems else None,
        choices=choices,
        choices_error=choices_error,
    ), 422 if problems else 200


@admin.route("/settings/<uuid:setting_id>/delete", methods=["GET", "POST"])
def delete_setting(setting_id: UUID) -> ResponseReturnValue:
    current = _setting(setting_id)
    if request.method == "POST":
        settings_service.delete_setting(container(), setting_id)
        flash(tr("detail.deleted", name=current["name"]), "ok")
        return redirect(url_for("admin.settings"))
    return render_template("delete.html", setting=current)


def _setting(setting_id: UUID) -> dict[str, Any]:
    """The setting as the pages show it, once the caller's reach allows it."""
    return settings_service.setting_view(reach.setting(container(), caller(), setting_id))


# -- history, errors, replay, reconciliation -----------------------------------------------------


@admin.get("/settings/<uuid:setting_id>/history")
def history(setting_id: UUID) -> ResponseReturnValue:
    current = _setting(setting_id)
    runs = history_service.sync_history(container(), setting_id)
    expect = request.args.get("expect", "")
    return render_template(
        "history.html",
        setting=current,
        runs=runs,
        running=_running(runs, expect),
        expect=expect,
        poll_ms=POLL_MILLISECONDS,
    )


@admin.get("/settings/<uuid:setting_id>/history.json")
def history_rows(setting_id: UUID) -> ResponseReturnValue:
    """The run table's rows, rendered as on the page, for the page's script to swap in while a
    sync runs."""
    current = _setting(setting_id)
    runs = history_service.sync_history(container(), setting_id)
    rows = render_template("_runs.html", setting=current, runs=runs)
    return jsonify(running=_running(runs, request.args.get("expect", "")), rows=rows)


def _running(runs: list[dict[str, Any]], expect: str) -> bool:
    """A run is still going, or the one just requested has not reached the history yet."""
    if any(run["status"] is None for run in runs):
        return True
    return bool(expect) and all(str(run["id"]) != expect for run in runs)


def summary_lines(summary: dict[str, Any], lang: str) -> list[str]:
    return format_summary(summary, lang)


@admin.get("/runs/<uuid:run_id>")
def run(run_id: UUID) -> ResponseReturnValue:
    detail = history_service.run_detail(container(), run_id)
    reach.run_setting(container(), caller(), run_id, UUID(str(detail["setting_id"])))
    current = _setting(UUID(str(detail["setting_id"])))
    return render_template("run.html", run=detail, setting=current)


@admin.get("/settings/<uuid:setting_id>/errors")
def errors(setting_id: UUID) -> ResponseReturnValue:
    current = _setting(setting_id)
    groups = history_service.open_errors(container(), setting_id)
    causes = [{**group, **_fix(setting_id, group)} for group in groups]
    return render_template("errors.html", setting=current, causes=causes)


def _fix(setting_id: UUID, group: dict[str, Any]) -> dict[str, str]:
    field, words = i18n.fix_for(group["error_class"], g.lang)
    anchor = field
    if field == "payment_accounts":
        found = i18n.ENGINE_BUCKET.search(group["message"])
        bucket = i18n.bucket_of_label(found["bucket"]) if found else None
        anchor = f"payment_accounts.{bucket}.account" if bucket else field
    link = url_for("admin.setting", setting_id=setting_id) + f"#field-{anchor}" if anchor else ""
    return {"fix": words, "fix_link": link}


@admin.post("/settings/<uuid:setting_id>/replay/preview")
def replay_preview(setting_id: UUID) -> ResponseReturnValue:
    current = _setting(setting_id)
    planned = replay_job.preview(container(), setting_id, {"only_failed": True})
    return render_template("replay.html", setting=current, documents=planned)


@admin.post("/settings/<uuid:setting_id>/replay")
def replay(setting_id: UUID) -> ResponseReturnValue:
    reach.setting(container(), caller(), setting_id)
    run_id = replay_service.request_replay(container(), setting_id, {"only_failed": True})
    flash(tr("replay.started"), "ok")
    return redirect(url_for("admin.history", setting_id=setting_id, expect=run_id))


@admin.get("/settings/<uuid:setting_id>/reconciliation")
def reconciliation(setting_id: UUID) -> ResponseReturnValue:
    current = _setting(setting_id)
    first = current["transactions_from"]
    last = min(_today(), first + timedelta(days=MAX_RECONCILIATION_DAYS))
    asked = {
        "from": request.args.get("from") or first.isoformat(),
        "to": request.args.get("to") or last.isoformat(),
    }
    loaded, problems = load(ReconciliationQuerySchema, asked)
    days: list[dict[str, Any]] = []
    if not problems:
        days = history_service.reconciliation(
            container(), setting_id, loaded["date_from"], loaded["date_to"]
        )
    return render_template(
        "reconciliation.html",
        setting=current,
        days=days,
        asked=asked,
        errors=_field_errors(problems),
    ), 422 if problems else 200


# -- help ---------------------------------------------------------------------------------------


@admin.get("/tutorial")
def tutorial() -> ResponseReturnValue:
    return render_template("tutorial.html")


@admin.get("/dos-and-donts")
def dos_and_donts() -> ResponseReturnValue:
    return render_template("dos.html")
