"""When a setting's automatic daily sync is due.

Each setting syncs once a day at its own time in the merchant's timezone (default 22:00,
Asia/Jakarta). A run is identified by the calendar date of the due time it serves; the scheduler
derives the run's id from that date, so the store refuses to start it twice. A run missed while
the scheduler was down is due as soon as it comes back; only the most recent missed one runs,
because the catch-up pull covers everything since the last successful sync anyway.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def latest_due_time(now: datetime, sync_time: time, timezone: str) -> datetime:
    """The most recent moment, at or before `now`, at which the daily sync was due."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(ZoneInfo(timezone))
    today_due = datetime.combine(local_now.date(), sync_time, tzinfo=local_now.tzinfo)
    if today_due <= local_now:
        return today_due
    return today_due - timedelta(days=1)


def due_run_date(
    now: datetime, sync_time: time, timezone: str, created_at: datetime
) -> date | None:
    """The date of the latest daily run due by `now`, or None when none has been due yet.

    A due time before the setting existed does not count: a new setting first runs at its next
    sync time.
    """
    due = latest_due_time(now, sync_time, timezone)
    return None if due < created_at else due.date()
