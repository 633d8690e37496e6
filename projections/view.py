"""What every read model shares: the shape of a view and the context it applies events in.

A view is a set of tables and an `apply` that folds one log event into them, inside the
runner's transaction. `apply` reads nothing but its own tables and the event (never the clock),
so applying the same log again gives the same rows: that is what makes a rebuild identical.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.log import LogEvent
from infra.eventlog import GlobalEntry
from infra.readmodels import Db


@dataclass(frozen=True)
class Context:
    """The business time zone, in which times are shown and days are counted."""

    timezone: ZoneInfo

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.timezone)

    def local_text(self, instant: datetime) -> str:
        return self.local(instant).isoformat()


class View(Protocol):
    @property
    def events(self) -> tuple[type[LogEvent], ...]:
        """The event types `apply` folds in; the runner skips the others."""

    def apply(self, db: Db, entry: GlobalEntry, context: Context) -> None: ...


def to_json(value: Any) -> str:
    """Canonical JSON for a column, so that equal values are equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def doc_key(kind: str, custom_id: str | None, moka_reference: str) -> str:
    """Identity of one Jurnal document: its custom_id, or (for a failure that never got one)
    its kind and Moka reference."""
    return custom_id or f"{kind}:{moka_reference}"
