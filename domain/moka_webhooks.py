"""Moka's webhooks: which events there are and what each carries, and signing and verifying
them in the product's adopted format (reference §12.2): `X-Go-Signature` is the lowercase hex
HMAC-SHA256 of the raw body bytes, keyed by the subscription secret.

`WEBHOOK_EVENTS` is the one table of event names: the gateway's schema accepts its names, the
intake routes each to the log by its kind of record, and the sandbox publishes them. The sandbox
signs with `sign_webhook_body`; the gateway verifies with `verify_webhook_signature`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from domain.log import MokaKind

SIGNATURE_HEADER: Final = "X-Go-Signature"
IDEMPOTENCY_HEADER: Final = "X-Go-Idempotency-Key"

# Each event and the kind of record its body is. Transaction events carry a v3 payment (for
# `moka.transaction.refunded`, the sale's next revision), item events an item, customer events
# a customer.
WEBHOOK_EVENTS: Final[Mapping[str, MokaKind]] = MappingProxyType(
    {
        "moka.transaction.created": MokaKind.PAYMENT,
        "moka.transaction.updated": MokaKind.PAYMENT,
        "moka.transaction.refunded": MokaKind.PAYMENT,
        "moka.item.added": MokaKind.ITEM,
        "moka.item.updated": MokaKind.ITEM,
        "moka.item.deleted": MokaKind.ITEM,
        "moka.customer.added": MokaKind.CUSTOMER,
        "moka.customer.updated": MokaKind.CUSTOMER,
    }
)
EVENT_NAMES: Final = tuple(WEBHOOK_EVENTS)


def sign_webhook_body(raw_body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify_webhook_signature(raw_body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is the signature of exactly these bytes; never re-serialise first.

    Compares in constant time. A missing or empty header, or an empty secret, never verifies.
    """
    if not header or not secret:
        return False
    expected = sign_webhook_body(raw_body, secret).encode("ascii")
    # Bytes, because `compare_digest` refuses str with non-ASCII characters instead of failing.
    return hmac.compare_digest(expected, header.strip().lower().encode("utf-8"))
