"""When a daily-summary setting posts its day: at its close time the scheduler starts a
transactions run (besides the one at its sync time), once per day; a per-sale setting gets
none."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from jobs import scheduler, summary
from tests.integration.test_engine_schedule import (  # noqa: F401 (the clock fixture)
    JAKARTA,
    clock,
    synced_setting_created_at,
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), JAKARTA)


def test_a_day_is_posted_when_it_closes_and_at_the_sync_time(sqlite_stack, clock):  # noqa: F811
    stack = sqlite_stack
    stack.container.log.set_quota(stack.company_id, 2)
    day = date(2026, 3, 10)
    closing = synced_setting_created_at(
        stack, clock, at(day, 9), posting_mode="daily_summary", summary_close_time=time(21, 0),
        sync_time=time(23, 0),
    )  # fmt: skip
    per_sale = synced_setting_created_at(
        stack, clock, at(day, 9, 1), name="Per sale", summary_close_time=time(21, 0),
        sync_time=time(23, 0), outlet_id=stack.outlet_id,
    )  # fmt: skip
    assert scheduler.tick(stack.container, at(day, 20, 59)) == []
    assert scheduler.tick(stack.container, at(day, 21, 0)) == [summary.close_run_id(closing, day)]
    assert scheduler.tick(stack.container, at(day, 21, 30)) == [], "never twice"
    assert set(scheduler.tick(stack.container, at(day, 23, 0))) == {
        scheduler.scheduled_run_id(closing, day),
        scheduler.scheduled_run_id(per_sale, day),
    }
    run = stack.container.log.get_run(summary.close_run_id(closing, day))
    assert run.params == {"summary_close": day.isoformat()}
    assert scheduler.tick(stack.container, at(day + timedelta(days=1), 21, 0)) == [
        summary.close_run_id(closing, day + timedelta(days=1))
    ]
