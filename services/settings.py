"""Settings: one Moka outlet synced into one Jurnal company. Creating one (within the company's
quota, on an outlet of the company's Moka connection), changing its mutable fields, deleting it
(its log stays), and the setting as the API shows it, with the overview columns of the list.

The rules (immutable fields, plans, quota, accounts in the company's chart) are the domain's
(`domain.settings`, `domain.chart`); the event store applies them atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from domain.audit import Action
from domain.chart import check_setting_accounts, chosen_accounts
from domain.settings import Setting
from infra.bootstrap import Container
from projections import queries
from services import audit
from services.companies import company_chart
from services.plain import plain


def setting_view(setting: Setting) -> dict[str, Any]:
    return {
        "id": setting.id,
        **setting.values(),
        "posting_mode_changes": dict(setting.posting_mode_changes),
        "transactions_from": setting.transactions_from,
        "master_data_synced_at": setting.master_data_synced_at,
    }


def create_setting(container: Container, values: Mapping[str, Any]) -> Setting:
    check_accounts(container, values["company_id"], values)
    setting_id = container.log.create_setting(**values)
    setting = container.log.get_setting(setting_id)
    audit.record(
        container, setting.company_id, Action.SETTING_CREATED, subject_id=setting_id,
        name=setting.name, outlet_id=setting.outlet_id,
    )  # fmt: skip
    return setting


def with_overview(container: Container, settings: Sequence[Setting]) -> list[dict[str, Any]]:
    """Each setting with the overview columns of the settings list."""
    overview = queries.settings_overview(container.views, [s.id for s in settings])
    return [{**setting_view(s), "overview": overview.get(str(s.id))} for s in settings]


def change_setting(container: Container, setting_id: UUID, changes: Mapping[str, Any]) -> Setting:
    """Raises `ImmutableField`, `PlanRequired` or `SettingInvalid`; sending a field's current
    value is not a change."""
    setting = container.log.get_setting(setting_id)
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
    return updated


def check_accounts(container: Container, company_id: UUID, values: Mapping[str, Any]) -> None:
    """The accounts `values` name must be in the company's chart as Jurnal has it now; Jurnal is
    asked only when some account is named (an empty one is the company's default)."""
    if chosen_accounts(values):
        check_setting_accounts(values, company_chart(container, company_id))


def delete_setting(container: Container, setting_id: UUID) -> None:
    """The setting stops taking commands and frees its quota place; its log stays."""
    setting = container.log.get_setting(setting_id)
    container.log.delete_setting(setting_id)
    audit.record(
        container, setting.company_id, Action.SETTING_DELETED, subject_id=setting_id,
        name=setting.name,
    )  # fmt: skip
