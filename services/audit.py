"""Recording and reading the audit trail (`domain.audit`): each use case that changes something
on a person's behalf calls `record` once the change is stored.

Who acts is known at the edge, not in the use case: the API's routing sets the caller's token,
the admin sets the signed-in user, the CLI sets the operating-system account, each with
`acting_as`. A use case run with no actor set (the scheduler, a worker) is the system's own
doing and is not recorded.

An entry is appended right after the change it describes, in its own insert: a process that
dies between the two leaves the change without its entry, never an entry without its change.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.audit import Action, ActionRecorded, Actor, ActorKind, audit_stream_id
from infra.api_tokens import Principal
from infra.bootstrap import Container
from infra.eventstore.streams import next_event
from services.plain import plain

MAX_PAGE = 500
_ATTEMPTS = 50
_actor: ContextVar[Actor | None] = ContextVar("sambung_actor", default=None)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Changes made inside are recorded as `actor`'s."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def begin_acting(actor: Actor | None) -> Token[Actor | None]:
    """For an edge that cannot wrap its work in `acting_as` (a request's before/teardown
    hooks): pass the returned token to `end_acting`."""
    return _actor.set(actor)


def end_acting(token: Token[Actor | None]) -> None:
    _actor.reset(token)


def current_actor() -> Actor | None:
    return _actor.get()


def token_actor(principal: Principal) -> Actor:
    return Actor(ActorKind.TOKEN, str(principal.token_id))


def user_actor(email: str) -> Actor:
    return Actor(ActorKind.USER, email)


def cli_actor() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(ActorKind.CLI, name)


def record(
    container: Container,
    company_id: UUID,
    action: Action,
    *,
    subject_id: UUID | None = None,
    **details: Any,
) -> int | None:
    """Append the change to the company's trail as the current actor's; the entry's position,
    or None when no person is acting."""
    actor = current_actor()
    if actor is None:
        return None
    stream = audit_stream_id(company_id)
    events = container.log.events
    for _ in range(_ATTEMPTS):
        last = next(iter(events.get(stream, desc=True, limit=1)), None)
        entry = next_event(
            ActionRecorded,
            stream,
            last,
            company_id=company_id,
            action=Action(action).value,
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            subject_id=subject_id,
            details=_plain(details),
        )
        try:
            events.put([entry])
        except IntegrityError:  # another entry took this position: append after it
            continue
        return entry.originator_version
    raise RuntimeError(f"could not append to the audit trail of company {company_id}")


def audit_trail(
    container: Container,
    company_id: UUID,
    *,
    before: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """A page of the company's trail, newest first; `next_before` reads on (None at the
    start of the trail)."""
    container.log.get_company(company_id)
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    found = container.log.events.get(
        audit_stream_id(company_id),
        desc=True,
        lte=None if before is None else before - 1,
        limit=limit,
    )
    entries = [e for e in found if isinstance(e, ActionRecorded)]
    more = len(entries) == limit and entries[-1].position > 1
    return {
        "entries": [entry_view(e) for e in entries],
        "next_before": entries[-1].position if more else None,
    }


def entry_view(entry: ActionRecorded) -> dict[str, Any]:
    return {
        "position": entry.position,
        "at": entry.timestamp,
        "action": entry.action,
        "actor": f"{entry.actor_kind}:{entry.actor_id}",
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "subject_id": entry.subject_id,
        "details": entry.details,
    }


def _plain(details: Mapping[str, Any]) -> dict[str, Any]:
    return {key: plain(value) for key, value in details.items() if value is not None}
