"""Signing and verifying Moka webhooks in the product's adopted format (reference §12.2):
`X-Go-Signature` is the lowercase hex HMAC-SHA256 of the raw body bytes, keyed by the
subscription secret. The sandbox signs with it; the gateway verifies with it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

SIGNATURE_HEADER: Final = "X-Go-Signature"
IDEMPOTENCY_HEADER: Final = "X-Go-Idempotency-Key"


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
