"""Appending Moka records to a setting's log, once per version.

The next position is the last event's position + 1, read with one indexed `select ... order by
version desc limit 1`, so an append costs the same at ten events or a million. Two processes
that pick the same position collide on the store's primary key; the loser re-reads and tries
again.

Deduplication: each Moka record (kind + id) has a tiny version stream whose events record the
`updated_at` of each stored revision. A received record is written together with the next event
of its version stream, in the same insert. If that version is already there (same or newer
`updated_at`), nothing is written: `Appended.stored` is false. If two processes race with the
same version, the store's unique key on the version stream rejects the second, which then
re-reads and sees the duplicate. A newer `updated_at` is stored as the next revision; an older
one arriving late is stale and not stored.

The gateway's webhooks take another way in with the same rules: `infra.group_commit` plans the
appends of concurrent requests with `_plan_received` and writes them in one locked transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent

from domain.errors import MokaRecordInvalid
from domain.log import (
    RECEIVED_EVENTS,
    MokaDataReceived,
    MokaKind,
    Source,
    moka_identity,
    record_progress,
)
from infra.eventstore.base import StoreBase
from infra.eventstore.results import Appended
from infra.eventstore.streams import VersionRecorded, log_stream_id, version_stream_id

RECEIVE_BATCH = 200


class Appending(StoreBase):
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
        results, to_save = self._plan_received(
            setting_id, kind, source, batch, self.head(setting_id), self._last, {}
        )
        if to_save:
            self.events.put(to_save)  # plain events: no aggregates to collect or snapshot
        return results

    def _plan_received(
        self,
        setting_id: UUID,
        kind: MokaKind,
        source: Source,
        batch: Sequence[tuple[Mapping[str, Any], str, datetime]],
        head: int,
        last_of: Callable[[UUID], DomainEvent | None],
        newest: dict[UUID, tuple[tuple[datetime, int], int, int]],
    ) -> tuple[list[Appended], list[DomainEvent]]:
        """The events that append `batch` after position `head`, and what becomes of each
        record; nothing is written. `last_of` reads a stream's last event; `newest` (version
        stream → ((updated_at, progress), revision, position)) is what is known of version
        streams beyond the store, so that a record repeated in the batch is stored once.
        `infra.group_commit` plans the appends of several requests in one transaction with it."""
        position = head + 1
        results: list[Appended] = []
        to_save: list[DomainEvent] = []
        for record, moka_id, updated_at in batch:
            versions = version_stream_id(setting_id, kind, moka_id)
            if versions not in newest:
                last = last_of(versions)
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
        return results, to_save

    def latest_record(
        self, setting_id: UUID, kind: MokaKind | str, moka_id: str
    ) -> dict[str, Any] | None:
        """The newest version of a Moka record in a setting's log; None if it never came."""
        last = self._last(version_stream_id(setting_id, _moka_kind(kind), str(moka_id)))
        if not isinstance(last, VersionRecorded):
            return None
        found = self.events.get(
            log_stream_id(setting_id), gt=last.position - 1, lte=last.position, limit=1
        )
        for event in found:
            if isinstance(event, MokaDataReceived):
                return dict(event.record)
        return None


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
