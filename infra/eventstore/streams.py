"""The streams of the event store besides the aggregates: their ids, and the bookkeeping events
written to them (not part of any setting's log).

- a setting's log, `log_stream_id(setting_id)`, holds `domain.log` events;
- a Moka record's *version stream* records the `updated_at` of each stored revision (dedup);
- a document's *outcome stream*, keyed by `custom_id`, points at its latest outcome in the log;
- the transactions checkpoint and the posting cursor are streams read by their last event;
- index streams list companies, a company's Moka connections and the live settings of an outlet.

`next_event` builds the next event of any of these streams from its last one.

**Topics.** The bookkeeping events are stored under topics that embed this module's path
(`infra.eventstore.streams:VersionRecorded`). They were written before as
`sambung.eventlog:...` and then `infra.eventlog:...`; both are registered as aliases, so stores
written before either move read unchanged. Keep the aliases as long as such stores may exist,
and add one for any class that moves.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import register_topic

from domain.log import MokaKind
from domain.settings import SAMBUNG_NAMESPACE

E = TypeVar("E", bound=DomainEvent)

# -- stream ids -------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def log_stream_id(setting_id: UUID) -> UUID:
    """The stream that holds a setting's log (the setting aggregate has the setting's own id)."""
    return uuid5(setting_id, "log")


def version_stream_id(setting_id: UUID, kind: MokaKind, moka_id: str) -> UUID:
    return uuid5(setting_id, f"moka-versions:{kind.value}:{moka_id}")


def outcome_stream_id(setting_id: UUID, custom_id: str) -> UUID:
    return uuid5(setting_id, f"outcomes:{custom_id}")


def checkpoint_stream_id(setting_id: UUID) -> UUID:
    return uuid5(setting_id, "transactions-checkpoint")


def posting_cursor_stream_id(setting_id: UUID) -> UUID:
    return uuid5(setting_id, "posting-cursor")


def companies_index_id() -> UUID:
    return uuid5(SAMBUNG_NAMESPACE, "index:companies")


def outlet_index_id(outlet_id: str) -> UUID:
    return uuid5(SAMBUNG_NAMESPACE, f"index:outlet:{outlet_id}")


def connections_index_id(company_id: UUID) -> UUID:
    return uuid5(company_id, "index:moka-connections")


# -- bookkeeping events -----------------------------------------------------------------------
# Their topics embed this module's path: renaming them is a data migration (see **Topics**).


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


# Stores written before the moves to `infra/` and then to this module hold these events under
# `sambung.eventlog:...` and `infra.eventlog:...`.
_FORMER_MODULES = ("sambung.eventlog", "infra.eventlog")
for _moved in (
    VersionRecorded,
    OutcomeRecorded,
    CheckpointAdvanced,
    PostingCursorAdvanced,
    IndexChanged,
):
    for _former in _FORMER_MODULES:
        register_topic(f"{_former}:{_moved.__qualname__}", _moved)


def next_event(cls: type[E], stream_id: UUID, last: DomainEvent | None, **fields: Any) -> E:
    """The event that follows `last` (None: the stream is new) in its stream. Two writers that
    build the same next event collide on the store's key; the loser re-reads and decides again."""
    return cls(  # type: ignore[call-arg]
        originator_id=stream_id,
        originator_version=last.originator_version + 1 if last else 1,
        timestamp=cls.create_timestamp(),
        **fields,
    )
