"""The posting job: project a setting's unposted log events into Jurnal, in order.

Enqueued by `infra.queues.wake_poster` after every append (webhooks, pulls) and by the
sweeper. Safe to run twice and on any number of workers: only the holder of the setting's lock
posts; a job that finds the lock taken leaves the work to the holder, which re-reads the log
before it lets go. A transient Jurnal failure raises `Deferred` out of the job, and RQ runs it
again after the waits of `infra.queues.POSTING_RETRY`.
"""

from __future__ import annotations

import logging
from uuid import UUID

from infra import bootstrap, queues
from infra.bootstrap import Container
from jobs.engine import Blocked, Deferred, Poster
from jobs.setting_lock import LockLost, acquire

log = logging.getLogger(__name__)

BLOCKED_SECONDS = 300


def post_setting(setting_id: str) -> int:
    """RQ job. Returns how many log events were processed."""
    container = bootstrap.current()
    return post_pending(container, UUID(setting_id))


def post_pending(container: Container, setting_id: UUID) -> int:
    """Raises `Deferred` when Jurnal could not take a document now, after saving the cursor up
    to the last finished event."""
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
        log.warning("posting for %s deferred, RQ retries it: %s", setting_id, reason)
        raise
    except Blocked as reason:
        # Retrying at once would only collect the same refusal; the sweeper tries again later.
        queues.hold_off(container, setting_id, BLOCKED_SECONDS)
        log.error("posting for %s blocked: %s", setting_id, reason)
    except LockLost as reason:
        log.error("posting for %s stopped: %s", setting_id, reason)
    finally:
        lock.release()
    return processed
