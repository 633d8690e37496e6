"""A rate limiter for one Jurnal credential, shared by every worker on every machine through
Redis, so that together they stay under Jurnal's limit instead of collecting 429s.

Jurnal counts fixed windows per credential (30 a minute and 1,800 an hour by default, reads and
writes alike). A sliding log — at most N requests in any window of the same length — never puts
more than N into any fixed window, whatever the two clocks' offset, so the limiter keeps a log of
send times in a sorted set and admits a request only when every window has room; otherwise it
says how long to wait, and `acquire` sleeps that long and asks again. A margin added to each
window absorbs network jitter between sending and Jurnal counting. The check and the insert are
one Lua script, so concurrent workers cannot both take the last slot.

After a 429 (someone else used the credential, or limits changed) `hold_off` makes every worker
wait until the given time: Jurnal sends no `Retry-After`, so the client waits for the next minute.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis import Redis

# KEYS[1]: the log (sorted set of send times); KEYS[2]: hold-off time.
# ARGV[1]: now; ARGV[2]: a unique member; ARGV[3..]: limit, window pairs.
# Returns "0" when admitted, else the seconds to wait, as a string (Lua numbers would truncate).
_ACQUIRE = """
local now = tonumber(ARGV[1])
local wait = 0
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if held > now then wait = held - now end
local longest = 0
for i = 3, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local window = tonumber(ARGV[i + 1])
  if window > longest then longest = window end
  local since = '(' .. tostring(now - window)
  local used = redis.call('ZCOUNT', KEYS[1], since, '+inf')
  if used >= limit then
    local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES',
                              'LIMIT', used - limit, 1)
    local free_at = tonumber(oldest[2]) + window
    if free_at - now > wait then wait = free_at - now end
  end
end
if wait > 0 then return tostring(wait) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(longest) + 1)
return '0'
"""

_HOLD_OFF = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', math.ceil(tonumber(ARGV[2])) + 1)
end
return 1
"""


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


class SharedRateLimiter:
    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        windows: Sequence[Window],
        margin_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        prefix: str = "sambung:jurnal:ratelimit",
    ) -> None:
        if not windows or any(w.limit < 1 or w.seconds <= 0 for w in windows):
            raise ValueError("a rate limiter needs positive limits and windows")
        self.redis = redis
        self.log_key = f"{prefix}:{key}:log"
        self.hold_key = f"{prefix}:{key}:hold"
        self.windows = tuple(windows)
        self.margin = margin_seconds
        self.clock = clock
        self.sleep = sleep
        self._acquire = redis.register_script(_ACQUIRE)
        self._hold_off = redis.register_script(_HOLD_OFF)

    @classmethod
    def per_minute(
        cls,
        redis: Redis,
        key: str,
        limit: int,
        *,
        per_hour: int | None = None,
        margin_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        prefix: str = "sambung:jurnal:ratelimit",
    ) -> SharedRateLimiter:
        """Jurnal's shape of limit: so many a minute and, optionally, so many an hour."""
        windows = [Window(limit, 60.0)]
        if per_hour is not None:
            windows.append(Window(per_hour, 3600.0))
        return cls(
            redis,
            key,
            windows=windows,
            margin_seconds=margin_seconds,
            clock=clock,
            sleep=sleep,
            prefix=prefix,
        )

    def try_acquire(self) -> float:
        """Take a slot now and answer 0, or answer how many seconds to wait (taking nothing)."""
        args: list[str | float] = [repr(self.clock()), uuid.uuid4().hex]
        for window in self.windows:
            args += [window.limit, repr(window.seconds + self.margin)]
        return float(self._acquire(keys=[self.log_key, self.hold_key], args=args))

    def acquire(self) -> float:
        """Wait until a slot is free and take it; answers the seconds waited."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            self.sleep(wait)
            waited += wait

    def hold_off(self, until: float) -> None:
        """Nobody sends before `until` (epoch seconds)."""
        ttl = max(until - self.clock(), 0.0)
        self._hold_off(keys=[self.hold_key], args=[repr(until), repr(ttl)])
