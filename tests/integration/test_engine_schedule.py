"""The daily catch-up: each setting at its own time in Jakarta, a missed run once, never twice."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

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


def test_a_run_missed_at_22_00_runs_when_the_scheduler_is_back_and_only_once(sqlite_stack):
    stack = sqlite_stack
    setting_id = stack.synced_setting(sync_time=time(22, 0))
    created = stack.container.log.get_setting(setting_id).created_on.astimezone(JAKARTA)
    day = created.date()
    before_due = datetime.combine(day, time(21, 59), JAKARTA)
    if before_due > created:
        assert scheduler.tick(stack.container, before_due) == []
    # The scheduler was down at 22:00 and comes back at 23:30 the same evening.
    back = datetime.combine(day, time(23, 30), JAKARTA)
    started = scheduler.tick(stack.container, back)
    assert len(started) == 1
    assert scheduler.tick(stack.container, back) == [], "never twice"
    work(stack.container)
    run = stack.container.log.get_run(started[0])
    assert run.method.value == "Otomatis"
    assert run.finished and run.counts["sales"]["synced"] > 0
    scheduled = [r for r in runs_of(stack, setting_id) if r.method == "Otomatis"]
    assert len(scheduled) == 1


def test_each_setting_runs_at_its_own_time(sqlite_stack):
    stack = sqlite_stack
    stack.container.log.set_quota(stack.company_id, 2)
    early = stack.synced_setting(name="Pagi", sync_time=time(6, 0))
    late = stack.synced_setting(name="Malam", sync_time=time(23, 0), outlet_id=stack.outlet_id)
    created = stack.container.log.get_setting(late).created_on.astimezone(JAKARTA)
    next_day = created.date().toordinal() + 1
    morning = datetime.combine(datetime.fromordinal(next_day).date(), time(7, 0), JAKARTA)
    started = scheduler.tick(stack.container, morning)
    # 07:00: the 06:00 setting's run is due; the 23:00 setting's was due last night only if
    # the setting existed then.
    assert scheduler.scheduled_run_id(early, morning.date()) in started
    assert all(stack.container.log.get_run(r).setting_id in (early, late) for r in started)
    assert scheduler.scheduled_run_id(late, morning.date()) not in started


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
