"""`sambung bench freshness`: from a sale at the till to its invoice readable in Jurnal.

The whole path runs as in production, on an idle stack: the Moka sandbox (in this process) sends
its signed webhook to the gateway under gunicorn (`sambung serve`, 2 workers), which stores it
and wakes the poster; one `sambung worker` posts the invoice to the Jurnal sandbox (in this
process). The clock starts when the sale is rung up and stops when Jurnal holds one more sales
invoice; the next sale waits until the previous one's payment is in Jurnal too, so each sale
meets an idle stack. `freshness_p95_ms` is the p95 of those times (goal ≤ 500 ms).
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

from bench.harness import WEBHOOK_SECRET, Say, Scratch, percentile, scratch, wait_until
from bench.sync import JAKARTA, env_for, jurnal_for_timing, make_setting, sandboxes

SAMPLES = 40
QUICK_SAMPLES = 20


def run(
    *, quick: bool, store: str = "sqlite", say: Say = print, samples: int | None = None
) -> dict[str, Any]:
    from jobs import sync

    samples = samples or (QUICK_SAMPLES if quick else SAMPLES)
    jurnal, limits = jurnal_for_timing()
    with sandboxes(jurnal) as boxes, scratch(store, **env_for(boxes, limits)) as stack:
        today = datetime.now(JAKARTA).date()
        seeded = boxes.moka_control(
            "POST", "/seed",
            json={"seed": 5, "products": 20, "customers": 5, "days": 1,
                  "transactions_per_day": 1, "start_date": str(today - timedelta(days=1))},
        )  # fmt: skip
        setting_id = make_setting(stack, boxes, seeded, today)
        run_id = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
        sync.run_master_data_sync(stack.container, setting_id, run_id)
        gateway = stack.gateway(workers=2)
        boxes.moka_control(
            "POST", "/subscriptions",
            json={"url": f"{gateway}/webhooks/moka", "secret": WEBHOOK_SECRET},
        )  # fmt: skip
        stack.workers(1)
        outlet_id = int(seeded["outlet_ids"][0])
        with boxes.moka_sandbox.lock:
            _, outlet = boxes.moka_sandbox.outlet(outlet_id)
            items = [i["id"] for i in outlet.items.values() if not i["is_deleted"]]
        rng = random.Random(3)
        times: list[float] = []
        for number in range(samples + 1):  # the first warms the worker up
            invoices, payments = _count(boxes, "sales_invoices"), _count(boxes, "receive_payments")
            started = time.perf_counter()
            boxes.moka_control(
                "POST", "/payments",
                json={"outlet_id": outlet_id, "payment": {
                    "checkouts": [{"item_id": rng.choice(items), "quantity": 1}],
                    "payment_type": "cash"}},
            )  # fmt: skip
            _wait_for_more(boxes, stack, "sales_invoices", invoices, interval=0.002)
            if number:
                times.append((time.perf_counter() - started) * 1000)
            _wait_for_more(boxes, stack, "receive_payments", payments, interval=0.02)
            time.sleep(rng.uniform(0.1, 0.3))
        say(f"freshness: p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms")
    return {
        "freshness_p95_ms": round(percentile(times, 95), 1),
        "freshness": {
            "samples": len(times),
            "p50_ms": round(percentile(times, 50), 1),
            "max_ms": round(max(times), 1),
            "jurnal_limits": limits,
        },
    }


def _wait_for_more(boxes: Any, stack: Scratch, resource: str, than: int, interval: float) -> None:
    def more() -> bool:
        stack.check()
        return _count(boxes, resource) > than

    wait_until(f"one more of Jurnal's {resource}", more, timeout=120, interval=interval)


def _count(boxes: Any, resource: str) -> int:
    with boxes.jurnal_sandbox.lock:
        return sum(c.counts().get(resource, 0) for c in boxes.jurnal_sandbox.companies.values())
