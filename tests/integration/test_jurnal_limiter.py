"""The shared rate limiter against a real Redis: a sliding log that never admits more than the
limit in any window, atomically across concurrent workers, and waits instead of failing."""

from __future__ import annotations

import threading

import pytest
import redis as redis_lib

from clients.jurnal.limiter import SharedRateLimiter, Window
from tests.jurnal_support import FakeClock


@pytest.fixture
def redis_conn(redis_url: str):
    connection = redis_lib.Redis.from_url(redis_url)
    yield connection
    connection.close()


def limiter(redis_conn, clock: FakeClock, *windows: Window, key: str = "cred") -> SharedRateLimiter:
    return SharedRateLimiter(
        redis_conn, key, windows=windows, margin_seconds=0.5, clock=clock, sleep=clock.sleep
    )


def test_it_admits_the_limit_then_says_how_long_until_the_oldest_slot_frees(redis_conn):
    clock = FakeClock(now=1000.0)
    shared = limiter(redis_conn, clock, Window(3, 10))
    for _ in range(3):
        assert shared.try_acquire() == 0
        clock.advance(1)
    # sent at 1000, 1001, 1002; the first leaves the 10.5 s window at 1010.5
    assert shared.try_acquire() == pytest.approx(7.5)
    assert shared.acquire() == pytest.approx(7.5)
    assert clock.now == pytest.approx(1010.5)
    assert shared.try_acquire() == pytest.approx(1.0)  # next frees at 1011.5


def test_every_window_must_have_room(redis_conn):
    clock = FakeClock(now=5000.0)
    shared = limiter(redis_conn, clock, Window(2, 1), Window(3, 100))
    waits = []
    for _ in range(4):
        waits.append(shared.acquire())
    assert waits[:2] == [0, 0]
    assert waits[2] == pytest.approx(1.5)  # the short window, at 5001.5
    assert waits[3] == pytest.approx(99.0)  # the long window: 5000 + 100.5
    assert clock.now == pytest.approx(5100.5)


def test_workers_with_the_same_key_share_one_budget_and_other_keys_do_not(redis_conn):
    clock = FakeClock(now=0.0)
    first = limiter(redis_conn, clock, Window(2, 60))
    second = limiter(redis_conn, clock, Window(2, 60))
    other = limiter(redis_conn, clock, Window(2, 60), key="another-credential")
    assert first.try_acquire() == 0
    assert second.try_acquire() == 0
    assert first.try_acquire() > 0 and second.try_acquire() > 0
    assert other.try_acquire() == 0


def test_concurrent_workers_never_take_more_than_the_limit(redis_conn):
    clock = FakeClock(now=100.0)
    limit = 5
    workers = [limiter(redis_conn, clock, Window(limit, 60)) for _ in range(20)]
    start = threading.Barrier(len(workers))
    admitted = []

    def race(worker: SharedRateLimiter) -> None:
        start.wait()
        if worker.try_acquire() == 0:
            admitted.append(worker)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == limit


def test_hold_off_makes_everyone_wait_and_only_moves_forward(redis_conn):
    clock = FakeClock(now=200.0)
    shared = limiter(redis_conn, clock, Window(100, 60))
    shared.hold_off(261.0)
    shared.hold_off(230.0)  # an earlier hold does not shorten the later one
    assert limiter(redis_conn, clock, Window(100, 60)).try_acquire() == pytest.approx(61.0)
    assert shared.acquire() == pytest.approx(61.0)
    assert shared.try_acquire() == 0


def test_nonsense_limits_are_refused(redis_conn):
    with pytest.raises(ValueError):
        SharedRateLimiter(redis_conn, "k", windows=[Window(0, 60)])
    with pytest.raises(ValueError):
        SharedRateLimiter(redis_conn, "k", windows=[])
