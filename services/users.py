"""Adding a person who signs in to the admin: the user (`infra.users`), the audit entry, and,
for a company's user, a place among the people its notifications reach (in Bahasa Indonesia,
immediately; each person changes that on the company's page)."""

from __future__ import annotations

from uuid import UUID

from domain.audit import Action
from infra.bootstrap import Container
from infra.users import SignedIn, add_user
from services import audit, notify


def add_person(
    container: Container,
    email: str,
    password: str,
    *,
    company_id: UUID | None = None,
    admin: bool = False,
) -> SignedIn:
    made = add_user(container.log, email, password, company_id=company_id, admin=admin)
    if company_id is not None:
        audit.record(container, company_id, Action.USER_ADDED, email=made.email)
        notify.subscribe(container, company_id, made.email)
    return made
