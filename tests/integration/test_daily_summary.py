"""Daily-summary posting against both sandboxes: a busy outlet's days (300 sales a day, refunds,
unpaid invoices) become a handful of Jurnal documents each, within Jurnal's budget, and every
day reconciles with Moka to the rupiah; a refund that arrives for a day already posted
corrects that day.

Jurnal's limits keep their documented shape (30 a minute and 1,800 an hour per credential, 40
and 2,500 per IP); only its minute is compressed (`RATE_WINDOW_SECONDS`). `make test` posts
`TEST_DAYS` days; `sambung bench summary` posts the whole month.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.log import DocumentPosted, PostingFailed
from jobs import sync
from jobs.engine import DryRun, Poster
from jobs.summary import SummaryPoster
from jobs.summary import log_events as read_log
from projections.queries import format_summary, reconciliation, sync_history
from projections.runner import catch_up
from tests.engine_support import Stack, built_stack

JAKARTA = ZoneInfo("Asia/Jakarta")
TEST_DAYS = 3
START = date(2024, 5, 1)
BUSY_OUTLET = {
    "products": 60,
    "customers": 40,
    "days": TEST_DAYS,
    "transactions_per_day": 300,
    "start_date": START.isoformat(),
    "refund_rate": 0.02,
    "invoice_rate": 0.005,
    "deleted_products": 0,
}
CALLS_PER_DAY_GOAL = 15


@pytest.fixture
def busy(tmp_path, redis_url):
    with built_stack(
        {"SAMBUNG_DATA_DIR": str(tmp_path / "var")}, redis_url, outlet=BUSY_OUTLET
    ) as made:
        yield made


def log_events(stack: Stack, setting_id) -> list:
    return list(read_log(stack.container, setting_id))


def jurnal_calls(stack: Stack) -> int:
    with stack.jurnal_sandbox.lock:
        return sum(stack.jurnal_sandbox.requests.values())


def night_after(day: date) -> datetime:
    """The first moment of the next business day, when `day` has closed."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), JAKARTA) + timedelta(
        minutes=5
    )


def sync_until(stack: Stack, setting_id, now: datetime) -> dict:
    run = stack.container.log.request_run(setting_id, "transactions", "Otomatis").run_id
    return sync.run_transactions_sync(stack.container, setting_id, run, now=now)


def test_a_busy_month_posts_a_few_documents_a_day_and_every_day_equals_moka(busy):
    stack = busy
    setting_id = stack.synced_setting(posting_mode="daily_summary")
    last_day = START + timedelta(days=TEST_DAYS - 1)

    before = jurnal_calls(stack)
    counts = sync_until(stack, setting_id, night_after(last_day))
    calls = jurnal_calls(stack) - before

    failed = [
        e for e in log_events(stack, setting_id)
        if isinstance(e, PostingFailed)
    ]  # fmt: skip
    assert [(e.custom_id, e.message) for e in failed] == []
    assert counts["daily_summaries"] == {"synced": TEST_DAYS, "total": TEST_DAYS}
    assert calls / TEST_DAYS <= CALLS_PER_DAY_GOAL, f"{calls} Jurnal calls for {TEST_DAYS} days"
    assert stack.duplicates() == {}

    posted = [
        e for e in log_events(stack, setting_id)
        if isinstance(e, DocumentPosted) and "-day-" in e.custom_id
    ]  # fmt: skip
    per_day = Counter((e.amounts or {}).get("business_date") for e in posted)
    invoices = [e for e in posted if e.kind == "sales_invoice"]
    assert len(invoices) == TEST_DAYS  # one summary invoice a day
    assert all(n <= 13 for n in per_day.values()), per_day

    catch_up(stack.container)
    days = reconciliation(stack.container.views, setting_id, START, last_day)
    assert [d["date"] for d in days] == [
        (START + timedelta(days=i)).isoformat() for i in range(TEST_DAYS)
    ]
    for day in days:
        assert all(Decimal(v) == 0 for v in day["difference"].values()), day
        assert Decimal(day["moka"]["sales"]) > 0
        assert Decimal(day["moka"]["returns"]) > 0  # the generator refunds some sales each day
        assert day["sales_count"] == 0, day["sales"][:3]

    run = sync_history(stack.container.views, setting_id)[0]
    assert f"Ringkasan Harian: {TEST_DAYS} dari {TEST_DAYS} hari" in format_summary(run["summary"])


def test_a_refund_for_a_posted_day_corrects_that_day(busy):
    stack = busy
    setting_id = stack.synced_setting(posting_mode="daily_summary")
    last_day = START + timedelta(days=TEST_DAYS - 1)
    sync_until(stack, setting_id, night_after(last_day))
    catch_up(stack.container)
    day = reconciliation(stack.container.views, setting_id, last_day, last_day)[0]

    # A sale of the last day, refunded at the till that same day but uploaded only now.
    sale = _an_unrefunded_cash_sale(stack, last_day)
    refund_at = datetime.combine(last_day, datetime.min.time(), JAKARTA) + timedelta(hours=21)
    stack.moka.control(
        "POST", f"/payments/{sale['id']}/refunds", json={"created_at": refund_at.isoformat()}
    )
    before = dict(stack.jurnal_sandbox.requests)
    sync_until(stack, setting_id, night_after(last_day) + timedelta(hours=1))
    spent = {k: n - before.get(k, 0) for k, n in stack.jurnal_sandbox.requests.items()}
    calls = sum(spent.values())

    catch_up(stack.container)
    after = reconciliation(stack.container.views, setting_id, last_day, last_day)[0]
    refunded = Decimal(sale["total_collected"])
    assert Decimal(after["moka"]["returns"]) == Decimal(day["moka"]["returns"]) + refunded
    assert all(Decimal(v) == 0 for v in after["difference"].values()), after
    assert calls <= 8, spent
    corrections = [
        e.custom_id
        for e in log_events(stack, setting_id)
        if isinstance(e, DocumentPosted) and f"-day-{last_day.isoformat()}-2-" in e.custom_id
    ]
    assert any("-return-" in cid for cid in corrections), corrections
    assert stack.duplicates() == {}


def test_a_day_can_be_shown_before_it_is_posted(busy):
    stack = busy
    setting_id = stack.synced_setting(posting_mode="daily_summary")
    # Pull the first day in, but post nothing yet: the day has not closed.
    sync_until(stack, setting_id, night_after(START) - timedelta(minutes=6))
    poster = Poster(stack.container, setting_id, lock=None)
    sink = DryRun()
    SummaryPoster(poster).post_closed_days(
        night_after(START + timedelta(days=TEST_DAYS)), days={START}, dry_run=sink
    )
    shown = sink.documents
    kinds = Counter(doc["kind"] for doc in shown)
    assert kinds["sales_invoice"] == 1
    invoice = next(doc for doc in shown if doc["kind"] == "sales_invoice")
    assert invoice["day"] == START.isoformat()
    assert len(invoice["receipts"]) > 250
    assert all(d["day"] == START.isoformat() for d in shown)
    assert stack.jurnal_documents()  # the company exists...
    held = stack.held_by(invoice["custom_id"])
    assert held == 0  # ...and the dry run wrote nothing


def _an_unrefunded_cash_sale(stack: Stack, day: date) -> dict:
    with stack.moka.sandbox.lock:
        _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
        for payment in outlet.payments.values():
            made = datetime.fromisoformat(payment["created_at"]).astimezone(JAKARTA)
            if (
                made.date() == day
                and payment["payment_type"] == "cash"
                and not payment["payment_refunds"]
                and made.hour < 20
            ):
                return dict(payment)
    raise AssertionError("no cash sale to refund")


def test_a_day_that_failed_posts_on_replay_of_that_day(busy):
    stack = busy
    log = stack.container.log
    # A rounding account the company lacks: each day's balancing entry cannot be made.
    setting_id = stack.synced_setting(posting_mode="daily_summary", rounding_account="Tidak Ada")
    last_day = START + timedelta(days=TEST_DAYS - 1)
    counts = sync_until(stack, setting_id, night_after(last_day))
    assert counts["daily_summaries"] == {"synced": 0, "total": TEST_DAYS}
    failed = [e for e in log_events(stack, setting_id) if isinstance(e, PostingFailed)]
    assert {e.kind for e in failed} == {"journal_entry"}
    assert "Tidak Ada" in failed[0].message
    catch_up(stack.container)
    assert any(
        Decimal(v) != 0
        for v in reconciliation(stack.container.views, setting_id, START, START)[0][
            "difference"
        ].values()
    )

    log.update_setting(setting_id, {"rounding_account": None})
    from jobs import replay

    params = {"since": START.isoformat(), "until": START.isoformat(), "only_failed": True}
    shown = replay.dry_run(stack.container, setting_id, params)
    assert [(d["kind"], d["day"]) for d in shown] == [("journal_entry", START.isoformat())]
    run = log.request_run(setting_id, "replay", "Replay", params=params).run_id
    counts = replay.replay(str(setting_id), str(run))
    assert counts["daily_summaries"] == {"synced": 1, "total": 1}

    catch_up(stack.container)
    first, second = reconciliation(
        stack.container.views, setting_id, START, START + timedelta(days=1)
    )
    assert all(Decimal(v) == 0 for v in first["difference"].values()), first
    assert any(Decimal(v) != 0 for v in second["difference"].values())  # not replayed
