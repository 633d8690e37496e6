"""Typed errors of the Jurnal client (`reference/jurnal-api.md` §4, §12). The sync engine decides
by type: validation and not-found fail the item with Jurnal's message; rate limits and transient
errors are retried later; an unknown outcome of a write is settled by looking it up."""

from __future__ import annotations

from typing import Any


class JurnalError(Exception):
    def __init__(
        self, message: str, *, status: int | None = None, body: Any = None, request: str = ""
    ) -> None:
        self.status = status
        self.body = body
        self.request = request
        super().__init__(f"{request}: {message}" if request else message)


class JurnalAuthError(JurnalError):
    """401/403: the credential is wrong, unknown, or may not do this."""


class JurnalValidationError(JurnalError):
    """422 (or 400) refusing the body. `messages` are Jurnal's full messages; `fields` its
    field keys (`"transaction_lines.amount": "(Must be greater than 0)"`)."""

    def __init__(
        self, messages: list[str], fields: dict[str, Any], *, status: int, body: Any, request: str
    ) -> None:
        self.messages = messages
        self.fields = fields
        text = "; ".join(messages) or "validation failed"
        super().__init__(text, status=status, body=body, request=request)


class JurnalNotFound(JurnalError):
    """422 "Data not found." (Jurnal's not-found) or a 404."""


class JurnalDuplicate(JurnalError):
    """409: a single create reused a `custom_id` (or `transaction_no`); `existing_id` is the
    document that has it."""

    def __init__(self, existing_id: int | None, *, status: int, body: Any, request: str) -> None:
        self.existing_id = existing_id
        super().__init__(f"duplicate of {existing_id}", status=status, body=body, request=request)


class JurnalRateLimited(JurnalError):
    """429 after the client's own waiting and retries."""


class JurnalTransientError(JurnalError):
    """5xx, timeouts and dropped connections that outlasted the retries."""


class JurnalUnknownOutcome(JurnalTransientError):
    """A write may or may not have happened and cannot be looked up (no `custom_id`)."""
