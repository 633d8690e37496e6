"""How many Moka requests an install has in flight: at most 3 outlets, 4 requests each.

Moka publishes no rate limit, but a 12-outlet client saw 429s and 5xx until it kept to 3 outlets
x 4 pages in parallel (reference §11, §14). Workers run on any machine, so the cap lives in
Redis: one sorted set per install whose members are the requests in flight (`outlet|token`),
each scored by the Redis time at which its lease ends. One Lua script drops ended leases, counts
the outlets and this outlet's requests, and adds the new lease only if both caps allow it, so two
workers can never both take the last slot. A worker that dies mid-request frees its slot when the
lease ends (the request timeout plus a margin), never later.

`SlottedSession` takes a slot around each HTTP request of a `MokaClient` (the session is the
client's only way out). A slot is held for one request, not for the client's backoff sleep
between retries, so waiting out a 429 never blocks another outlet. A caller that cannot get a
slot within `wait_seconds` gets a `requests.ConnectionError`, which the client treats like any
unanswered request: retried with backoff, then a `MokaTransientError`.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis as redis_lib
import requests

KEY = "sambung:moka:in-flight"
MAX_OUTLETS = 3
MAX_PER_OUTLET = 4

_ACQUIRE = """
local key, outlet, member = KEYS[1], ARGV[1], ARGV[2]
local lease_ms = tonumber(ARGV[3])
local max_outlets, max_per_outlet = tonumber(ARGV[4]), tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
local outlets, count, mine = {}, 0, 0
for _, held in ipairs(redis.call('ZRANGE', key, 0, -1)) do
  local other = string.match(held, '^(.-)|')
  if not outlets[other] then
    outlets[other] = true
    count = count + 1
  end
  if other == outlet then mine = mine + 1 end
end
if mine >= max_per_outlet or (mine == 0 and count >= max_outlets) then
  return 0
end
redis.call('ZADD', key, now + lease_ms, member)
redis.call('PEXPIRE', key, lease_ms)
return 1
"""


class MokaSlots:
    """The install's shared cap on Moka requests in flight (see the module docstring)."""

    def __init__(
        self,
        redis: redis_lib.Redis,
        *,
        lease_seconds: float = 40.0,
        wait_seconds: float = 120.0,
        max_outlets: int = MAX_OUTLETS,
        max_per_outlet: int = MAX_PER_OUTLET,
        key: str = KEY,
    ) -> None:
        self.redis = redis
        self.lease_ms = int(lease_seconds * 1000)
        self.wait_seconds = wait_seconds
        self.max_outlets, self.max_per_outlet = max_outlets, max_per_outlet
        self.key = key
        self._acquire = redis.register_script(_ACQUIRE)

    def try_acquire(self, outlet_id: str) -> str | None:
        """A held slot's member, or None when the caps leave no room now."""
        member = f"{outlet_id}|{uuid.uuid4().hex}"
        args = [outlet_id, member, self.lease_ms, self.max_outlets, self.max_per_outlet]
        return member if self._acquire(keys=[self.key], args=args) else None

    def release(self, member: str) -> None:
        self.redis.zrem(self.key, member)

    @contextmanager
    def hold(self, outlet_id: str) -> Iterator[None]:
        """Hold a slot for `outlet_id`, waiting up to `wait_seconds` for one to free up."""
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.02
        while (member := self.try_acquire(str(outlet_id))) is None:
            if time.monotonic() >= deadline:
                raise requests.ConnectionError(
                    f"no free Moka slot for outlet {outlet_id} in {self.wait_seconds:.0f}s "
                    f"({self.max_outlets} outlets x {self.max_per_outlet} requests in flight)"
                )
            # Requests last tens to hundreds of ms; a jittered short pause keeps the waiters
            # from polling Redis in step.
            time.sleep(random.uniform(pause / 2, pause))
            pause = min(pause * 2, 0.5)
        try:
            yield
        finally:
            self.release(member)

    def in_flight(self) -> dict[str, int]:
        """Requests in flight per outlet (leases not yet ended), for tests and operators."""
        now_ms = self.redis.time()
        now = now_ms[0] * 1000 + now_ms[1] // 1000
        counts: dict[str, int] = {}
        for raw in self.redis.zrangebyscore(self.key, now, "+inf"):
            outlet = (raw.decode() if isinstance(raw, bytes) else str(raw)).split("|", 1)[0]
            counts[outlet] = counts.get(outlet, 0) + 1
        return counts


class SlottedSession(requests.Session):
    """A `requests.Session` for one outlet's `MokaClient` that holds a slot per request."""

    def __init__(self, slots: MokaSlots, outlet_id: str) -> None:
        super().__init__()
        self.slots = slots
        self.outlet_id = str(outlet_id)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        with self.slots.hold(self.outlet_id):
            return super().request(method, url, *args, **kwargs)
