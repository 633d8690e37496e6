"""The event store: companies, Moka connections, settings and each setting's log.

`EventLog` is an `eventsourcing` Application on SQLite (default) or PostgreSQL, picked by the
environment from `Config.event_store_env()`. It keeps storage only; the use cases that drive it
are in `services/`. It is made of parts, one room each, in `infra/eventstore/`:

- `streams`: the streams besides the aggregates and their bookkeeping events (versions,
  outcomes, checkpoint, posting cursor, indexes), and `next_event`, which builds the next event
  of a stream. Their stored topics, and the aliases from former ones, are explained there.
- `accounts`, `settings`, `runs`: the aggregates (`Company`, `MokaConnection`, `Setting`,
  `SyncRun`), short streams, each change written with its log event and index in one insert.
- `appending`: Moka records into a setting's log, once per version (dedup).
- `outcomes`: what became of each Jurnal document.
- `reading`: one setting's log, or every log in global order.

Everything is written through the library's own `save`/`events.put` (one atomic insert per
call), and every invariant that two processes could race on is a unique constraint of the
store, never a read-then-write in Python: a writer that loses a race re-reads and decides again
(`StoreBase._retrying`). Each setting's log is only ever appended to and never replayed on the
write path. A company's settings live on the `Company` aggregate, so that the quota is checked
and claimed in the same atomic insert as the setting it admits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from infra.config import Config
from infra.eventstore.accounts import Accounts
from infra.eventstore.appending import Appending
from infra.eventstore.outcomes import Outcomes
from infra.eventstore.reading import Reading
from infra.eventstore.results import (
    Appended,
    GlobalEntry,
    GlobalPage,
    JurnalCredentials,
    MokaTokens,
    PostedDocument,
    RequestedRun,
)
from infra.eventstore.runs import Runs
from infra.eventstore.settings import Settings
from infra.eventstore.streams import log_stream_id
from infra.filelock import held_lock
from infra.secrets import secret_box

# The values `EventLog` returns, importable with it.
__all__ = [
    "Appended",
    "EventLog",
    "GlobalEntry",
    "GlobalPage",
    "JurnalCredentials",
    "MokaTokens",
    "PostedDocument",
    "RequestedRun",
    "log_stream_id",
    "open_event_log",
    "schema_lock",
]


class EventLog(Accounts, Settings, Appending, Runs, Outcomes, Reading):
    name = "EventLog"
    # Readers of `notification_log.select` may ask for up to this many at once.
    log_section_size = 1000


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
