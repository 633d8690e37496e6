import time

import pytest
import redis

from jobs.setting_lock import LockLost, acquire, try_acquire
from tests.waiting import wait_until


@pytest.fixture
def connection(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_only_one_worker_holds_a_setting_at_a_time(connection):
    first = try_acquire(connection, "s1")
    assert first is not None
    assert try_acquire(connection, "s1") is None
    assert try_acquire(connection, "s2") is not None, "other settings are independent"
    first.release()
    assert try_acquire(connection, "s1") is not None


def test_a_stalled_worker_whose_lease_expired_cannot_post(connection):
    stalled = try_acquire(connection, "s1", ttl_ms=100)
    successor = wait_until(
        lambda: try_acquire(connection, "s1", ttl_ms=10_000), 5, "the stalled lease to lapse"
    )
    assert successor.fencing_token > stalled.fencing_token
    with pytest.raises(LockLost):
        stalled.ensure_held()
    stalled.release()  # must not free the successor's lease
    successor.ensure_held()


def test_waiting_for_the_lock_gets_it_once_the_holder_releases(connection):
    holder = try_acquire(connection, "s1", ttl_ms=300)
    started = time.monotonic()
    waiter = acquire(connection, "s1", wait_seconds=2.0)
    assert waiter is not None
    assert time.monotonic() - started >= 0.2, "it waited for the lease to lapse"
    assert holder.fencing_token < waiter.fencing_token


def test_a_wait_many_times_the_lease_keeps_it_and_a_taken_lease_ends_the_wait(connection):
    holder = try_acquire(connection, "s1", ttl_ms=300)
    started = time.monotonic()
    holder.wait(1.2)  # four times the lease's life
    assert time.monotonic() - started >= 1.2
    assert try_acquire(connection, "s1") is None, "nobody could take it meanwhile"
    holder.ensure_held()

    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:  # the lease lapses and another worker takes the setting
            connection.delete("sambung:lock:setting:s1")
            assert try_acquire(connection, "s1") is not None

    with pytest.raises(LockLost):
        holder.wait(60.0, sleep=nap)
    assert naps == [pytest.approx(0.1)] * 2, "in chunks of a third of the lease, stopped at once"
