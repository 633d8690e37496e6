"""Mekari API Gateway authentication, as the sandbox checks it (`reference/jurnal-api.md` §2).

HMAC: `Authorization: hmac username="ID", algorithm="hmac-sha256", headers="date request-line",
signature="B64"` over `date: <Date>\\n<METHOD> <raw path?query> HTTP/1.1`, keyed by the client
secret, with a `Date` no more than 300 s away from the sandbox clock. A `Digest` header is optional
and verified when present. A `Bearer` token registered for a company is the OAuth2 alternative.

Every failure answers `401 {"message":"Unauthorized"}` with `server: Mekari` (the gateway never
says why); tests read the reason from the sandbox-only `X-Sandbox-Auth-Reason` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import quote

ALLOWED_SKEW_SECONDS = 300

# The header grammar: four comma-separated key="value" pairs in this order.
_HMAC_HEADER = re.compile(
    r'^hmac\s+username="(?P<username>[\x20-\x21\x23-\x5b\x5d-\x7e]*)",\s*'
    r'algorithm="(?P<algorithm>[^"]*)",\s*'
    r'headers="(?P<headers>[^"]*)",\s*'
    r'signature="(?P<signature>[\x20-\x21\x23-\x5b\x5d-\x7e]*)"\s*$',
    re.IGNORECASE,
)


def signing_string(date: str, method: str, path_with_query: str) -> str:
    return f"date: {date}\n{method.upper()} {path_with_query} HTTP/1.1"


def signature(secret: str, date: str, method: str, path_with_query: str) -> str:
    message = signing_string(date, method, path_with_query).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def raw_request_target(environ: Mapping[str, object]) -> str:
    """The path and query exactly as the client sent them. `PATH_INFO` is already decoded, so
    prefer the raw URI that gunicorn and Werkzeug keep."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return raw
    path = quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")))
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class Credential:
    """Who a request authenticated as: the rate-limit key and the company it belongs to."""

    key: str
    company_id: int


class AuthFailure(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class HmacHeader:
    username: str
    algorithm: str
    headers: str
    signature: str


def parse_hmac_header(value: str) -> HmacHeader:
    match = _HMAC_HEADER.match(value.strip())
    if match is None:
        raise AuthFailure("malformed")
    header = HmacHeader(**match.groupdict())
    if header.algorithm.lower() != "hmac-sha256" or header.headers.lower() != "date request-line":
        raise AuthFailure("malformed")
    return header


def check_date(date_header: str | None, now: float) -> None:
    if not date_header:
        raise AuthFailure("missing-date")
    try:
        sent = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        raise AuthFailure("malformed-date") from None
    if abs(now - sent) > ALLOWED_SKEW_SECONDS:
        raise AuthFailure("stale-date")


def verify_hmac(header: HmacHeader, secret: str, *, date: str, method: str, target: str) -> None:
    expected = signature(secret, date, method, target)
    if not hmac.compare_digest(expected.encode(), header.signature.encode()):
        raise AuthFailure("bad-signature")


def verify_digest(digest_header: str | None, body: bytes) -> None:
    """Jurnal does not enforce `Digest`; when a client sends one it must match the body."""
    if digest_header and not hmac.compare_digest(digest_header.strip(), body_digest(body)):
        raise AuthFailure("bad-digest")
