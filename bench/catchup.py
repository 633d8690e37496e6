"""`sambung bench catchup`: does a long catch-up hold its memory flat?

A café with a small catalogue and 30 days of sales in the Moka sandbox (in this process), its
master data synced; then a 30-day catch-up, `sambung sync transactions SETTING` in a process of
its own (the same job function a worker runs for a sync, run to the end: pull every page, append,
post every sale to the Jurnal sandbox). Its peak RSS is read from the kernel when it exits
(`wait4`'s ru_maxrss). The same is done for a tenth of the sales, on a fresh stack.

`catchup_peak_rss_mb`: the peak at 30,000 sales, goal ≤ 300; `catchup_rss_growth`: that peak ÷
the peak at a tenth of the sales, goal ≤ 1.2. `--quick` takes 1,000 and 100 sales (posting
3,000 sales takes minutes here, more than the quick run's budget); its growth still shows a
cost per sale, against a smaller base.

Jurnal's documented limit shape holds, in a window compressed to 0.2 s (memory is the subject
here, not time; `drain` measures the limits).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from bench.harness import BIN, Say, scratch
from bench.sync import COUNTING_WINDOW, JAKARTA, env_for, jurnal_for_timing, make_setting, sandboxes

FULL = (3_000, 30_000)
QUICK = (100, 1_000)
DAYS = 30


def run(
    *, quick: bool, store: str = "sqlite", say: Say = print,
    sales: tuple[int, int] | None = None,
) -> dict[str, Any]:  # fmt: skip
    small, large = sales or (QUICK if quick else FULL)
    peaks = {count: _peak_mb(count, store, say) for count in (small, large)}
    return {
        "catchup_peak_rss_mb": round(peaks[large], 1),
        "catchup_rss_growth": round(peaks[large] / peaks[small], 3),
        "catchup": {
            "sales": [small, large],
            "peak_rss_mb": [round(peaks[small], 1), round(peaks[large], 1)],
            "jurnal_limits": {"shape": "documented", "window_seconds": COUNTING_WINDOW},
        },
    }


def _peak_mb(count: int, store: str, say: Say) -> float:
    from jobs import sync

    today = datetime.now(JAKARTA).date()
    start = today - timedelta(days=DAYS) + timedelta(days=31)
    per_day = max(1, round(count / DAYS))
    jurnal, limits = jurnal_for_timing(COUNTING_WINDOW)
    with sandboxes(jurnal) as boxes, scratch(store, **env_for(boxes, limits)) as stack:
        seeded = boxes.moka_control(
            "POST", "/seed",
            json={"seed": 9, "products": 20, "customers": 5, "days": DAYS,
                  "transactions_per_day": per_day, "start_date": str(start - timedelta(days=31))},
        )  # fmt: skip
        setting_id = make_setting(stack, boxes, seeded, start)
        run_id = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
        sync.run_master_data_sync(stack.container, setting_id, run_id)
        child = stack.spawn(
            "catchup", [str(BIN / "sambung"), "sync", "transactions", str(setting_id)]
        )
        _, status, usage = os.wait4(child.process.pid, 0)
        child.process.returncode = os.waitstatus_to_exitcode(status)
        stack.children.remove(child)
        if child.process.returncode != 0:
            raise RuntimeError(f"the catch-up exited with {child.process.returncode}:\n"
                               f"{child.tail()}")  # fmt: skip
        invoices = boxes.jurnal_sandbox.state()["counts"].get("sales_invoices", 0)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    say(
        f"catch-up of {per_day * DAYS} sales ({invoices} invoices in Jurnal): "
        f"peak RSS {peak:.0f} MB"
    )
    return peak
