"""A child process for the group commit race test: opens its own event log, and appends payments
from several threads through one `GroupCommit` when told to go.

It lives outside the test modules so that a `spawn`ed child can import it by name.
"""

from __future__ import annotations

import threading
from typing import Any

from domain.log import MokaKind, Source
from infra.config import Config
from infra.eventlog import open_event_log
from infra.group_commit import GroupCommit


def append_payments(
    config: Config, outlet_id: str, payments: list[dict[str, Any]], threads: int, start: Any,
    results: Any,
) -> None:  # fmt: skip
    log = open_event_log(config)
    group = GroupCommit(log)
    outcomes: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    todo = iter(payments)

    def work() -> None:
        while True:
            with lock:
                payment = next(todo, None)
            if payment is None:
                return
            for appended in group.receive_for_outlet(
                outlet_id, MokaKind.PAYMENT, payment, Source.WEBHOOK
            ):
                with lock:
                    outcomes.append((payment["id"], appended.outcome, appended.position))

    try:
        log.settings_for_outlet(outlet_id)  # connect before the start
        start.wait(timeout=60)
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        results.put(outcomes)
    finally:
        log.close()
