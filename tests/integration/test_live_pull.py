"""The live pull (jobs.live_pull): with no webhook subscription, as on a real Moka account, a
sale reaches Jurnal within the pull interval plus a few seconds; it goes through the log and the
poster like a webhook, is deduped against webhooks, backs off when Moka fails, and shows in the
history as "Otomatis", one row per hour."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.log import Source
from domain.mapping import sale_invoice_custom_id
from domain.mapping.payments import payment_custom_id
from jobs import live_pull, scheduler, sync
from projections.queries import sync_history
from projections.runner import catch_up
from tests.engine_support import built_stack, gateway_for, wait_until, work, worker_processes

INTERVAL = 2


@pytest.fixture
def live_stack(tmp_path: Path, redis_url: str):
    """The engine stack on SQLite with a 2-second live pull and no webhook subscription."""
    env = {"SAMBUNG_DATA_DIR": str(tmp_path / "var"), "SAMBUNG_LIVE_PULL_SECONDS": str(INTERVAL)}
    with built_stack(env, redis_url) as made:
        yield made


def transactions_synced(stack) -> tuple:
    """A setting whose master data and first transactions sync are done (its checkpoint set)."""
    setting_id = stack.synced_setting()
    run = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    sync.run_transactions_sync(stack.container, setting_id, run)
    assert stack.container.log.transactions_checkpoint(setting_id) is not None
    return setting_id, stack.container.log.get_setting(setting_id)


def test_a_sale_made_in_moka_reaches_jurnal_within_the_interval_plus_ten_seconds(live_stack):
    stack = live_stack
    assert stack.moka.control("GET", "/subscriptions") == {"subscriptions": []}
    setting_id, setting = transactions_synced(stack)
    stop = threading.Event()
    ticking = threading.Thread(target=scheduler.run_forever, args=(stack.container, stop))
    with worker_processes(stack):
        ticking.start()
        try:
            # The worker is up once it has pulled the setting once.
            wait_until(
                lambda: live_pull.PullState.read(stack.container, setting_id).last_pulled_at,
                timeout=60,
                what="the first live pull",
            )
            sold = time.monotonic()
            sale = stack.sell(payment_type="cash")
            invoice = sale_invoice_custom_id({"id": sale}, setting)
            wait_until(
                lambda: (
                    stack.held_by(invoice) == 1
                    and stack.held_by(payment_custom_id(setting, sale)) == 1
                ),
                timeout=INTERVAL + 10,
                what="the sale's invoice and payment in Jurnal",
            )
            took = time.monotonic() - sold
        finally:
            stop.set()
            ticking.join(15)
    assert took < INTERVAL + 10
    assert stack.duplicates() == {}
    status = scheduler.live_pull_status(stack.container)[str(setting_id)]
    assert status["last_pulled_at"] is not None and status["failures"] == 0


def test_a_sale_pulled_and_also_delivered_by_webhook_is_one_invoice_either_way(live_stack):
    stack = live_stack
    setting_id, setting = transactions_synced(stack)
    with gateway_for(stack):
        webhook_first = stack.sell(payment_type="cash")
        stack.drain_webhooks()
    pulled = live_pull.pull(stack.container, setting_id)
    # The webhook stored the sale; the pull finds it again and the log refuses the copy.
    assert pulled["stored"] == 0 and pulled["received"] >= 1

    for subscription in stack.moka.control("GET", "/subscriptions")["subscriptions"]:
        stack.moka.control("DELETE", f"/subscriptions/{subscription['id']}")
    pull_first = stack.sell(payment_type="edc")  # no webhook now
    assert live_pull.pull(stack.container, setting_id)["stored"] == 1
    _, outlet = stack.moka.sandbox.outlet(int(stack.outlet_id))
    late = stack.container.log.receive_for_outlet(
        stack.outlet_id, "payment", outlet.payments[pull_first], Source.WEBHOOK
    )
    assert [a.outcome for a in late] == ["duplicate"]

    work(stack.container)
    for sale in (webhook_first, pull_first):
        assert stack.held_by(sale_invoice_custom_id({"id": sale}, setting)) == 1
        assert stack.held_by(payment_custom_id(setting, sale)) == 1
    assert stack.duplicates() == {}
    catch_up(stack.container)
    rows = {row["method"]: row for row in sync_history(stack.container.views, setting_id)[:2]}
    assert rows["Webhook"]["summary"]["sales"] == {"synced": 1, "total": 1}
    assert rows["Otomatis"]["kind"] == "live_pull"
    assert rows["Otomatis"]["summary"]["sales"] == {"synced": 1, "total": 1}


def test_metrics_show_when_each_setting_was_last_pulled(live_stack):
    from gateway.app import create_app

    stack = live_stack
    setting_id, _ = transactions_synced(stack)
    stack.container.log.set_quota(stack.company_id, 2)
    other = stack.synced_setting(name="Belum ditarik")  # never pulled: no timestamp yet
    client = create_app(container=stack.container).test_client()
    before = datetime.now(UTC).timestamp()
    live_pull.pull(stack.container, setting_id)
    text = client.get("/metrics").get_data(as_text=True)
    series = f'sambung_live_pull_last_success_timestamp_seconds{{setting_id="{setting_id}"}} '
    [line] = [row for row in text.splitlines() if row.startswith(series)]
    assert before <= float(line.split()[-1]) <= datetime.now(UTC).timestamp()
    assert f'setting_id="{other}"}} ' not in "".join(
        row for row in text.splitlines() if row.startswith("sambung_live_pull_last_success")
    )
    assert f'sambung_live_pull_failures{{setting_id="{setting_id}"}} 0' in text


@pytest.mark.parametrize(
    ("fault", "pauses_install"), [("error_rate", False), ("rate_limit_rate", True)]
)
def test_moka_failing_backs_the_live_pull_off_until_it_answers(live_stack, fault, pauses_install):
    stack = live_stack
    setting_id, setting = transactions_synced(stack)
    sale = stack.sell(payment_type="cash")
    stack.moka.control("POST", "/faults", json={fault: 1.0})

    head = stack.container.log.head(setting_id)
    started = datetime.now(UTC)
    result = live_pull.pull(stack.container, setting_id)
    finished = datetime.now(UTC)
    state = live_pull.PullState.read(stack.container, setting_id)
    assert result["failures"] == 1 and state.failures == 1
    assert state.last_error and state.last_pulled_at is None
    # The next pull waits twice the interval after the failure, then four times.
    backoff = timedelta(seconds=2 * INTERVAL)
    assert started + backoff <= state.next_due <= finished + backoff
    just_before = state.next_due - timedelta(milliseconds=1)
    assert not live_pull.request_if_due(stack.container, setting, just_before)
    paused = stack.container.redis.pttl(live_pull.PAUSE_KEY)
    assert (0 < paused <= backoff.total_seconds() * 1000) is pauses_install
    live_pull.pull(stack.container, setting_id)
    later = live_pull.PullState.read(stack.container, setting_id)
    assert later.failures == 2 and later.next_due - state.next_due >= backoff
    assert stack.container.log.head(setting_id) == head, "a failed pull appends nothing"

    stack.moka.control("POST", "/faults", json={fault: 0.0})
    stack.container.redis.delete(live_pull.PAUSE_KEY)  # rather than wait out its 8 s
    just_before = later.next_due - timedelta(milliseconds=1)
    assert not live_pull.request_if_due(stack.container, setting, just_before)
    assert live_pull.request_if_due(stack.container, setting, later.next_due)
    work(stack.container)
    assert live_pull.PullState.read(stack.container, setting_id).failures == 0
    assert stack.held_by(sale_invoice_custom_id({"id": sale}, setting)) == 1


def test_no_live_pull_before_the_first_transactions_sync_nor_when_turned_off(
    live_stack, tmp_path, redis_url
):
    stack = live_stack
    setting_id = stack.synced_setting()
    setting = stack.container.log.get_setting(setting_id)
    now = datetime.now(UTC)
    assert not live_pull.request_if_due(stack.container, setting, now), "a run backfills first"
    run = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    sync.run_transactions_sync(stack.container, setting_id, run)
    assert live_pull.request_if_due(stack.container, setting, now)
    assert not live_pull.request_if_due(stack.container, setting, now), "one queued at a time"

    manual = stack.container.log.update_setting(setting_id, {"auto_sync": False})
    stack.container.redis.flushall()
    assert not live_pull.request_if_due(stack.container, manual, now)
    off = stack.container.config.with_changes(live_pull_seconds=0)
    stack.container.config = off
    assert not live_pull.request_if_due(stack.container, setting, now)
