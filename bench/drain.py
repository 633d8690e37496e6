"""`sambung bench drain`: how close a backlog's posting comes to Jurnal's rate limit.

One Jurnal company (one credential) takes three Moka outlets, one setting each (quota 3), their
master data synced. Each setting's log holds a backlog of its outlet's sales (the sandbox's
generated month, appended as a pull appends them), and nothing has posted yet. Then three
`sambung worker` processes, already up, are woken for the three settings at once, and the clock
runs until every setting's log is processed (its posting cursor at its head).

The Jurnal sandbox enforces Jurnal's documented limit shape, 30 calls a window per credential
and 40 per IP (and 60 windows an hour), with the window compressed (JURNAL_RATE_WINDOW_SECONDS,
for the sandbox and Sambung's own budget alike). The floor is the time the calls made need at
the binding limit (30 a window, one credential): calls ÷ 30 × window.

`drain_efficiency` = floor ÷ actual time (goal ≥ 0.9), with no failed postings that the limit
or Jurnal's answers caused (by-design failures, such as sales of products deleted in Moka, are
counted apart) and 429s at most 1% of calls.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from bench.harness import Say, Scratch, scratch, wait_until
from bench.sync import JAKARTA, JURNAL_CLIENT, PAYMENT_ACCOUNTS, env_for, limited_jurnal, sandboxes

PER_WINDOW = 30  # per credential: the binding one of Jurnal's documented limits here
OUTLETS = 3
WORKERS = 3


def run(
    *, quick: bool, store: str = "sqlite", say: Say = print, sales: int | None = None
) -> dict[str, Any]:
    window = 2.0 if quick else 5.0
    per_outlet = sales or (40 if quick else 200)
    jurnal = limited_jurnal(window)
    limits = {"shape": "documented", "window_seconds": window}
    with sandboxes(jurnal) as boxes, scratch(store, **env_for(boxes, limits)) as stack:
        settings = _settings(stack, boxes, per_outlet)
        for setting_id in settings:
            _master_data(stack, setting_id)
        backlog = {s: _backlog(stack, boxes, s) for s in settings}
        stack.workers(WORKERS)
        wait_until("three workers", lambda: stack.check() or _workers(stack) >= WORKERS, 120)
        say(f"drain: {sum(backlog.values())} sales in {OUTLETS} backlogs, window {window:g} s")
        requests_before = dict(boxes.jurnal_sandbox.requests)
        started = time.perf_counter()
        from infra import queues

        for setting_id in settings:
            queues.wake_poster(stack.container, setting_id)
        log = stack.container.log

        def drained() -> bool:
            stack.check()
            return all(log.posting_cursor(s) >= log.head(s) for s in settings)

        wait_until("the backlogs to drain", drained, timeout=3600, interval=0.05)
        elapsed = time.perf_counter() - started
        requests_after = dict(boxes.jurnal_sandbox.requests)
        failures = [f for s in settings for f in _failures(stack, s)]
    calls = sum(requests_after.values()) - sum(requests_before.values())
    too_many = requests_after.get("429", 0) - requests_before.get("429", 0)
    floor = calls / PER_WINDOW * window
    caused = [f for f in failures if f["retryable"]]
    say(f"drain: {calls} calls in {elapsed:.1f} s, floor {floor:.1f} s, {too_many} 429s, "
        f"{len(caused)} failed postings ({len(failures) - len(caused)} by design)")  # fmt: skip
    return {
        "drain_efficiency": round(floor / elapsed, 3),
        "drain": {
            "calls": calls,
            "seconds": round(elapsed, 2),
            "floor_seconds": round(floor, 2),
            "window_seconds": window,
            "workers": WORKERS,
            "settings_one_credential": OUTLETS,
            "sales": sum(backlog.values()),
            "too_many_requests": too_many,
            "too_many_share": round(too_many / max(calls, 1), 4),
            "failed_postings": len(caused),
            "failed_by_design": len(failures) - len(caused),
            "failure_classes": sorted({f["error_class"] for f in failures}),
        },
    }


def _settings(stack: Scratch, boxes: Any, per_outlet: int) -> list[UUID]:
    from services.companies import register_company
    from services.moka import connect_moka_with_tokens

    container = stack.container
    company = register_company(
        container, name="PT Bench Tiga Outlet", jurnal_client_id=JURNAL_CLIENT[0],
        jurnal_client_secret=JURNAL_CLIENT[1],
    )  # fmt: skip
    container.log.set_quota(company.id, OUTLETS)
    today = datetime.now(JAKARTA).date()
    days = 3
    settings = []
    for number in range(OUTLETS):
        seeded = boxes.moka_control(
            "POST", "/seed",
            json={"seed": 40 + number, "products": 10, "customers": 2, "days": days,
                  "transactions_per_day": max(1, per_outlet // days),
                  "email": f"owner{number}@bench.example",
                  "start_date": str(today - timedelta(days))},
        )  # fmt: skip
        connection = connect_moka_with_tokens(
            container, company_id=company.id, access_token=seeded["access_token"],
            refresh_token=seeded["refresh_token"],
        )  # fmt: skip
        settings.append(
            container.log.create_setting(
                company_id=company.id, moka_connection_id=connection.id,
                outlet_id=str(seeded["outlet_ids"][0]), name=f"Outlet {number + 1}",
                start_date=today, default_customer="Pelanggan Umum",
                sales_account="Pendapatan", purchase_account="Beban Pokok Pendapatan",
                payment_accounts=PAYMENT_ACCOUNTS, name_prefix=f"O{number + 1}",
            )
        )  # fmt: skip
    return settings


def _master_data(stack: Scratch, setting_id: UUID) -> None:
    from jobs import sync

    run_id = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
    sync.run_master_data_sync(stack.container, setting_id, run_id)


def _backlog(stack: Scratch, boxes: Any, setting_id: UUID) -> int:
    setting = stack.container.log.get_setting(setting_id)
    with boxes.moka_sandbox.lock:
        _, outlet = boxes.moka_sandbox.outlet(int(setting.outlet_id))
        payments = sorted(outlet.payments.values(), key=lambda p: p["created_at"])
    stack.container.log.receive_many(setting_id, "payment", payments, "pull")
    return len(payments)


def _workers(stack: Scratch) -> int:
    from rq import Worker

    return len(Worker.all(connection=stack.container.redis))


def _failures(stack: Scratch, setting_id: UUID) -> list[dict[str, Any]]:
    """The latest outcome of each document that failed and never posted."""
    failed: dict[str, dict[str, Any]] = {}
    after = 0
    while page := stack.container.log.read(setting_id, after=after, limit=1000):
        for event in page:
            name = type(event).__name__
            custom_id = getattr(event, "custom_id", None)
            if name == "PostingFailed":
                failed[str(custom_id or event.position)] = {
                    "error_class": event.error_class, "retryable": event.retryable,
                }  # fmt: skip
            elif name == "DocumentPosted" and custom_id:
                failed.pop(custom_id, None)
        after = page[-1].position
    return list(failed.values())
