"""Jurnal's rate limits as a budget shared by every worker on every machine through Redis, so
that together they stay under the limits instead of collecting 429s.

Jurnal counts fixed windows (reference §5): per credential 30 a minute and 1,800 an hour, per
outgoing IP 40 a minute and 2,500 an hour, reads and writes alike. Each of those counters is a
`Bucket` here: the credential's bucket is shared by the workers using that credential, the IP
bucket by every credential of the install. A sliding log — at most N requests in any window of
the same length — never puts more than N into any fixed window, whatever the two clocks' offset,
so each bucket keeps a log of send times in a sorted set. One Lua script admits a request only
when every window of every bucket has room, and then records it in all of them; otherwise it
takes nothing and says how long to wait. A slot is therefore never held in one bucket while the
request waits on another, and concurrent workers cannot both take the last slot.

A margin added to each window absorbs the jitter between taking a slot and Jurnal counting the
request. It scales with the window (1 s of a 60 s minute), so a compressed minute wastes no more
of its budget than the real one, down to a floor of 100 ms that real jitter needs in any time
scale (a tenth of a one-second minute).

After a 429 (someone else used the credential or the IP, or limits changed) `hold_off` makes
every worker wait on the given buckets until the given time: Jurnal sends no `Retry-After`.

`acquire` waits in chunks no longer than its caller asks, calling the caller's keep-alive before
each, so that whatever the caller holds (a setting's posting lease) outlives any wait.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis import Redis

# KEYS: per bucket, its log (sorted set of send times) and its hold-off time.
# ARGV[1]: now; ARGV[2]: a unique member; then per bucket: how many windows it has, followed by
# that many limit, window pairs. Returns "0" when admitted (and recorded in every bucket), else
# the seconds to wait, as a string (Lua numbers would truncate).
_ACQUIRE = """
local now = tonumber(ARGV[1])
local wait = 0
local longest = {}
local arg = 3
for b = 1, #KEYS / 2 do
  local log = KEYS[2 * b - 1]
  local held = tonumber(redis.call('GET', KEYS[2 * b]) or '0')
  if held - now > wait then wait = held - now end
  local count = tonumber(ARGV[arg])
  arg = arg + 1
  longest[b] = 0
  for _ = 1, count do
    local limit = tonumber(ARGV[arg])
    local window = tonumber(ARGV[arg + 1])
    arg = arg + 2
    if window > longest[b] then longest[b] = window end
    local since = '(' .. tostring(now - window)
    local used = redis.call('ZCOUNT', log, since, '+inf')
    if used >= limit then
      local oldest = redis.call('ZRANGEBYSCORE', log, since, '+inf', 'WITHSCORES',
                                'LIMIT', used - limit, 1)
      local free_at = tonumber(oldest[2]) + window
      if free_at - now > wait then wait = free_at - now end
    end
  end
end
if wait > 0 then return tostring(wait) end
for b = 1, #KEYS / 2 do
  local log = KEYS[2 * b - 1]
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - longest[b])
  redis.call('ZADD', log, now, ARGV[2])
  redis.call('EXPIRE', log, math.ceil(longest[b]) + 1)
end
return '0'
"""

_HOLD_OFF = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', math.ceil(tonumber(ARGV[2])) + 1)
end
return 1
"""

# Jurnal's documented limits (reference §5) and the length of its minute.
PER_MINUTE = 30
PER_HOUR = 1800
IP_PER_MINUTE = 40
IP_PER_HOUR = 2500
MINUTE_SECONDS = 60.0
MIN_MARGIN_SECONDS = 0.1


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


@dataclass(frozen=True)
class Bucket:
    """One counter Jurnal keeps (a credential's, an IP's), with its windows."""

    key: str
    windows: tuple[Window, ...]

    @classmethod
    def per_minute_and_hour(
        cls, key: str, per_minute: int, per_hour: int, minute_seconds: float = MINUTE_SECONDS
    ) -> Bucket:
        """Jurnal's shape: so many a minute and so many an hour, the hour sixty minutes long."""
        return cls(key, (Window(per_minute, minute_seconds), Window(per_hour, minute_seconds * 60)))


def jitter_margin(minute_seconds: float) -> float:
    """One second of a 60 s minute, in proportion for a compressed one, but never under 100 ms:
    the jitter itself (a Redis round trip, signing, a loaded machine's scheduling, the request
    reaching Jurnal) does not shrink with the minute."""
    return max(minute_seconds / 60, MIN_MARGIN_SECONDS)


class SharedRateLimiter:
    def __init__(
        self,
        redis: Redis,
        buckets: Sequence[Bucket],
        *,
        margin_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        prefix: str = "sambung:jurnal:ratelimit",
    ) -> None:
        windows = [w for bucket in buckets for w in bucket.windows]
        if not buckets or any(not b.windows for b in buckets):
            raise ValueError("a rate limiter needs at least one bucket with a window")
        if any(w.limit < 1 or w.seconds <= 0 for w in windows) or margin_seconds < 0:
            raise ValueError("a rate limiter needs positive limits and windows")
        self.redis = redis
        self.buckets = tuple(buckets)
        self.prefix = prefix
        self.margin = margin_seconds
        self.clock = clock
        self.sleep = sleep
        self._acquire = redis.register_script(_ACQUIRE)
        self._hold_off = redis.register_script(_HOLD_OFF)

    @classmethod
    def for_jurnal(
        cls,
        redis: Redis,
        *,
        credential: str,
        ip: str,
        per_minute: int = PER_MINUTE,
        per_hour: int = PER_HOUR,
        ip_per_minute: int = IP_PER_MINUTE,
        ip_per_hour: int = IP_PER_HOUR,
        minute_seconds: float = MINUTE_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        prefix: str = "sambung:jurnal:ratelimit",
    ) -> SharedRateLimiter:
        """Jurnal's four limits: the credential's and the outgoing IP's, each a minute and an
        hour. `minute_seconds` compresses time (tests, the demo); the hour is 60 of them."""
        return cls(
            redis,
            [
                Bucket.per_minute_and_hour(credential, per_minute, per_hour, minute_seconds),
                Bucket.per_minute_and_hour(ip, ip_per_minute, ip_per_hour, minute_seconds),
            ],
            margin_seconds=jitter_margin(minute_seconds),
            clock=clock,
            sleep=sleep,
            prefix=prefix,
        )

    def log_key(self, bucket: Bucket) -> str:
        return f"{self.prefix}:{bucket.key}:log"

    def hold_key(self, bucket: Bucket) -> str:
        return f"{self.prefix}:{bucket.key}:hold"

    def try_acquire(self) -> float:
        """Take a slot in every bucket now and answer 0, or answer how many seconds to wait
        (taking nothing)."""
        keys: list[str] = []
        args: list[str | float | int] = [repr(self.clock()), uuid.uuid4().hex]
        for bucket in self.buckets:
            keys += [self.log_key(bucket), self.hold_key(bucket)]
            args.append(len(bucket.windows))
            for window in bucket.windows:
                args += [window.limit, repr(window.seconds + self.margin)]
        return float(self._acquire(keys=keys, args=args))

    def acquire(
        self, keep_alive: Callable[[], None] | None = None, *, max_sleep: float = math.inf
    ) -> float:
        """Wait until every bucket has room and take the slot; answers the seconds waited.
        While waiting, `keep_alive` runs before every sleep, and no sleep exceeds `max_sleep`;
        whatever `keep_alive` raises ends the wait."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            chunk = min(wait, max_sleep)
            if keep_alive is not None:
                keep_alive()
            self.sleep(chunk)
            waited += chunk

    def hold_off(self, until: float, keys: Sequence[str] | None = None) -> None:
        """Nobody sends through the buckets with these keys before `until` (epoch seconds);
        through every bucket when `keys` is None or names none of them."""
        ttl = max(until - self.clock(), 0.0)
        chosen = [b for b in self.buckets if keys is None or b.key in keys] or list(self.buckets)
        for bucket in chosen:
            self._hold_off(keys=[self.hold_key(bucket)], args=[repr(until), repr(ttl)])
