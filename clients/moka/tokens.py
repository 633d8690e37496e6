"""OAuth tokens of one Moka connection and the store that persists them.

`TokenStore` is what the application implements (encrypted, per setting); the client only loads
and saves through it. `InMemoryTokenStore` serves tests and the demo.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    created_at: int
    expires_in: int
    scope: str = ""
    token_type: str = "bearer"

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float | None = None) -> TokenSet:
        """The token endpoint's JSON; `created_at` may be an integer or a string (§2)."""
        created = body.get("created_at")
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            created_at=int(float(str(created)))
            if created not in (None, "")
            else int(now or time.time()),
            expires_in=int(body.get("expires_in") or 0),
            scope=str(body.get("scope") or ""),
            token_type=str(body.get("token_type") or "bearer"),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(
            **{
                k: data[k]
                for k in (
                    "access_token",
                    "refresh_token",
                    "created_at",
                    "expires_in",
                    "scope",
                    "token_type",
                )
                if k in data
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "expires_at": self.expires_at.isoformat()}

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.created_at + self.expires_in, UTC)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.scope.split())

    def seconds_left(self, now: float) -> float:
        return self.created_at + self.expires_in - now


class TokenStore(Protocol):
    """Persistence of one connection's tokens. `save` must be durable when it returns: the
    client uses a new access token only after `save` returned."""

    def load(self) -> TokenSet | None: ...

    def save(self, tokens: TokenSet) -> None: ...


class InMemoryTokenStore:
    def __init__(self, tokens: TokenSet | None = None) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()
        self.saves = 0

    def load(self) -> TokenSet | None:
        with self._lock:
            return self._tokens

    def save(self, tokens: TokenSet) -> None:
        with self._lock:
            self._tokens = tokens
            self.saves += 1
