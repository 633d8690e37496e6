"""Webhook subscriptions and deliveries in the adopted format (reference §12.2): signed bodies
sent from a background thread, retried with backoff on anything but a 2xx, and on request
duplicated or reordered. Requests that change data only enqueue, so they return promptly."""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from domain.moka_webhooks import (
    EVENT_NAMES,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    sign_webhook_body,
)
from sandbox.moka.formats import WIB, iso_ms

# GoBiz-like: five attempts about four minutes apart.
DEFAULT_RETRY_DELAYS = (240.0, 240.0, 240.0, 240.0)


@dataclass
class Subscription:
    id: str
    url: str
    secret: str
    events: list[str]
    outlet_id: int | None

    def wants(self, event_name: str, outlet_id: int) -> bool:
        return event_name in self.events and self.outlet_id in (None, outlet_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "events": self.events,
            "outlet_id": self.outlet_id,
        }


@dataclass
class Delivery:
    subscription: Subscription
    event_id: str
    event_name: str
    body: bytes
    attempt: int = 1

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_webhook_body(self.body, self.subscription.secret),
            IDEMPOTENCY_HEADER: self.event_id,
        }


@dataclass
class WebhookPolicy:
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    timeout: float = 10.0
    # A reordered delivery waits this long for a later event to overtake it.
    reorder_hold: float = 1.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0


@dataclass
class _Held:
    delivery: Delivery
    until: float


@dataclass
class _Queue:
    heap: list[tuple[float, int, Delivery]] = field(default_factory=list)
    held: dict[str, _Held] = field(default_factory=dict)
    in_flight: int = 0


class WebhookDispatcher:
    """Subscriptions plus a delivery queue served by one daemon thread, started on first use."""

    def __init__(
        self,
        policy: WebhookPolicy | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(WIB),
    ) -> None:
        self.policy = policy or WebhookPolicy()
        self.rng = rng or random.Random()
        self.clock, self.now = clock, now
        self.subscriptions: dict[str, Subscription] = {}
        # The latest attempts, for tests and the control API (bounded for long benchmarks).
        self.attempts: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._queue = _Queue()
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(
        self,
        url: str,
        secret: str,
        events: Iterable[str] | None = None,
        outlet_id: int | None = None,
    ) -> Subscription:
        wanted = list(events) if events else list(EVENT_NAMES)
        unknown = [e for e in wanted if e not in EVENT_NAMES]
        if unknown:
            raise ValueError(f"unknown events: {', '.join(unknown)}")
        subscription = Subscription(str(uuid.uuid4()), url, secret, wanted, outlet_id)
        with self._wake:
            self.subscriptions[subscription.id] = subscription
        return subscription

    def unsubscribe(self, subscription_id: str) -> bool:
        with self._wake:
            return self.subscriptions.pop(subscription_id, None) is not None

    def reset(self) -> None:
        with self._wake:
            self.subscriptions.clear()
            self.attempts.clear()
            self._queue = _Queue()
            self._wake.notify_all()

    # -- publishing -------------------------------------------------------------------------

    def publish(
        self, event_name: str, outlet_id: int, body: dict[str, Any], *, delay: float = 0.0
    ) -> list[str]:
        """Queue one event for every subscription that wants it, to go out after `delay`
        seconds (a payment from an offline till); returns the event ids."""
        with self._wake:
            targets = [s for s in self.subscriptions.values() if s.wants(event_name, outlet_id)]
            if not targets:
                return []
            ids = []
            for subscription in targets:
                event_id = str(uuid.uuid4())
                envelope = {
                    "header": {
                        "event_id": event_id,
                        "event_name": event_name,
                        "timestamp": iso_ms(self.now()),
                        "outlet_id": str(outlet_id),
                        "version": 1,
                    },
                    "body": body,
                }
                raw = json.dumps(envelope, separators=(",", ":")).encode("utf-8")
                self._enqueue(Delivery(subscription, event_id, event_name, raw), delay)
                ids.append(event_id)
            self._ensure_thread()
            self._wake.notify_all()
            return ids

    def _enqueue(self, delivery: Delivery, delay: float = 0.0) -> None:
        now = self.clock() + delay
        key = delivery.subscription.id
        held = self._queue.held.pop(key, None)
        copies = [delivery]
        if self.rng.random() < self.policy.duplicate_rate:
            copies.append(
                Delivery(
                    delivery.subscription, delivery.event_id, delivery.event_name, delivery.body
                )
            )
        if held is not None:
            # The held event goes after this one: the receiver sees them out of order.
            copies.append(held.delivery)
        elif self.rng.random() < self.policy.reorder_rate:
            self._queue.held[key] = _Held(copies.pop(0), now + self.policy.reorder_hold)
        for copy in copies:
            self._push(copy, now)

    def _push(self, delivery: Delivery, due: float) -> None:
        heapq.heappush(self._queue.heap, (due, next(self._sequence), delivery))

    # -- waiting ----------------------------------------------------------------------------

    def pending(self) -> int:
        with self._wake:
            queue = self._queue
            return len(queue.heap) + len(queue.held) + queue.in_flight

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Release held events now, then wait until every delivery succeeded or gave up."""
        deadline = self.clock() + timeout
        with self._wake:
            for held in self._queue.held.values():
                self._push(held.delivery, self.clock())
            self._queue.held.clear()
            self._wake.notify_all()
            while self._queue.heap or self._queue.in_flight:
                remaining = deadline - self.clock()
                if remaining <= 0:
                    return False
                self._wake.wait(min(remaining, 0.05))
            return True

    # -- the delivery thread ----------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name="moka-webhooks", daemon=True)
            self._thread.start()

    def _next_due(self) -> Delivery | None:
        """Under the lock: the next delivery that is due, releasing held ones that waited long
        enough; waits on the condition until one is."""
        while True:
            now = self.clock()
            queue = self._queue
            for key, held in list(queue.held.items()):
                if held.until <= now:
                    self._push(queue.held.pop(key).delivery, now)
            if queue.heap and queue.heap[0][0] <= now:
                queue.in_flight += 1
                return heapq.heappop(queue.heap)[2]
            waits = [entry[0] for entry in queue.heap[:1]] + [h.until for h in queue.held.values()]
            self._wake.wait(max(0.0, min(waits) - now) if waits else 1.0)

    def _serve(self) -> None:
        while True:
            with self._wake:
                delivery = self._next_due()
                queue = self._queue
            outcome = self._send(delivery)
            with self._wake:
                if queue is self._queue:  # a reset meanwhile drops the old queue's work
                    self._record(delivery, outcome)
                    queue.in_flight -= 1
                    self._wake.notify_all()

    def _send(self, delivery: Delivery) -> int | str:
        try:
            response = self._session.post(
                delivery.subscription.url,
                data=delivery.body,
                headers=delivery.headers,
                timeout=self.policy.timeout,
            )
        except requests.RequestException as exc:
            return type(exc).__name__
        return response.status_code

    def _record(self, delivery: Delivery, outcome: int | str) -> None:
        ok = isinstance(outcome, int) and 200 <= outcome < 300
        self.attempts.append(
            {
                "event_id": delivery.event_id,
                "event_name": delivery.event_name,
                "subscription_id": delivery.subscription.id,
                "url": delivery.subscription.url,
                "attempt": delivery.attempt,
                "outcome": outcome,
                "delivered": ok,
            }
        )
        delays = self.policy.retry_delays
        if not ok and delivery.attempt <= len(delays):
            delivery.attempt += 1
            self._push(delivery, self.clock() + delays[delivery.attempt - 2])
