"""Settings (one Moka outlet into one Jurnal company): creating one within its company's quota
and indexing it under its outlet, changing and deleting it, each with its event in the setting's
log; and the setting's two progress streams, the transactions checkpoint and the posting
cursor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as time_of_day
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import SettingNotFound
from domain.log import SettingChanged, SettingCreated, SettingDeleted
from domain.settings import DEFAULT_SYNC_TIME, Setting
from infra.eventstore.base import StoreBase
from infra.eventstore.streams import (
    CheckpointAdvanced,
    PostingCursorAdvanced,
    checkpoint_stream_id,
    next_event,
    outlet_index_id,
    posting_cursor_stream_id,
)


class Settings(StoreBase):
    # -- settings -----------------------------------------------------------------------------

    def create_setting(
        self,
        *,
        company_id: UUID,
        moka_connection_id: UUID,
        outlet_id: str | int,
        name: str,
        start_date: date | str,
        default_customer: str,
        sales_account: str | None = None,
        purchase_account: str | None = None,
        sell_tax_account: str | None = None,
        buy_tax_account: str | None = None,
        name_prefix: str = "",
        name_suffix: str = "",
        track_inventory: bool = False,
        auto_sync: bool = True,
        sync_time: time_of_day | str = DEFAULT_SYNC_TIME,
        tag: str | None = None,
        warehouse: str | None = None,
        sync_by_product_name: bool = False,
        payment_accounts: Mapping[str, Mapping[str, str | None]] | None = None,
        posting_mode: str = "per_sale",
        rounding_account: str | None = None,
        summary_close_time: time_of_day | str | None = None,
    ) -> UUID:
        values = {
            "posting_mode": posting_mode,
            "rounding_account": rounding_account,
            "summary_close_time": summary_close_time,
            "outlet_id": outlet_id,
            "name": name,
            "start_date": start_date,
            "default_customer": default_customer,
            "name_prefix": name_prefix,
            "name_suffix": name_suffix,
            "track_inventory": track_inventory,
            "auto_sync": auto_sync,
            "sync_time": sync_time,
            "tag": tag,
            "warehouse": warehouse,
            "sync_by_product_name": sync_by_product_name,
            "sales_account": sales_account,
            "purchase_account": purchase_account,
            "sell_tax_account": sell_tax_account,
            "buy_tax_account": buy_tax_account,
            "payment_accounts": payment_accounts or {},
        }

        def attempt() -> UUID:
            company = self.get_company(company_id)
            connection = self.get_moka_connection(moka_connection_id)
            setting = Setting.create(company=company, connection=connection, values=values)
            created = self._log_event(
                SettingCreated, setting.id, 1, company_id=company.id, values=setting.values()
            )
            linked = self._index_change(
                outlet_index_id(setting.outlet_id), setting.id, present=True
            )
            self.save(company, setting, linked, created)
            return setting.id

        return self._retrying(attempt)

    def get_setting(self, setting_id: UUID, *, include_deleted: bool = False) -> Setting:
        setting = self._get(setting_id, Setting, SettingNotFound)
        if not include_deleted:
            setting.require_live()
        return setting

    def list_settings(self, company_id: UUID | None = None) -> list[Setting]:
        """Live settings, of one company or of all."""
        companies = [self.get_company(company_id)] if company_id else self.list_companies()
        return [self.get_setting(i) for c in companies for i in c.setting_ids]

    def settings_for_outlet(self, outlet_id: str | int) -> list[UUID]:
        """The live settings fed by a Moka outlet (several companies may take one outlet)."""
        return self._index_members(outlet_index_id(str(outlet_id).strip()))

    def update_setting(self, setting_id: UUID, changes: Mapping[str, Any]) -> Setting:
        """Change mutable fields. Raises `ImmutableField`, `PlanRequired` or `SettingInvalid`;
        sending a field's current value is not a change. Returns the updated setting."""

        def attempt() -> Setting:
            setting = self.get_setting(setting_id)
            package = self.get_company(setting.company_id).package
            applied = setting.update(changes, package, today=merchant_today(self.env))
            if applied:
                changed = self._next_log_event(SettingChanged, setting_id, changes=applied)
                self.save(setting, changed)
            return setting

        return self._retrying(attempt)

    def delete_setting(self, setting_id: UUID) -> None:
        """The setting stops taking commands and frees its quota place; its log stays."""

        def attempt() -> None:
            setting = self.get_setting(setting_id)
            company = self.get_company(setting.company_id)
            setting.delete()
            company.remove_setting(setting_id)
            unlinked = self._index_change(
                outlet_index_id(setting.outlet_id), setting_id, present=False
            )
            deleted = self._next_log_event(SettingDeleted, setting_id)
            self.save(company, setting, unlinked, deleted)

        self._retrying(attempt)

    def transactions_checkpoint(self, setting_id: UUID) -> datetime | None:
        """Up to when Moka transactions are in the log (from the last finished transactions
        run that gave one); None before the first. A pull resumes from here."""
        last = self._last(checkpoint_stream_id(setting_id))
        return last.until if isinstance(last, CheckpointAdvanced) else None

    def posting_cursor(self, setting_id: UUID) -> int:
        """Up to which position the sync engine has processed the setting's log (0 at first)."""
        last = self._last(posting_cursor_stream_id(setting_id))
        return last.position if isinstance(last, PostingCursorAdvanced) else 0

    def advance_posting_cursor(self, setting_id: UUID, position: int) -> None:
        """Move the posting cursor forward (never back). Two posters racing collide on the
        cursor stream's key; the loser re-reads and keeps the furthest position."""

        def attempt() -> None:
            stream = posting_cursor_stream_id(setting_id)
            last = self._last(stream)
            if isinstance(last, PostingCursorAdvanced) and last.position >= position:
                return
            advanced = next_event(PostingCursorAdvanced, stream, last, position=position)
            self.events.put([advanced])

        self._retrying(attempt)

    def has_unprocessed(self, setting_id: UUID) -> bool:
        """Whether the setting's log holds events the sync engine has not processed yet."""
        return self.head(setting_id) > self.posting_cursor(setting_id)


def merchant_today(env: Mapping[str, str]) -> date:
    """Today where the merchants are (`SAMBUNG_TIMEZONE`): a posting-mode change starts the
    next business day."""
    zone = ZoneInfo(env.get("SAMBUNG_TIMEZONE") or "Asia/Jakarta")
    return datetime.now(zone).date()
