"""Where the read models live: plain SQL tables in the event store's own database (the SQLite
file or the PostgreSQL database), reached with sqlite3 or psycopg through a thin adapter.

The adapter hides the two dialects' few differences: placeholders (SQL here is written with
`?`), how a writing transaction starts, and how the tracking row is claimed.
Connections are per thread and per process (RQ forks work horses; gunicorn serves from threads).

The tables and the tracking position change in one transaction, so each event counts exactly
once. Several runners may share the tables: a writer first claims the tracking row (SQLite:
`BEGIN IMMEDIATE` takes the database's write lock; PostgreSQL: `SELECT ... FOR UPDATE`) and
applies its batch only if the position is still the one it read the batch from. A runner that
has to wait for the claim waits on the database, not in a loop.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from infra.config import Config
from infra.readmodel_schema import SCHEMA_VERSION, TABLES, TRACKING_TABLE, create_statements

Row = tuple[Any, ...]
TRACKER = "views"
Flush = Callable[["Db", dict[Any, Any]], None]


class Db:
    """One connection, in one dialect. SQL is written with `?` placeholders."""

    def __init__(self, connection: Any, *, postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres
        self._pending: dict[str, tuple[dict[Any, Any], Flush]] = {}

    def pending(self, name: str, flush: Flush) -> dict[Any, Any]:
        """Rows a view keeps in memory for the rest of this transaction: a batch touches a few
        rows (today's totals, tonight's run) many times, so they are read once and written once,
        by `flush`, just before the transaction commits."""
        if name not in self._pending:
            self._pending[name] = ({}, flush)
        return self._pending[name][0]

    def _flush_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for rows, flush in pending.values():
            flush(self, rows)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cursor = self.connection.cursor()
            cursor.executemany(self._sql(sql), [tuple(r) for r in rows])
            cursor.close()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.connection.execute(self._sql(sql), tuple(params))
        return [tuple(row) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = self.connection.execute(self._sql(sql), tuple(params))
        row = cursor.fetchone()
        return None if row is None else tuple(row)


class ViewStore:
    """The read models' tables and their tracking position, for one install."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.postgres = config.uses_postgres
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()
        self._schema_ready = False

    # -- connections ----------------------------------------------------------------------------

    def db(self) -> Db:
        """This thread's connection (opened on first use, again after a fork, and again after
        the server dropped it, e.g. on a PostgreSQL restart)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid() or self._dropped(local.db):
            local.db = Db(self._connect(), postgres=self.postgres)
            local.pid = os.getpid()
        db: Db = local.db
        if not self._schema_ready:
            self._ensure_schema(db)
        return db

    def _dropped(self, db: Db) -> bool:
        # psycopg marks a connection broken once an operation found the server gone; the
        # request that found out fails, the next one gets a new connection.
        return self.postgres and bool(db.connection.closed or db.connection.broken)

    def _connect(self) -> Any:
        connection: Any
        if self.postgres:
            import psycopg

            env = self.config.event_store_env()
            schema = env.get("POSTGRES_SCHEMA")
            connection = psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env.get("POSTGRES_PORT", "5432"),
                user=env.get("POSTGRES_USER") or None,
                password=env.get("POSTGRES_PASSWORD") or None,
                options=f"-c search_path={schema}" if schema else None,
                autocommit=True,
            )
        else:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            # Autocommit; transactions are begun explicitly, so that a writer can take the
            # write lock up front (`BEGIN IMMEDIATE`) instead of failing to upgrade later.
            # Each connection serves one thread; `close()` may come from another.
            connection = sqlite3.connect(
                self.config.sqlite_path, timeout=30, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
        with self._lock:
            self._opened.append(connection)
        return connection

    def close(self) -> None:
        """Close every connection this store opened in this process."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Db]:
        """A transaction that holds the right to write the views until it ends."""
        db = self.db()
        with self._transaction(db, immediate=True):
            yield db

    @contextmanager
    def reading(self) -> Iterator[Db]:
        """A consistent snapshot for a query of several statements."""
        db = self.db()
        with self._transaction(db, immediate=False):
            yield db

    @contextmanager
    def _transaction(self, db: Db, *, immediate: bool) -> Iterator[None]:
        db._pending = {}
        if self.postgres:
            # Pipeline mode: writes go out without waiting for their answers, so a batch costs
            # a round trip per read rather than per statement.
            with db.connection.pipeline(), db.connection.transaction():
                yield
                db._flush_pending()
            return
        db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield
            db._flush_pending()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- tracking -------------------------------------------------------------------------------

    def position(self) -> int:
        """How far in the global log the views are."""
        row = self.db().one(f"SELECT position FROM {TRACKING_TABLE} WHERE name = ?", (TRACKER,))
        return int(row[0]) if row else 0

    def claim(self, db: Db, expected: int) -> bool:
        """Inside `writing()`: true when this transaction may apply the events after
        `expected`, i.e. no other runner holds the row or has moved it since."""
        sql = f"SELECT position FROM {TRACKING_TABLE} WHERE name = ?"
        if self.postgres:
            sql += " FOR UPDATE"
        row = db.one(sql, (TRACKER,))
        return row is not None and int(row[0]) == expected

    def advance(self, db: Db, position: int) -> None:
        db.execute(f"UPDATE {TRACKING_TABLE} SET position = ? WHERE name = ?", (position, TRACKER))

    # -- schema ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop every view and start again from the beginning of the log."""
        db = self.db()
        with self._transaction(db, immediate=True):
            self._serialise_ddl(db)
            self._drop(db)
            self._create(db)

    def _ensure_schema(self, db: Db) -> None:
        if self._schema_current(db):
            # DDL, even `IF NOT EXISTS`, takes table locks that can deadlock with a worker
            # writing the views; a current schema needs none.
            self._schema_ready = True
            return
        with self._transaction(db, immediate=True):
            self._serialise_ddl(db)
            self._create(db)
            row = db.one(f"SELECT version FROM {TRACKING_TABLE} WHERE name = ?", (TRACKER,))
            if row is not None and int(row[0]) != SCHEMA_VERSION:
                # The views are derived data: a new layout is rebuilt from the log.
                self._drop(db)
                self._create(db)
        self._schema_ready = True

    def _schema_current(self, db: Db) -> bool:
        missing: tuple[type[Exception], ...] = (sqlite3.OperationalError,)
        if self.postgres:
            import psycopg

            missing = (psycopg.errors.UndefinedTable,)
        try:
            row = db.one(f"SELECT version FROM {TRACKING_TABLE} WHERE name = ?", (TRACKER,))
        except missing:  # no tracking table yet: the schema must be created
            return False
        return row is not None and int(row[0]) == SCHEMA_VERSION

    def _serialise_ddl(self, db: Db) -> None:
        if self.postgres:
            # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog.
            db.execute("SELECT pg_advisory_xact_lock(?)", (0x53414D42,))

    def _create(self, db: Db) -> None:
        for statement in create_statements():
            db.execute(statement)
        db.execute(
            f"INSERT INTO {TRACKING_TABLE} (name, position, version) VALUES (?, 0, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (TRACKER, SCHEMA_VERSION),
        )

    def _drop(self, db: Db) -> None:
        for table in (*TABLES, TRACKING_TABLE):
            db.execute(f"DROP TABLE IF EXISTS {table}")
