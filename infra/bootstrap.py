"""The composition root: the one place that builds adapters from the configuration.

Everything that talks to the outside (Redis, the event store, the Moka and Jurnal clients) is
created here, lazily and once per process, because RQ and gunicorn fork. Each company's Jurnal
client is cached on the container (`jurnal_for`), so its lookup caches live across jobs. Tests
build a `Container` from their own `Config` and swap adapters through its constructor, never by
monkeypatching.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from functools import cached_property
from typing import Any
from uuid import UUID

import redis
import requests
from rq import Queue

from clients.jurnal import JurnalClient
from clients.moka import MokaClient, TokenStore
from infra import metrics
from infra.config import Config
from infra.embedded import ensure_redis
from infra.eventlog import EventLog, open_event_log
from infra.moka_tokens import ConnectionTokenStore
from infra.queues import QUEUE_NAMES
from infra.readmodels import ViewStore

_inherited_logs: list[EventLog] = []


class Container:
    def __init__(self, config: Config, *, redis_connection: redis.Redis | None = None) -> None:
        self.config = config
        self._jurnal_clients: dict[tuple[str, str], JurnalClient] = {}
        self._jurnal_clients_lock = threading.Lock()
        self._active_companies: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        if redis_connection is not None:
            self.__dict__["redis"] = redis_connection

    @classmethod
    def from_env(cls) -> Container:
        return cls(Config.from_env())

    @cached_property
    def redis_url(self) -> str:
        return self.config.redis_url or ensure_redis(self.config.data_dir)

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, health_check_interval=30)

    @property
    def log(self) -> EventLog:
        """The event store: companies, Moka connections, settings and each setting's log.

        Opened once per process: an RQ work horse forked from a worker that had it open opens
        its own, because database connections must not cross a fork."""
        opened = self.__dict__.get("_log")
        if opened is None or opened[0] != os.getpid():
            if opened is not None:
                # Keep the parent's copy alive: closing it here would close the parent's sockets.
                _inherited_logs.append(opened[1])
            opened = (os.getpid(), open_event_log(self.config))
            self.__dict__["_log"] = opened
        return opened[1]

    @cached_property
    def views(self) -> ViewStore:
        """The read models' tables, in the event store's database."""
        return ViewStore(self.config)

    def close(self) -> None:
        """Release the event store's connections, if this process opened them."""
        opened = self.__dict__.pop("_log", None)
        if opened is not None and opened[0] == os.getpid():
            opened[1].close()
        views = self.__dict__.pop("views", None)
        if views is not None:
            views.close()

    def queue(self, name: str = "default") -> Queue:
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUE_NAMES)}")
        return Queue(name, connection=self.redis)

    # -- the clients ------------------------------------------------------------------------

    def jurnal_client(self, client_id: str, client_secret: str, **options: Any) -> JurnalClient:
        """A new Jurnal client for a credential, sharing the credential's rate limit."""
        config = self.config
        return JurnalClient.with_hmac(
            config.jurnal_base_url,
            client_id,
            client_secret,
            self.redis,
            rate_limit_per_minute=config.jurnal_rate_limit_per_minute,
            rate_limit_per_hour=config.jurnal_rate_limit_per_hour,
            ip_rate_limit_per_minute=config.jurnal_ip_rate_limit_per_minute,
            ip_rate_limit_per_hour=config.jurnal_ip_rate_limit_per_hour,
            rate_window_seconds=config.jurnal_rate_window_seconds,
            **{"settle_seconds": config.jurnal_settle_seconds, **options},
        )

    def jurnal_for(self, company_id: UUID) -> JurnalClient:
        """The company's Jurnal client, one per container (so per process), so that its lookup
        caches live across jobs; built again when the company's secret changed."""
        credentials = self.log.jurnal_credentials(company_id)
        key = (self.config.jurnal_base_url, credentials.client_id)
        with self._jurnal_clients_lock:
            client = self._jurnal_clients.get(key)
            if client is None or client.auth.client_secret != credentials.client_secret:
                client = self.jurnal_client(credentials.client_id, credentials.client_secret)
                client.session.hooks["response"].append(self._count_jurnal_call)
                self._jurnal_clients[key] = client
            return client

    def active_company(self, client: JurnalClient) -> dict[str, Any]:
        """`companies/active` (its default accounts), kept as long as the client keeps
        catalogs: every posting pass needs it, and Jurnal's calls are counted."""
        key = (client.base_url, client.auth.rate_limit_key)
        with self._jurnal_clients_lock:
            cached = self._active_companies.get(key)
        if cached is not None and client.clock() - cached[0] < client.catalog_ttl:
            return cached[1]
        answer = client.company()
        with self._jurnal_clients_lock:
            self._active_companies[key] = (client.clock(), answer)
        return answer

    def _count_jurnal_call(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        path = response.request.path_url.split("?", 1)[0]
        resource = path.split("/api/v1/", 1)[-1].split("/", 1)[0] or "unknown"
        metrics.count_jurnal_call(self.redis, resource=resource, status=response.status_code)

    def moka_client(self, store: TokenStore, **options: Any) -> MokaClient:
        """A new Moka client of Sambung's Moka application, keeping its tokens in `store`."""
        config = self.config
        return MokaClient(
            config.moka_base_url, config.moka_client_id, config.moka_client_secret, store, **options
        )

    def moka_for(self, connection_id: UUID, **options: Any) -> MokaClient:
        """A Moka client of a stored connection. Its tokens are refreshed under a Redis lock
        shared by every process, and saved sealed before they are used."""
        lock = self.redis.lock(f"sambung:moka-refresh:{connection_id}", timeout=120)
        store = ConnectionTokenStore(self.log, connection_id)
        return self.moka_client(store, refresh_lock=lock, **options)

    # -- health -----------------------------------------------------------------------------

    def check_redis(self) -> None:
        """Raise if Redis does not answer."""
        self.redis.ping()

    def check_event_store(self) -> None:
        """Raise if the event store cannot be reached."""
        if self.config.uses_postgres:
            import psycopg

            env = self.config.event_store_env()
            with psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env.get("POSTGRES_PORT", "5432"),
                user=env.get("POSTGRES_USER") or None,
                password=env.get("POSTGRES_PASSWORD") or None,
                connect_timeout=3,
            ) as connection:
                connection.execute("SELECT 1")
        else:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.config.sqlite_path, timeout=3)
            try:
                connection.execute("SELECT 1")
            finally:
                connection.close()

    def readiness(self) -> dict[str, str]:
        """Name each dependency and say whether it is up, with the reason when it is not."""
        report: dict[str, str] = {}
        for name, check in (("event_store", self.check_event_store), ("redis", self.check_redis)):
            try:
                check()
            except Exception as exc:  # any failure means "down"; the reason is reported
                report[name] = f"down: {type(exc).__name__}: {exc}"
            else:
                report[name] = "up"
        return report


# -- the process's container ------------------------------------------------------------------
# RQ jobs are module-level functions taking string ids; they reach their adapters through this
# per-process getter. Tests and the CLI install the container they built.

_process_container: Container | None = None


def current() -> Container:
    global _process_container
    if _process_container is None:
        _process_container = Container.from_env()
    return _process_container


def install(container: Container | None) -> None:
    global _process_container
    _process_container = container
