"""The one place that names the queues and the job functions, and puts work on them.

Posting is the freshness path (webhooks); syncs pull and may take long; both run on any worker,
and workers listen to "postings" first, so a nightly catch-up never starves webhook freshness.
Jobs are enqueued by their dotted names, so nothing below the jobs imports them. Queue messages
are wake-up calls only: the work they point at is in the log first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from redis.client import Pipeline
from rq import Retry

if TYPE_CHECKING:
    from infra.bootstrap import Container

POSTINGS = "postings"
SYNCS = "sync"
DEFAULT = "default"
NOTIFICATIONS = "notifications"
QUEUE_NAMES = (POSTINGS, SYNCS, DEFAULT, NOTIFICATIONS)

POST_SETTING = "jobs.posting.post_setting"
SYNC_MASTER_DATA = "jobs.sync.sync_master_data"
SYNC_TRANSACTIONS = "jobs.sync.sync_transactions"
REPLAY = "jobs.replay.replay"
LIVE_PULL = "jobs.live_pull.live_pull"
SEND_EMAIL = "jobs.notifications.send_email"
SEND_DIGEST = "jobs.notifications.send_digest"
CALL_WEBHOOK = "jobs.notifications.call_webhook"
# The job that carries out each kind of run (`domain.log.RunKind`).
RUN_JOBS = {"master_data": SYNC_MASTER_DATA, "transactions": SYNC_TRANSACTIONS, "replay": REPLAY}

# Transient failures (Jurnal's 5xx, timeouts, 429) raise out of the job, and RQ runs it again
# after these waits (the workers' RQ scheduler does). A poster that runs out of retries is woken
# again by the sweeper; a sync run that does finishes with the reason.
POSTING_RETRY = Retry(max=12, interval=[5, 15, 60, 300])
SYNC_RETRY = Retry(max=6, interval=[5, 15, 30, 60, 120, 300])

POSTING_JOB_TIMEOUT = 30 * 60
SYNC_JOB_TIMEOUT = 2 * 60 * 60
FAILURE_TTL = 7 * 24 * 3600


def enqueue_run(container: Container, function: str, setting_id: UUID, run_id: UUID) -> None:
    """Queue the job of a run requested in the log; its job id is the run's, so a run is
    queued at most once at a time."""
    container.queue(SYNCS).enqueue(
        function,
        str(setting_id),
        str(run_id),
        job_id=run_job_id(run_id),
        job_timeout=SYNC_JOB_TIMEOUT,
        failure_ttl=FAILURE_TTL,
        retry=SYNC_RETRY,
    )


def run_job_id(run_id: UUID) -> str:
    return f"run-{run_id}"


def wake_poster(container: Container, setting_id: UUID) -> None:
    """Ask a worker to post the setting's unposted events. Cheap to call often: while one wake-up
    is already queued, further ones are coalesced."""
    wake_posters(container, [setting_id])


# Unless the setting is held off, take its wake-up slot: 1 when taken (enqueue a job), else 0.
_TAKE_WAKE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
if redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""


def wake_posters(
    container: Container,
    setting_ids: Iterable[UUID],
    also: Callable[[Pipeline], object] | None = None,
) -> None:
    """`wake_poster` for each setting in one round trip to Redis, with whatever `also` adds to
    the same pipeline (the webhook's counter): on the webhook path, round trips are most of
    Redis's cost. A job is enqueued only for the settings whose wake-up slot was free."""
    ids = list(setting_ids)
    pipe = container.redis.pipeline(transaction=False)
    for setting_id in ids:
        pipe.eval(_TAKE_WAKE, 2, _hold_key(setting_id), _wake_key(setting_id), 60)
    if also is not None:
        also(pipe)
    taken = pipe.execute()[: len(ids)]
    for setting_id, slot in zip(ids, taken, strict=True):
        if slot:
            container.queue(POSTINGS).enqueue(
                POST_SETTING,
                str(setting_id),
                job_timeout=POSTING_JOB_TIMEOUT,
                failure_ttl=FAILURE_TTL,
                retry=POSTING_RETRY,
            )


def clear_wake(container: Container, setting_id: UUID) -> None:
    """Called by the poster as it starts, so that events appended from now on wake it again."""
    container.redis.delete(_wake_key(setting_id))


def hold_off(container: Container, setting_id: UUID, seconds: int) -> None:
    """Stop waking the setting's poster for a while (it is blocked until a person acts)."""
    container.redis.set(_hold_key(setting_id), "1", ex=seconds)


def lift_hold(container: Container, setting_id: UUID) -> None:
    """A person acted (e.g. replaced the credential): wake the setting's poster again."""
    container.redis.delete(_hold_key(setting_id))


def _wake_key(setting_id: UUID) -> str:
    return f"sambung:wake:{setting_id}"


def _hold_key(setting_id: UUID) -> str:
    return f"sambung:hold:{setting_id}"
