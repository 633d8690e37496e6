"""Settings overview: one row per setting, with what the settings list shows — name, tags,
warehouse, and the last successful sync and last sync, each for master data and for
transactions (a sync is a finished run of that kind; successful means Sukses).
"""

from __future__ import annotations

from typing import Any

from domain.log import (
    RunKind,
    RunStatus,
    SettingChanged,
    SettingCreated,
    SettingDeleted,
    SyncFinished,
)
from infra.eventlog import GlobalEntry
from infra.readmodels import Db
from projections.view import Context, to_json

_SYNC_COLUMNS = {RunKind.MASTER_DATA.value: "master", RunKind.TRANSACTIONS.value: "tx"}


def payment_tags(payment_accounts: dict[str, Any]) -> list[str]:
    """The tags of a setting's payment accounts, by bucket name, each once."""
    tags: list[str] = []
    for bucket in sorted(payment_accounts):
        tag = (payment_accounts[bucket] or {}).get("tag")
        if tag and tag not in tags:
            tags.append(tag)
    return tags


class Overview:
    events = (SettingCreated, SettingChanged, SettingDeleted, SyncFinished)

    def apply(self, db: Db, entry: GlobalEntry, context: Context) -> None:
        event = entry.event
        setting_id = str(event.setting_id)
        if isinstance(event, SettingCreated):
            values = event.values
            db.execute(
                "INSERT INTO proj_settings (setting_id, company_id, name, tag, warehouse,"
                " payment_tags, deleted) VALUES (?, ?, ?, ?, ?, ?, 0)"
                " ON CONFLICT (setting_id) DO NOTHING",
                (
                    setting_id,
                    str(event.company_id),
                    values["name"],
                    values.get("tag"),
                    values.get("warehouse"),
                    to_json(payment_tags(values.get("payment_accounts") or {})),
                ),
            )
        elif isinstance(event, SettingChanged):
            self._changed(db, setting_id, event.changes)
        elif isinstance(event, SettingDeleted):
            db.execute("UPDATE proj_settings SET deleted = 1 WHERE setting_id = ?", (setting_id,))
        elif isinstance(event, SyncFinished) and event.kind in _SYNC_COLUMNS:
            self._synced(db, setting_id, event, context)

    @staticmethod
    def _changed(db: Db, setting_id: str, changes: dict[str, Any]) -> None:
        columns: dict[str, Any] = {
            name: changes[name] for name in ("name", "tag", "warehouse") if name in changes
        }
        if "payment_accounts" in changes:
            columns["payment_tags"] = to_json(payment_tags(changes["payment_accounts"] or {}))
        if columns:
            assignments = ", ".join(f"{name} = ?" for name in columns)
            db.execute(
                f"UPDATE proj_settings SET {assignments} WHERE setting_id = ?",
                (*columns.values(), setting_id),
            )

    @staticmethod
    def _synced(db: Db, setting_id: str, event: SyncFinished, context: Context) -> None:
        prefix = _SYNC_COLUMNS[event.kind]
        at = context.local_text(event.timestamp)
        assignments = f"{prefix}_last_sync_at = ?, {prefix}_last_status = ?"
        params: list[Any] = [at, event.status]
        if event.status == RunStatus.SUCCEEDED:
            assignments += f", {prefix}_last_success_at = ?"
            params.append(at)
        db.execute(
            f"UPDATE proj_settings SET {assignments} WHERE setting_id = ?", (*params, setting_id)
        )
