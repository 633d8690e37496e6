"""`sambung bench summary`: Jurnal calls per business day of a busy outlet's month, posted per
sale and in daily-summary mode, the same generated month for both (300 sales a day, refunds,
a few unpaid invoices), each on its own throwaway stack at Jurnal's documented limit shape in a
compressed window. The daily-summary run also reconciles every day with Moka.

- `summary_calls_per_day`: the transactions sync's Jurnal calls ÷ days, daily summary (goal
  ≤ 15, issue #21);
- `per_sale_calls_per_day`: the same month posted per sale (reported);
- details: the days whose Jurnal side equals Moka's to the sen and to the rupiah (per sale,
  Jurnal's per-line tax rounding may leave a sen), documents, and the master-data calls (not
  counted: they are the same in both modes).

Calls are counted by the sandbox (a 429 counts as one), not timed. `--quick` posts 7 days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.harness import Say, scratch
from bench.sync import (
    COUNTING_WINDOW,
    JAKARTA,
    env_for,
    jurnal_for_timing,
    make_setting,
    sandboxes,
)

MONTH_START = date(2024, 5, 1)
OUTLET = {
    "products": 120,
    "customers": 60,
    "transactions_per_day": 300,
    "refund_rate": 0.02,
    "invoice_rate": 0.005,
    "deleted_products": 0,
    "seed": 2121,
}
QUICK_DAYS = 7
MONTH_DAYS = 30
MODES = ("daily_summary", "per_sale")


def run(
    *, quick: bool, store: str = "sqlite", say: Say = print, days: int | None = None,
    per_day: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    days = days or (QUICK_DAYS if quick else MONTH_DAYS)
    outlet = {
        **OUTLET,
        "days": days,
        "start_date": MONTH_START.isoformat(),
        **({"transactions_per_day": per_day} if per_day else {}),
    }
    figures: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        figures[mode] = _month(mode, outlet, days, store, say)
        say(f"{mode}: {figures[mode]}")
    summary, per_sale = figures["daily_summary"], figures["per_sale"]
    return {
        "summary_calls_per_day": round(summary["calls"] / days, 2),
        "per_sale_calls_per_day": round(per_sale["calls"] / days, 2),
        "summary": {
            "days": days,
            "sales_per_day": outlet["transactions_per_day"],
            "daily_summary": summary,
            "per_sale": per_sale,
            "jurnal_limits": {"shape": "documented", "window_seconds": COUNTING_WINDOW},
        },
    }


def _month(mode: str, outlet: dict[str, Any], days: int, store: str, say: Say) -> dict[str, Any]:
    from jobs import sync
    from projections.queries import reconciliation
    from projections.runner import catch_up

    last_day = MONTH_START + timedelta(days=days - 1)
    jurnal, limits = jurnal_for_timing(COUNTING_WINDOW)
    with sandboxes(jurnal) as boxes, scratch(store, **env_for(boxes, limits)) as stack:
        seeded = boxes.moka_control("POST", "/seed", json=outlet)
        setting_id = make_setting(
            stack, boxes, seeded, MONTH_START + timedelta(days=31), posting_mode=mode
        )
        log = stack.container.log
        calls = boxes.jurnal_calls()
        run_id = log.request_run(setting_id, "master_data", "Manual").run_id
        sync.run_master_data_sync(stack.container, setting_id, run_id)
        master_calls = boxes.jurnal_calls() - calls
        say(f"{mode}: master data in {master_calls} calls; posting {days} days")
        documents, calls = boxes.jurnal_documents(), boxes.jurnal_calls()
        night = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), JAKARTA)
        run_id = log.request_run(setting_id, "transactions", "Otomatis").run_id
        counts = sync.run_transactions_sync(
            stack.container, setting_id, run_id, now=night + timedelta(minutes=5)
        )
        spent = boxes.jurnal_calls() - calls
        made = boxes.jurnal_documents() - documents
        catch_up(stack.container)
        rows = reconciliation(stack.container.views, setting_id, MONTH_START, last_day)
        to_the_sen = sum(all(Decimal(v) == 0 for v in r["difference"].values()) for r in rows)
        to_the_rupiah = sum(
            all(abs(Decimal(v)) < 1 for v in r["difference"].values()) for r in rows
        )
        differences = {
            row["date"]: row["difference"]
            for row in rows
            if any(Decimal(v) != 0 for v in row["difference"].values())
        }
        return {
            "calls": spent,
            "documents": made,
            "master_data_calls": master_calls,
            "days_equal_to_the_sen": to_the_sen,
            "days_equal_to_the_rupiah": to_the_rupiah,
            "days_with_activity": len(rows),
            "differences": differences,
            "counts": counts,
        }
