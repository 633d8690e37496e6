"""The posting job: project a setting's unposted log events into Jurnal, in order.

Enqueued by `infra.queues.wake_poster` after every append (webhooks, pulls) and by the
sweeper. Safe to run twice and on any number of workers: only the holder of the setting's lock
posts; a job that finds the lock taken leaves the work to the holder, which re-reads the log
before it lets go.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from infra import bootstrap, queues
from infra.bootstrap import Container
from jobs.engine import Blocked, Deferred, Poster
from jobs.setting_lock import LockLost, acquire

log = logging.getLogger(__name__)

RETRY_DELAYS = (5, 15, 60, 300)
BLOCKED_SECONDS = 300


def post_setting(setting_id: str, attempt: int = 0) -> int:
    """RQ job. Returns how many log events were processed."""
    container = bootstrap.current()
    return post_pending(container, UUID(setting_id), attempt=attempt)


def post_pending(container: Container, setting_id: UUID, *, attempt: int = 0) -> int:
    queues.clear_wake(container, setting_id)
    lock = acquire(container.redis, str(setting_id), ttl_ms=container.config.posting_lock_ttl_ms)
    if lock is None:
        # Another worker posts for this setting; it re-reads the log until it is empty, and
        # the sweeper catches anything appended as it lets go.
        return 0
    processed = 0
    try:
        while container.log.has_unprocessed(setting_id):
            processed += Poster(container, setting_id, lock).post_pending()
    except Deferred as reason:
        delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
        log.warning("posting for %s deferred %ss: %s", setting_id, delay, reason)
        container.queue(queues.POSTINGS).enqueue_in(
            timedelta(seconds=delay), queues.POST_SETTING, str(setting_id), attempt + 1
        )
    except Blocked as reason:
        # Retrying at once would only collect the same refusal; the sweeper tries again later.
        queues.hold_off(container, setting_id, BLOCKED_SECONDS)
        log.error("posting for %s blocked: %s", setting_id, reason)
    except LockLost as reason:
        log.error("posting for %s stopped: %s", setting_id, reason)
    finally:
        lock.release()
    return processed
