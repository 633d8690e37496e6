"""Typed errors of the Moka client. Branch on the class; `status`, `error_type` and `message`
carry Moka's `meta` for logs and for the merchant-facing message."""

from __future__ import annotations

from typing import Any


class MokaError(Exception):
    """Anything Moka (or the way to it) refused; the base of every client error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.error_type, self.body = message, status, error_type, body


class MokaAuthError(MokaError):
    """The access token was refused (401) even after a refresh, or the client is unknown."""


class MokaReauthorizationRequired(MokaAuthError):
    """The refresh token was refused (`invalid_grant`) and no other worker had rotated it: the
    merchant must connect Moka again."""


class MokaScopeError(MokaError):
    """403: the token lacks a scope. A configuration error; retrying cannot help."""


class MokaOutletExpired(MokaError):
    """403: the outlet's Moka subscription expired; pause the outlet and tell the merchant."""


class MokaNotFound(MokaError):
    """404: an unknown outlet, business, invoice or path."""


class MokaGone(MokaError):
    """410: Moka terminated the endpoint."""


class MokaRequestError(MokaError):
    """Another 4xx (400 missing parameter, 415, 422): fail the item with Moka's message."""


class MokaTransientError(MokaError):
    """5xx, timeouts and connection errors that outlasted the retries."""


class MokaRateLimited(MokaTransientError):
    """429 that outlasted the retries."""
