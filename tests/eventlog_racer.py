"""A child process for the race tests: opens its own event log and appends when told to go.

It lives outside the test modules so that a `spawn`ed child can import it by name.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from infra.config import Config
from infra.eventlog import open_event_log


def append_payments(
    config: Config,
    setting_id: UUID,
    payments: list[dict[str, Any]],
    source: str,
    start: Any,
    results: Any,
) -> None:
    log = open_event_log(config)
    try:
        log.head(setting_id)  # connect before the start, so both begin at full speed
        start.wait(timeout=60)
        outcomes = []
        for payment in payments:
            outcomes.append(log.receive(setting_id, "payment", payment, source).outcome)
            # A breath between appends, as between webhook requests: SQLite's busy handler
            # otherwise lets whoever holds the lock run to the end before the other gets a turn.
            time.sleep(0.001)
        results.put(outcomes)
    finally:
        log.close()
