"""Waking posters in one round trip: a held-off setting is not woken, a queued wake-up coalesces
further ones, and the commands added alongside run in the same pipeline."""

from uuid import uuid4

from infra import metrics
from infra import queues as dispatch


def queued(container):
    return [job.args[0] for job in container.queue(dispatch.POSTINGS).get_jobs()]


def test_each_free_setting_gets_one_job_and_the_counter_rides_along(gateway_container):
    free, held, again = uuid4(), uuid4(), uuid4()
    dispatch.hold_off(gateway_container, held, 60)
    dispatch.wake_poster(gateway_container, again)
    dispatch.wake_posters(
        gateway_container,
        [free, held, again],
        also=lambda pipe: metrics.increment(pipe, metrics.WEBHOOKS, {"outcome": "accepted"}),
    )
    assert sorted(queued(gateway_container)) == sorted([str(again), str(free)])
    counted = gateway_container.redis.hgetall(metrics.KEY_PREFIX + metrics.WEBHOOKS)
    assert list(counted.values()) == [b"1"]


def test_a_cleared_wake_up_wakes_again(gateway_container):
    setting = uuid4()
    dispatch.wake_poster(gateway_container, setting)
    dispatch.wake_poster(gateway_container, setting)
    assert queued(gateway_container) == [str(setting)]
    dispatch.clear_wake(gateway_container, setting)
    dispatch.wake_poster(gateway_container, setting)
    assert queued(gateway_container) == [str(setting), str(setting)]
