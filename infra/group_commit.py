"""Group commit: the appends of concurrent webhook requests of one process, written in one
transaction of the event store and made durable by one commit.

Why: a durable commit (SQLite's fsync of its write-ahead log; PostgreSQL's WAL flush with fsync
on) costs more than all the rest of a webhook, and the store takes one writer at a time. So the
requests that arrive while a commit is under way wait, and the next commit takes them all.

How (a leader and its followers; no thread of its own, so nothing to start or stop and nothing
that crosses a fork): a request joins the queue. If no one leads, it leads; otherwise it sleeps
until it is answered, or until the leader hands the lead over to it. The leader

1. opens a transaction that holds the store's write lock from its first statement (SQLite's
   `BEGIN IMMEDIATE`, after the gateway processes' leaders have queued on a lock file; on
   PostgreSQL the `EXCLUSIVE` table lock that every `eventsourcing` insert takes), so that no
   writer of any process comes in between what it reads next and its commit;
2. takes the whole queue as its batch, requests that came while it waited for the lock included;
3. reads, in one statement each, the outlets' index streams (an outlet's settings are read again
   only when its index has moved) and then every log's head and every record's last version,
   and plans each request's events with `EventLog`'s own rules (`_plan_received`: dedup by
   version stream, a record repeated in the batch stored once, positions one after another);
4. inserts them all in one statement and commits, once;
5. hands the lead to the first request queued meanwhile, so the next batch starts now;
6. runs `after_commit` with the batch's results (the gateway wakes the posters and counts, in one
   Redis round trip for the batch), and only then answers the batch's requests.

What holds, as with one commit per request: a result means the record is durably in the log (or
already was) and `after_commit` has run; if the transaction or `after_commit` fails, every request
of the batch fails (`BatchFailed`, with the cause), and a failed transaction stored nothing. A
request whose own events cannot be built fails alone, before the insert. The versions are read
under the write lock, so a duplicate is found by reading, and the store's unique keys still stand
behind it. The batch is not capped: a process holds at most one request per serving thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import StoredEvent

from domain.log import MokaKind, Source, moka_identity
from infra.eventlog import Appended, EventLog
from infra.eventstore.streams import log_stream_id, outlet_index_id, version_stream_id
from infra.filelock import held_lock


@dataclass(eq=False)
class Append:
    """One request: a Moka record for the log of every live setting of its outlet."""

    outlet_id: str
    kind: MokaKind
    source: Source
    record: Mapping[str, Any]
    moka_id: str
    updated_at: datetime
    results: list[Appended] | None = None
    error: BaseException | None = field(default=None, repr=False)
    leads: bool = False
    woken: threading.Event = field(default_factory=threading.Event, repr=False)


AfterCommit = Callable[[Sequence[Append]], None]


class BatchFailed(Exception):
    """The batch this request was committed with failed, with the cause chained. If the
    transaction failed, nothing of the batch was stored; if `after_commit` did, it was."""


class GroupCommit:
    def __init__(self, log: EventLog, after_commit: AfterCommit | None = None) -> None:
        self.log = log
        self.after_commit = after_commit
        self._store = _locked_store(log)
        self._lock = threading.Lock()
        self._queue: list[Append] = []
        self._leading = False
        # outlet → (version of its index stream, its live settings)
        self._outlets: dict[str, tuple[int, list[UUID]]] = {}

    def receive_for_outlet(
        self,
        outlet_id: str | int,
        kind: MokaKind,
        record: Mapping[str, Any],
        source: Source,
    ) -> list[Appended]:
        """`EventLog.receive_for_outlet`, committed with the other requests waiting meanwhile.
        A record that is not valid is refused here (`MokaRecordInvalid`), before it joins."""
        moka_id, updated_at = moka_identity(kind, record)
        request = Append(str(outlet_id).strip(), kind, source, record, moka_id, updated_at)
        with self._lock:
            self._queue.append(request)
            if not self._leading:
                self._leading = request.leads = True
        if not request.leads:
            request.woken.wait()  # answered, or handed the lead
        if request.leads:
            self._lead()
        if request.error is not None:
            raise request.error
        assert request.results is not None
        return request.results

    def waiting(self) -> int:
        """How many requests wait for a leader to take them (for tests that line a batch up)."""
        with self._lock:
            return len(self._queue)

    def _lead(self) -> None:
        batch: list[Append] = []
        planned: list[Append] = []
        error: BaseException | None = None
        try:
            with self._store.transaction() as store:
                with self._lock:
                    batch, self._queue = self._queue, []
                planned, stored_events = self._plan(batch, store)
                if stored_events:
                    store.insert(stored_events)
        except BaseException as failed:
            error = failed
        with self._lock:
            if not batch:  # the lock never came: the queue fails with it
                batch, self._queue = self._queue, []
            if self._queue:
                successor = self._queue[0]
                successor.leads = True
                successor.woken.set()
            else:
                self._leading = False
        if error is None and self.after_commit is not None and planned:
            try:
                self.after_commit(planned)
            except BaseException as failed:
                error = failed
        for request in batch:
            request.leads = False
            if error is not None:
                request.results = None
                request.error = BatchFailed(f"the batch failed: {error!r}")
                request.error.__cause__ = error
            request.woken.set()
        if error is not None and not isinstance(error, Exception):
            raise error  # an interrupt stops the leader too

    def _plan(
        self, batch: list[Append], store: LockedTransaction
    ) -> tuple[list[Append], list[StoredEvent]]:
        outlets = self._settings({request.outlet_id for request in batch}, store)
        settings = list(dict.fromkeys(s for request in batch for s in outlets[request.outlet_id]))
        wanted = [log_stream_id(s) for s in settings] + [
            version_stream_id(setting_id, request.kind, request.moka_id)
            for request in batch
            for setting_id in outlets[request.outlet_id]
        ]
        found = store.last_of(dict.fromkeys(wanted))
        heads = {s: _version(found.get(log_stream_id(s))) for s in settings}
        newest: dict[UUID, tuple[tuple[datetime, int], int, int]] = {}
        planned: list[Append] = []
        stored_events: list[StoredEvent] = []
        mapper = self.log.mapper

        def last_of(stream_id: UUID) -> DomainEvent | None:
            stored = found.get(stream_id)
            return None if stored is None else mapper.to_domain_event(stored)

        for request in batch:
            known = dict(newest)
            try:
                results: list[Appended] = []
                events: list[DomainEvent] = []
                for setting_id in outlets[request.outlet_id]:
                    appended, to_save = self.log._plan_received(
                        setting_id,
                        request.kind,
                        request.source,
                        [(request.record, request.moka_id, request.updated_at)],
                        heads[setting_id],
                        last_of,
                        newest,
                    )
                    results += appended
                    events += to_save
                encoded = [mapper.to_stored_event(event) for event in events]
            except Exception as error:  # this request's own fault: it fails alone
                newest.clear()
                newest.update(known)
                request.error = error
                continue
            for appended in results:
                if appended.stored:
                    heads[appended.setting_id] = appended.position
            stored_events += encoded
            request.results = results
            planned.append(request)
        return planned, stored_events

    def _settings(self, outlet_ids: set[str], store: LockedTransaction) -> dict[str, list[UUID]]:
        """Each outlet's live settings, read again only when its index stream has moved."""
        index_ids = {outlet_id: outlet_index_id(outlet_id) for outlet_id in outlet_ids}
        found = store.last_of(index_ids.values())
        settings: dict[str, list[UUID]] = {}
        for outlet_id, index_id in index_ids.items():
            version = _version(found.get(index_id))
            cached = self._outlets.get(outlet_id)
            if cached is None or cached[0] != version:
                # No writer moves the index while the lock is held: this read is of `version`.
                cached = (version, self.log.settings_for_outlet(outlet_id))
                self._outlets[outlet_id] = cached
            settings[outlet_id] = cached[1]
        return settings


def _version(stored: StoredEvent | None) -> int:
    return stored.originator_version if stored is not None else 0


# -- the stores' locked transactions ----------------------------------------------------------
# These drive the `eventsourcing` recorder below its public `insert_events` (which opens its own
# transaction), with the library's own insert statement; tests/integration/test_group_commit.py
# runs them on both stores, so a change of the library's internals fails there.


class LockedTransaction(Protocol):
    def last_of(self, stream_ids: Iterable[UUID]) -> dict[UUID, StoredEvent]:
        """The last stored event of each stream that has one."""
        ...

    def insert(self, stored_events: Sequence[StoredEvent]) -> None: ...


class _LockedStore(Protocol):
    def transaction(self) -> Any: ...


def _locked_store(log: EventLog) -> _LockedStore:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(log.recorder, SQLiteApplicationRecorder):
        return _SQLiteStore(log.recorder)
    from eventsourcing.postgres import PostgresApplicationRecorder

    if isinstance(log.recorder, PostgresApplicationRecorder):
        return _PostgresStore(log.recorder)
    raise TypeError(f"no group commit on {type(log.recorder).__name__}")


_SQLITE_COMPOUND_LIMIT = 200  # SQLite takes up to 500 terms in one compound select


class _SQLiteStore:
    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.lock_path = Path(f"{recorder.datastore.pool.db_name}.group-commit.lock")
        # One indexed `LIMIT 1` per stream (a MAX over a grouped log would read all of it).
        self.last_term = (
            "SELECT * FROM (SELECT originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE originator_id=? "
            "ORDER BY originator_version DESC LIMIT 1)"
        )

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteTransaction]:
        # The leaders of the gateway's processes queue on a lock file first: the kernel wakes the
        # next one as soon as the lock is free, where SQLite's busy handler would sleep (up to
        # 100 ms at a time) and try again.
        with (
            held_lock(self.lock_path),
            self.recorder.datastore.get_connection(commit=True) as connection,
        ):
            cursor = connection.cursor()
            try:
                # IMMEDIATE: the write lock now, before the reads (or wait the busy timeout).
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteTransaction(self, cursor)
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                cursor.sqlite_cursor.close()


class _SQLiteTransaction:
    def __init__(self, store: _SQLiteStore, cursor: Any) -> None:
        self.store = store
        self.cursor = cursor

    def last_of(self, stream_ids: Iterable[UUID]) -> dict[UUID, StoredEvent]:
        ids = list(stream_ids)
        found: dict[UUID, StoredEvent] = {}
        for start in range(0, len(ids), _SQLITE_COMPOUND_LIMIT):
            chunk = ids[start : start + _SQLITE_COMPOUND_LIMIT]
            self.cursor.execute(
                " UNION ALL ".join([self.store.last_term] * len(chunk)), [i.hex for i in chunk]
            )
            for row in self.cursor.fetchall():
                stream_id = UUID(row["originator_id"])
                found[stream_id] = StoredEvent(
                    stream_id, row["originator_version"], row["topic"], row["state"]
                )
        return found

    def insert(self, stored_events: Sequence[StoredEvent]) -> None:
        from eventsourcing.sqlite import SQLiteAggregateRecorder

        # The aggregate recorder's insert: one `executemany`, without the application
        # recorder's row-by-row insert that collects notification ids nobody reads here.
        SQLiteAggregateRecorder._insert_events(self.store.recorder, self.cursor, stored_events)


class _PostgresStore:
    def __init__(self, recorder: Any) -> None:
        from psycopg.sql import SQL, Identifier

        self.recorder = recorder
        # One indexed `LIMIT 1` per stream, all in one statement.
        self.last_of_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::uuid[]) AS wanted(id) CROSS JOIN LATERAL ("
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = wanted.id ORDER BY originator_version DESC LIMIT 1) AS e"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTransaction]:
        with (
            self.recorder.datastore.get_connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            # The lock every insert of the library takes (it keeps notification ids in commit
            # order), taken first so that the reads below see what the insert will follow.
            self.recorder._lock_table(cursor)
            yield _PostgresTransaction(self, cursor)


class _PostgresTransaction:
    def __init__(self, store: _PostgresStore, cursor: Any) -> None:
        self.store = store
        self.cursor = cursor

    def last_of(self, stream_ids: Iterable[UUID]) -> dict[UUID, StoredEvent]:
        self.cursor.execute(self.store.last_of_statement, (list(stream_ids),), prepare=True)
        return {
            row["originator_id"]: StoredEvent(
                row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])
            )
            for row in self.cursor.fetchall()
        }

    def insert(self, stored_events: Sequence[StoredEvent]) -> None:
        from eventsourcing.postgres import PostgresAggregateRecorder

        # What the application recorder's insert does but for taking the table lock again:
        # the channel's NOTIFY, then the insert of them all in one statement.
        recorder = self.store.recorder
        recorder._notify_channel(self.cursor)
        PostgresAggregateRecorder._insert_stored_events(recorder, self.cursor, stored_events)
