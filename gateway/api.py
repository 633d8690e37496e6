"""The JSON API under `/api/v1`: one view per operation, each parsing (done by its declaration),
calling one use case of `services.usecases` and mapping the result to a status."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, redirect

from gateway.auth import container, optional_principal, principal
from gateway.routing import ApiBlueprint
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
    ReconciliationQuerySchema,
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
from services import usecases

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
    return 201, usecases.register_company(container(), body)


@companies.operation(
    "GET", "/companies", summary="List companies", responses={200: CompanyListSchema}, errors=(401,)
)
def list_companies() -> Answer:
    return 200, {"companies": usecases.list_companies(container(), principal())}


@companies.operation(
    "GET",
    "/companies/<uuid:company_id>",
    summary="Show a company",
    responses={200: CompanySchema},
    errors=(401, 404),
)
def show_company(company_id: UUID) -> Answer:
    return 200, usecases.show_company(container(), principal(), company_id)


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
    return 200, usecases.set_quota(container(), company_id, body["quota"])


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
    url = usecases.start_moka_authorization(container(), principal(), query["company_id"])
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
    return 201, usecases.finish_moka_authorization(container(), optional_principal(), query)


@moka.operation(
    "POST",
    "/moka/connections",
    summary="Connect Moka with tokens, without a browser",
    body=MokaConnectionCreateSchema,
    responses={201: MokaConnectionSchema},
    errors=(400, 401, 404, 422, 502),
)
def connect_moka(body: dict[str, Any]) -> Answer:
    return 201, usecases.connect_moka(container(), principal(), body)


@moka.operation(
    "GET",
    "/moka/connections/<uuid:connection_id>/outlets",
    summary="List the connected business's outlets, as Moka lists them now",
    responses={200: OutletListSchema},
    errors=(401, 404, 422, 502),
)
def list_outlets(connection_id: UUID) -> Answer:
    return 200, {"outlets": usecases.list_outlets(container(), principal(), connection_id)}


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
    return 201, usecases.create_setting(container(), principal(), body)


@settings.operation(
    "GET",
    "/settings",
    summary="List settings with the settings list's columns",
    responses={200: SettingListSchema},
    errors=(401,),
)
def list_settings() -> Answer:
    return 200, {"settings": usecases.list_settings(container(), principal())}


@settings.operation(
    "GET",
    "/settings/<uuid:setting_id>",
    summary="Show a setting",
    responses={200: SettingSchema},
    errors=(401, 404),
)
def show_setting(setting_id: UUID) -> Answer:
    return 200, usecases.show_setting(container(), principal(), setting_id)


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
    return 200, usecases.change_setting(container(), principal(), setting_id, body)


@settings.operation(
    "DELETE",
    "/settings/<uuid:setting_id>",
    summary="Delete a setting (its log is kept; its quota place is freed)",
    responses={204: None},
    errors=(401, 404),
)
def delete_setting(setting_id: UUID) -> Answer:
    usecases.delete_setting(container(), principal(), setting_id)
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
    return 202, {"run_id": usecases.sync_master_data(container(), principal(), setting_id)}


@sync.operation(
    "POST",
    "/settings/<uuid:setting_id>/sync/transactions",
    summary="Sync transactions",
    responses={202: RunRequestedSchema},
    errors=(401, 404, 409),
    description="409 until the setting has completed a master-data sync.",
)
def sync_transactions(setting_id: UUID) -> Answer:
    return 202, {"run_id": usecases.sync_transactions(container(), principal(), setting_id)}


@sync.operation(
    "POST",
    "/sync/transactions",
    summary="Sync the transactions of several settings at once",
    body=SyncAllSchema,
    responses={202: RunsRequestedSchema},
    errors=(400, 401, 404, 422),
)
def sync_all_transactions(body: dict[str, Any]) -> Answer:
    chosen = body.get("setting_ids")
    return 202, usecases.sync_all_transactions(container(), principal(), chosen)


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
    if body["dry_run"]:
        usecases.visible_setting(container(), principal(), setting_id)
        return 200, {"documents": replay_job.preview(container(), setting_id, params)}
    return 202, {"run_id": usecases.request_replay(container(), principal(), setting_id, params)}


# -- the log and the read models --------------------------------------------------------------


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/runs",
    summary="A setting's sync history, newest first",
    responses={200: RunListSchema},
    errors=(401, 404),
)
def list_runs(setting_id: UUID) -> Answer:
    return 200, {"runs": usecases.sync_history(container(), principal(), setting_id)}


@history.operation(
    "GET",
    "/runs/<uuid:run_id>",
    summary="A run with the errors of its failed items",
    responses={200: RunDetailSchema},
    errors=(401, 404),
)
def show_run(run_id: UUID) -> Answer:
    return 200, usecases.run_detail(container(), principal(), run_id)


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/errors",
    summary="A setting's open errors, grouped by cause",
    responses={200: ErrorListSchema},
    errors=(401, 404),
)
def list_errors(setting_id: UUID) -> Answer:
    return 200, {"errors": usecases.open_errors(container(), principal(), setting_id)}


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/events",
    summary="Page through a setting's log",
    query=EventsQuerySchema,
    responses={200: EventPageSchema},
    errors=(401, 404, 422),
)
def read_events(setting_id: UUID, query: dict[str, Any]) -> Answer:
    page = usecases.read_events(
        container(), principal(), setting_id, query["after"], query["limit"]
    )
    return 200, page


@history.operation(
    "GET",
    "/settings/<uuid:setting_id>/reconciliation",
    summary="Moka's and Jurnal's totals per day, and their differences",
    query=ReconciliationQuerySchema,
    responses={200: ReconciliationSchema},
    errors=(401, 404, 422),
)
def reconcile(setting_id: UUID, query: dict[str, Any]) -> Answer:
    days = usecases.reconciliation(
        container(), principal(), setting_id, query["date_from"], query["date_to"]
    )
    return 200, {"days": days}


API_BLUEPRINTS = (companies, moka, settings, sync, history)
