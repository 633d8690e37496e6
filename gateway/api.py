"""The JSON API under `/api/v1`: one view per operation, each parsing (done by its declaration),
checking the caller's reach (`gateway.reach`), calling one use case of `services` and mapping the
result to a status."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, redirect

from gateway import exports, reach
from gateway.auth import container, optional_principal, principal
from gateway.company_schemas import (
    AuditPageSchema,
    AuditQuerySchema,
    CredentialReplacedSchema,
    CredentialSchema,
    NotificationsBodySchema,
    NotificationsSchema,
)
from gateway.routing import ApiBlueprint, Dumped
from gateway.schemas import (
    AuthorizeQuerySchema,
    CallbackQuerySchema,
    CompanyCreateSchema,
    CompanyListSchema,
    CompanySchema,
    DryRunSchema,
    ErrorListSchema,
    EventPageSchema,
    EventsQuerySchema,
    MokaConnectionCreateSchema,
    MokaConnectionSchema,
    OutletListSchema,
    QuotaSchema,
    ReconciliationSchema,
    ReplaySchema,
    RunDetailSchema,
    RunListSchema,
    RunRequestedSchema,
    RunsRequestedSchema,
    SettingChangesSchema,
    SettingCreateSchema,
    SettingListSchema,
    SettingSchema,
    SyncAllSchema,
)
from jobs import replay as replay_job
from services import audit, credentials, notify, syncing
from services import companies as companies_service
from services import history as history_service
from services import moka as moka_service
from services import replay as replay_service
from services import settings as settings_service

PREFIX = "/api/v1"
Answer = tuple[int, Any]

companies = ApiBlueprint("companies", __name__, tag="companies", url_prefix=PREFIX)
moka = ApiBlueprint("moka", __name__, tag="moka", url_prefix=PREFIX)
settings = ApiBlueprint("settings", __name__, tag="settings", url_prefix=PREFIX)
sync = ApiBlueprint("sync", __name__, tag="sync", url_prefix=PREFIX)
history = ApiBlueprint("history", __name__, tag="history", url_prefix=PREFIX)

# -- companies --------------------------------------------------------------------------------


@companies.operation(
    "POST",
    "/companies",
    summary="Register a Jurnal company",
    access="admin",
    body=CompanyCreateSchema,
    responses={201: CompanySchema},
    errors=(400, 401, 403, 422, 502),
)
def create_company(body: dict[str, Any]) -> Answer:
    """Checks the credential with Jurnal (`companies/active`) and records its package."""
    return 201, companies_service.company_view(
        companies_service.register_company(container(), **body)
    )


@companies.operation(
    "GET", "/companies", summary="List companies", responses={200: CompanyListSchema}, errors=(401,)
)
def list_companies() -> Answer:
    found = reach.companies(container(), principal())
    return 200, {"companies": [companies_service.company_view(c) for c in found]}


@companies.operation(
    "GET",
    "/companies/<uuid:company_id>",
    summary="Show a company",
    responses={200: CompanySchema},
    errors=(401, 404),
)
def show_company(company_id: UUID) -> Answer:
    return 200, companies_service.company_view(reach.company(container(), principal(), company_id))


@companies.operation(
    "PUT",
    "/companies/<uuid:company_id>/quota",
    summary="Set a company's quota of settings",
    access="admin",
    body=QuotaSchema,
    responses={200: CompanySchema},
    errors=(400, 401, 403, 404, 422),
)
def set_quota(company_id: UUID, body: dict[str, Any]) -> Answer:
    company = companies_service.set_quota(container(), company_id, body["quota"])
    return 200, companies_service.company_view(company)


@companies.operation(
    "PUT",
    "/companies/<uuid:company_id>/credential",
    summary="Replace a company's Jurnal API credential",
    body=CredentialSchema,
    responses={200: CredentialReplacedSchema},
    errors=(400, 401, 404, 422, 502),
    description="Checked with Jurnal (companies/active) first: a refused credential answers 422 "
    "naming jurnal_client_secret and the old one stays. Once saved, settings blocked by the old "
    "credential resume.",
)
def replace_credential(company_id: UUID, body: dict[str, Any]) -> Answer:
    reach.company(container(), principal(), company_id)
    return 200, credentials.replace_credential(container(), company_id, body)


@companies.operation(
    "GET",
    "/companies/<uuid:company_id>/audit",
    summary="The company's audit trail: who changed what, and when; newest first",
    query=AuditQuerySchema,
    responses={200: AuditPageSchema},
    errors=(401, 404, 422),
)
def list_audit(company_id: UUID, query: dict[str, Any]) -> Answer:
    reach.company(container(), principal(), company_id)
    page = audit.audit_trail(container(), company_id, before=query["before"], limit=query["limit"])
    return 200, page


@companies.operation(
    "GET",
    "/companies/<uuid:company_id>/notifications",
    summary="Who is told when a sync fails or a setting is blocked, and the webhook",
    responses={200: NotificationsSchema},
    errors=(401, 404),
)
def show_notifications(company_id: UUID) -> Answer:
    reach.company(container(), principal(), company_id)
    return 200, notify.notification_settings(container(), company_id)


@companies.operation(
    "PUT",
    "/companies/<uuid:company_id>/notifications",
    summary="Set the people to email (language, daily digest) and the outgoing webhook",
    body=NotificationsBodySchema,
    responses={200: NotificationsSchema},
    errors=(400, 401, 404, 422),
)
def configure_notifications(company_id: UUID, body: dict[str, Any]) -> Answer:
    reach.company(container(), principal(), company_id)
    return 200, notify.configure_notifications(container(), company_id, body)


# -- Moka connections -------------------------------------------------------------------------


@moka.operation(
    "GET",
    "/moka/authorize",
    summary="Start connecting Moka (redirects to Moka's OAuth page)",
    query=AuthorizeQuerySchema,
    responses={302: None},
    errors=(401, 404, 422),
)
def authorize_moka(query: dict[str, Any]) -> Response:
    company = reach.company(container(), principal(), query["company_id"])
    url = moka_service.authorization_url(container(), company.id)
    return redirect(url, 302)


@moka.operation(
    "GET",
    "/moka/callback",
    summary="Moka's OAuth callback: exchange the code and store the connection",
    access="none",
    query=CallbackQuerySchema,
    responses={201: MokaConnectionSchema},
    errors=(401, 404, 422, 502),
    description="With the state issued by /moka/authorize no token is needed. Installs from "
    "Moka's App Market arrive without state: then a bearer token is required, and the company "
    "is company_id or the token's own.",
)
def moka_callback(query: dict[str, Any]) -> Answer:
    code = moka_service.callback_code(query)
    if query.get("state"):
        company_id = moka_service.company_of_state(container(), query["state"])
    else:
        company_id = reach.callback_company(
            container(), optional_principal(), query.get("company_id")
        )
    connection = moka_service.complete_authorization(container(), company_id, code)
    return 201, moka_service.connection_view(connection)


@moka.operation(
    "POST",
    "/moka/connections",
    summary="Connect Moka with tokens, without a browser",
    body=MokaConnectionCreateSchema,
    responses={201: MokaConnectionSchema},
    errors=(400, 401, 404, 422, 502),
)
def connect_moka(body: dict[str, Any]) -> Answer:
    reach.company(container(), principal(), body["company_id"])
    connection = moka_service.connect_moka_with_tokens(container(), **body)
    return 201, moka_service.connection_view(connection)


@moka.operation(
    "GET",
    "/moka/connections/<uuid:connection_id>/outlets",
    summary="List the connected business's outlets, as Moka lists them now",
    responses={200: OutletListSchema},
    errors=(401, 404, 422, 502),
)
def list_outlets(connection_id: UUID) -> Answer:
    reach.connection(container(), principal(), connection_id)
    outlets = moka_service.live_outlets(container(), connection_id)
    return 200, {"outlets": moka_service.outlet_list(outlets)}


# -- settings ---------------------------------------------------------------------------------


@settings.operation(
    "POST",
    "/settings",
    summary="Create a setting (one Moka outlet → one Jurnal company)",
    body=SettingCreateSchema,
    responses={201: SettingSchema},
    errors=(400, 401, 404, 409, 422),
)
def create_setting(body: dict[str, Any]) -> Answer:
    reach.company(container(), principal(), body["company_id"])
    reach.connection(container(), principal(), body["moka_connection_id"])
    return 201, settings_service.setting_view(settings_service.create_setting(container(), body))


@settings.operation(
    "GET",
    "/settings",
    summary="List settings with the settings list's columns",
    responses={200: SettingListSchema},
    errors=(401,),
)
def list_settings() -> Answer:
    found = reach.settings(container(), principal())
    return 200, {"settings": settings_service.with_overview(container(), found)}


@settings.operation(
    "GET",
    "/settings/<uuid:setting_id>",
    summary="Show a setting",
    responses={200: SettingSchema},
    errors=(401, 404),
)
def show_setting(setting_id: UUID) -> Answer:
    return 200, settings_service.setting_view(reach.setting(container(), principal(), setting_id))


@settings.operation(
    "PATCH",
    "/settings/<uuid:setting_id>",
    summary="Change a setting's mutable fields",
    body=SettingChangesSchema,
    responses={200: SettingSchema},
    errors=(400, 401, 404, 422),
    description="Start date, default customer, naming and what the setting joins cannot "
    "change: 422 says so (delete the setting and create it again).",
)
def change_setting(setting_id: UUID, body: dict[str, Any]) -> Answer:
    reach.setting(container(), principal(), setting_id)
    changed = settings_service.change_setting(container(), setting_id, body)
    return 200, settings_service.setting_view(changed)


@settings.operation(
    "DELETE",
    "/settings/<uuid:setting_id>",
    summary="Delete a setting (its log is kept; its quota place is freed)",
    responses={204: None},
    errors=(401, 404),
)
def delete_setting(setting_id: UUID) -> Answer:
    reach.setting(container(), principal(), setting_id)
    settings_service.delete_setting(container(), setting_id)
    return 204, None


# -- sync and replay --------------------------------------------------------------------------


@sync.operation(
    "POST",
    "/settings/<uuid:setting_id>/sync/master-data",
    summary="Sync master data (products, customers, taxes)",
    responses={202: RunRequestedSchema},
    errors=(401, 404),
)
def sync_master_data(setting_id: UUID) -> Answer:
    found = reach.setting(container(), principal(), setting_id)
    return 202, {"run_id": syncing.sync_master_data(container(), found)}


@sync.operation(
    "POST",
    "/settings/<uuid:setting_id>/sync/transactions",
    summary="Sync transactions",
    responses={202: RunRequestedSchema},
    errors=(401, 404, 409),
    description="409 until the setting has completed a master-data sync.",
)
def sync_transactions(setting_id: UUID) -> Answer:
    found = reach.setting(container(), principal(), setting_id)
    return 202, {"run_id": syncing.sync_transactions(container(), found)}


@sync.operation(
    "POST",
    "/sync/transactions",
    summary="Sync the transactions of several settings at once",
    body=SyncAllSchema,
    responses={202: RunsRequestedSchema},
    errors=(400, 401, 404, 422),
)
def sync_all_transactions(body: dict[str, Any]) -> Answer:
    chosen = reach.settings_named(container(), principal(), body.get("setting_ids"))
    return 202, syncing.sync_all_transactions(container(), chosen)


@sync.operation(
    "POST",
    "/settings/<uuid:setting_id>/replay",
    summary="Replay the setting's events into Jurnal",
    body=ReplaySchema,
    responses={202: RunRequestedSchema, 200: DryRunSchema},
    errors=(400, 401, 404, 422),
    description="With dry_run, nothing is sent: 200 lists the documents that would be.",
)
def replay(setting_id: UUID, body: dict[str, Any]) -> Answer:
    params = {name: value for name, value in body.items() if name != "dry_run"}
    reach.setting(container(), principal(), setting_id)
    if body["dry_run"]:
        return 200, {"documents": replay_job.preview(container(), setting_id, params)}
    return 202, {"run_id": replay_service.request_replay(container(), setting_id, params)}


# -- the log and the read models --------------------------------------------------------------


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/runs",
    summary="A setting's sync history, newest first",
    query=exports.ExportQuerySchema,
    responses={200: RunListSchema},
    downloads=exports.DOWNLOADS,
    errors=(401, 404, 422),
    description="With format=csv or xlsx, the same runs as a file, one row per run.",
)
def list_runs(setting_id: UUID, query: dict[str, Any]) -> Answer | Response:
    reach.setting(container(), principal(), setting_id)
    runs = history_service.sync_history(container(), setting_id)
    if query["format"] != "json":
        table = exports.runs_table(runs)
        return exports.download(table, query["format"], f"sync-history-{setting_id}")
    return 200, Dumped({"runs": runs})


@history.operation(
    "GET",
    "/runs/<uuid:run_id>",
    summary="A run with the errors of its failed items",
    responses={200: RunDetailSchema},
    errors=(401, 404),
)
def show_run(run_id: UUID) -> Answer:
    detail = history_service.run_detail(container(), run_id)
    reach.run_setting(container(), principal(), run_id, UUID(detail["setting_id"]))
    return 200, Dumped(detail)


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/errors",
    summary="A setting's open errors, grouped by cause",
    query=exports.ExportQuerySchema,
    responses={200: ErrorListSchema},
    downloads=exports.DOWNLOADS,
    errors=(401, 404, 422),
    description="With format=csv or xlsx, every open error as a file, one row per item "
    "(the JSON lists the oldest items of each cause).",
)
def list_errors(setting_id: UUID, query: dict[str, Any]) -> Answer | Response:
    reach.setting(container(), principal(), setting_id)
    if query["format"] != "json":
        groups = history_service.open_errors(
            container(), setting_id, items_per_cause=exports.ALL_ITEMS
        )
        table = exports.errors_table(groups)
        return exports.download(table, query["format"], f"open-errors-{setting_id}")
    return 200, Dumped({"errors": history_service.open_errors(container(), setting_id)})


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/events",
    summary="Page through a setting's log",
    query=EventsQuerySchema,
    responses={200: EventPageSchema},
    errors=(401, 404, 422),
)
def read_events(setting_id: UUID, query: dict[str, Any]) -> Answer:
    reach.setting(container(), principal(), setting_id)
    page = history_service.read_events(container(), setting_id, query["after"], query["limit"])
    return 200, page


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/reconciliation",
    summary="Moka's and Jurnal's totals per day, and their differences",
    query=exports.ReconciliationExportQuerySchema,
    responses={200: ReconciliationSchema},
    downloads=exports.DOWNLOADS,
    errors=(401, 404, 422),
    description="With format=csv or xlsx, a file with a row per day, each followed by a row "
    "per differing sale; money as numbers with a rupiah format in XLSX.",
)
def reconcile(setting_id: UUID, query: dict[str, Any]) -> Answer | Response:
    reach.setting(container(), principal(), setting_id)
    first, last = query["date_from"], query["date_to"]
    if query["format"] == "json":
        return 200, Dumped(
            history_service.reconciliation_json(container(), setting_id, first, last)
        )
    days = history_service.reconciliation(container(), setting_id, first, last)
    name = f"reconciliation-{setting_id}-{first}-{last}"
    return exports.download(exports.reconciliation_table(days), query["format"], name)


API_BLUEPRINTS = (companies, moka, settings, sync, history)
