"""The JSON API's use cases: each takes the caller (`Principal`) and plain input, enforces the
caller's reach, calls the event log, the connection use cases, the job dispatcher or the read
models, and returns plain data for the view to dump.

Reach: an operator's token sees everything; a company's token sees its own company and what
hangs off it (Moka connections, settings, runs, events). Anything else raises the same
`NotFound` an unknown id would, so ids of other companies cannot be probed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from domain.audit import Action
from domain.chart import (
    ACCOUNT_DEFAULTS,
    CASH_AND_BANK,
    check_setting_accounts,
    chosen_accounts,
)
from domain.errors import (
    CompanyNotFound,
    MasterDataNotSynced,
    MokaConnectionInvalid,
    MokaConnectionNotFound,
    RunNotFound,
    SettingNotFound,
)
from domain.log import LogEvent
from domain.settings import Company, MokaConnection, Setting
from gateway.errors import ApiError, code_of
from infra.api_tokens import Principal
from infra.bootstrap import Container
from jobs import dispatch, replay
from projections import queries
from services import audit, connections

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
    company = connections.register_company(container, **body)
    audit.record(
        container, company.id, Action.COMPANY_ADDED, name=company.name,
        jurnal_client_id=company.jurnal_client_id, package=company.package.value,
    )  # fmt: skip
    return company_view(company)


def list_companies(container: Container, caller: Principal) -> list[dict[str, Any]]:
    if caller.admin:
        return [company_view(c) for c in container.log.list_companies()]
    assert caller.company_id is not None
    return [company_view(container.log.get_company(caller.company_id))]


def show_company(container: Container, caller: Principal, company_id: UUID) -> dict[str, Any]:
    return company_view(_company(container, caller, company_id))


def set_quota(container: Container, company_id: UUID, quota: int) -> dict[str, Any]:
    before = container.log.get_company(company_id).quota
    container.log.set_quota(company_id, quota)
    company = container.log.get_company(company_id)
    if company.quota != before:
        audit.record(container, company_id, Action.QUOTA_CHANGED, quota=quota, was=before)
    return company_view(company)


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


def start_moka_authorization(
    container: Container,
    caller: Principal,
    company_id: UUID,
    callback_path: str = connections.CALLBACK_PATH,
) -> str:
    _company(container, caller, company_id)
    return connections.authorization_url(container, company_id, callback_path)


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


def finish_moka_authorization_for(
    container: Container, caller: Principal, query: Mapping[str, Any], callback_path: str
) -> dict[str, Any]:
    """The admin UI's callback: the state is required, and the signed-in caller must reach the
    company it was issued for (a state is not a credential of its own there)."""
    if not query.get("code"):
        denied = query.get("error") or "no code"
        raise MokaConnectionInvalid(
            {"code": f"is missing: Moka answered {denied}; connect Moka again"}
        )
    company_id = connections.company_of_state(container, str(query.get("state") or "-"))
    _company(container, caller, company_id)
    connection = connections.complete_authorization(
        container, company_id, str(query["code"]), callback_path
    )
    return connection_view(connection)


def list_moka_connections(
    container: Container, caller: Principal, company_id: UUID
) -> list[dict[str, Any]]:
    _company(container, caller, company_id)
    return [connection_view(c) for c in container.log.list_moka_connections(company_id)]


def show_moka_connection(
    container: Container, caller: Principal, connection_id: UUID
) -> dict[str, Any]:
    return connection_view(_connection(container, caller, connection_id))


def _callback_company(container: Container, caller: Principal | None, given: UUID | None) -> UUID:
    if caller is None:
        raise ApiError(401, "unauthorized", "a callback without state needs a bearer token")
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


# -- what a setting may pick from the company's Jurnal -----------------------------------------

# Jurnal's account categories (reference §6) that suit each account field; a field whose
# categories the chart lacks offers every account.
_SUITED_CATEGORIES: dict[str, frozenset[int]] = {
    "payment_accounts": frozenset({CASH_AND_BANK}),
    "sales_account": frozenset({13, 14}),
    "purchase_account": frozenset({15, 16, 17}),
    "sell_tax_account": frozenset({10}),
    "buy_tax_account": frozenset({2}),
    # Revenue and other income, where a summary's rounding belongs.
    "rounding_account": frozenset({13, 14}),
}


JURNAL_CHOICES_TTL = 300
_CHOICES_KEY = "sambung:jurnal-choices:"


def jurnal_choices(
    container: Container, caller: Principal, company_id: UUID, *, fresh: bool = False
) -> dict[str, Any]:
    """What a setting's pickers offer, from the company's Jurnal: for each account field the
    accounts that suit it (each as `{value, label}`, the value its number) and the company's
    default account that an empty field stands for; customers; and the tags and warehouses when
    the company's package allows them (it decides, and is returned too).

    Kept in Redis for `JURNAL_CHOICES_TTL` seconds (`fresh` reads Jurnal again): every form
    view would otherwise spend five calls of the credential's budget, which the workers share."""
    company = _company(container, caller, company_id)
    key = _CHOICES_KEY + str(company_id)
    cached = None if fresh else container.redis.get(key)
    if cached is not None:
        found: dict[str, Any] = json.loads(cached)
        return found
    choices = _read_jurnal_choices(container, company)
    container.redis.set(key, json.dumps(choices), ex=JURNAL_CHOICES_TTL)
    return choices


def _read_jurnal_choices(container: Container, company: Company) -> dict[str, Any]:
    company_id = company.id
    chart = connections.company_chart(container, company_id)
    paths = ("customers",)
    paths += ("tags",) if company.package.has_tags else ()
    paths += ("warehouses",) if company.package.has_warehouses else ()
    lists = connections.jurnal_catalogs(container, company_id, paths)
    every = [{"value": a.number or a.name, "label": a.label, "name": a.name,
              "category_id": a.category_id} for a in chart.accounts]  # fmt: skip

    def suited(categories: frozenset[int]) -> list[dict[str, Any]]:
        return [a for a in every if a["category_id"] in categories] or every

    def names(path: str, field: str = "name") -> list[str]:
        return sorted(str(row.get(field) or "") for row in lists.get(path, []))

    defaults = {}
    for field_name, key in ACCOUNT_DEFAULTS.items():
        account = chart.default(key)
        defaults[field_name] = account.label if account else ""
    return {
        "package": company.package.value,
        "has_tags": company.package.has_tags,
        "has_warehouses": company.package.has_warehouses,
        "accounts": {name: suited(categories) for name, categories in _SUITED_CATEGORIES.items()},
        "default_accounts": defaults,
        "tags": names("tags"),
        "warehouses": names("warehouses"),
        "customers": names("customers", "display_name"),
    }


# -- settings ---------------------------------------------------------------------------------


def setting_view(setting: Setting) -> dict[str, Any]:
    return {
        "id": setting.id,
        **setting.values(),
        "posting_mode_changes": dict(setting.posting_mode_changes),
        "transactions_from": setting.transactions_from,
        "master_data_synced_at": setting.master_data_synced_at,
    }


def create_setting(
    container: Container, caller: Principal, body: Mapping[str, Any]
) -> dict[str, Any]:
    _company(container, caller, body["company_id"])
    _connection(container, caller, body["moka_connection_id"])
    check_accounts(container, body["company_id"], body)
    setting_id = container.log.create_setting(**body)
    setting = container.log.get_setting(setting_id)
    audit.record(
        container, setting.company_id, Action.SETTING_CREATED, subject_id=setting_id,
        name=setting.name, outlet_id=setting.outlet_id,
    )  # fmt: skip
    return setting_view(setting)


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
    setting = visible_setting(container, caller, setting_id)
    check_accounts(container, setting.company_id, changes)
    before = plain(setting.values())
    updated = container.log.update_setting(setting_id, changes)
    after = plain(updated.values())
    changed = {name: after[name] for name in after if after[name] != before.get(name)}
    if changed:
        audit.record(
            container, setting.company_id, Action.SETTING_CHANGED, subject_id=setting_id,
            changes=changed,
        )  # fmt: skip
    return setting_view(updated)


def check_accounts(container: Container, company_id: UUID, values: Mapping[str, Any]) -> None:
    """The accounts `values` name must be in the company's chart as Jurnal has it now; Jurnal is
    asked only when some account is named (an empty one is the company's default)."""
    if chosen_accounts(values):
        check_setting_accounts(values, connections.company_chart(container, company_id))


def delete_setting(container: Container, caller: Principal, setting_id: UUID) -> None:
    setting = visible_setting(container, caller, setting_id)
    container.log.delete_setting(setting_id)
    audit.record(
        container, setting.company_id, Action.SETTING_DELETED, subject_id=setting_id,
        name=setting.name,
    )  # fmt: skip


def visible_setting(container: Container, caller: Principal, setting_id: UUID) -> Setting:
    setting = container.log.get_setting(setting_id)
    if not caller.sees_company(setting.company_id):
        raise SettingNotFound(setting_id)
    return setting


# -- sync -------------------------------------------------------------------------------------


def sync_master_data(container: Container, caller: Principal, setting_id: UUID) -> UUID:
    setting = visible_setting(container, caller, setting_id)
    run_id = dispatch.request_master_data_sync(container, setting_id)
    _sync_requested(container, setting, run_id, "master_data")
    return run_id


def sync_transactions(container: Container, caller: Principal, setting_id: UUID) -> UUID:
    setting = visible_setting(container, caller, setting_id)
    run_id = dispatch.request_transactions_sync(container, setting_id)
    _sync_requested(container, setting, run_id, "transactions")
    return run_id


def _sync_requested(container: Container, setting: Setting, run_id: UUID, kind: str) -> None:
    audit.record(
        container, setting.company_id, Action.SYNC_REQUESTED, subject_id=setting.id,
        kind=kind, run_id=run_id,
    )  # fmt: skip


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
            run_ids.append(dispatch.request_transactions_sync(container, setting_id))
            setting = container.log.get_setting(setting_id)
            _sync_requested(container, setting, run_ids[-1], "transactions")
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


def open_errors(
    container: Container,
    caller: Principal,
    setting_id: UUID,
    items_per_cause: int = queries.ITEMS_PER_CAUSE,
) -> list[dict[str, Any]]:
    visible_setting(container, caller, setting_id)
    return queries.open_errors(container, setting_id, items_per_cause=items_per_cause)


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
    setting = visible_setting(container, caller, setting_id)
    run_id = dispatch.request_replay(container, setting_id, replay_params(params))
    audit.record(
        container, setting.company_id, Action.REPLAY_REQUESTED, subject_id=setting_id,
        run_id=run_id, params=replay_params(params),
    )  # fmt: skip
    return run_id


def plan_replay(
    container: Container, caller: Principal, setting_id: UUID, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    visible_setting(container, caller, setting_id)
    return plain(replay.dry_run(container, setting_id, replay_params(params)))
