"""What the event store's methods return: plain frozen values, never aggregates to be changed
behind the store's back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.log import LogEvent


@dataclass(frozen=True)
class Appended:
    """What became of one received Moka record in one setting's log.

    `outcome` is "stored", "duplicate" (this `updated_at` is already there) or "stale" (a newer
    one is). `position` and `revision` are those of the stored event, or of the newest revision
    already there when nothing was stored.
    """

    setting_id: UUID
    outcome: str
    position: int
    revision: int

    @property
    def stored(self) -> bool:
        return self.outcome == "stored"


@dataclass(frozen=True)
class RequestedRun:
    """`created` is false when a run with this id already existed (nothing was appended)."""

    run_id: UUID
    created: bool


@dataclass(frozen=True)
class GlobalEntry:
    global_position: int
    event: LogEvent


@dataclass(frozen=True)
class GlobalPage:
    """Log events in global order. Pass `last_position` as `after` to read on: it also covers
    bookkeeping records that are not log events, so a poller never re-reads them."""

    entries: list[GlobalEntry]
    last_position: int


@dataclass(frozen=True)
class JurnalCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class PostedDocument:
    jurnal_id: str
    digest: str | None


@dataclass(frozen=True)
class MokaTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime | None
