"""A Sambung worker process: an RQ worker on the queues, and the read-model projector.

The worker runs jobs in its own process (RQ's `SimpleWorker`) rather than forking one child per
job: jobs are short and many, the container's connections and the Jurnal clients' lookup caches
then live across jobs, and nothing is opened before a fork and shared after it. A projector
thread follows the log so that the read models stay current without any subscription (SQLite
has none).
"""

from __future__ import annotations

import threading

from rq import SimpleWorker

from infra.bootstrap import Container
from infra.queues import QUEUE_NAMES
from projections import runner


class _Worker(SimpleWorker):
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
    try:
        # Queue order is priority: postings first, so a long catch-up never delays webhooks.
        queues = [container.queue(name) for name in QUEUE_NAMES]
        worker = _Worker(queues, connection=container.redis, name=name)
        worker.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()
        projector.join(5)
        if burst:
            runner.catch_up(container)
