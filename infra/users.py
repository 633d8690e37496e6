"""The admin UI's users, kept in the event store like API tokens (`domain.users.User`), and the
lockout after repeated failed sign-ins.

Passwords are hashed with scrypt (werkzeug.security): salted and deliberately slow. Signing in
with an unknown email costs the same hash as a wrong password, so timing does not tell which
emails exist. A signed-in user acts as a `Principal`, the same caller the JSON API's use cases
take, so the pages reach exactly what a token of the same scope would.

Lockout: each failed sign-in bumps a Redis counter for that email, which expires
`LOCKOUT_SECONDS` after the first failure; at `MAX_FAILURES` the email is refused, even with the
right password, until the counter expires. A successful sign-in clears it. The counter lives in
Redis so that every gateway process and machine shares it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from uuid import UUID

import redis
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from domain.errors import Refused
from domain.users import User, check_new_user, normalise_email
from infra.api_tokens import Principal
from infra.eventlog import EventLog

HASH_METHOD = "scrypt"
MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
_FAILURES_KEY = "sambung:admin-login-failures:"


class UserExists(Refused):
    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email} already exists")


@dataclass(frozen=True)
class SignedIn:
    user_id: UUID
    email: str
    principal: Principal


def add_user(
    log: EventLog,
    email: str,
    password: str,
    *,
    company_id: UUID | None = None,
    admin: bool = False,
) -> SignedIn:
    """Make a user of one company (which must exist) or an operator."""
    normal = check_new_user(email, password, company_id, admin)
    if company_id is not None:
        log.get_company(company_id)
    user = User.add(
        email=normal,
        password_hash=generate_password_hash(password, method=HASH_METHOD),
        company_id=company_id,
        admin=admin,
    )
    try:
        log.save(user)
    except IntegrityError:
        raise UserExists(normal) from None
    return _signed_in(user)


def find_user(log: EventLog, user_id: UUID) -> SignedIn | None:
    """The user behind a session, or None if there is no such user (any more)."""
    user = _get(log, user_id)
    return _signed_in(user) if user else None


def check_password(log: EventLog, email: str, password: str) -> SignedIn | None:
    """The user whose email and password these are, or None."""
    user = _get(log, User.create_id(email))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return _signed_in(user) if check_password_hash(user.password_hash, password) else None


class LoginThrottle:
    """Counts failed sign-ins per email in Redis; see the module docstring."""

    def __init__(
        self, connection: redis.Redis, *, limit: int = MAX_FAILURES, window: int = LOCKOUT_SECONDS
    ) -> None:
        self.redis = connection
        self.limit = limit
        self.window = window

    def locked(self, email: str) -> bool:
        failures = self.redis.get(_FAILURES_KEY + normalise_email(email))
        return failures is not None and int(failures) >= self.limit

    def failed(self, email: str) -> None:
        key = _FAILURES_KEY + normalise_email(email)
        with self.redis.pipeline() as pipe:
            # The window runs from the first failure (the key's birth); INCR keeps its expiry.
            pipe.set(key, 0, ex=self.window, nx=True)
            pipe.incr(key)
            pipe.execute()

    def succeeded(self, email: str) -> None:
        self.redis.delete(_FAILURES_KEY + normalise_email(email))


@functools.cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so that answering takes as long as for a known one."""
    return generate_password_hash("not anyone's password", method=HASH_METHOD)


def _get(log: EventLog, user_id: UUID) -> User | None:
    try:
        aggregate = log.repository.get(user_id)
    except AggregateNotFoundError:
        return None
    return aggregate if isinstance(aggregate, User) else None


def _signed_in(user: User) -> SignedIn:
    return SignedIn(user.id, user.email, Principal(user.id, user.company_id, user.admin))
