"""The install-wide cap on Moka requests in flight (jobs.moka_slots), on a real Redis and real
HTTP: never more than 3 outlets, never more than 4 requests for one outlet, across threads that
each hold their own connection, as workers on several machines would."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import redis as redis_lib
import requests
from flask import Flask, request

from jobs.moka_slots import MokaSlots, SlottedSession
from sandbox.serving import serve_in_thread


class InFlight:
    """Counts requests in progress per outlet and remembers the worst moment."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most_per_outlet = 0
        self.most_outlets = 0

    def enter(self, outlet: str) -> None:
        with self.lock:
            self.now[outlet] += 1
            self.most_per_outlet = max(self.most_per_outlet, self.now[outlet])
            self.most_outlets = max(self.most_outlets, sum(1 for n in self.now.values() if n))

    def leave(self, outlet: str) -> None:
        with self.lock:
            self.now[outlet] -= 1


def test_threads_on_separate_connections_never_exceed_3_outlets_or_4_requests_each(redis_url):
    seen = InFlight()

    def request_for(outlet: str) -> None:
        slots = MokaSlots(redis_lib.Redis.from_url(redis_url), wait_seconds=30)
        with slots.hold(outlet):
            seen.enter(outlet)
            time.sleep(0.02)
            seen.leave(outlet)

    outlets = [str(4520 + n % 6) for n in range(240)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(request_for, outlets))
    # The caps bind (so the test would see a breach) and are never passed.
    assert seen.most_per_outlet == 4
    assert seen.most_outlets == 3
    assert MokaSlots(redis_lib.Redis.from_url(redis_url)).in_flight() == {}


def test_a_slot_whose_holder_died_frees_itself_when_its_lease_ends(redis_url):
    connection = redis_lib.Redis.from_url(redis_url)
    slots = MokaSlots(connection, lease_seconds=0.3, wait_seconds=0.05)
    held = [slots.try_acquire("4522") for _ in range(4)]
    assert all(held) and slots.try_acquire("4522") is None
    assert slots.try_acquire("4523") and slots.try_acquire("4524")
    assert slots.try_acquire("4525") is None, "a fourth outlet waits"
    # Nobody releases (the workers died); the leases end and the slots come back.
    deadline = time.monotonic() + 5
    while slots.try_acquire("4525") is None:
        assert time.monotonic() < deadline, "the dead holders' slots never came back"
        time.sleep(0.05)


def test_a_request_that_finds_no_slot_in_time_fails_like_an_unanswered_one(redis_url):
    slots = MokaSlots(redis_lib.Redis.from_url(redis_url), wait_seconds=0.2, max_outlets=1)
    assert slots.try_acquire("4522")
    try:
        with slots.hold("4523"):
            raise AssertionError("got a slot the cap does not allow")
    except requests.ConnectionError as error:
        assert "no free Moka slot for outlet 4523" in str(error)


def test_slotted_sessions_keep_the_caps_on_real_http_requests(redis_url):
    seen = InFlight()
    app = Flask("moka-like")

    @app.get("/v3/outlets/<outlet>/reports/get_latest_transactions")
    def page(outlet: str):  # type: ignore[no-untyped-def]
        seen.enter(outlet)
        time.sleep(0.03)
        seen.leave(outlet)
        return {"data": {"payments": [], "completed": True}, "page": request.args.get("page")}

    server = serve_in_thread(app)
    try:

        def pages(outlet: str) -> int:
            session = SlottedSession(MokaSlots(redis_lib.Redis.from_url(redis_url)), outlet)
            url = f"{server.url}/v3/outlets/{outlet}/reports/get_latest_transactions"
            return sum(session.get(url, timeout=10).status_code == 200 for _ in range(6))

        outlets = [str(4520 + n % 5) for n in range(30)]
        with ThreadPoolExecutor(max_workers=30) as pool:
            assert sum(pool.map(pages, outlets)) == 180
    finally:
        server.stop()
    assert seen.most_per_outlet <= 4 and seen.most_outlets <= 3
    assert seen.most_per_outlet >= 2, "the requests never overlapped: the test proves nothing"
