"""`sambung bench read-models`: how fast the read side answers for a setting with a long log.

It writes a log of `events` events (1,000,000; `--quick`: 200,000) for one setting through the
EventLog API, as the sync engine would: two months of nightly runs (sales received in pages, then
each posted or failed, with refunds, later revisions, a replay each week and webhook postings in
between), projects it, then asks the gateway, under gunicorn as production serves it, over HTTP
with a bearer token: the sync history (`GET /api/v1/settings/{id}/runs`), the open errors, and
31-day reconciliations. `history_p95_ms` (goal ≤ 20) and `reconciliation_p95_ms` (goal ≤ 100)
are the p95s of those answers, read to the end and parsed.

Writing the log takes minutes (each outcome is its own atomic append), so the SQLite store is
kept under the data dir, keyed by size and generator version, and reused; `fresh` rebuilds it.
With `--store postgres` it is written afresh on a throwaway server. The bench never touches a
configured database.
"""

from __future__ import annotations

import gc
import json
import random
import shutil
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import requests

from bench.harness import Scratch, percentile, scratch
from infra.api_tokens import issue_token
from infra.bootstrap import Container
from infra.eventlog import EventLog
from projections import runner

EVENTS = 200_000
GENERATOR_VERSION = 1
DAYS = 62
SAMPLES = 200
QUICK_EVENTS = 200_000
FULL_EVENTS = 1_000_000
HISTORY_TARGET_MS = 20.0
RECONCILIATION_TARGET_MS = 100.0
FIRST_DAY = date(2024, 3, 1)
CAUSES = (
    ("MappingError", "no deposit account mapped for OVO"),
    ("MappingError", "product deleted in Moka and sync by product name is off"),
    ("JurnalValidationError", "Transaction lines amount (Must be greater than 0)"),
)

Say = Callable[[str], None]


def run(
    data_dir: Path,
    *,
    events: int = EVENTS,
    fresh: bool = False,
    store: str = "sqlite",
    say: Say = print,
) -> dict[str, Any]:
    """Build (or reuse) the projected log, then time the answers over HTTP; return the figures."""
    store_dir = data_dir / "bench" / f"read-models-{events}-v{GENERATOR_VERSION}"
    marker = store_dir / "complete.json"
    overrides: dict[str, str] = {}
    if store == "sqlite":
        # Only SQLite's store outlives the run (a file under the data dir): PostgreSQL's is
        # built afresh on its throwaway server.
        if fresh or not marker.exists():
            shutil.rmtree(store_dir, ignore_errors=True)
        store_dir.mkdir(parents=True, exist_ok=True)
        overrides["SAMBUNG_DATA_DIR"] = str(store_dir)
    with scratch(store, **overrides) as stack:
        if store == "sqlite" and marker.exists():
            built = json.loads(marker.read_text())
            # Views of an older layout are rebuilt here: that projection is the one to report.
            started = time.perf_counter()
            if runner.catch_up(stack.container):
                built["project_s"] = round(time.perf_counter() - started, 1)
        else:
            built = _build(stack.container, events, say)
            if store == "sqlite":
                marker.write_text(json.dumps(built))
        figures = _measure(stack, UUID(built["setting_id"]), say)
    return {**figures, **{k: v for k, v in built.items() if k != "setting_id"}}


def _build(container: Container, events: int, say: Say) -> dict[str, Any]:
    started = time.perf_counter()
    setting_id = _generate(container.log, events, say)
    generated = time.perf_counter() - started
    say(f"projecting {container.log.last_global_position()} notifications")
    started = time.perf_counter()
    runner.catch_up(container)
    projected = time.perf_counter() - started
    return {
        "setting_id": str(setting_id),
        "events": container.log.head(setting_id),
        "generate_s": round(generated, 1),
        "project_s": round(projected, 1),
    }


# -- the generated log --------------------------------------------------------------------------


def _generate(log: EventLog, events: int, say: Say) -> UUID:
    rng = random.Random(20240301)
    setting_id = _setting(log)
    master = log.request_run(setting_id, "master_data", "Manual").run_id
    log.finish_run(
        master,
        status="Sukses",
        counts={
            "products": {"synced": 427, "total": 427},
            "customers": {"synced": 130, "total": 130},
        },
    )
    per_day = max(1, events // (DAYS * 2))
    owed: Owed = []
    number = 0
    for offset in range(DAYS * 4):
        head = log.head(setting_id)
        if head >= events:
            break
        day = FIRST_DAY + timedelta(days=offset)
        count = min(per_day, max(1, (events - head) // 2))
        payments = [_payment(rng, day, number + i) for i in range(count)]
        number += count
        appended = log.receive_many(setting_id, "payment", payments, "pull")
        owed += _night(log, rng, setting_id, payments, [a.position for a in appended])
        if offset % 7 == 6 and owed:
            _replay(log, setting_id, owed)
            owed = []
        say(f"{day}: {log.head(setting_id)} events")
    return setting_id


def _setting(log: EventLog) -> UUID:
    company = log.register_company(
        name="PT Bench", jurnal_client_id="bench", jurnal_client_secret="bench-secret",
        package="Enterprise",
    )  # fmt: skip
    connection = log.connect_moka(
        company_id=company, email="bench@example.com", business_id=1, outlets={1: "Bench"},
        access_token="bench-access", refresh_token="bench-refresh",
    )  # fmt: skip
    return log.create_setting(
        company_id=company,
        moka_connection_id=connection,
        outlet_id="1",
        name="Outlet Bench",
        start_date=FIRST_DAY,
        default_customer="Pelanggan Umum",
        sales_account="4-40000",
        purchase_account="5-50000",
        tag="Bench",
        payment_accounts={"cash": {"account": "1-10001", "tag": None}},
    )


def _payment(rng: random.Random, day: date, number: int) -> dict[str, Any]:
    wib = ZoneInfo("Asia/Jakarta")
    created = datetime.combine(day, datetime.min.time(), wib) + timedelta(
        minutes=rng.randrange(8 * 60, 21 * 60), seconds=number % 60
    )
    subtotal = Decimal(rng.randrange(10, 400) * 500)
    tax = subtotal / 10
    payment: dict[str, Any] = {
        "id": f"bench-{number:08d}",
        "payment_no": f"B{number:08d}",
        "created_at": created.isoformat(),
        "updated_at": created.isoformat(),
        "payment_type": "cash",
        "subtotal": float(subtotal),
        "taxes": float(tax),
        "total_collected": float(subtotal + tax),
        "payment_refunds": [],
    }
    if rng.random() < 0.03:
        refunded = created + timedelta(hours=rng.randrange(1, 30))
        payment["payment_refunds"] = [
            {
                "uuid": f"bench-refund-{number:08d}",
                "created_at": refunded.isoformat(),
                "total_collected_amount": -float(subtotal + tax),
                "total_tax_amount": -float(tax),
                "refund_amount": float(subtotal + tax),
            }
        ]
    return payment


Owed = list[tuple[dict[str, Any], int]]  # failed sales and their log positions


def _night(
    log: EventLog,
    rng: random.Random,
    setting_id: UUID,
    payments: list[dict[str, Any]],
    positions: list[int],
) -> Owed:
    """Post the day's sales (a tenth of them by webhook, outside the run); return the failed."""
    run_id = log.request_run(setting_id, "transactions", "Otomatis").run_id
    counts = {"sales": {"synced": 0, "total": 0}, "sales_returns": {"synced": 0, "total": 0}}
    failed: Owed = []
    for payment, position in zip(payments, positions, strict=True):
        in_run = None if rng.random() < 0.1 else run_id
        posted = rng.random() >= 0.02
        if posted:
            _post_sale(log, setting_id, payment, position, in_run)
            for refund in payment["payment_refunds"]:
                _post_refund(log, setting_id, payment, refund, position, run_id)
                counts["sales_returns"]["total"] += 1
                counts["sales_returns"]["synced"] += 1
        else:
            _fail_sale(log, rng, setting_id, payment, position, in_run)
            failed.append((payment, position))
        if in_run is not None:
            counts["sales"]["total"] += 1
            counts["sales"]["synced"] += int(posted)
    synced = sum(c["synced"] for c in counts.values())
    total = sum(c["total"] for c in counts.values())
    status = "Sukses" if synced == total else "Sebagian" if synced else "Gagal"
    log.finish_run(run_id, status=status, counts=counts)
    return failed


def _fail_sale(
    log: EventLog,
    rng: random.Random,
    setting_id: UUID,
    payment: dict[str, Any],
    position: int,
    run_id: UUID | None,
) -> None:
    error_class, message = rng.choice(CAUSES)
    log.record_failed(
        setting_id, kind="sales_invoice", custom_id=_sale_custom_id(payment),
        error_class=error_class, message=message, retryable=False,
        moka_reference=payment["payment_no"], resolves=position, run_id=run_id,
    )  # fmt: skip


def _post_sale(
    log: EventLog, setting_id: UUID, payment: dict[str, Any], position: int, run_id: UUID | None
) -> None:
    total = Decimal(str(payment["total_collected"]))
    log.record_posted(
        setting_id, kind="sales_invoice", custom_id=_sale_custom_id(payment),
        jurnal_id=f"j-{payment['id']}", moka_reference=payment["payment_no"],
        resolves=position, run_id=run_id,
        amounts={
            "total": str(total), "tax": str(Decimal(str(payment["taxes"]))), "paid": str(total),
            "business_date": payment["created_at"][:10],
        },
    )  # fmt: skip


def _sale_custom_id(payment: dict[str, Any]) -> str:
    return f"moka-1-sale-{payment['id']}"


def _post_refund(
    log: EventLog,
    setting_id: UUID,
    payment: dict[str, Any],
    refund: dict[str, Any],
    position: int,
    run_id: UUID,
) -> None:
    log.record_posted(
        setting_id, kind="sales_return", custom_id=f"moka-1-return-{refund['uuid']}",
        jurnal_id=f"j-{refund['uuid']}", moka_reference=payment["payment_no"],
        resolves=position, run_id=run_id,
        amounts={
            "total": str(Decimal(str(refund["refund_amount"]))),
            "tax": str(-Decimal(str(refund["total_tax_amount"]))),
            "business_date": refund["created_at"][:10],
        },
    )  # fmt: skip


def _replay(log: EventLog, setting_id: UUID, owed: Owed) -> None:
    """A weekly replay after the merchant fixed a mapping: half of the owed sales now post."""
    run_id = log.request_run(setting_id, "replay", "Replay").run_id
    fixed = owed[::2]
    for payment, position in fixed:
        _post_sale(log, setting_id, payment, position, run_id)
    log.finish_run(
        run_id, status="Sukses", counts={"sales": {"synced": len(fixed), "total": len(fixed)}}
    )


# -- measuring ----------------------------------------------------------------------------------


def _measure(stack: Scratch, setting_id: UUID, say: Say) -> dict[str, Any]:
    """p95 of each answer over HTTP through the gateway under gunicorn (2 workers), one
    keep-alive client asking in turn, as an admin page would."""
    rng = random.Random(7)
    days = (DAYS - 31) or 1
    url = stack.gateway(workers=2)
    session = requests.Session()
    session.headers["Authorization"] = (
        f"Bearer {issue_token(stack.container.log, admin=True).token}"
    )
    base = f"{url}/api/v1/settings/{setting_id}"

    def reconciliation() -> str:
        first = FIRST_DAY + timedelta(days=rng.randrange(days))
        return f"{base}/reconciliation?from={first}&to={first + timedelta(days=30)}"

    timed: dict[str, Callable[[], str]] = {
        "history": lambda: f"{base}/runs",
        "errors": lambda: f"{base}/errors",
        "reconciliation": reconciliation,
    }
    figures: dict[str, Any] = {}
    for name, address in timed.items():
        p95 = _p95_ms(session, address)
        figures[f"{name}_p95_ms"] = p95
        say(f"{name}: p95 {p95} ms over HTTP")
    return figures


def _p95_ms(session: requests.Session, address: Callable[[], str]) -> float:
    for _ in range(5):  # warm both gunicorn workers, their connections and the page cache
        session.get(address(), timeout=60).raise_for_status()
    # The client's own heap (this whole process: the stack it built, the app's modules) is set
    # aside from the garbage collector while it times: parsing a month's reconciliation makes
    # enough objects to start a full collection every few answers, and a collection over the
    # bench's heap took 25-35 ms, longer than the answer. The answer's own objects are still
    # collected, so its parse is timed in full; a browser would not carry this heap.
    gc.collect()
    gc.freeze()
    try:
        samples = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            answer = session.get(address(), timeout=60)
            answer.raise_for_status()
            answer.json()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        gc.unfreeze()
    return round(percentile(samples, 95), 2)
