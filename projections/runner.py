"""The projection runner: brings every read model up to the end of the log, by polling.

SQLite has no subscriptions, so the views follow the log from their own tracking position: read
a page of the global log after it, then, in one transaction of the views' database, claim the
tracking row, apply the page to every view and move the position. A crash anywhere rolls the
whole page back, so each event counts exactly once. Several runners (one per worker process)
may run at once: a runner that finds the position moved since it read its page applies nothing
and reads again from the new position.

Each `sambung worker` runs `run_forever` in a thread; `catch_up` serves commands and tests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from infra.bootstrap import Container
from infra.eventlog import EventLog
from infra.readmodels import ViewStore
from projections.history import History
from projections.open_errors import OpenErrors
from projections.overview import Overview
from projections.reconciliation import Reconciliation
from projections.view import Context, View

logger = logging.getLogger(__name__)

VIEWS: tuple[View, ...] = (History(), OpenErrors(), Overview(), Reconciliation())
# Notifications per transaction: large enough to amortise a commit, small enough that the
# SQLite write lock is never held for long while webhooks append.
BATCH = 500
ERROR_BACKOFF = 5.0

Progress = Callable[[int, int], None]


class Projector:
    def __init__(
        self,
        store: ViewStore,
        log: EventLog,
        timezone: ZoneInfo,
        views: Sequence[View] = VIEWS,
    ) -> None:
        self.store = store
        self.log = log
        self.context = Context(timezone)
        self.views = tuple(views)

    def step(self, limit: int = BATCH) -> int | None:
        """Apply the next page of the log: how many log events it held, 0 when another runner
        got there first, None when the views are at the end of the log."""
        position = self.store.position()
        page = self.log.read_all(after=position, limit=limit)
        if page.last_position == position:
            return None
        with self.store.writing() as db:
            if not self.store.claim(db, position):
                return 0
            for entry in page.entries:
                for view in self.views:
                    if isinstance(entry.event, view.events):
                        view.apply(db, entry, self.context)
            self.store.advance(db, page.last_position)
        return len(page.entries)

    def catch_up(self, limit: int = BATCH, progress: Progress | None = None) -> int:
        """Apply everything up to the end of the log; return how many log events this runner
        applied. `progress(position, end)` is told after each page."""
        applied = 0
        while (count := self.step(limit)) is not None:
            applied += count
            if progress is not None:
                progress(self.store.position(), self.log.last_global_position())
        return applied


def projector(container: Container, views: Sequence[View] = VIEWS) -> Projector:
    return Projector(container.views, container.log, ZoneInfo(container.config.timezone), views)


def catch_up(container: Container, limit: int = BATCH) -> int:
    """Apply all new log events to the views, `limit` per transaction; return how many."""
    return projector(container).catch_up(limit)


def run_forever(container: Container, stop: threading.Event, interval: float = 0.25) -> None:
    """Keep the views current until `stop` is set: catch up, then poll every `interval`
    seconds. Errors are logged and retried after a pause, so the thread outlives a database
    restart."""
    runner = projector(container)
    while not stop.is_set():
        try:
            runner.catch_up()
        except Exception:
            logger.exception("projections: catching up failed; retrying in %ss", ERROR_BACKOFF)
            stop.wait(ERROR_BACKOFF)
            continue
        stop.wait(interval)


def rebuild(container: Container, progress: Progress | None = None) -> int:
    """Drop every view and rebuild it from the whole log; return how many log events."""
    container.views.reset()
    return projector(container).catch_up(progress=progress)
