"""Replaying a setting's logged sales into Jurnal after the cause of a failure was fixed: the
request, recorded in the log and queued (the replay job in `jobs.replay` carries it out, and
runs its dry run).

Params: `only_failed`, `since`, `until` (ISO 8601) and `event_ids` (log positions), stored as
JSON values on the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.audit import Action
from infra.bootstrap import Container
from services import audit, syncing
from services.plain import plain


def replay_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The params as the replay job reads them; absent ones are left out."""
    return {name: plain(value) for name, value in params.items() if value is not None}


def request_replay(container: Container, setting_id: UUID, params: Mapping[str, Any]) -> UUID:
    setting = container.log.get_setting(setting_id)
    run_id = syncing.request_replay(container, setting_id, replay_params(params))
    audit.record(
        container, setting.company_id, Action.REPLAY_REQUESTED, subject_id=setting_id,
        run_id=run_id, params=replay_params(params),
    )  # fmt: skip
    return run_id
