"""Sync history: one row per run of a setting, with its summary counts and the errors of the
items it could not post.

A run's row opens at `SyncRequested` and tallies the outcomes recorded with its id while it
runs; `SyncFinished` closes it with the engine's own counts and status, which are the truth from
then on. Postings made outside any run (`run_id` None) are grouped into one rolling row per
setting per hour of the business day, whose status follows its outcomes: "Otomatis" (kind
`live_pull`) for records the scheduler's live pull brought, "Webhook" for the rest. The view
remembers which log positions the live pull appended (`proj_live_pulled`, one row each) to tell
them apart. Within one row a document counts once: its latest outcome there decides whether it
synced and whether its error is listed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from domain.log import (
    DocumentKind,
    DocumentPosted,
    LogEvent,
    MokaDataReceived,
    PostingFailed,
    RunKind,
    RunMethod,
    RunStatus,
    Source,
    SyncFinished,
    SyncRequested,
    run_status,
)
from infra.eventlog import GlobalEntry
from infra.readmodels import Db
from projections.view import Context, doc_key, to_json

SUMMARY_KEYS = ("sales", "sales_returns", "payments", "products", "customers")
# Shown only by runs of a daily-summary setting: its business days posted ("Ringkasan Harian").
DAY_KEY = "daily_summaries"

Summary = dict[str, dict[str, int]]


def empty_summary() -> Summary:
    return {key: {"synced": 0, "total": 0} for key in SUMMARY_KEYS}


def summary_of(counts: dict[str, dict[str, int]]) -> Summary:
    """The five counts the history shows, from a run's counts (absent kinds count zero)."""
    summary = empty_summary()
    for key in (*SUMMARY_KEYS, DAY_KEY):
        if key in counts:
            summary[key] = {"synced": counts[key]["synced"], "total": counts[key]["total"]}
    return summary


def _rolling_status(summary: Summary, error_count: int) -> RunStatus:
    """A rolling row's status from its outcomes; a failed document the summary does not count
    (a tax) still keeps it from being a success."""
    status = run_status(summary)
    if error_count and status is RunStatus.SUCCEEDED:
        synced = sum(count["synced"] for count in summary.values())
        return RunStatus.PARTIAL if synced else RunStatus.FAILED
    return status


def webhook_row_id(setting_id: UUID, hour_start: str) -> UUID:
    return uuid5(setting_id, f"webhook-hour:{hour_start}")


def live_pull_row_id(setting_id: UUID, hour_start: str) -> UUID:
    return uuid5(setting_id, f"live-pull-hour:{hour_start}")


# The rolling rows: (row id, kind, method) by whether the record came by live pull.
_ROLLING = {
    False: (webhook_row_id, RunKind.WEBHOOK, RunMethod.WEBHOOK),
    True: (live_pull_row_id, RunKind.LIVE_PULL, RunMethod.SCHEDULED),
}


@dataclass
class _Run:
    """A run's row while a batch changes it (see `Db.pending`)."""

    rolling: bool
    closed: bool
    summary: Summary
    error_count: int
    status: str | None
    finished_at: str | None
    error: str | None


def _write_runs(db: Db, runs: dict[str, _Run | None]) -> None:
    db.executemany(
        "UPDATE proj_runs SET status = ?, finished_at = ?, summary = ?, error_count = ?,"
        " error = ?, closed = ? WHERE run_id = ?",
        [
            (r.status, r.finished_at, to_json(r.summary), r.error_count, r.error, int(r.closed), i)
            for i, r in sorted(runs.items())
            if r is not None
        ],
    )


def _runs(db: Db) -> dict[str, _Run | None]:
    return db.pending("history.runs", _write_runs)


class History:
    events = (SyncRequested, SyncFinished, DocumentPosted, PostingFailed, MokaDataReceived)

    def apply(self, db: Db, entry: GlobalEntry, context: Context) -> None:
        event = entry.event
        if isinstance(event, MokaDataReceived):
            if event.source == Source.LIVE_PULL:
                db.execute(
                    "INSERT INTO proj_live_pulled (setting_id, position) VALUES (?, ?)"
                    " ON CONFLICT (setting_id, position) DO NOTHING",
                    (str(event.setting_id), event.position),
                )
        elif isinstance(event, SyncRequested):
            self._insert(
                db, str(event.run_id), entry, event, event.kind, event.method, event.timestamp,
                context, rolling=False,
            )  # fmt: skip
        elif isinstance(event, SyncFinished):
            self._finished(db, event, context)
        elif isinstance(event, DocumentPosted | PostingFailed):
            self._outcome(db, entry, event, context)

    @staticmethod
    def _run(db: Db, run_id: str, setting_id: str) -> _Run | None:
        """The run's row (None when the setting's log never requested it), read once a batch."""
        runs = _runs(db)
        if run_id not in runs:
            row = db.one(
                "SELECT rolling, closed, summary, error_count, status, finished_at, error"
                " FROM proj_runs WHERE run_id = ? AND setting_id = ?",
                (run_id, setting_id),
            )
            runs[run_id] = None
            if row is not None:
                rolling, closed, summary, errors, status, finished_at, error = row
                runs[run_id] = _Run(
                    bool(rolling), bool(closed), json.loads(summary), errors, status,
                    finished_at, error,
                )  # fmt: skip
        return runs[run_id]

    @staticmethod
    def _insert(
        db: Db,
        run_id: str,
        entry: GlobalEntry,
        event: LogEvent,
        kind: str,
        method: str,
        at: datetime,
        context: Context,
        *,
        rolling: bool,
    ) -> None:
        db.execute(
            "INSERT INTO proj_runs (run_id, setting_id, seq, kind, method, status, started_at,"
            " finished_at, summary, error_count, error, closed, rolling)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, ?, 0, NULL, 0, ?)"
            " ON CONFLICT (run_id) DO NOTHING",
            (
                run_id,
                str(event.setting_id),
                entry.global_position,
                kind,
                method,
                context.local_text(at),
                to_json(empty_summary()),
                int(rolling),
            ),
        )

    def _finished(self, db: Db, event: SyncFinished, context: Context) -> None:
        run = self._run(db, str(event.run_id), str(event.setting_id))
        if run is not None:
            run.status = event.status
            run.finished_at = context.local_text(event.timestamp)
            run.summary = summary_of(event.counts)
            run.error = event.error
            run.closed = True

    def _outcome(
        self,
        db: Db,
        entry: GlobalEntry,
        event: DocumentPosted | PostingFailed,
        context: Context,
    ) -> None:
        setting_id = str(event.setting_id)
        # An outcome without a run, or naming a run this log never requested, was posted outside
        # any run: it goes to the rolling row of its hour, the live pull's or the webhooks'.
        run_id = str(event.run_id) if event.run_id else ""
        run = self._run(db, run_id, setting_id) if run_id else None
        if run is None:
            at = context.local(event.timestamp)
            hour_start = at.replace(minute=0, second=0, microsecond=0).isoformat()
            live = db.one(
                "SELECT 1 FROM proj_live_pulled WHERE setting_id = ? AND position = ?",
                (setting_id, event.resolves),
            )
            row_id, kind, method = _ROLLING[live is not None]
            run_id = str(row_id(event.setting_id, hour_start))
            run = self._run(db, run_id, setting_id)
            if run is None:
                self._insert(
                    db, run_id, entry, event, kind.value, method.value, event.timestamp,
                    context, rolling=True,
                )  # fmt: skip
                run = _Run(True, False, empty_summary(), 0, None, None, None)
                _runs(db)[run_id] = run
        posted = isinstance(event, DocumentPosted)
        key = doc_key(event.kind, event.custom_id, event.moka_reference)
        before = db.one(
            "SELECT posted FROM proj_run_docs WHERE run_id = ? AND doc_key = ?", (run_id, key)
        )
        self._record_doc(db, run_id, key, event, posted)
        was_posted = None if before is None else bool(before[0])
        run.error_count += int(not posted) - int(was_posted is False)
        count_key = DocumentKind(event.kind).summary_key
        if not run.closed and count_key in run.summary:
            count = run.summary[count_key]
            count["total"] += int(was_posted is None)
            count["synced"] += int(posted) - int(bool(was_posted))
        if run.rolling:
            # A rolling row never finishes: its status and end follow each outcome.
            run.status = _rolling_status(run.summary, run.error_count).value
            run.finished_at = context.local_text(event.timestamp)

    @staticmethod
    def _record_doc(
        db: Db, run_id: str, key: str, event: DocumentPosted | PostingFailed, posted: bool
    ) -> None:
        failure = None if isinstance(event, DocumentPosted) else event
        db.execute(
            "INSERT INTO proj_run_docs (run_id, doc_key, kind, posted, position, resolves,"
            " moka_reference, custom_id, error_class, message)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, doc_key) DO UPDATE SET posted = excluded.posted,"
            " position = excluded.position, resolves = excluded.resolves,"
            " moka_reference = excluded.moka_reference, error_class = excluded.error_class,"
            " message = excluded.message",
            (
                run_id,
                key,
                event.kind,
                int(posted),
                event.position,
                event.resolves,
                event.moka_reference,
                event.custom_id,
                failure.error_class if failure else None,
                failure.message if failure else None,
            ),
        )
