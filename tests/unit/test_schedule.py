from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.schedule import due_run_date, latest_due_time

JAKARTA = ZoneInfo("Asia/Jakarta")
TEN_PM = time(22, 0)
CREATED = datetime(2026, 1, 1, tzinfo=JAKARTA)


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=JAKARTA)


def due(now, created=CREATED):
    return due_run_date(now, TEN_PM, "Asia/Jakarta", created)


def test_before_the_sync_time_the_latest_due_run_is_yesterdays():
    assert due(at(29, 21, 59)) == date(2026, 11, 28)


def test_the_run_is_due_at_the_sync_time_in_jakarta():
    assert due(at(29, 22, 0)) == date(2026, 11, 29)


def test_the_sync_time_is_read_in_the_merchants_timezone_not_utc():
    # 15:00 UTC is 22:00 in Jakarta.
    now = datetime(2026, 11, 29, 15, 0, tzinfo=ZoneInfo("UTC"))
    assert latest_due_time(now, TEN_PM, "Asia/Jakarta") == at(29, 22)


def test_a_run_missed_while_the_scheduler_was_down_is_still_due_later_the_same_day():
    assert due(at(29, 23, 45)) == date(2026, 11, 29)


def test_after_a_missed_night_only_the_latest_run_is_due():
    assert due(at(30, 8, 0)) == date(2026, 11, 29)


def test_a_new_setting_first_runs_at_its_next_sync_time():
    created = at(29, 9)
    assert due(at(29, 10), created) is None
    assert due(at(29, 22), created) == date(2026, 11, 29)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        latest_due_time(datetime(2026, 11, 29, 22), TEN_PM, "Asia/Jakarta")
