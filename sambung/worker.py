"""A Sambung worker process: an RQ worker on the queues, and the read-model projector.

The worker runs jobs in its own process (RQ's `SimpleWorker`) rather than forking one child per
job: jobs are short and many, the container's connections and the Jurnal clients' lookup caches
then live across jobs, and nothing is opened before a fork and shared after it. A projector
thread follows the log so that the read models stay current without any subscription (SQLite
has none).

A forking RQ worker keeps its job's heartbeat from the parent; a `SimpleWorker` cannot, so RQ
gives its job the whole job timeout (two hours for a sync) before it counts the job abandoned.
Here a thread keeps the heartbeat while the job runs: a worker killed mid-job (SIGKILL, a lost
machine) leaves a job that expires after three beats missed, and the workers' registry clean-up
hands it to RQ's `Retry`, so a sync run taken down with its worker runs again within a couple of
minutes instead of staying "running" for two hours and then failing.
"""

from __future__ import annotations

import contextlib
import threading

import redis
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus

from infra.bootstrap import Container
from infra.queues import QUEUE_NAMES
from projections import runner


class HeartbeatWorker(SimpleWorker):
    """`SimpleWorker` whose running job beats every `job_monitoring_interval` seconds, and
    which stops at once on SIGTERM."""

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        # The job lives while it beats: three missed beats and it is abandoned, whatever its
        # timeout (which RQ's death penalty still enforces).
        return 3 * int(self.job_monitoring_interval)

    def execute_job(self, job: Job, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.job_monitoring_interval):
                # Redis away for a moment: the job goes on; a later beat catches up.
                with contextlib.suppress(redis.RedisError, OSError):
                    self.maintain_heartbeats(job, execution)

        beating = threading.Thread(target=beat, name="rq-heartbeat", daemon=True)
        beating.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            stop.set()
            beating.join()
        self.set_state(WorkerStatus.IDLE)

    def unsubscribe(self) -> None:
        # RQ ends its command-channel listener by waiting for it to wake, which it does on a
        # message or after a minute, and UNSUBSCRIBE's reply could wake it before it was told
        # to end: a SIGTERM then took a minute to stop the worker. Told first, the listener
        # ends on that reply.
        if self.pubsub_thread is not None:
            self.pubsub_thread._running.clear()
        super().unsubscribe()


def run_worker(container: Container, *, burst: bool = False, name: str | None = None) -> None:
    stop = threading.Event()
    projector = threading.Thread(
        target=runner.run_forever, args=(container, stop), name="projector", daemon=True
    )
    projector.start()
    heartbeat = container.config.worker_heartbeat_seconds
    try:
        # Queue order is priority: postings first, so a long catch-up never delays webhooks.
        queues = [container.queue(name) for name in QUEUE_NAMES]
        worker = HeartbeatWorker(
            queues,
            connection=container.redis,
            name=name,
            job_monitoring_interval=heartbeat,
            # The clean-up that finds abandoned jobs runs this often (RQ's default: 10 min).
            maintenance_interval=max(2, 2 * heartbeat),
        )
        worker.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()
        projector.join(5)
        if burst:
            runner.catch_up(container)
