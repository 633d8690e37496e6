"""People who sign in to the admin UI: an operator (`admin`, every company) or one company's
user (that company only), known by their email address.

The aggregate's id derives from the normalised email, so two users with one address collide on
the store's unique key, and signing in is one read by id. Only a password hash is kept; hashing
is the store's business (it needs a slow, salted hash), not the domain's.
"""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.settings import SAMBUNG_NAMESPACE

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


class UserInvalid(Invalid):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields, "user")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_new_user(email: str, password: str, company_id: UUID | None, admin: bool) -> str:
    """The normalised email of a user that may be made; `UserInvalid` naming each problem."""
    errors: dict[str, str] = {}
    normal = normalise_email(email)
    if not _EMAIL.match(normal):
        errors["email"] = "must be an email address"
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if admin == (company_id is not None):
        errors["scope"] = "a user is either an operator or one company's"
    if errors:
        raise UserInvalid(errors)
    return normal


class User(Aggregate):
    @staticmethod
    def create_id(email: str) -> UUID:
        return uuid5(SAMBUNG_NAMESPACE, f"user:{normalise_email(email)}")

    @classmethod
    def add(cls, *, email: str, password_hash: str, company_id: UUID | None, admin: bool) -> User:
        user: User = cls(
            email=normalise_email(email),
            password_hash=password_hash,
            company_id=company_id,
            admin=admin,
        )
        return user

    @event("Added")
    def __init__(
        self, email: str, password_hash: str, company_id: UUID | None, admin: bool
    ) -> None:
        self.email = email
        self.password_hash = password_hash
        self.company_id = company_id
        self.admin = admin

    @event("PasswordChanged")
    def change_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
