"""Jobs a dead worker left behind, handed back to RQ by the scheduler's tick.

- A job whose worker stopped beating (`sambung.worker`: killed, machine lost) is abandoned:
  RQ's registry clean-up retries it under its `Retry`, or fails it. The workers run that
  clean-up too, but only between jobs and at their maintenance interval, and an idle worker
  blocks on its queues for minutes.
- A retry waits in RQ's scheduled registry until the RQ scheduler (a child of one worker, holding
  a lock per queue) moves it to its queue. When that worker is killed, its locks outlive it by a
  minute and the other workers only try to take them every two minutes, so retries would wait
  up to three. Here every due retry is moved as well; whoever removes it from the registry
  enqueues it, and if RQ's scheduler moved the same one a moment before, the job runs twice,
  which every job is safe to do.
"""

from __future__ import annotations

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.utils import current_timestamp

from infra.bootstrap import Container
from infra.queues import QUEUE_NAMES


def rescue(container: Container) -> None:
    for name in QUEUE_NAMES:
        queue = container.queue(name)
        StartedJobRegistry(queue=queue).cleanup()
        scheduled = ScheduledJobRegistry(queue=queue)
        for job_id in scheduled.get_jobs_to_schedule(current_timestamp()):
            if not scheduled.remove(job_id):
                continue  # RQ's scheduler took it
            try:
                job = Job.fetch(job_id, connection=container.redis)
            except NoSuchJobError:
                continue  # expired meanwhile: nothing to run
            queue.enqueue_job(job)
