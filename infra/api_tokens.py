"""Issuing, checking and revoking the JSON API's bearer tokens (see `domain.api_tokens`).

Tokens live in the event store next to the companies they grant (the `EventLog` application
saves and loads the `ApiToken` aggregate like any other), so every gateway process and machine
sees the same tokens without another database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.api_tokens import TOKEN_PREFIX, ApiToken, hash_token
from domain.errors import NotFound
from infra.eventlog import EventLog


class ApiTokenNotFound(NotFound):
    kind = "API token"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an operator (`admin`) or one company's token."""

    token_id: UUID
    company_id: UUID | None
    admin: bool

    def sees_company(self, company_id: UUID) -> bool:
        return self.admin or self.company_id == company_id


@dataclass(frozen=True)
class IssuedToken:
    id: UUID
    token: str = field(repr=False)
    principal: Principal


def issue_token(
    log: EventLog, *, company_id: UUID | None = None, admin: bool = False
) -> IssuedToken:
    """Make a token for one company (which must exist) or an operator; return its text, which
    is not kept anywhere."""
    if company_id is not None:
        log.get_company(company_id)
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.issue(token_hash=hash_token(text), company_id=company_id, admin=admin)
    log.save(token)
    return IssuedToken(token.id, text, Principal(token.id, company_id, admin))


def authenticate(log: EventLog, presented: str) -> Principal | None:
    """The principal of a live token; None for an unknown, malformed or revoked one."""
    if not presented.startswith(TOKEN_PREFIX):
        return None
    token = _get(log, ApiToken.create_id(hash_token(presented)))
    if token is None or token.revoked:
        return None
    return Principal(token.id, token.company_id, token.admin)


def revoke_token(log: EventLog, token_id: UUID) -> None:
    token = _get(log, token_id)
    if token is None:
        raise ApiTokenNotFound(token_id)
    token.revoke()
    log.save(token)


def _get(log: EventLog, token_id: UUID) -> ApiToken | None:
    try:
        aggregate = log.repository.get(token_id)
    except AggregateNotFoundError:
        return None
    return aggregate if isinstance(aggregate, ApiToken) else None
