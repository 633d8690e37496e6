"""Taking in one Moka webhook delivery (reference §12.2): the use case behind
`POST /webhooks/moka`.

The order is the contract: bound the body's size while reading it, verify `X-Go-Signature`
over the raw bytes (before anything is parsed), parse JSON, validate the envelope, then append
the record to the log of every setting of `header.outlet_id` and wake those settings' posters.
Any refusal happens before the first append, so nothing is stored unless the answer is 202.

The append is committed together with the other webhooks the process is taking at the same time
(`infra.group_commit`): one durable commit, then one Redis round trip that wakes the posters and
counts the batch's deliveries and 202s, before any of them answers. A batch that fails answers
500 for each of its webhooks, and none of them is stored.

Routing: transaction events carry a v3 payment (for `moka.transaction.refunded`, the sale's
payment with the new refund nested in `payment_refunds[]`, so it is stored as that payment's
next revision); item events an item; customer events a customer. An outlet that no setting
takes is answered 202 and ignored (counted as `unrouted`): Moka has nowhere better to send it,
and refusing would only make it retry.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

import redis
from marshmallow import ValidationError
from redis.client import Pipeline
from werkzeug.exceptions import RequestEntityTooLarge

from domain.errors import MokaRecordInvalid
from domain.log import Source
from domain.moka_webhooks import WEBHOOK_EVENTS, verify_webhook_signature
from gateway.errors import ApiError, flatten_messages
from gateway.routing import schema_instance
from gateway.schemas import WebhookSchema
from infra import metrics, queues
from infra.bootstrap import Container
from infra.eventlog import Appended, EventLog
from infra.group_commit import Append, GroupCommit

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
ROUTE = "/webhooks/moka"
# An accepted delivery's labels in the request counter (`gateway.metrics`).
ACCEPTED_LABELS = {"route": ROUTE, "method": "POST", "status": 202}


class WebhookRejected(ApiError):
    """A refused delivery; `reason` is its label in the rejections metric."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        reason: str,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, code, message, fields)
        self.reason = reason


@dataclass(frozen=True)
class Intake:
    event_id: UUID
    outcome: str  # stored, duplicate, stale or unrouted
    settings: int
    stored: int
    # For the request's log line: what was received and where it went.
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def receive_webhook(
    container: Container,
    read: Callable[[int], bytes],
    content_length: int | None,
    signature: str | None,
) -> Intake:
    """Read, verify, validate and store one delivery; raise `WebhookRejected` otherwise."""
    try:
        raw = _read_bounded(read, content_length, container.config.webhook_max_bytes)
        if not verify_webhook_signature(raw, signature, container.config.moka_webhook_secret):
            raise WebhookRejected(
                401, "bad_signature", "X-Go-Signature is missing or wrong", "signature"
            )
        envelope = _load(raw)
        return _store(container, envelope)
    except WebhookRejected as rejected:
        counting = container.redis.pipeline(transaction=False)
        metrics.increment(counting, metrics.WEBHOOKS, {"outcome": "rejected"})
        metrics.increment(counting, metrics.WEBHOOK_REJECTIONS, {"reason": rejected.reason})
        counting.execute()
        log.warning(
            "webhook rejected",
            extra={"reason": rejected.reason, "status": rejected.status, "fields": rejected.fields},
        )
        raise


def _read_bounded(read: Callable[[int], bytes], content_length: int | None, limit: int) -> bytes:
    # Content-Length is checked first; a streamed (chunked) body is read no further than limit+1.
    too_large = WebhookRejected(
        413, "too_large", f"the body must be at most {limit} bytes", "too_large"
    )
    if content_length is not None and content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := read(min(_CHUNK, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise too_large
    except RequestEntityTooLarge:
        raise too_large from None
    return b"".join(chunks)


def _load(raw: bytes) -> dict:
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "not_json", "the body is not JSON", "not_json") from None
    try:
        loaded: dict = schema_instance(WebhookSchema).load(document)
    except ValidationError as error:
        fields = flatten_messages(error.messages)
        message = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
        raise WebhookRejected(422, "invalid", message, "schema", fields) from None
    return loaded


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _store(container: Container, envelope: dict) -> Intake:
    header, record = envelope["header"], envelope["body"]
    kind = WEBHOOK_EVENTS[header["event_name"]]
    try:
        # Committed together with the webhooks this process takes meanwhile; `_settle` has run
        # for the whole batch (posters woken, counted) before this returns.
        results = _appends(container).receive_for_outlet(
            header["outlet_id"], kind, record, Source.WEBHOOK
        )
    except MokaRecordInvalid as invalid:
        fields = {f"body.{name}": problem for name, problem in invalid.fields.items()}
        message = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
        raise WebhookRejected(422, "invalid", message, "schema", fields) from None
    stored = [r for r in results if r.stored]
    details = {
        "event_id": str(header["event_id"]),
        "event_name": header["event_name"],
        "outlet_id": header["outlet_id"],
        "moka_id": str(record.get("id") or record.get("uuid") or ""),
        "outcome": _outcome(results),
        "setting_ids": [str(r.setting_id) for r in results],
        "positions": [r.position for r in stored],
    }
    return Intake(header["event_id"], _outcome(results), len(results), len(stored), details)


# Each container's group commit, with the event log it was made for: a container opens its log
# again after a fork or a close, and a group serves one log. Only the container is a weak key.
_groups: weakref.WeakKeyDictionary[Container, tuple[EventLog, GroupCommit]] = (
    weakref.WeakKeyDictionary()
)
_groups_lock = threading.Lock()


def _appends(container: Container) -> GroupCommit:
    """The group commit of the webhooks this process takes."""
    event_log = container.log
    with _groups_lock:
        found = _groups.get(container)
        if found is None or found[0] is not event_log:
            after_commit = partial(_settle, weakref.ref(container))
            found = _groups[container] = (event_log, GroupCommit(event_log, after_commit))
        return found[1]


def _settle(container_ref: weakref.ref[Container], batch: Sequence[Append]) -> None:
    """After a batch's commit, before any of its requests is answered: wake the posters of the
    settings that took something and count the deliveries, in one round trip to Redis."""
    container = container_ref()
    assert container is not None, "a request is served by a live container"
    woken = list(dict.fromkeys(a.setting_id for r in batch for a in r.results or () if a.stored))
    outcomes = Counter(_outcome(r.results or []) for r in batch)

    def count(pipe: Pipeline) -> None:
        for outcome, deliveries in outcomes.items():
            label = "accepted" if outcome == "stored" else outcome
            metrics.increment(pipe, metrics.WEBHOOKS, {"outcome": label}, by=deliveries)
        # Each of these requests answers 202: counted here, the request tracking leaves them.
        metrics.increment(pipe, metrics.HTTP_REQUESTS, ACCEPTED_LABELS, by=len(batch))

    try:
        queues.wake_posters(container, woken, also=count)
    except redis.RedisError:
        # The events are in the log, the source of truth: answer 202 so that Moka does not resend
        # them. The sweeper finds unposted events, so a lost wake-up delays the posting but loses
        # nothing; only the counters are lost.
        log.warning(
            "webhook counter not updated and poster not woken: Redis is unreachable",
            extra={"setting_ids": [str(setting_id) for setting_id in woken]},
        )


def _outcome(results: list[Appended]) -> str:
    if not results:
        return "unrouted"
    if any(r.stored for r in results):
        return "stored"
    return "duplicate" if any(r.outcome == "duplicate" for r in results) else "stale"
