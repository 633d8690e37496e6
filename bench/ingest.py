"""`sambung bench ingest`: how close the webhook gateway comes to a bare Flask endpoint.

Both run under gunicorn as `sambung serve` runs the gateway (the same `GatewayServer`, 2 workers
with its threads) on the scratch stack, side by side in one run, and the same load generator
(wrk, else an asyncio client; the output names it) keeps 16 connections busy on each in turn,
alternating rounds so that the machine's swings hit both alike. Every gateway request is
a distinct, correctly signed `moka.transaction.created` webhook of a Moka payment (one checkout
line with discounts, taxes, a gratuity and a modifier) for an outlet with a live setting; the
bare endpoint gets the same bodies and headers, reads the body and answers 202.

The gateway's 202s are then counted in its log: each must be a stored event (a 202 means stored),
so the figure cannot come from answers that skipped the work.

`ingest_ratio` = gateway 202s per second ÷ bare 202s per second (goal ≥ 0.5);
`ingest_p99_ms` = the worst p99 of the gateway's rounds (goal ≤ 50 ms).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bench.append import _checkout, _payment
from bench.append import _setting as make_setting
from bench.harness import BIN, WEBHOOK_SECRET, Say, scratch
from bench.loadgen import Load, Prepared, find_wrk, run_load
from domain.moka_webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign_webhook_body

CONNECTIONS = 16
OUTLET = 4522
# Requests prepared per gateway round: more than a round can send at the best rate seen here.
_PER_SECOND_CEILING = 2500


def run(
    *, quick: bool, store: str = "sqlite", say: Say = print, install: bool = True,
    seconds: float | None = None, rounds: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    seconds = seconds or (4.0 if quick else 10.0)
    rounds = rounds or (2 if quick else 3)
    wrk = find_wrk(install, say)
    with scratch(store) as stack:
        setting_id = make_setting(stack.container.log)
        per_round = int(seconds * _PER_SECOND_CEILING)
        batches = [list(_webhooks(per_round)) for _ in range(rounds + 1)]  # +1: the warm-up
        gateway = stack.gateway(workers=2)
        bare = stack.serve("bare", [str(BIN / "sambung"), "bench-bare"], workers=2)
        run_load(f"{bare}/webhooks/moka", batches[0], CONNECTIONS, 1, wrk)
        run_load(f"{gateway}/webhooks/moka", batches[0], CONNECTIONS, 1, wrk)
        warmed = stack.container.log.head(setting_id)
        bare_loads: list[Load] = []
        gateway_loads: list[Load] = []
        for number in range(1, rounds + 1):
            bare_loads.append(run_load(f"{bare}/webhooks/moka", batches[number], CONNECTIONS,
                                       seconds, wrk))  # fmt: skip
            gateway_loads.append(
                run_load(f"{gateway}/webhooks/moka", batches[number], CONNECTIONS, seconds, wrk)
            )
            last = gateway_loads[-1]
            say(f"round {number}: bare {bare_loads[-1].rate:,.0f}/s, gateway {last.rate:,.0f}/s "
                f"(p99 {last.p99_ms:.1f} ms)")  # fmt: skip
        stored = stack.container.log.head(setting_id) - warmed
        accepted = sum(load.ok for load in gateway_loads)
        if any(load.repeated for load in gateway_loads):
            raise RuntimeError("a gateway round outran its prepared webhooks; raise the ceiling")
        # wrk stops counting with requests still in flight (up to one per connection, the
        # warm-up's too), which the gateway then stores; a timed-out request may be stored too.
        in_flight = CONNECTIONS * (rounds + 1) + sum(load.errors for load in gateway_loads)
        if not accepted <= stored <= accepted + in_flight:
            raise RuntimeError(f"the gateway answered {accepted} 202s but stored {stored} events")
    bare_rate = sum(x.ok for x in bare_loads) / sum(x.seconds for x in bare_loads)
    gateway_rate = accepted / sum(x.seconds for x in gateway_loads)
    return {
        "ingest_ratio": round(gateway_rate / bare_rate, 3),
        "ingest_p99_ms": round(max(x.p99_ms for x in gateway_loads), 1),
        "ingest": {
            "load_generator": gateway_loads[0].tool,
            "connections": CONNECTIONS,
            "gunicorn_workers": 2,
            "rounds": rounds,
            "round_seconds": seconds,
            "gateway_per_second": round(gateway_rate, 1),
            "bare_flask_per_second": round(bare_rate, 1),
            "gateway_p50_ms": round(max(x.p50_ms for x in gateway_loads), 1),
            "bare_p99_ms": round(max(x.p99_ms for x in bare_loads), 1),
            "gateway_errors": sum(x.errors for x in gateway_loads),
            "stored_events": stored,
        },
    }


def _webhooks(count: int) -> Any:
    """Distinct signed webhooks of distinct payments, a second apart."""
    started = int(time.time())
    lines = [_checkout(0, "Ice Cappucino", 64000.0)]
    for number in range(count):
        payment_id = str(uuid.uuid4())
        at = time.strftime("%Y-%m-%dT%H:%M:%S+07:00", time.gmtime(started + number + 7 * 3600))
        envelope = {
            "header": {
                "event_id": str(uuid.uuid4()),
                "event_name": "moka.transaction.created",
                "timestamp": at,
                "outlet_id": OUTLET,
                "version": 1,
            },
            "body": _payment(payment_id, number, at, lines),
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        yield Prepared(
            body,
            {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_webhook_body(body, WEBHOOK_SECRET),
                IDEMPOTENCY_HEADER: envelope["header"]["event_id"],
            },
        )
