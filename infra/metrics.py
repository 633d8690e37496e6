"""Prometheus metrics shared by every process of an install (gateway, workers, scheduler).

gunicorn runs several gateway processes and workers run anywhere, so counters cannot live in
process memory: each metric is a Redis hash, one field per label set, bumped with HINCRBY (atomic
on the server, one round trip). `GET /metrics` renders them all in Prometheus text format.

Anyone may count, without Flask:

    from infra import metrics
    metrics.increment(redis, metrics.POSTINGS, {"kind": "sales_invoice", "outcome": "posted"})
    metrics.count_jurnal_call(redis, resource="sales_invoices", status=429)
    metrics.observe(redis, metrics.POSTING_LAG, seconds)

Every metric is declared in `METRICS` with its label names; counting an undeclared metric or with
other labels raises `ValueError`, so a typo fails in tests instead of making a silent new series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis as redis_lib

KEY_PREFIX = "sambung:metrics:"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "counter", "gauge" (computed at scrape time) or "histogram"
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


HTTP_REQUESTS = "sambung_http_requests_total"
WEBHOOKS = "sambung_webhooks_total"
WEBHOOK_REJECTIONS = "sambung_webhook_rejections_total"
QUEUE_DEPTH = "sambung_queue_depth"
POSTINGS = "sambung_postings_total"
JURNAL_CALLS = "sambung_jurnal_calls_total"
JURNAL_RATE_LIMITED = "sambung_jurnal_rate_limited_total"
POSTING_LAG = "sambung_posting_lag_seconds"
LIVE_PULL_LAST = "sambung_live_pull_last_success_timestamp_seconds"
LIVE_PULL_FAILURES = "sambung_live_pull_failures"

METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            HTTP_REQUESTS,
            "counter",
            "HTTP requests answered by the gateway, by route template, method and status.",
            ("route", "method", "status"),
        ),
        Metric(
            WEBHOOKS,
            "counter",
            "Moka webhook deliveries by outcome: accepted (stored for at least one setting), "
            "duplicate, stale (an older version than the one stored), unrouted (no setting "
            "takes the outlet) or rejected.",
            ("outcome",),
        ),
        Metric(
            WEBHOOK_REJECTIONS,
            "counter",
            "Moka webhook deliveries refused, by reason: signature, too_large, not_json, schema.",
            ("reason",),
        ),
        Metric(QUEUE_DEPTH, "gauge", "Jobs waiting in each RQ queue.", ("queue",)),
        Metric(
            POSTINGS,
            "counter",
            "Jurnal documents the sync engine tried to write, by document kind and outcome "
            "(posted, failed, skipped...).",
            ("kind", "outcome"),
        ),
        Metric(
            JURNAL_CALLS,
            "counter",
            "HTTP calls to Jurnal, by resource and status (0 when no answer came).",
            ("resource", "status"),
        ),
        Metric(
            JURNAL_RATE_LIMITED,
            "counter",
            "Jurnal calls answered 429 Too Many Requests, by resource.",
            ("resource",),
        ),
        Metric(
            POSTING_LAG,
            "histogram",
            "Seconds from a Moka record entering a setting's log to its Jurnal outcome.",
            (),
            (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
        ),
        Metric(
            LIVE_PULL_LAST,
            "gauge",
            "When each setting was last pulled from Moka by the live pull (Unix time; absent "
            "before its first pull).",
            ("setting_id",),
        ),
        Metric(
            LIVE_PULL_FAILURES,
            "gauge",
            "Live pulls of each setting that failed in a row since its last success.",
            ("setting_id",),
        ),
    )
}


def increment(
    redis: redis_lib.Redis,
    name: str,
    labels: Mapping[str, object] | None = None,
    by: int = 1,
) -> None:
    """Add `by` to a counter; `labels` must name exactly the metric's declared labels."""
    metric = _declared(name, "counter")
    redis.hincrby(KEY_PREFIX + name, _label_text(metric, labels or {}), by)


def observe(
    redis: redis_lib.Redis,
    name: str,
    value: float,
    labels: Mapping[str, object] | None = None,
) -> None:
    """Record one observation in a histogram: its buckets (cumulative), sum and count."""
    metric = _declared(name, "histogram")
    base = _label_text(metric, labels or {})
    key = KEY_PREFIX + name
    pipe = redis.pipeline(transaction=False)
    for bound in (*metric.buckets, math.inf):
        if value <= bound:
            pipe.hincrby(key, _join(base, f'le="{_bound_text(bound)}"'), 1)
    pipe.hincrbyfloat(key + ":sum", base, value)
    pipe.execute()


def count_jurnal_call(redis: redis_lib.Redis, *, resource: str, status: int) -> None:
    """Count one Jurnal call, and a 429 also as rate limited (`status` 0: no answer)."""
    pipe = redis.pipeline(transaction=False)
    increment(pipe, JURNAL_CALLS, {"resource": resource, "status": status})
    if status == 429:
        increment(pipe, JURNAL_RATE_LIMITED, {"resource": resource})
    pipe.execute()


def render(redis: redis_lib.Redis, gauges: Mapping[str, Iterable[Sample]]) -> str:
    """Every declared metric in Prometheus text format (0.0.4). Gauges are computed by the
    caller at scrape time and passed in by name."""
    names = [n for n in METRICS if METRICS[n].kind != "gauge"]
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(KEY_PREFIX + name)
        if METRICS[name].kind == "histogram":
            pipe.hgetall(KEY_PREFIX + name + ":sum")
    answers = iter(pipe.execute())
    lines: list[str] = []
    for name, metric in METRICS.items():
        lines += [f"# HELP {name} {metric.help}", f"# TYPE {name} {metric.kind}"]
        if metric.kind == "gauge":
            lines += [s.line(name) for s in gauges.get(name, ())]
        elif metric.kind == "counter":
            lines += [Sample(k, float(v)).line(name) for k, v in _decoded(next(answers))]
        else:
            lines += _histogram_lines(metric, next(answers), next(answers))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Sample:
    """One series: its rendered labels (`a="x",b="y"`, or "") and value."""

    labels: str
    value: float

    @classmethod
    def of(cls, name: str, labels: Mapping[str, object], value: float) -> Sample:
        return cls(_label_text(METRICS[name], labels), value)

    def line(self, name: str) -> str:
        series = f"{name}{{{self.labels}}}" if self.labels else name
        return f"{series} {_value_text(self.value)}"


def _histogram_lines(
    metric: Metric, raw_buckets: Mapping[bytes, bytes], raw_sums: Mapping[bytes, bytes]
) -> list[str]:
    # A label set exists once it has a sum; its buckets are cumulative and +Inf is the count.
    buckets = dict(_decoded(raw_buckets))
    lines: list[str] = []
    for base, total in _decoded(raw_sums):
        count = 0.0
        for bound in (*metric.buckets, math.inf):
            labels = _join(base, f'le="{_bound_text(bound)}"')
            count = float(buckets.get(labels, "0"))
            lines.append(Sample(labels, count).line(metric.name + "_bucket"))
        lines.append(Sample(base, float(total)).line(metric.name + "_sum"))
        lines.append(Sample(base, count).line(metric.name + "_count"))
    return lines


def _declared(name: str, kind: str) -> Metric:
    metric = METRICS.get(name)
    if metric is None or metric.kind != kind:
        known = ", ".join(n for n, m in METRICS.items() if m.kind == kind)
        raise ValueError(f"{name!r} is not a declared {kind}; declared: {known}")
    return metric


def _label_text(metric: Metric, labels: Mapping[str, object]) -> str:
    if set(labels) != set(metric.labels):
        raise ValueError(
            f"{metric.name} takes labels ({', '.join(metric.labels)}), not ({', '.join(labels)})"
        )
    return ",".join(f'{name}="{_escape(str(labels[name]))}"' for name in metric.labels)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _join(*parts: str) -> str:
    return ",".join(part for part in parts if part)


def _bound_text(bound: float) -> str:
    return "+Inf" if bound == math.inf else _value_text(bound)


def _value_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _decoded(mapping: Mapping[bytes | str, bytes | str]) -> list[tuple[str, str]]:
    """A hash from Redis as sorted text pairs, whether or not the client decodes responses."""

    def text(raw: bytes | str) -> str:
        return raw.decode() if isinstance(raw, bytes) else raw

    return sorted((text(k), text(v)) for k, v in mapping.items())
