"""The daily catch-up: each setting at its own time in Jakarta, a missed run once, never twice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from freezegun.api import FakeDate, FakeDatetime

from jobs import scheduler
from tests.engine_support import work

JAKARTA = ZoneInfo("Asia/Jakarta")


def runs_of(stack, setting_id):
    from domain.log import SyncRequested

    found, after = [], 0
    while events := stack.container.log.read(setting_id, after=after, limit=500):
        found += [e for e in events if isinstance(e, SyncRequested)]
        after = events[-1].position
    return found


@pytest.fixture
def clock(sqlite_stack):
    """freezegun, with its datetimes stored the way the log stores datetimes. Only settings are
    made under it: the scheduler's own clock is the `now` each tick is given."""
    types = sqlite_stack.container.log.mapper.transcoder.types
    types[FakeDatetime] = types[datetime]
    types[FakeDate] = types[date]
    return freeze_time


def synced_setting_created_at(stack, clock, created: datetime, **fields):
    from jobs import sync

    with clock(created, tick=True):
        setting_id = stack.create_setting(**fields)
    assert stack.container.log.get_setting(setting_id).created_on.astimezone(JAKARTA) >= created
    run = stack.container.log.request_run(setting_id, "master_data", "Manual").run_id
    sync.run_master_data_sync(stack.container, setting_id, run)
    return setting_id


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), JAKARTA)


def test_a_run_missed_at_22_00_runs_when_the_scheduler_is_back_and_only_once(sqlite_stack, clock):
    stack = sqlite_stack
    day = date(2026, 3, 10)
    setting_id = synced_setting_created_at(stack, clock, at(day, 10), sync_time=time(22, 0))
    assert scheduler.tick(stack.container, at(day, 21, 59)) == []
    # The scheduler was down at 22:00 and comes back at 23:30 the same evening.
    back = at(day, 23, 30)
    started = scheduler.tick(stack.container, back)
    assert started == [scheduler.scheduled_run_id(setting_id, day)]
    assert scheduler.tick(stack.container, back) == [], "never twice"
    work(stack.container)
    run = stack.container.log.get_run(started[0])
    assert run.method.value == "Otomatis"
    assert run.finished and run.counts["sales"]["synced"] > 0
    scheduled = [r for r in runs_of(stack, setting_id) if r.method == "Otomatis"]
    assert len(scheduled) == 1
    # The next evening is the next run's.
    assert scheduler.tick(stack.container, at(day + timedelta(days=1), 21, 59)) == []
    assert scheduler.tick(stack.container, at(day + timedelta(days=1), 22, 0)) == [
        scheduler.scheduled_run_id(setting_id, day + timedelta(days=1))
    ]


def test_each_setting_runs_at_its_own_time(sqlite_stack, clock):
    stack = sqlite_stack
    stack.container.log.set_quota(stack.company_id, 2)
    day = date(2026, 3, 11)
    early = synced_setting_created_at(stack, clock, at(day, 5), name="Pagi", sync_time=time(6, 0))
    late = synced_setting_created_at(
        stack, clock, at(day, 5, 1), name="Malam", sync_time=time(23, 0), outlet_id=stack.outlet_id
    )
    # 07:00: the 06:00 setting's run is due; the 23:00 setting's is not (last night's 23:00 was
    # before it existed)...
    assert scheduler.tick(stack.container, at(day, 7)) == [scheduler.scheduled_run_id(early, day)]
    assert scheduler.tick(stack.container, at(day, 22, 59)) == []
    # ...and it is, once the clock passes 23:00.
    assert scheduler.tick(stack.container, at(day, 23)) == [scheduler.scheduled_run_id(late, day)]
    assert scheduler.tick(stack.container, at(day, 23, 30)) == []


def test_losing_redis_loses_no_work_the_sweeper_requeues_runs_and_wakes_posters(sqlite_stack):
    from projections import runner
    from services import syncing

    stack = sqlite_stack
    setting_id = stack.synced_setting()
    run_id = syncing.request_transactions_sync(stack.container, setting_id)
    stack.container.redis.flushall()  # the queue and every wake-up call are gone
    runner.catch_up(stack.container)  # the read models know the run is unfinished
    work(stack.container)
    assert not stack.container.log.get_run(run_id).finished, "nothing left to run it"
    scheduler.tick(stack.container)
    work(stack.container)
    run = stack.container.log.get_run(run_id)
    assert run.finished and run.counts["sales"]["synced"] > 0
    scheduler.tick(stack.container)  # the run's own end is the last event left to sweep
    work(stack.container)
    assert not stack.container.log.has_unprocessed(setting_id)
    assert stack.duplicates() == {}


def test_a_run_whose_job_was_stopped_is_ended_as_failed_rather_than_left_open(sqlite_stack):
    from projections import runner
    from services import syncing

    stack = sqlite_stack
    setting_id = stack.synced_setting()
    run_id = syncing.request_transactions_sync(stack.container, setting_id)
    stack.container.queue("sync").fetch_job(f"run-{run_id}").cancel()  # as a crash or an operator
    runner.catch_up(stack.container)
    scheduler.tick(stack.container)
    run = stack.container.log.get_run(run_id)
    assert run.finished and run.status.value == "Gagal"
    assert "job failed" in run.error
