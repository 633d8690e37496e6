"""Configuration read from the environment (design §5), with the embedded defaults.

Nothing here performs I/O at import time; `Config.from_env()` is called by the composition root.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

SQLITE_MODULE = "eventsourcing.sqlite"
POSTGRES_MODULE = "eventsourcing.postgres"
POSTGRES_KEYS = (
    "POSTGRES_DBNAME",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_SCHEMA",
)


class ConfigError(ValueError):
    """The environment holds a value Sambung cannot use; the message names the variable."""


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("var")
    redis_url: str | None = None
    persistence_module: str = SQLITE_MODULE
    postgres: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds the password
    moka_base_url: str = "https://api.mokapos.com"
    moka_client_id: str = ""
    moka_client_secret: str = field(default="", repr=False)
    moka_webhook_secret: str = field(default="", repr=False)
    jurnal_base_url: str = "https://api.mekari.com"
    secret_key: str | None = field(default=None, repr=False)
    old_secret_keys: tuple[str, ...] = field(default=(), repr=False)
    timezone: str = "Asia/Jakarta"
    # Jurnal's documented limits (reference §5), per credential and per outgoing IP; the
    # sandbox enforces the same by default. The window is the length of Jurnal's minute (the
    # hour is 60 of them), shortened only to compress time in tests and the demo.
    jurnal_rate_limit_per_minute: int = 30
    jurnal_rate_limit_per_hour: int = 1800
    jurnal_ip_rate_limit_per_minute: int = 40
    jurnal_ip_rate_limit_per_hour: int = 2500
    jurnal_rate_window_seconds: float = 60.0
    webhook_max_bytes: int = 1024 * 1024
    public_url: str = "http://127.0.0.1:8000"
    # The admin's session cookie is sent over HTTPS only (default: when public_url is https).
    secure_cookies: bool = False
    # How long a crashed worker's claim on a setting blocks it; a live one renews it at every
    # request and through every wait, so it need not outlast a wait for Jurnal's budget.
    posting_lock_ttl_ms: int = 60_000
    # After a lost answer from Jurnal, wait this long before looking the document up.
    jurnal_settle_seconds: float = 5.0
    # Every transactions sync re-scans the sales created in this many trailing days, for the
    # refunds and late-arriving (offline) sales an `updated_at` window cannot see.
    moka_rescan_days: int = 35
    # How often a setting with automatic sync is pulled for new payments (0: never). Moka sends
    # no webhooks to a real account (reference §12.1), so this is its near-real-time path.
    live_pull_seconds: int = 120
    # A worker beats this often while a job runs; a job whose worker missed three beats (killed,
    # machine lost) is abandoned and retried (`sambung.worker`). Shortened only in tests.
    worker_heartbeat_seconds: int = 30
    # Off: /metrics answers only to an operator's bearer token (for a gateway on the internet).
    metrics_public: bool = True
    # Notifications: smtp://user:pass@host:587 (STARTTLS where offered) or smtps://...; None
    # sends no email (webhooks still go out).
    smtp_url: str | None = field(default=None, repr=False)  # holds the password
    smtp_from: str = "Sambung <sambung@localhost>"
    # Waits before each new try of an undelivered notification (compressed in tests).
    notify_retry_seconds: tuple[int, ...] = (10, 60, 300, 900, 3600)
    # Off: a company's notification webhook may not point at a loopback, private, link-local or
    # otherwise non-public address (a merchant must not make Sambung call its own network).
    notify_private_hosts: bool = False
    # The local hour (SAMBUNG_TIMEZONE) at which daily digests go out.
    digest_hour: int = 7

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        module = env.get("PERSISTENCE_MODULE", SQLITE_MODULE) or SQLITE_MODULE
        if module not in (SQLITE_MODULE, POSTGRES_MODULE):
            raise ConfigError(
                f"PERSISTENCE_MODULE must be {SQLITE_MODULE!r} or {POSTGRES_MODULE!r}, "
                f"not {module!r}"
            )
        public_url = (env.get("SAMBUNG_PUBLIC_URL") or cls.public_url).rstrip("/")
        return cls(
            data_dir=Path(env.get("SAMBUNG_DATA_DIR") or "var").absolute(),
            redis_url=env.get("REDIS_URL") or None,
            persistence_module=module,
            postgres={k: env[k] for k in POSTGRES_KEYS if env.get(k)},
            moka_base_url=env.get("MOKA_BASE_URL") or cls.moka_base_url,
            moka_client_id=env.get("MOKA_CLIENT_ID", ""),
            moka_client_secret=env.get("MOKA_CLIENT_SECRET", ""),
            moka_webhook_secret=env.get("MOKA_WEBHOOK_SECRET", ""),
            jurnal_base_url=env.get("JURNAL_BASE_URL") or cls.jurnal_base_url,
            secret_key=env.get("SAMBUNG_SECRET_KEY") or None,
            old_secret_keys=tuple(
                key.strip()
                for key in env.get("SAMBUNG_OLD_SECRET_KEYS", "").split(",")
                if key.strip()
            ),
            timezone=env.get("SAMBUNG_TIMEZONE") or "Asia/Jakarta",
            jurnal_rate_limit_per_minute=_positive_int(env, "JURNAL_RATE_LIMIT_PER_MINUTE", 30),
            jurnal_rate_limit_per_hour=_positive_int(env, "JURNAL_RATE_LIMIT_PER_HOUR", 1800),
            jurnal_ip_rate_limit_per_minute=_positive_int(
                env, "JURNAL_IP_RATE_LIMIT_PER_MINUTE", 40
            ),
            jurnal_ip_rate_limit_per_hour=_positive_int(env, "JURNAL_IP_RATE_LIMIT_PER_HOUR", 2500),
            jurnal_rate_window_seconds=_positive_seconds(env, "JURNAL_RATE_WINDOW_SECONDS", 60.0),
            webhook_max_bytes=_positive_int(env, "SAMBUNG_WEBHOOK_MAX_BYTES", 1024 * 1024),
            public_url=public_url,
            secure_cookies=_flag(env, "SAMBUNG_SECURE_COOKIES", public_url.startswith("https://")),
            posting_lock_ttl_ms=_positive_int(env, "SAMBUNG_POSTING_LOCK_TTL_MS", 60_000),
            jurnal_settle_seconds=_positive_int(env, "JURNAL_SETTLE_MS", 5000) / 1000,
            moka_rescan_days=_positive_int(env, "SAMBUNG_MOKA_RESCAN_DAYS", 35),
            live_pull_seconds=_whole_number(env, "SAMBUNG_LIVE_PULL_SECONDS", 120),
            worker_heartbeat_seconds=_positive_int(env, "SAMBUNG_WORKER_HEARTBEAT_SECONDS", 30),
            metrics_public=_flag(env, "SAMBUNG_METRICS_PUBLIC", True),
            smtp_url=_smtp_url(env.get("SAMBUNG_SMTP_URL")),
            smtp_from=env.get("SAMBUNG_SMTP_FROM") or cls.smtp_from,
            notify_retry_seconds=_waits(env, "SAMBUNG_NOTIFY_RETRY_SECONDS")
            or cls.notify_retry_seconds,
            digest_hour=_hour(env, "SAMBUNG_DIGEST_HOUR", 7),
            notify_private_hosts=_flag(env, "SAMBUNG_NOTIFY_PRIVATE_HOSTS", False),
        )

    def with_changes(self, **changes: Any) -> Config:
        return replace(self, **changes)

    @property
    def uses_postgres(self) -> bool:
        return self.persistence_module == POSTGRES_MODULE

    @property
    def secret_key_path(self) -> Path:
        """Where a laptop install keeps the key it generated when SAMBUNG_SECRET_KEY is unset."""
        return self.data_dir / "secret.key"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    def event_store_env(self) -> dict[str, str]:
        """The environment the `eventsourcing` library reads to pick and open the store."""
        env = {"PERSISTENCE_MODULE": self.persistence_module}
        if self.uses_postgres:
            missing = [k for k in ("POSTGRES_DBNAME", "POSTGRES_HOST") if k not in self.postgres]
            if missing:
                raise ConfigError(f"{', '.join(missing)} must be set for PostgreSQL")
            env.update(self.postgres)
            env.setdefault("POSTGRES_USER", "")
            env.setdefault("POSTGRES_PASSWORD", "")
            env.setdefault("POSTGRES_POOL_SIZE", "5")
            env.setdefault("POSTGRES_CONN_MAX_AGE", "600")
        else:
            env["SQLITE_DBNAME"] = str(self.sqlite_path)
            env["SQLITE_LOCK_TIMEOUT"] = "30"
        return env


def _positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be positive, not {raw}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _whole_number(env, name, default, low=1)


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int = 0) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise ConfigError(f"{name} must be {'positive' if low else 'zero or more'}, not {value}")
    return value


def _smtp_url(raw: str | None) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("smtp://", "smtps://")):
        raise ConfigError("SAMBUNG_SMTP_URL must start with smtp:// or smtps://")
    return raw


def _waits(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    try:
        waits = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be whole seconds separated by commas") from None
    if any(wait < 0 for wait in waits):
        raise ConfigError(f"{name} must not hold a negative wait")
    return waits


def _hour(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 23:
        raise ConfigError(f"{name} must be an hour from 0 to 23, not {raw!r}")
    return int(raw)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {raw!r}")
