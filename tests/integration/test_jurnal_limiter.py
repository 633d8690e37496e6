"""The shared rate limiter against a real Redis: a sliding log that never admits more than the
limit in any window, atomically across concurrent workers and across the credential's and the IP's
buckets, and waits (keeping its caller's lease alive) instead of failing."""

from __future__ import annotations

import threading

import pytest
import redis as redis_lib

from clients.jurnal.limiter import Bucket, SharedRateLimiter, Window
from tests.jurnal_support import FakeClock


@pytest.fixture
def redis_conn(redis_url: str):
    connection = redis_lib.Redis.from_url(redis_url)
    yield connection
    connection.close()


def limiter(redis_conn, clock: FakeClock, *windows: Window, key: str = "cred") -> SharedRateLimiter:
    return SharedRateLimiter(
        redis_conn, [Bucket(key, windows)], margin_seconds=0.5, clock=clock, sleep=clock.sleep
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
        SharedRateLimiter(redis_conn, [Bucket("k", (Window(0, 60),))])
    with pytest.raises(ValueError):
        SharedRateLimiter(redis_conn, [Bucket("k", ())])
    with pytest.raises(ValueError):
        SharedRateLimiter(redis_conn, [])


def two_buckets(redis_conn, clock: FakeClock, credential: str) -> SharedRateLimiter:
    """A credential's bucket (3 a 10 s window) and the install's IP bucket (4 a 10 s window)."""
    return SharedRateLimiter(
        redis_conn,
        [Bucket(credential, (Window(3, 10),)), Bucket("ip", (Window(4, 10),))],
        margin_seconds=0.5,
        clock=clock,
        sleep=clock.sleep,
    )


def test_two_credentials_share_the_ip_bucket(redis_conn):
    clock = FakeClock(now=300.0)
    first, second = two_buckets(redis_conn, clock, "a"), two_buckets(redis_conn, clock, "b")
    assert [first.try_acquire() for _ in range(3)] == [0, 0, 0]
    assert first.try_acquire() == pytest.approx(10.5)  # its own bucket is full
    assert second.try_acquire() == 0
    # The IP has carried four requests: the second credential waits although its own has room.
    assert second.try_acquire() == pytest.approx(10.5)
    assert redis_conn.zcard("sambung:jurnal:ratelimit:b:log") == 1


def test_a_slot_is_never_taken_in_one_bucket_while_waiting_on_the_other(redis_conn):
    clock = FakeClock(now=400.0)
    first, second = two_buckets(redis_conn, clock, "a"), two_buckets(redis_conn, clock, "b")
    for _ in range(3):
        first.try_acquire()
    second.try_acquire()
    for _ in range(5):
        assert first.try_acquire() > 0 and second.try_acquire() > 0
    assert redis_conn.zcard("sambung:jurnal:ratelimit:a:log") == 3
    assert redis_conn.zcard("sambung:jurnal:ratelimit:b:log") == 1
    assert redis_conn.zcard("sambung:jurnal:ratelimit:ip:log") == 4
    clock.advance(11)
    assert second.try_acquire() == 0
    assert redis_conn.zcard("sambung:jurnal:ratelimit:ip:log") == 1  # the old ones expired


def test_concurrent_credentials_never_take_more_than_the_ip_limit(redis_conn):
    clock = FakeClock(now=500.0)
    workers = [two_buckets(redis_conn, clock, f"cred-{n % 5}") for n in range(20)]
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
    assert len(admitted) == 4


def test_a_long_wait_is_slept_in_chunks_each_after_a_keep_alive(redis_conn):
    clock = FakeClock(now=600.0)
    shared = limiter(redis_conn, clock, Window(1, 60))
    assert shared.try_acquire() == 0
    kept_alive_at: list[float] = []
    waited = shared.acquire(lambda: kept_alive_at.append(clock.now), max_sleep=7.0)
    assert waited == pytest.approx(60.5)
    assert max(clock.slept) <= 7.0
    assert len(kept_alive_at) == len(clock.slept) >= 9
    assert kept_alive_at == pytest.approx([600.0 + sum(clock.slept[:i]) for i in range(9)])


def test_a_keep_alive_that_fails_ends_the_wait_and_takes_no_slot(redis_conn):
    clock = FakeClock(now=700.0)
    shared = limiter(redis_conn, clock, Window(1, 60))
    shared.try_acquire()
    calls = []

    def lost() -> None:
        calls.append(clock.now)
        if len(calls) == 3:
            raise RuntimeError("lease lost")

    with pytest.raises(RuntimeError, match="lease lost"):
        shared.acquire(lost, max_sleep=5.0)
    assert clock.now == pytest.approx(710.0)
    assert redis_conn.zcard("sambung:jurnal:ratelimit:cred:log") == 1


def test_jurnals_shape_scales_with_the_window_and_its_jitter_margin_too(redis_conn):
    clock = FakeClock(now=6000.0)
    shared = SharedRateLimiter.for_jurnal(
        redis_conn, credential="c", ip="ip", minute_seconds=12.0, clock=clock, sleep=clock.sleep
    )
    assert shared.margin == pytest.approx(0.2)
    credential, ip = shared.buckets
    assert credential.windows == (Window(30, 12.0), Window(1800, 720.0))
    assert ip.windows == (Window(40, 12.0), Window(2500, 720.0))
    assert [shared.try_acquire() for _ in range(30)] == [0] * 30
    assert shared.try_acquire() == pytest.approx(12.2)
    assert SharedRateLimiter.for_jurnal(redis_conn, credential="c", ip="ip").margin == 1.0
    # Real jitter does not shrink with the minute: a floor of 100 ms.
    one_second = SharedRateLimiter.for_jurnal(redis_conn, credential="c", ip="ip", minute_seconds=1)
    assert one_second.margin == pytest.approx(0.1)


def test_holding_off_one_bucket_leaves_the_others_free(redis_conn):
    clock = FakeClock(now=800.0)
    first, second = two_buckets(redis_conn, clock, "a"), two_buckets(redis_conn, clock, "b")
    first.hold_off(830.0, ["a"])
    assert first.try_acquire() == pytest.approx(30.0)
    assert second.try_acquire() == 0
    second.hold_off(840.0, ["ip"])
    assert first.try_acquire() == pytest.approx(40.0)
    assert second.try_acquire() == pytest.approx(40.0)
