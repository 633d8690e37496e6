"""Mekari API Gateway request signing (`reference/jurnal-api.md` §2.1), as `requests` auth hooks.

Each attempt is signed afresh — a replayed `Date` goes stale after 300 s — over the exact encoded
path and query the request is sent with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from email.utils import formatdate

from requests import PreparedRequest
from requests.auth import AuthBase


def signing_string(date: str, method: str, path_with_query: str) -> str:
    return f"date: {date}\n{method.upper()} {path_with_query} HTTP/1.1"


def sign(secret: str, date: str, method: str, path_with_query: str) -> str:
    """base64(HMAC-SHA256(client secret, signing string))."""
    message = signing_string(date, method, path_with_query).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def authorization_header(client_id: str, signature: str) -> str:
    return (
        f'hmac username="{client_id}", algorithm="hmac-sha256", '
        f'headers="date request-line", signature="{signature}"'
    )


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


class HmacAuth(AuthBase):
    """Signs every prepared request with the credential's client id and secret."""

    def __init__(
        self, client_id: str, client_secret: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock

    @property
    def rate_limit_key(self) -> str:
        return f"client:{self.client_id}"

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        date = formatdate(self.clock(), usegmt=True)
        signature = sign(self.client_secret, date, request.method or "GET", request.path_url)
        request.headers["Date"] = date
        request.headers["Authorization"] = authorization_header(self.client_id, signature)
        if request.body:
            body = request.body if isinstance(request.body, bytes) else request.body.encode()
            request.headers["Digest"] = body_digest(body)
        return request


class BearerAuth(AuthBase):
    """The OAuth2 alternative: an access token from account.mekari.com."""

    def __init__(self, token: str) -> None:
        self.token = token

    @property
    def rate_limit_key(self) -> str:
        # The token itself stays out of Redis keys.
        return "token:" + hashlib.sha256(self.token.encode()).hexdigest()[:16]

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request
