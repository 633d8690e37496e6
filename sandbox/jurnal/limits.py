"""Jurnal's rate limits as the sandbox enforces them (`reference/jurnal-api.md` §5).

Fixed windows that reset on the clock's minute and hour boundaries, counted per credential and
per client IP — by default the documented 30 a minute and 1,800 an hour per credential, 40 and
2,500 per IP; reads and writes share the count; a refused request is not counted. The IP limits
can be switched off (null), and a monthly request package switched on.

The minute's length is `minute_seconds` (60; `JURNAL_RATE_WINDOW_SECONDS` compresses time for
tests and the demo), the hour is sixty of them: the limits keep their shape in any time scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PER_MINUTE = 30
PER_HOUR = 1800
IP_PER_MINUTE = 40
IP_PER_HOUR = 2500
MINUTE_SECONDS = 60.0

RATE_LIMITED = "API rate limit exceeded"
MONTHLY_LIMITED = "Monthly limit exceeded."


@dataclass(frozen=True)
class Limits:
    per_minute: int = PER_MINUTE
    per_hour: int = PER_HOUR
    ip_per_minute: int | None = IP_PER_MINUTE
    ip_per_hour: int | None = IP_PER_HOUR
    monthly: int | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str
    headers: dict[str, str]


@dataclass
class FixedWindows:
    """Counters per (key, window) pair; old windows are dropped as the clock moves on."""

    clock: Callable[[], float]
    _counts: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def used(self, key: str, span: str, seconds: float) -> tuple[int, int]:
        window = int(self.clock() // seconds)
        return self._counts.get((key, span, window), 0), window

    def add(self, key: str, span: str, window: int) -> None:
        self._counts[(key, span, window)] = self._counts.get((key, span, window), 0) + 1

    def forget_before(self, span: str, window: int) -> None:
        stale = [k for k in self._counts if k[1] == span and k[2] < window]
        for k in stale:
            del self._counts[k]

    def clear(self) -> None:
        self._counts.clear()


class RateLimiter:
    """Decides one request at a time; the caller holds the sandbox lock."""

    def __init__(self, clock: Callable[[], float], minute_seconds: float = MINUTE_SECONDS) -> None:
        if minute_seconds <= 0:
            raise ValueError("the rate window must be positive")
        self.windows = FixedWindows(clock)
        self.minute = minute_seconds
        self.monthly_used: dict[str, int] = {}

    def decide(self, credential: str, ip: str, limits: Limits) -> Decision:
        minute, hour = self.minute, self.minute * 60
        spans: list[tuple[str, float, str, int]] = [
            ("minute", minute, credential, limits.per_minute),
            ("hour", hour, credential, limits.per_hour),
        ]
        if limits.ip_per_minute is not None:
            spans.append(("ip-minute", minute, ip, limits.ip_per_minute))
        if limits.ip_per_hour is not None:
            spans.append(("ip-hour", hour, ip, limits.ip_per_hour))
        usage = []
        for span, seconds, key, limit in spans:
            used, window = self.windows.used(key, span, seconds)
            self.windows.forget_before(span, window)
            usage.append((span, key, limit, used, window))
        credential_usage = {span: (limit, used) for span, _, limit, used, _ in usage[:2]}
        if limits.monthly is not None and self.monthly_used.get(credential, 0) >= limits.monthly:
            return Decision(False, MONTHLY_LIMITED, _headers(credential_usage))
        if any(used >= limit for _, _, limit, used, _ in usage):
            return Decision(False, RATE_LIMITED, _headers(credential_usage))
        for span, key, _, _, window in usage:
            self.windows.add(key, span, window)
        self.monthly_used[credential] = self.monthly_used.get(credential, 0) + 1
        counted = {span: (limit, used + 1) for span, (limit, used) in credential_usage.items()}
        return Decision(True, "", _headers(counted))

    def clear(self) -> None:
        self.windows.clear()
        self.monthly_used.clear()


def _headers(usage: dict[str, tuple[int, int]]) -> dict[str, str]:
    headers = {}
    for span in ("minute", "hour"):
        limit, used = usage[span]
        headers[f"X-RateLimit-Limit-{span.title()}"] = str(limit)
        headers[f"X-RateLimit-Remaining-{span.title()}"] = str(max(limit - used, 0))
    return headers
