"""The event store's common ground: the `eventsourcing` Application every part of `EventLog`
builds on, with its payload transcodings, and the helpers they share (loading aggregates,
reading a stream's last event, building log events, index streams, retrying a write that lost a
race)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import date
from datetime import time as time_of_day
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from domain.errors import NotFound
from domain.log import LogEvent
from domain.sealed import Sealed
from infra.eventstore.streams import IndexChanged, log_stream_id, next_event
from infra.secrets import SecretBox

_CONFLICT_ATTEMPTS = 200

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


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


class StoreBase(Application[UUID]):
    """The Application and its shared helpers; `infra.eventlog.EventLog` is made of its parts."""

    def __init__(self, env: Mapping[str, str], secrets: SecretBox) -> None:
        self.secrets = secrets
        super().__init__(env=dict(env))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in (_DateAsISO(), _TimeAsISO(), _SealedAsDict()):
            transcoder.register(transcoding)

    def head(self, setting_id: UUID) -> int:
        """The position of the setting's last log event (0 for an empty log)."""
        # The stored record's version is enough: decoding a 10 KB payment to learn it is waste.
        last = self.recorder.select_events(log_stream_id(setting_id), desc=True, limit=1)
        return last[0].originator_version if last else 0

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

    def _next_log_event(self, cls: type[LogEvent], setting_id: UUID, **fields: Any) -> LogEvent:
        """The event that follows the setting's log's last one."""
        return self._log_event(cls, setting_id, self.head(setting_id) + 1, **fields)

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
        return next_event(
            IndexChanged, index_id, self._last(index_id), member=member, present=present
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
