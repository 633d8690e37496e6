"""Reading the logs: one setting's log page by page (`read`), or every setting's log in global
order (`read_all`, for projections that poll from their own tracking position: SQLite has no
subscriptions). The global order is the store's notification id: it only grows, and with the
library's insert locking on PostgreSQL, commits in that order."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.utils import get_topic

from domain.log import LOG_EVENT_TYPES, LogEvent
from infra.eventstore.base import StoreBase
from infra.eventstore.results import GlobalEntry, GlobalPage
from infra.eventstore.streams import log_stream_id

MAX_PAGE = 10_000

_LOG_TOPICS = frozenset(get_topic(cls) for cls in LOG_EVENT_TYPES)


class Reading(StoreBase):
    # -- reading --------------------------------------------------------------------------------

    def read(self, setting_id: UUID, *, after: int = 0, limit: int = 100) -> list[LogEvent]:
        """Up to `limit` events of a setting's log with position > `after`, in order."""
        _check_page(after, limit)
        events = self.events.get(log_stream_id(setting_id), gt=after, limit=limit)
        return [e for e in events if isinstance(e, LogEvent)]

    def read_all(self, *, after: int = 0, limit: int = 1000) -> GlobalPage:
        """Log events of every setting with global position > `after`, in global order."""
        _check_page(after, limit)
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        entries = [
            GlobalEntry(n.id, self.mapper.to_domain_event(n))  # type: ignore[arg-type]
            for n in notifications
            if n.topic in _LOG_TOPICS
        ]
        last = notifications[-1].id if notifications else after
        return GlobalPage(entries, last)

    def last_global_position(self) -> int:
        """The newest global position in the store (0 when empty); a poller that has read up to
        here is caught up."""
        return self.recorder.max_notification_id() or 0


def _check_page(after: int, limit: int) -> None:
    if after < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"after must be >= 0 and limit between 1 and {MAX_PAGE}")
