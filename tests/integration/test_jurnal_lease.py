"""The Jurnal client holding a setting's posting lease, in real time against the sandbox over
HTTP and a real Redis: the lease is proven after the budget is granted and right before each
request, it outlives budget waits many times longer than its time-to-live, and once another
worker holds the setting nothing more is sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis as redis_lib

from clients.jurnal import JurnalClient
from jobs.setting_lock import LockLost, SettingLock, lock_key, try_acquire
from sandbox.jurnal import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, JurnalSandbox, create_app
from sandbox.serving import RunningServer, serve_in_thread
from tests.engine_support import wait_until

MINUTE = 3.0  # Jurnal's minute, compressed; the lease lives a small part of it
LEASE_TTL_MS = 400


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[JurnalSandbox, RunningServer]]:
    sandbox = JurnalSandbox(rate_window_seconds=MINUTE)  # the documented limits
    server = serve_in_thread(create_app(sandbox))
    yield sandbox, server
    server.stop()


@pytest.fixture
def sandbox(served) -> JurnalSandbox:
    sandbox, _ = served
    sandbox.reset()
    return sandbox


@pytest.fixture
def redis_conn(redis_url: str):
    connection = redis_lib.Redis.from_url(redis_url)
    yield connection
    connection.close()


class Sleeps:
    """Real sleeps, each recorded."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(served, sandbox, redis_conn, sleeps) -> JurnalClient:
    _, server = served
    return JurnalClient.with_hmac(
        server.url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, redis_conn,
        rate_window_seconds=MINUTE, settle_seconds=0.05, sleep=sleeps,
    )  # fmt: skip


class WatchedLease:
    """A real setting lease that records when it was proven."""

    def __init__(self, lock: SettingLock) -> None:
        self.lock = lock
        self.proven_at: list[float] = []

    @property
    def renew_every(self) -> float:
        return self.lock.renew_every

    def ensure_held(self) -> None:
        self.proven_at.append(time.monotonic())
        self.lock.ensure_held()


def lease(redis_conn) -> SettingLock:
    lock = try_acquire(redis_conn, "setting-1", ttl_ms=LEASE_TTL_MS)
    assert lock is not None
    return lock


def spend_the_minute(client: JurnalClient, sandbox: JurnalSandbox) -> None:
    """Thirty calls: the credential's budget for this minute is gone."""
    for _ in range(30):
        client.catalog("tags", refresh=True)
    assert sandbox.requests == {"200": 30}


def steal(redis_conn, lock: SettingLock) -> SettingLock:
    """The lease lapsed (say the worker stalled) and another worker took the setting."""
    redis_conn.delete(lock_key(lock.setting_id))
    thief = try_acquire(redis_conn, lock.setting_id, ttl_ms=60_000)
    assert thief is not None
    return thief


def test_the_lease_outlives_a_budget_wait_many_times_its_time_to_live(
    client, sandbox, redis_conn, sleeps
):
    # The minute's budget is spent before the lease is taken: the thirty calls may take longer
    # than its time-to-live on a loaded machine, and nothing renews it before the write.
    spend_the_minute(client, sandbox)
    lock = lease(redis_conn)
    watched = WatchedLease(lock)
    holding = client.holding(watched)
    sleeps.taken.clear()
    started = time.monotonic()
    created = holding.create("customers", {"display_name": "Ahmad", "custom_id": "ahmad"})
    waited = time.monotonic() - started
    assert waited > 2 * LEASE_TTL_MS / 1000, "the budget made it wait past the lease's life"
    assert redis_conn.get(lock_key(lock.setting_id)).decode() == lock.token, "still ours"
    assert created["custom_id"] == "ahmad"
    assert sandbox.requests == {"200": 30, "201": 1}, "no 429: the budget matched Jurnal's"
    # Renewed through the wait, at least every third of its time-to-live, and once more after
    # the grant: the last proof came after the wait, right before the request.
    gaps = [b - a for a, b in zip([started, *watched.proven_at], watched.proven_at, strict=False)]
    assert max(gaps) < LEASE_TTL_MS / 1000
    # Proven at least once per `renew_every` slept, plus once after the grant. (Counted against
    # the time slept, not the time waited: on a loaded machine the proofs and budget checks
    # between the sleeps take time of their own.)
    assert sum(sleeps.taken) > 2 * LEASE_TTL_MS / 1000 and max(sleeps.taken) <= lock.renew_every
    assert (len(watched.proven_at) - 1) * lock.renew_every >= sum(sleeps.taken) - 1e-9
    assert watched.proven_at[-1] - started > waited - 0.2


def test_nothing_is_sent_once_another_worker_holds_the_setting(client, sandbox, redis_conn):
    lock = lease(redis_conn)
    holding = client.holding(lock)
    holding.create("customers", {"display_name": "Ahmad", "custom_id": "ahmad"})
    steal(redis_conn, lock)
    with pytest.raises(LockLost):
        holding.create("customers", {"display_name": "Budi", "custom_id": "budi"})
    with pytest.raises(LockLost):
        holding.catalog("customers", refresh=True)
    assert sandbox.requests == {"201": 1}, "neither the write nor the read went out"
    names = [c["display_name"] for c in client.catalog("customers", refresh=True)]
    assert "Budi" not in names and "Ahmad" in names


def test_a_lease_lost_during_the_budget_wait_stops_the_write_before_it_is_sent(
    client, sandbox, redis_conn
):
    # The minute's budget is spent before the lease is taken: the thirty calls may take longer
    # than its time-to-live on a loaded machine, and nothing renews it before the write.
    spend_the_minute(client, sandbox)
    lock = lease(redis_conn)
    watched = WatchedLease(lock)
    holding = client.holding(watched)
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            holding.create("customers", {"display_name": "Budi", "custom_id": "budi"})
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    wait_until(lambda: len(watched.proven_at) >= 2, what="the writer to wait for budget")
    steal(redis_conn, lock)
    writer.join(timeout=10)
    assert not writer.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], LockLost)
    assert sandbox.requests == {"200": 30}, "the write never reached Jurnal"
    assert client.find_by_custom_id("customers", "budi", fresh=True) is None


def test_a_client_without_a_lease_is_not_held_to_one(client, sandbox, redis_conn):
    lock = lease(redis_conn)
    holding = client.holding(lock)
    steal(redis_conn, lock)
    # The shared client is untouched by the view: other settings' posters keep posting.
    assert client.lease is None
    client.create("customers", {"display_name": "Citra", "custom_id": "citra"})
    with pytest.raises(LockLost):
        holding.company()
    assert sandbox.requests == {"201": 1}
