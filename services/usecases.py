"""The JSON API's use cases: each takes the caller (`Principal`) and plain input, enforces the
caller's reach, calls the event log, the connection use cases, the job dispatcher or the read
models, and returns plain data for the view to dump.

Reach: an operator's token sees everything; a company's token sees its own company and what
hangs off it (Moka connections, settings, runs, events). Anything else raises the same
`NotFound` an unknown id would, so ids of other companies cannot be probed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from domain.errors import (
    CompanyNotFound,
    MasterDataNotSynced,
    MokaConnectionInvalid,
    MokaConnectionNotFound,
    RunNotFound,
    SettingNotFound,
    code_of,
)
from domain.log import LogEvent
from domain.settings import Company, MokaConnection, Setting
from infra.api_tokens import Principal
from infra.bootstrap import Container
from projections import queries
from services import connections, syncing
from services.errors import NotAuthenticated

# -- companies --------------------------------------------------------------------------------


def company_view(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "package": company.package.value,
        "quota": company.quota,
        "settings_used": len(company.setting_ids),
    }


def register_company(container: Container, body: Mapping[str, Any]) -> dict[str, Any]:
    return company_view(connections.register_company(container, **body))


def list_companies(container: Container, caller: Principal) -> list[dict[str, Any]]:
    if caller.admin:
        return [company_view(c) for c in container.log.list_companies()]
    assert caller.company_id is not None
    return [company_view(container.log.get_company(caller.company_id))]


def show_company(container: Container, caller: Principal, company_id: UUID) -> dict[str, Any]:
    return company_view(_company(container, caller, company_id))


def set_quota(container: Container, company_id: UUID, quota: int) -> dict[str, Any]:
    container.log.set_quota(company_id, quota)
    return company_view(container.log.get_company(company_id))


def _company(container: Container, caller: Principal, company_id: UUID) -> Company:
    if not caller.sees_company(company_id):
        raise CompanyNotFound(company_id)
    return container.log.get_company(company_id)


# -- Moka connections -------------------------------------------------------------------------


def connection_view(connection: MokaConnection) -> dict[str, Any]:
    return {
        "id": connection.id,
        "company_id": connection.company_id,
        "email": connection.email,
        "business_id": connection.business_id,
        "outlets": _outlet_list(connection.outlets),
    }


def start_moka_authorization(container: Container, caller: Principal, company_id: UUID) -> str:
    _company(container, caller, company_id)
    return connections.authorization_url(container, company_id)


def finish_moka_authorization(
    container: Container, caller: Principal | None, query: Mapping[str, Any]
) -> dict[str, Any]:
    """The callback. With `state`, the company is the one the state was issued for. Without
    it (an install from Moka's App Market, reference §2) the caller must show a token, and the
    company is `company_id` or the token's own."""
    if not query.get("code"):
        denied = query.get("error") or "no code"
        raise MokaConnectionInvalid(
            {"code": f"is missing: Moka answered {denied}; connect Moka again"}
        )
    if query.get("state"):
        company_id = connections.company_of_state(container, query["state"])
    else:
        company_id = _callback_company(container, caller, query.get("company_id"))
    connection = connections.complete_authorization(container, company_id, query["code"])
    return connection_view(connection)


def _callback_company(container: Container, caller: Principal | None, given: UUID | None) -> UUID:
    if caller is None:
        raise NotAuthenticated("a callback without state needs a bearer token")
    company_id = given or caller.company_id
    if company_id is None:
        raise MokaConnectionInvalid({"company_id": "is required when the callback has no state"})
    return _company(container, caller, company_id).id


def connect_moka(
    container: Container, caller: Principal, body: Mapping[str, Any]
) -> dict[str, Any]:
    _company(container, caller, body["company_id"])
    return connection_view(connections.connect_moka_with_tokens(container, **body))


def list_outlets(
    container: Container, caller: Principal, connection_id: UUID
) -> list[dict[str, str]]:
    _connection(container, caller, connection_id)
    return _outlet_list(connections.live_outlets(container, connection_id))


def _connection(container: Container, caller: Principal, connection_id: UUID) -> MokaConnection:
    connection = container.log.get_moka_connection(connection_id)
    if not caller.sees_company(connection.company_id):
        raise MokaConnectionNotFound(connection_id)
    return connection


def _outlet_list(outlets: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"id": outlet_id, "name": name} for outlet_id, name in outlets.items()]


# -- settings ---------------------------------------------------------------------------------


def setting_view(setting: Setting) -> dict[str, Any]:
    return {
        "id": setting.id,
        **setting.values(),
        "transactions_from": setting.transactions_from,
        "master_data_synced_at": setting.master_data_synced_at,
    }


def create_setting(
    container: Container, caller: Principal, body: Mapping[str, Any]
) -> dict[str, Any]:
    _company(container, caller, body["company_id"])
    _connection(container, caller, body["moka_connection_id"])
    setting_id = container.log.create_setting(**body)
    return setting_view(container.log.get_setting(setting_id))


def list_settings(container: Container, caller: Principal) -> list[dict[str, Any]]:
    """The caller's live settings, each with the overview columns of the settings list."""
    found = _settings_of(container, caller)
    overview = queries.settings_overview(container, [s.id for s in found])
    return [{**setting_view(s), "overview": overview.get(str(s.id))} for s in found]


def _settings_of(container: Container, caller: Principal) -> list[Setting]:
    return container.log.list_settings(None if caller.admin else caller.company_id)


def show_setting(container: Container, caller: Principal, setting_id: UUID) -> dict[str, Any]:
    return setting_view(visible_setting(container, caller, setting_id))


def change_setting(
    container: Container, caller: Principal, setting_id: UUID, changes: Mapping[str, Any]
) -> dict[str, Any]:
    visible_setting(container, caller, setting_id)
    return setting_view(container.log.update_setting(setting_id, changes))


def delete_setting(container: Container, caller: Principal, setting_id: UUID) -> None:
    visible_setting(container, caller, setting_id)
    container.log.delete_setting(setting_id)


def visible_setting(container: Container, caller: Principal, setting_id: UUID) -> Setting:
    setting = container.log.get_setting(setting_id)
    if not caller.sees_company(setting.company_id):
        raise SettingNotFound(setting_id)
    return setting


# -- sync -------------------------------------------------------------------------------------


def sync_master_data(container: Container, caller: Principal, setting_id: UUID) -> UUID:
    visible_setting(container, caller, setting_id)
    return syncing.request_master_data_sync(container, setting_id)


def sync_transactions(container: Container, caller: Principal, setting_id: UUID) -> UUID:
    visible_setting(container, caller, setting_id)
    return syncing.request_transactions_sync(container, setting_id)


def sync_all_transactions(
    container: Container, caller: Principal, setting_ids: list[UUID] | None
) -> dict[str, Any]:
    """Every named setting (default: all the caller's) syncs transactions. A setting that has
    not synced master data yet is skipped with the reason instead of stopping the others; an
    id the caller cannot see refuses the whole request before anything starts."""
    if setting_ids is None:
        chosen = [s.id for s in _settings_of(container, caller)]
    else:
        chosen = [visible_setting(container, caller, s).id for s in dict.fromkeys(setting_ids)]
    run_ids: list[UUID] = []
    skipped: list[dict[str, Any]] = []
    for setting_id in chosen:
        try:
            run_ids.append(syncing.request_transactions_sync(container, setting_id))
        except MasterDataNotSynced as refused:
            skipped.append(
                {"setting_id": setting_id, "code": code_of(refused), "message": refused.message}
            )
    return {"run_ids": run_ids, "skipped": skipped}


# -- the log ----------------------------------------------------------------------------------


def read_events(
    container: Container, caller: Principal, setting_id: UUID, after: int, limit: int
) -> dict[str, Any]:
    visible_setting(container, caller, setting_id)
    events = container.log.read(setting_id, after=after, limit=limit)
    return {
        "events": [log_entry(e) for e in events],
        "next_after": events[-1].position if len(events) == limit else None,
    }


def log_entry(event: LogEvent) -> dict[str, Any]:
    skipped = {"originator_id", "originator_version", "timestamp", "setting_id"}
    data = {
        f.name: plain(getattr(event, f.name))
        for f in dataclasses.fields(event)
        if f.name not in skipped
    }
    return {
        "position": event.position,
        "type": type(event).__name__,
        "timestamp": event.timestamp,
        "data": data,
    }


def plain(value: Any) -> Any:
    """A value as JSON: ids and Decimals as strings (never floats or exponents), times in
    ISO 8601."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


# -- the read models --------------------------------------------------------------------------


def sync_history(container: Container, caller: Principal, setting_id: UUID) -> list[dict[str, Any]]:
    visible_setting(container, caller, setting_id)
    return queries.sync_history(container, setting_id)


def run_detail(container: Container, caller: Principal, run_id: UUID) -> dict[str, Any]:
    """A run with its errors. Runs are read models too: one the views have not seen yet is
    not found, as is a run of another company's setting."""
    detail = queries.run_detail(container, run_id)
    if detail is None:
        raise RunNotFound(run_id)
    setting = container.log.get_setting(UUID(detail["setting_id"]), include_deleted=True)
    if not caller.sees_company(setting.company_id):
        raise RunNotFound(run_id)
    return detail


def open_errors(container: Container, caller: Principal, setting_id: UUID) -> list[dict[str, Any]]:
    visible_setting(container, caller, setting_id)
    return queries.open_errors(container, setting_id)


def reconciliation(
    container: Container, caller: Principal, setting_id: UUID, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    visible_setting(container, caller, setting_id)
    return queries.reconciliation(container, setting_id, date_from, date_to)


# -- replay -----------------------------------------------------------------------------------


def replay_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """`only_failed`, `since`, `until` (ISO 8601) and `event_ids`, as the replay job reads them;
    absent ones are left out."""
    return {name: plain(value) for name, value in params.items() if value is not None}


def request_replay(
    container: Container, caller: Principal, setting_id: UUID, params: Mapping[str, Any]
) -> UUID:
    visible_setting(container, caller, setting_id)
    return syncing.request_replay(container, setting_id, replay_params(params))
