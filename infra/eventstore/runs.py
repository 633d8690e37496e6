"""Sync runs: requesting one (idempotent by run id) and finishing it, each with its event in the
setting's log. Finishing is one insert with its bookkeeping: a master-data run marks the
setting's master data synced, a transactions run with a checkpoint advances the checkpoint."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from domain.errors import RunInvalid, RunNotFound
from domain.log import RunKind, RunMethod, RunStatus, SyncFinished, SyncRequested, SyncRun
from infra.eventstore.base import StoreBase
from infra.eventstore.results import RequestedRun
from infra.eventstore.streams import CheckpointAdvanced, checkpoint_stream_id, next_event


class Runs(StoreBase):
    # -- sync runs ------------------------------------------------------------------------------

    def request_run(
        self,
        setting_id: UUID,
        kind: RunKind | str,
        method: RunMethod | str,
        *,
        params: Mapping[str, Any] | None = None,
        run_id: UUID | None = None,
    ) -> RequestedRun:
        """Record that a run was asked for. A transactions run is refused with
        `MasterDataNotSynced` until a master-data run has completed. Give a deterministic
        `run_id` (e.g. uuid5 of the setting and the night) to make a request idempotent."""
        chosen = run_id or uuid4()

        def attempt() -> RequestedRun:
            setting = self.get_setting(setting_id)
            if kind == RunKind.TRANSACTIONS:
                setting.require_master_data_synced()
            try:
                existing = self.get_run(chosen)
            except RunNotFound:
                pass
            else:
                if existing.setting_id != setting_id:
                    raise RunInvalid({"run_id": "belongs to a run of another setting"})
                return RequestedRun(chosen, created=False)
            run = SyncRun.request(
                run_id=chosen,
                setting_id=setting_id,
                kind=kind,
                method=method,
                params=params or {},
            )
            requested = self._next_log_event(
                SyncRequested,
                setting_id,
                run_id=chosen,
                kind=run.kind.value,
                method=run.method.value,
                params=run.params,
            )
            self.save(run, requested)
            return RequestedRun(chosen, created=True)

        return self._retrying(attempt)

    def get_run(self, run_id: UUID) -> SyncRun:
        return self._get(run_id, SyncRun, RunNotFound)

    def finish_run(
        self,
        run_id: UUID,
        *,
        status: RunStatus | str,
        counts: Mapping[str, Mapping[str, int]] | None = None,
        error: str | None = None,
        checkpoint: datetime | None = None,
    ) -> SyncRun:
        """Record a run's end. In the same insert: a master-data run that did not fail outright
        marks the setting's master data synced; a transactions run with a `checkpoint` (give it
        only when every transaction up to then is in the log) advances the checkpoint.
        Raises `RunAlreadyFinished` the second time."""

        def attempt() -> SyncRun:
            run = self.get_run(run_id)
            run.finish(status=status, counts=counts or {}, error=error, checkpoint=checkpoint)
            finished = self._next_log_event(
                SyncFinished,
                run.setting_id,
                run_id=run_id,
                kind=run.kind.value,
                method=run.method.value,
                status=run.status.value if run.status else "",
                counts=run.counts,
                error=run.error,
                checkpoint=run.checkpoint,
            )
            to_save: list[Any] = [run]
            if run.completes_master_data:
                setting = self.get_setting(run.setting_id, include_deleted=True)
                setting.record_master_data_synced(finished.timestamp)
                to_save.append(setting)
            if run.checkpoint is not None:
                to_save += self._checkpoint_advance(run.setting_id, run.checkpoint, run_id)
            self.save(*to_save, finished)
            return run

        return self._retrying(attempt)

    def _checkpoint_advance(
        self, setting_id: UUID, until: datetime, run_id: UUID
    ) -> list[CheckpointAdvanced]:
        stream = checkpoint_stream_id(setting_id)
        last = self._last(stream)
        if isinstance(last, CheckpointAdvanced) and last.until >= until:
            return []
        return [next_event(CheckpointAdvanced, stream, last, until=until, run_id=run_id)]
