"""Bearer tokens of the JSON API, known to Sambung only by the SHA-256 of their text.

A token is either an operator's (`admin`: every company, and operator-only commands such as
raising a quota) or one company's (that company's resources only). The aggregate's id derives
from the hash, so presenting a token is one read by id, and the text itself is never stored:
it is shown once, when issued. Tokens are long random strings, so a fast hash suffices.
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.settings import SAMBUNG_NAMESPACE

TOKEN_PREFIX = "sbg_"


class ApiTokenInvalid(Invalid):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields, "API token")


def hash_token(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ApiToken(Aggregate):
    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return uuid5(SAMBUNG_NAMESPACE, f"api-token:{token_hash}")

    @classmethod
    def issue(cls, *, token_hash: str, company_id: UUID | None, admin: bool) -> ApiToken:
        if admin == (company_id is not None):
            raise ApiTokenInvalid({"scope": "a token is either an operator's or one company's"})
        token: ApiToken = cls(token_hash=token_hash, company_id=company_id, admin=admin)
        return token

    @event("Issued")
    def __init__(self, token_hash: str, company_id: UUID | None, admin: bool) -> None:
        self.token_hash = token_hash
        self.company_id = company_id
        self.admin = admin
        self.revoked = False

    def revoke(self) -> None:
        if not self.revoked:
            self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.revoked = True
