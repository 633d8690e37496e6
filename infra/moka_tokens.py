"""A Moka connection's rotating tokens, kept sealed in the event store.

`ConnectionTokenStore` is the `clients.moka.TokenStore` the Moka client saves each refreshed
pair through before it uses it; `token_set` turns a stored pair (only its expiry is stored) into
the client's `TokenSet`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from clients.moka import TokenSet
from infra.eventlog import EventLog

# Moka's documented token lifetime (reference §2): 180 days.
MOKA_TOKEN_LIFETIME = 15_552_000


class ConnectionTokenStore:
    """A Moka connection's tokens, sealed in the event store (a `clients.moka.TokenStore`)."""

    def __init__(self, log: EventLog, connection_id: UUID) -> None:
        self.log = log
        self.connection_id = connection_id

    def load(self) -> TokenSet | None:
        tokens = self.log.moka_tokens(self.connection_id)
        return token_set(tokens.access_token, tokens.refresh_token, tokens.expires_at)

    def save(self, tokens: TokenSet) -> None:
        self.log.store_moka_tokens(
            self.connection_id,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
        )


def token_set(access: str, refresh: str, expires_at: datetime | None) -> TokenSet:
    # Only the expiry is stored; Moka's fixed lifetime gives back when the pair was made. With
    # no expiry known, the tokens are taken as fresh and a 401 makes the client refresh.
    ends = expires_at or datetime.fromtimestamp(
        datetime.now(UTC).timestamp() + MOKA_TOKEN_LIFETIME, UTC
    )
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        created_at=int(ends.timestamp()) - MOKA_TOKEN_LIFETIME,
        expires_in=MOKA_TOKEN_LIFETIME,
    )
