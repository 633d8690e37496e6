"""The audit trail: what a person changed, who (a user or an API token) and when.

Each company has one audit stream, `audit_stream_id(company_id)`, of `ActionRecorded` events
numbered from 1. It holds changes made by people only: the scheduler's nightly run or a worker's
retry is not an action. An entry never holds a secret: a replaced credential is recorded by its
client id alone.

Event topics embed this module's path and the class name: renaming either is a data migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import DomainEvent


class Action(StrEnum):
    COMPANY_ADDED = "company.added"
    CREDENTIAL_REPLACED = "company.credential_replaced"
    QUOTA_CHANGED = "company.quota_changed"
    NOTIFICATIONS_CHANGED = "company.notifications_changed"
    SETTING_CREATED = "setting.created"
    SETTING_CHANGED = "setting.changed"
    SETTING_DELETED = "setting.deleted"
    SYNC_REQUESTED = "sync.requested"
    REPLAY_REQUESTED = "replay.requested"
    USER_ADDED = "user.added"


class ActorKind(StrEnum):
    TOKEN = "token"  # an API bearer token, by its id
    USER = "user"  # a person signed in to the admin, by email
    CLI = "cli"  # someone at the command line, by the operating-system account


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


def audit_stream_id(company_id: UUID) -> UUID:
    return uuid5(company_id, "audit")


@dataclass(frozen=True)
class ActionRecorded(DomainEvent):
    """One change by a person. `subject_id` is what it changed when that is not the company
    itself (a setting, a run); `details` are plain JSON values."""

    company_id: UUID
    action: str
    actor_kind: str
    actor_id: str
    subject_id: UUID | None
    details: dict[str, Any]

    @property
    def position(self) -> int:
        return self.originator_version
