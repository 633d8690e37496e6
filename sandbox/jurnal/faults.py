"""Faults the sandbox injects on request, switched at run time through `POST /_sandbox/faults`.

- `latency_ms`: every API request waits this long first.
- `error_rate`: share of requests answered `503` with Envoy's upstream-reset text, uncommitted.
- `rate_limited_rate`: share of requests answered a forced `429`.
- `timeout_rate`: share of requests that hang for `timeout_seconds` (set it above the client's
  timeout) and then answer `504`, uncommitted.
- `drop_after_commit_rate`: share of writes that are committed and then get no answer at all: the
  connection is shut down under the client, which sees a dropped connection for a document that
  exists. Servers that do not expose the socket get `502` with an empty body instead.
- `race_window_ms`: the duplicate `custom_id` check of a single create runs, then the create waits
  this long outside the lock before inserting, so concurrent creates with one `custom_id` all
  succeed, as observed on the live API. 0 makes the check atomic.
- `methods`: the HTTP methods the faults above apply to (empty: all), e.g. `["POST"]`.
- `limit`: how many faults may still fire (null: no limit), so a test can fail exactly the
  first request and let the client's recovery through.
- `seed`: reseeds the fault dice, so a run of faults can be replayed.

Limits (`rate_limit_per_minute`, `rate_limit_per_hour`, `ip_rate_limit_per_minute`,
`ip_rate_limit_per_hour`, `monthly_limit`) are set through the same call; all four rate limits
are on by default at Jurnal's documented values (`limits`), the IP ones may be set to null (off).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import Invalid

RATES = ("error_rate", "rate_limited_rate", "timeout_rate", "drop_after_commit_rate")


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limited_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    drop_after_commit_rate: float = 0.0
    race_window_ms: int = 0
    methods: tuple[str, ...] = ()
    limit: int | None = None

    def applies_to(self, method: str) -> bool:
        return not self.methods or method.upper() in self.methods

    def changed(self, settings: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, value in settings.items():
            if name not in known:
                continue
            if name == "methods":
                changes[name] = _methods(value)
                continue
            if name == "limit":
                changes[name] = _limit(value)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise Invalid.field(name, "(Must be a non-negative number)")
            if name in RATES and value > 1:
                raise Invalid.field(name, "(Must be between 0 and 1)")
            changes[name] = int(value) if name.endswith("_ms") else float(value)
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "methods": list(self.methods)}


def _methods(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise Invalid.field("methods", "(Must be a list of HTTP methods)")
    return tuple(m.upper() for m in value)


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid.field("limit", "(Must be a non-negative whole number or null)")
    return value
