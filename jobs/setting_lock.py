"""One poster per setting, across every worker on every machine, with fencing.

Jurnal's duplicate check on `custom_id` is not atomic, so two workers must never post for the same
setting at once. The lock lives in Redis with a time-to-live, so a crashed worker cannot hold it
forever. Each acquisition gets a fencing token from a counter that only grows; before every Jurnal
write the holder proves, atomically, that the lock still carries its token and extends it. A
worker that stalled past its time-to-live finds another token there and stops before posting.

The lease's time-to-live is how long a *crashed* holder blocks the setting, nothing more: a live
holder renews it at least every `renew_every` seconds (a third of it) through every wait — the
Jurnal client's waits for budget and backoff (`clients.jurnal.Lease`), and `wait` here — so no
wait, however long, lets it lapse, and the time-to-live need not outlast any of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

# Compare-and-extend: only the holder of the current token may extend the lease.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# Compare-and-delete: only the holder may release.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LockLost(RuntimeError):
    """The lease expired and another worker may now hold the setting; stop before posting."""


@dataclass
class SettingLock:
    connection: redis.Redis
    setting_id: str
    token: str
    ttl_ms: int

    @property
    def key(self) -> str:
        return lock_key(self.setting_id)

    def ensure_held(self) -> None:
        """Prove the lease is still ours and extend it; raise `LockLost` otherwise."""
        renewed = self.connection.eval(_RENEW, 1, self.key, self.token, self.ttl_ms)
        if not renewed:
            raise LockLost(f"lost the posting lock of setting {self.setting_id}")

    @property
    def renew_every(self) -> float:
        """Renewing this often leaves two thirds of the time-to-live for whatever comes next."""
        return self.ttl_ms / 1000 / 3

    def wait(self, seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Sleep, keeping the lease alive; raise `LockLost` as soon as it is gone."""
        while seconds > 0:
            chunk = min(seconds, self.renew_every)
            self.ensure_held()
            sleep(chunk)
            seconds -= chunk
        self.ensure_held()

    def release(self) -> None:
        self.connection.eval(_RELEASE, 1, self.key, self.token)

    @property
    def fencing_token(self) -> int:
        return int(self.token.split(":", 1)[0])


def lock_key(setting_id: str) -> str:
    return f"sambung:lock:setting:{setting_id}"


def try_acquire(
    connection: redis.Redis, setting_id: str, ttl_ms: int = 60_000
) -> SettingLock | None:
    fence = connection.incr(f"sambung:fence:setting:{setting_id}")
    token = f"{fence}:{time.time_ns()}"
    if connection.set(lock_key(setting_id), token, nx=True, px=ttl_ms):
        return SettingLock(connection, setting_id, token, ttl_ms)
    return None


def acquire(
    connection: redis.Redis,
    setting_id: str,
    *,
    ttl_ms: int = 60_000,
    wait_seconds: float = 0.0,
    poll_seconds: float = 0.05,
) -> SettingLock | None:
    """Take the setting's lock, waiting up to `wait_seconds` for the current holder."""
    deadline = time.monotonic() + wait_seconds
    while True:
        lock = try_acquire(connection, setting_id, ttl_ms)
        if lock is not None or time.monotonic() >= deadline:
            return lock
        time.sleep(poll_seconds)
