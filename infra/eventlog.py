"""The event store and its use cases: companies, Moka connections, settings and each setting's log.

`EventLog` is an `eventsourcing` Application on SQLite (default) or PostgreSQL, picked by the
environment from `Config.event_store_env()`. Everything is written through the library's own
`save` (one atomic `insert_events` per call), and every invariant that two processes could race
on is a unique constraint of the store, never a read-then-write in Python:

- **Streams.** Aggregates (`Company`, `MokaConnection`, `Setting`, `SyncRun`) are short streams.
  Each setting's log is a separate stream of `domain.log` events, `log_stream_id(setting_id)`,
  that is only ever appended to and never replayed on the write path.
- **Appending.** The next position is the last event's position + 1, read with one indexed
  `select ... order by version desc limit 1`, so an append costs the same at ten events or a
  million. Two processes that pick the same position collide on the store's primary key; the
  loser re-reads and tries again.
- **Deduplication.** Each Moka record (kind + id) has a tiny *version stream* whose events
  record the `updated_at` of each stored revision. A received record is written together with
  the next event of its version stream, in the same insert. If that version is already there
  (same or newer `updated_at`), nothing is written: `Appended.stored` is false. If two processes
  race with the same version, the store's unique key on the version stream rejects the second,
  which then re-reads and sees the duplicate. A newer `updated_at` is stored as the next
  revision; an older one arriving late is stale and not stored.
- **Indexes.** Lists that a use case needs (all companies, a company's Moka connections, the
  live settings of an outlet) are small index streams written in the same insert as the change
  they reflect. A company's settings live on the `Company` aggregate, so that the quota is checked
  and claimed in the same atomic insert as the setting it admits.
- **Run bookkeeping.** Finishing a run, marking master data synced and advancing the
  transaction checkpoint are one insert. The checkpoint is its own stream, read by its last
  event. Outcomes (`DocumentPosted`, `PostingFailed`) also advance a per-document stream keyed
  by `custom_id`, so `last_outcome` is one indexed read, and recording the same posting twice
  stores it once.

- **Topics.** The bookkeeping events below are stored under topics that embed this module's
  path. The module moved from `sambung/eventlog.py` to `infra/eventlog.py`; new events are
  written as `infra.eventlog:...`, and the former `sambung.eventlog:...` topics are registered
  as aliases so stores written before the move read unchanged. Keep the aliases as long as such
  stores may exist. Setting logs (`domain.log`) and aggregates (`domain.settings`) did not move.

Readers page through one setting's log (`read`), or through every setting's log in global order
(`read_all`, for projections that poll from their own tracking position: SQLite has no
subscriptions). The global order is the store's notification id: it only grows, and with the
library's insert locking on PostgreSQL, commits in that order.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as time_of_day
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID, uuid4, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic, register_topic

from domain.errors import (
    CompanyNotFound,
    MokaConnectionNotFound,
    MokaRecordInvalid,
    NotFound,
    OutcomeInvalid,
    RunInvalid,
    RunNotFound,
    SettingNotFound,
)
from domain.log import (
    LOG_EVENT_TYPES,
    RECEIVED_EVENTS,
    DocumentKind,
    DocumentPosted,
    LogEvent,
    MokaDataReceived,
    MokaKind,
    PostingFailed,
    RunKind,
    RunMethod,
    RunStatus,
    SettingChanged,
    SettingCreated,
    SettingDeleted,
    Source,
    SyncFinished,
    SyncRequested,
    SyncRun,
    check_amounts,
    moka_identity,
    record_progress,
)
from domain.sealed import Sealed
from domain.settings import (
    DEFAULT_QUOTA,
    DEFAULT_SYNC_TIME,
    SAMBUNG_NAMESPACE,
    Company,
    JurnalPackage,
    MokaConnection,
    Setting,
)
from infra.config import Config
from infra.filelock import held_lock
from infra.secrets import SecretBox, secret_box

MAX_PAGE = 10_000
RECEIVE_BATCH = 200
_CONFLICT_ATTEMPTS = 200

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


# -- stream ids -------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def log_stream_id(setting_id: UUID) -> UUID:
    """The stream that holds a setting's log (the setting aggregate has the setting's own id)."""
    return uuid5(setting_id, "log")


def _version_stream_id(setting_id: UUID, kind: MokaKind, moka_id: str) -> UUID:
    return uuid5(setting_id, f"moka-versions:{kind.value}:{moka_id}")


def _outcome_stream_id(setting_id: UUID, custom_id: str) -> UUID:
    return uuid5(setting_id, f"outcomes:{custom_id}")


def _checkpoint_stream_id(setting_id: UUID) -> UUID:
    return uuid5(setting_id, "transactions-checkpoint")


def _posting_cursor_stream_id(setting_id: UUID) -> UUID:
    return uuid5(setting_id, "posting-cursor")


def _companies_index_id() -> UUID:
    return uuid5(SAMBUNG_NAMESPACE, "index:companies")


def _outlet_index_id(outlet_id: str) -> UUID:
    return uuid5(SAMBUNG_NAMESPACE, f"index:outlet:{outlet_id}")


def _connections_index_id(company_id: UUID) -> UUID:
    return uuid5(company_id, "index:moka-connections")


# -- bookkeeping events (not part of any setting's log) ---------------------------------------
# Their topics embed this module's path: renaming them is a data migration (see the module
# docstring, **Topics**).


class VersionRecorded(DomainEvent):
    """A Moka record's revision `originator_version` was stored at `position` of the log."""

    updated_at: datetime
    position: int
    progress: int = 0  # see `domain.log.record_progress`


class OutcomeRecorded(DomainEvent):
    """The latest outcome of one Jurnal document (by `custom_id`) is at `position` of the log."""

    position: int
    posted: bool
    jurnal_id: str | None
    digest: str | None = None


class CheckpointAdvanced(DomainEvent):
    until: datetime
    run_id: UUID


class PostingCursorAdvanced(DomainEvent):
    """The sync engine has processed the setting's log up to `position`."""

    position: int


class IndexChanged(DomainEvent):
    member: UUID
    present: bool


# Stores written before the move to `infra/` hold these events under `sambung.eventlog:...`.
_FORMER_MODULE = "sambung.eventlog"
for _moved in (
    VersionRecorded,
    OutcomeRecorded,
    CheckpointAdvanced,
    PostingCursorAdvanced,
    IndexChanged,
):
    register_topic(f"{_FORMER_MODULE}:{_moved.__qualname__}", _moved)


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Appended:
    """What became of one received Moka record in one setting's log.

    `outcome` is "stored", "duplicate" (this `updated_at` is already there) or "stale" (a newer
    one is). `position` and `revision` are those of the stored event, or of the newest revision
    already there when nothing was stored.
    """

    setting_id: UUID
    outcome: str
    position: int
    revision: int

    @property
    def stored(self) -> bool:
        return self.outcome == "stored"


@dataclass(frozen=True)
class RequestedRun:
    """`created` is false when a run with this id already existed (nothing was appended)."""

    run_id: UUID
    created: bool


@dataclass(frozen=True)
class GlobalEntry:
    global_position: int
    event: LogEvent


@dataclass(frozen=True)
class GlobalPage:
    """Log events in global order. Pass `last_position` as `after` to read on: it also covers
    bookkeeping records that are not log events, so a poller never re-reads them."""

    entries: list[GlobalEntry]
    last_position: int


@dataclass(frozen=True)
class JurnalCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class PostedDocument:
    jurnal_id: str
    digest: str | None


@dataclass(frozen=True)
class MokaTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime | None


# -- transcodings for event payloads ----------------------------------------------------------


class _DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class _TimeAsISO(Transcoding):
    type = time_of_day
    name = "time_iso"

    def encode(self, obj: time_of_day) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> time_of_day:
        return time_of_day.fromisoformat(data)


class _SealedAsDict(Transcoding):
    type = Sealed
    name = "sealed"

    def encode(self, obj: Sealed) -> dict[str, str]:
        return {"key_id": obj.key_id, "ciphertext": obj.ciphertext}

    def decode(self, data: dict[str, str]) -> Sealed:
        return Sealed(data["key_id"], data["ciphertext"])


_LOG_TOPICS = frozenset(get_topic(cls) for cls in LOG_EVENT_TYPES)


class EventLog(Application[UUID]):
    name = "EventLog"
    # Readers of `notification_log.select` may ask for up to this many at once.
    log_section_size = 1000

    def __init__(self, env: Mapping[str, str], secrets: SecretBox) -> None:
        self.secrets = secrets
        super().__init__(env=dict(env))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in (_DateAsISO(), _TimeAsISO(), _SealedAsDict()):
            transcoder.register(transcoding)

    # -- companies --------------------------------------------------------------------------

    def register_company(
        self,
        *,
        name: str,
        jurnal_client_id: str,
        jurnal_client_secret: str,
        package: JurnalPackage | str,
        quota: int = DEFAULT_QUOTA,
    ) -> UUID:
        company = Company.register(
            name=name,
            jurnal_client_id=jurnal_client_id,
            jurnal_client_secret=self.secrets.seal(jurnal_client_secret),
            package=package,
            quota=quota,
        )

        def attempt() -> UUID:
            listed = self._index_change(_companies_index_id(), company.id, present=True)
            self.save(company, listed)
            return company.id

        return self._retrying(attempt)

    def get_company(self, company_id: UUID) -> Company:
        return self._get(company_id, Company, CompanyNotFound)

    def list_companies(self) -> list[Company]:
        return [self.get_company(i) for i in self._index_members(_companies_index_id())]

    def set_quota(self, company_id: UUID, quota: int) -> None:
        self._update(company_id, Company, CompanyNotFound, lambda c: c.set_quota(quota))

    def record_package(self, company_id: UUID, package: JurnalPackage | str) -> None:
        self._update(company_id, Company, CompanyNotFound, lambda c: c.record_package(package))

    def change_jurnal_credentials(
        self, company_id: UUID, *, jurnal_client_id: str, jurnal_client_secret: str
    ) -> None:
        sealed = self.secrets.seal(jurnal_client_secret)
        self._update(
            company_id,
            Company,
            CompanyNotFound,
            lambda c: c.change_credentials(jurnal_client_id, sealed),
        )

    def jurnal_credentials(self, company_id: UUID) -> JurnalCredentials:
        company = self.get_company(company_id)
        return JurnalCredentials(
            company.jurnal_client_id, self.secrets.unseal(company.jurnal_client_secret)
        )

    # -- Moka connections -------------------------------------------------------------------

    def connect_moka(
        self,
        *,
        company_id: UUID,
        email: str,
        business_id: str | int,
        outlets: Mapping[str | int, str],
        access_token: str,
        refresh_token: str,
        token_expires_at: datetime | None = None,
    ) -> UUID:
        """Store a Moka connection; connecting the same business again updates it in place."""
        access, refresh = self.secrets.seal(access_token), self.secrets.seal(refresh_token)

        def attempt() -> UUID:
            self.get_company(company_id)
            connection_id = MokaConnection.create_id(company_id, str(business_id).strip())
            try:
                connection = self.get_moka_connection(connection_id)
            except MokaConnectionNotFound:
                connection = MokaConnection.connect(
                    company_id=company_id,
                    email=email,
                    business_id=business_id,
                    outlets=outlets,
                    access_token=access,
                    refresh_token=refresh,
                    token_expires_at=token_expires_at,
                )
                index = _connections_index_id(company_id)
                self.save(connection, self._index_change(index, connection.id, present=True))
            else:
                connection.reconnect(
                    email=email,
                    outlets=outlets,
                    access_token=access,
                    refresh_token=refresh,
                    token_expires_at=token_expires_at,
                )
                self.save(connection)
            return connection.id

        return self._retrying(attempt)

    def get_moka_connection(self, connection_id: UUID) -> MokaConnection:
        return self._get(connection_id, MokaConnection, MokaConnectionNotFound)

    def list_moka_connections(self, company_id: UUID) -> list[MokaConnection]:
        members = self._index_members(_connections_index_id(company_id))
        return [self.get_moka_connection(i) for i in members]

    def store_moka_tokens(
        self,
        connection_id: UUID,
        *,
        access_token: str,
        refresh_token: str,
        token_expires_at: datetime | None = None,
    ) -> None:
        access, refresh = self.secrets.seal(access_token), self.secrets.seal(refresh_token)
        self._update(
            connection_id,
            MokaConnection,
            MokaConnectionNotFound,
            lambda c: c.store_tokens(access, refresh, token_expires_at),
        )

    def moka_tokens(self, connection_id: UUID) -> MokaTokens:
        connection = self.get_moka_connection(connection_id)
        return MokaTokens(
            self.secrets.unseal(connection.access_token),
            self.secrets.unseal(connection.refresh_token),
            connection.token_expires_at,
        )

    # -- secrets ------------------------------------------------------------------------------

    def reseal_secrets(self) -> int:
        """Re-seal every secret not sealed with the current key; return how many aggregates
        changed. See `infra.secrets` for the rotation procedure."""
        resealed = 0
        for company in self.list_companies():
            if not self.secrets.is_current(company.jurnal_client_secret):
                secret = self.secrets.unseal(company.jurnal_client_secret)
                self.change_jurnal_credentials(
                    company.id,
                    jurnal_client_id=company.jurnal_client_id,
                    jurnal_client_secret=secret,
                )
                resealed += 1
            for connection in self.list_moka_connections(company.id):
                current = self.secrets.is_current
                if current(connection.access_token) and current(connection.refresh_token):
                    continue
                tokens = self.moka_tokens(connection.id)
                self.store_moka_tokens(
                    connection.id,
                    access_token=tokens.access_token,
                    refresh_token=tokens.refresh_token,
                    token_expires_at=tokens.expires_at,
                )
                resealed += 1
        return resealed

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
                _outlet_index_id(setting.outlet_id), setting.id, present=True
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
        return self._index_members(_outlet_index_id(str(outlet_id).strip()))

    def update_setting(self, setting_id: UUID, changes: Mapping[str, Any]) -> Setting:
        """Change mutable fields. Raises `ImmutableField`, `PlanRequired` or `SettingInvalid`;
        sending a field's current value is not a change. Returns the updated setting."""

        def attempt() -> Setting:
            setting = self.get_setting(setting_id)
            package = self.get_company(setting.company_id).package
            applied = setting.update(changes, package, today=merchant_today(self.env))
            if applied:
                position = self.head(setting_id) + 1
                changed = self._log_event(SettingChanged, setting_id, position, changes=applied)
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
                _outlet_index_id(setting.outlet_id), setting_id, present=False
            )
            deleted = self._log_event(SettingDeleted, setting_id, self.head(setting_id) + 1)
            self.save(company, setting, unlinked, deleted)

        self._retrying(attempt)

    def transactions_checkpoint(self, setting_id: UUID) -> datetime | None:
        """Up to when Moka transactions are in the log (from the last finished transactions
        run that gave one); None before the first. A pull resumes from here."""
        last = self._last(_checkpoint_stream_id(setting_id))
        return last.until if isinstance(last, CheckpointAdvanced) else None

    def posting_cursor(self, setting_id: UUID) -> int:
        """Up to which position the sync engine has processed the setting's log (0 at first)."""
        last = self._last(_posting_cursor_stream_id(setting_id))
        return last.position if isinstance(last, PostingCursorAdvanced) else 0

    def advance_posting_cursor(self, setting_id: UUID, position: int) -> None:
        """Move the posting cursor forward (never back). Two posters racing collide on the
        cursor stream's key; the loser re-reads and keeps the furthest position."""

        def attempt() -> None:
            stream = _posting_cursor_stream_id(setting_id)
            last = self._last(stream)
            if isinstance(last, PostingCursorAdvanced) and last.position >= position:
                return
            advanced = PostingCursorAdvanced(
                originator_id=stream,
                originator_version=last.originator_version + 1 if last else 1,
                timestamp=PostingCursorAdvanced.create_timestamp(),
                position=position,
            )
            self.events.put([advanced])

        self._retrying(attempt)

    def has_unprocessed(self, setting_id: UUID) -> bool:
        """Whether the setting's log holds events the sync engine has not processed yet."""
        return self.head(setting_id) > self.posting_cursor(setting_id)

    # -- Moka data ------------------------------------------------------------------------------

    def receive(
        self,
        setting_id: UUID,
        kind: MokaKind | str,
        record: Mapping[str, Any],
        source: Source | str,
    ) -> Appended:
        """Append one Moka record to a setting's log unless this version is already there."""
        return self.receive_many(setting_id, kind, [record], source)[0]

    def receive_many(
        self,
        setting_id: UUID,
        kind: MokaKind | str,
        records: Sequence[Mapping[str, Any]],
        source: Source | str,
    ) -> list[Appended]:
        """Append a page of Moka records, up to `RECEIVE_BATCH` per atomic insert. Results are in
        the order of `records`; a record repeated within the page is stored once."""
        checked_kind, checked_source = _moka_kind(kind), _source(source)
        identified = [(record, *moka_identity(checked_kind, record)) for record in records]
        results: list[Appended] = []
        for start in range(0, len(identified), RECEIVE_BATCH):
            batch = identified[start : start + RECEIVE_BATCH]
            results += self._retrying(
                lambda batch=batch: self._append_received(
                    setting_id, checked_kind, checked_source, batch
                )
            )
        return results

    def receive_for_outlet(
        self,
        outlet_id: str | int,
        kind: MokaKind | str,
        record: Mapping[str, Any],
        source: Source | str,
    ) -> list[Appended]:
        """Append a record to the log of every live setting of the outlet ([] when none)."""
        moka_identity(_moka_kind(kind), record)  # refuse a bad record even with no setting
        return [
            self.receive(setting_id, kind, record, source)
            for setting_id in self.settings_for_outlet(outlet_id)
        ]

    def _append_received(
        self,
        setting_id: UUID,
        kind: MokaKind,
        source: Source,
        batch: Sequence[tuple[Mapping[str, Any], str, datetime]],
    ) -> list[Appended]:
        position = self.head(setting_id) + 1
        # stream → ((updated_at, progress), revision, position)
        newest: dict[UUID, tuple[tuple[datetime, int], int, int]] = {}
        results: list[Appended] = []
        to_save: list[DomainEvent] = []
        for record, moka_id, updated_at in batch:
            versions = _version_stream_id(setting_id, kind, moka_id)
            if versions not in newest:
                last = self._last(versions)
                if isinstance(last, VersionRecorded):
                    newest[versions] = (
                        (last.updated_at, last.progress),
                        last.originator_version,
                        last.position,
                    )
            version = (updated_at, record_progress(kind, record))
            known = newest.get(versions)
            if known is not None and version <= known[0]:
                outcome = "duplicate" if version == known[0] else "stale"
                results.append(Appended(setting_id, outcome, known[2], known[1]))
                continue
            revision = known[1] + 1 if known else 1
            to_save.append(
                self._log_event(
                    RECEIVED_EVENTS[kind],
                    setting_id,
                    position,
                    kind=kind.value,
                    moka_id=moka_id,
                    updated_at=updated_at,
                    revision=revision,
                    source=source.value,
                    record=dict(record),
                )
            )
            to_save.append(
                VersionRecorded(
                    originator_id=versions,
                    originator_version=revision,
                    timestamp=VersionRecorded.create_timestamp(),
                    updated_at=updated_at,
                    position=position,
                    progress=version[1],
                )
            )
            newest[versions] = (version, revision, position)
            results.append(Appended(setting_id, "stored", position, revision))
            position += 1
        if to_save:
            self.events.put(to_save)  # plain events: no aggregates to collect or snapshot
        return results

    # -- sync runs ------------------------------------------------------------------------------

    def request_run(
        self,
        setting_id: UUID,
        kind: RunKind | str,
        method: RunMethod | str,
        *,
        params: Mapping[str, Any] | None = None,
        run_id: UUID | None = None,
    ) -> RequestedRun:
        """Record that a run was asked for. A transactions run is refused with
        `MasterDataNotSynced` until a master-data run has completed. Give a deterministic
        `run_id` (e.g. uuid5 of the setting and the night) to make a request idempotent."""
        chosen = run_id or uuid4()

        def attempt() -> RequestedRun:
            setting = self.get_setting(setting_id)
            if kind == RunKind.TRANSACTIONS:
                setting.require_master_data_synced()
            try:
                existing = self.get_run(chosen)
            except RunNotFound:
                pass
            else:
                if existing.setting_id != setting_id:
                    raise RunInvalid({"run_id": "belongs to a run of another setting"})
                return RequestedRun(chosen, created=False)
            run = SyncRun.request(
                run_id=chosen,
                setting_id=setting_id,
                kind=kind,
                method=method,
                params=params or {},
            )
            requested = self._log_event(
                SyncRequested,
                setting_id,
                self.head(setting_id) + 1,
                run_id=chosen,
                kind=run.kind.value,
                method=run.method.value,
                params=run.params,
            )
            self.save(run, requested)
            return RequestedRun(chosen, created=True)

        return self._retrying(attempt)

    def get_run(self, run_id: UUID) -> SyncRun:
        return self._get(run_id, SyncRun, RunNotFound)

    def finish_run(
        self,
        run_id: UUID,
        *,
        status: RunStatus | str,
        counts: Mapping[str, Mapping[str, int]] | None = None,
        error: str | None = None,
        checkpoint: datetime | None = None,
    ) -> SyncRun:
        """Record a run's end. In the same insert: a master-data run that did not fail outright
        marks the setting's master data synced; a transactions run with a `checkpoint` (give it
        only when every transaction up to then is in the log) advances the checkpoint.
        Raises `RunAlreadyFinished` the second time."""

        def attempt() -> SyncRun:
            run = self.get_run(run_id)
            run.finish(status=status, counts=counts or {}, error=error, checkpoint=checkpoint)
            finished = self._log_event(
                SyncFinished,
                run.setting_id,
                self.head(run.setting_id) + 1,
                run_id=run_id,
                kind=run.kind.value,
                method=run.method.value,
                status=run.status.value if run.status else "",
                counts=run.counts,
                error=run.error,
                checkpoint=run.checkpoint,
            )
            to_save: list[Any] = [run]
            if run.completes_master_data:
                setting = self.get_setting(run.setting_id, include_deleted=True)
                setting.record_master_data_synced(finished.timestamp)
                to_save.append(setting)
            if run.checkpoint is not None:
                to_save += self._checkpoint_advance(run.setting_id, run.checkpoint, run_id)
            self.save(*to_save, finished)
            return run

        return self._retrying(attempt)

    def _checkpoint_advance(
        self, setting_id: UUID, until: datetime, run_id: UUID
    ) -> list[CheckpointAdvanced]:
        stream = _checkpoint_stream_id(setting_id)
        last = self._last(stream)
        if isinstance(last, CheckpointAdvanced) and last.until >= until:
            return []
        return [
            CheckpointAdvanced(
                originator_id=stream,
                originator_version=last.originator_version + 1 if last else 1,
                timestamp=CheckpointAdvanced.create_timestamp(),
                until=until,
                run_id=run_id,
            )
        ]

    # -- outcomes -------------------------------------------------------------------------------

    def record_posted(
        self,
        setting_id: UUID,
        *,
        kind: DocumentKind | str,
        custom_id: str,
        jurnal_id: str | int,
        moka_reference: str,
        resolves: int,
        run_id: UUID | None = None,
        amounts: Mapping[str, Any] | None = None,
        digest: str | None = None,
    ) -> int:
        """Record that a Jurnal document exists; return its log position. Recording the same
        document posted with the same Jurnal id (and `digest`) again stores nothing and returns
        the first. `amounts` are the document's totals by Jurnal's arithmetic
        (`domain.log.check_amounts`); `digest` fingerprints the body sent, so that master data
        is updated only when it changed."""
        fields = _outcome_fields(kind, custom_id, moka_reference, resolves)
        checked_amounts = None if amounts is None else check_amounts(amounts)
        jurnal = str(jurnal_id).strip()
        if not jurnal:
            raise OutcomeInvalid({"jurnal_id": "is required"})

        def attempt() -> int:
            marker, last = self._outcome_marker(setting_id, custom_id)
            if (
                isinstance(last, OutcomeRecorded)
                and last.posted
                and last.jurnal_id == jurnal
                and last.digest == digest
            ):
                return last.position
            position = self.head(setting_id) + 1
            posted = self._log_event(
                DocumentPosted,
                setting_id,
                position,
                jurnal_id=jurnal,
                run_id=run_id,
                amounts=checked_amounts,
                **fields,
            )
            self.events.put([marker(position, True, jurnal, digest), posted])
            return position

        return self._retrying(attempt)

    def record_failed(
        self,
        setting_id: UUID,
        *,
        kind: DocumentKind | str,
        custom_id: str,
        error_class: str,
        message: str,
        retryable: bool,
        moka_reference: str,
        resolves: int,
        run_id: UUID | None = None,
    ) -> int:
        """Record that posting a document failed; return its log position. Every failure is
        kept (a replay that fails again is news), unlike repeated `record_posted`."""
        fields = _outcome_fields(kind, custom_id, moka_reference, resolves)
        missing = {name: "is required" for name, text in (("error_class", error_class),
                   ("message", message)) if not text.strip()}  # fmt: skip
        if missing:
            raise OutcomeInvalid(missing)

        def attempt() -> int:
            marker, _ = self._outcome_marker(setting_id, custom_id)
            position = self.head(setting_id) + 1
            failed = self._log_event(
                PostingFailed,
                setting_id,
                position,
                error_class=error_class,
                message=message,
                retryable=bool(retryable),
                run_id=run_id,
                **fields,
            )
            self.events.put([marker(position, False, None), failed])
            return position

        return self._retrying(attempt)

    def posted_document(self, setting_id: UUID, custom_id: str) -> PostedDocument | None:
        """The Jurnal id and body digest of a document whose latest outcome is "posted"; None
        when it was never posted or its latest attempt failed. One indexed read."""
        last = self._last(_outcome_stream_id(setting_id, custom_id))
        if isinstance(last, OutcomeRecorded) and last.posted and last.jurnal_id:
            return PostedDocument(last.jurnal_id, last.digest)
        return None

    def last_outcome(
        self, setting_id: UUID, custom_id: str
    ) -> DocumentPosted | PostingFailed | None:
        """The latest outcome recorded for a document, by its `custom_id`; None if none yet."""
        last = self._last(_outcome_stream_id(setting_id, custom_id))
        if not isinstance(last, OutcomeRecorded):
            return None
        event = self.read(setting_id, after=last.position - 1, limit=1)[0]
        assert isinstance(event, (DocumentPosted, PostingFailed))
        return event

    def _outcome_marker(
        self, setting_id: UUID, custom_id: str
    ) -> tuple[Callable[..., OutcomeRecorded], DomainEvent | None]:
        stream = _outcome_stream_id(setting_id, custom_id)
        last = self._last(stream)
        version = last.originator_version + 1 if last else 1

        def marker(
            position: int, posted: bool, jurnal_id: str | None, digest: str | None = None
        ) -> OutcomeRecorded:
            return OutcomeRecorded(
                originator_id=stream,
                originator_version=version,
                timestamp=OutcomeRecorded.create_timestamp(),
                position=position,
                posted=posted,
                jurnal_id=jurnal_id,
                digest=digest,
            )

        return marker, last

    # -- reading --------------------------------------------------------------------------------

    def head(self, setting_id: UUID) -> int:
        """The position of the setting's last log event (0 for an empty log)."""
        # The stored record's version is enough: decoding a 10 KB payment to learn it is waste.
        last = self.recorder.select_events(log_stream_id(setting_id), desc=True, limit=1)
        return last[0].originator_version if last else 0

    def latest_record(
        self, setting_id: UUID, kind: MokaKind | str, moka_id: str
    ) -> dict[str, Any] | None:
        """The newest version of a Moka record in a setting's log; None if it never came."""
        last = self._last(_version_stream_id(setting_id, _moka_kind(kind), str(moka_id)))
        if not isinstance(last, VersionRecorded):
            return None
        for found in self.read(setting_id, after=last.position - 1, limit=1):
            if isinstance(found, MokaDataReceived):
                return dict(found.record)
        return None

    def read(self, setting_id: UUID, *, after: int = 0, limit: int = 100) -> list[LogEvent]:
        """Up to `limit` events of a setting's log with position > `after`, in order."""
        _check_page(after, limit)
        events = self.events.get(log_stream_id(setting_id), gt=after, limit=limit)
        return [e for e in events if isinstance(e, LogEvent)]

    def read_all(self, *, after: int = 0, limit: int = 1000) -> GlobalPage:
        """Log events of every setting with global position > `after`, in global order."""
        _check_page(after, limit)
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        entries = [
            GlobalEntry(n.id, self.mapper.to_domain_event(n))  # type: ignore[arg-type]
            for n in notifications
            if n.topic in _LOG_TOPICS
        ]
        last = notifications[-1].id if notifications else after
        return GlobalPage(entries, last)

    def last_global_position(self) -> int:
        """The newest global position in the store (0 when empty); a poller that has read up to
        here is caught up."""
        return self.recorder.max_notification_id() or 0

    # -- helpers --------------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, cls: type[A], missing: type[NotFound]) -> A:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing(aggregate_id) from None
        if not isinstance(aggregate, cls):
            raise missing(aggregate_id)
        return aggregate

    def _update(
        self,
        aggregate_id: UUID,
        cls: type[A],
        missing: type[NotFound],
        command: Callable[[A], None],
    ) -> None:
        def attempt() -> None:
            aggregate = self._get(aggregate_id, cls, missing)
            command(aggregate)
            self.save(aggregate)

        self._retrying(attempt)

    def _last(self, stream_id: UUID) -> DomainEvent | None:
        for event in self.events.get(stream_id, desc=True, limit=1):
            assert isinstance(event, DomainEvent)
            return event
        return None

    def _log_event(
        self, cls: type[LogEvent], setting_id: UUID, position: int, **fields: Any
    ) -> LogEvent:
        return cls(
            originator_id=log_stream_id(setting_id),
            originator_version=position,
            timestamp=cls.create_timestamp(),
            setting_id=setting_id,
            **fields,
        )

    def _index_members(self, index_id: UUID) -> list[UUID]:
        members: dict[UUID, None] = {}
        for change in self.events.get(index_id):
            assert isinstance(change, IndexChanged)
            if change.present:
                members[change.member] = None
            else:
                members.pop(change.member, None)
        return list(members)

    def _index_change(self, index_id: UUID, member: UUID, *, present: bool) -> IndexChanged:
        last = self._last(index_id)
        return IndexChanged(
            originator_id=index_id,
            originator_version=last.originator_version + 1 if last else 1,
            timestamp=IndexChanged.create_timestamp(),
            member=member,
            present=present,
        )

    @staticmethod
    def _retrying(attempt: Callable[[], T]) -> T:
        """Run `attempt` again when another process wrote the same stream position first.

        Each attempt re-reads what it needs, so the retry decides afresh (the record may now be
        a duplicate, the quota may now be full). Domain errors are not retried."""
        for tries in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                return attempt()
            except IntegrityError:
                if tries == _CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0, min(0.05, 0.002 * tries)))
        raise AssertionError("unreachable")


def open_event_log(config: Config) -> EventLog:
    """The event log of an install, on the store its configuration names."""
    if not config.uses_postgres:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    with schema_lock(config):
        return EventLog(config.event_store_env(), secret_box(config))


# Any fixed 64-bit number; every process that creates tables takes the same one.
_SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"sambung schema").digest()[:8], signed=True)


@contextmanager
def schema_lock(config: Config) -> Iterator[None]:
    """Hold the install's schema lock while opening the store.

    Opening the store creates its tables (and on PostgreSQL types and functions) if missing,
    and on SQLite switches the file to WAL mode. Neither database takes two processes doing that
    at once ("duplicate key ... pg_type", "tuple concurrently updated", "database is locked"),
    which is what happens when the gateway and the workers start together. So openers queue:
    on an advisory lock in PostgreSQL, on a lock file next to the SQLite database.

    The lock file's lock is a POSIX record lock (`infra.filelock`), not `flock`: RQ forks its
    scheduler and work horses while another thread of the worker may be here, and a fork child
    shares an `flock` but never receives a record lock, so no child can keep the store locked.
    """
    if not config.uses_postgres:
        with held_lock(config.data_dir / "events.lock"):
            yield
        return
    import psycopg  # only PostgreSQL installs need libpq

    env = config.event_store_env()
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env.get("POSTGRES_PORT", "5432"),
        user=env.get("POSTGRES_USER") or None,
        password=env.get("POSTGRES_PASSWORD") or None,
        autocommit=True,
    ) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK_KEY,))


def merchant_today(env: Mapping[str, str]) -> date:
    """Today where the merchants are (`SAMBUNG_TIMEZONE`): a posting-mode change starts the
    next business day."""
    zone = ZoneInfo(env.get("SAMBUNG_TIMEZONE") or "Asia/Jakarta")
    return datetime.now(zone).date()


def _check_page(after: int, limit: int) -> None:
    if after < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"after must be >= 0 and limit between 1 and {MAX_PAGE}")


def _moka_kind(kind: MokaKind | str) -> MokaKind:
    try:
        return MokaKind(kind)
    except ValueError:
        known = ", ".join(MokaKind)
        raise MokaRecordInvalid({"kind": f"must be one of {known}"}) from None


def _source(source: Source | str) -> Source:
    try:
        return Source(source)
    except ValueError:
        known = ", ".join(Source)
        raise MokaRecordInvalid({"source": f"must be one of {known}"}) from None


def _outcome_fields(
    kind: DocumentKind | str, custom_id: str, moka_reference: str, resolves: int
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    try:
        checked_kind = DocumentKind(kind).value
    except ValueError:
        errors["kind"] = f"must be one of {', '.join(DocumentKind)}"
    if not isinstance(custom_id, str) or not custom_id.strip():
        errors["custom_id"] = "is required"
    if not isinstance(moka_reference, str) or not moka_reference.strip():
        errors["moka_reference"] = "is required"
    if isinstance(resolves, bool) or not isinstance(resolves, int) or resolves < 1:
        errors["resolves"] = "must be the position (1 or more) of the event it resolves"
    if errors:
        raise OutcomeInvalid(errors)
    return {
        "kind": checked_kind,
        "custom_id": custom_id,
        "moka_reference": moka_reference,
        "resolves": resolves,
    }
