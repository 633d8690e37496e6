"""Sync history: one row per run of a setting, with its summary counts and the errors of the
items it could not post.

A run's row opens at `SyncRequested` and tallies the outcomes recorded with its id while it
runs; `SyncFinished` closes it with the engine's own counts and status, which are the truth from
then on. Postings made outside any run (the webhook path, `run_id` None) are grouped into one
rolling "Webhook" row per setting per hour of the business day, whose status follows its
outcomes. Within one row a document counts once: its latest outcome there decides whether it
synced and whether its error is listed.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid5

from domain.log import (
    DocumentKind,
    DocumentPosted,
    PostingFailed,
    RunKind,
    RunMethod,
    RunStatus,
    SyncFinished,
    SyncRequested,
    run_status,
)
from projections.store import Db
from projections.view import Context, doc_key, to_json
from sambung.eventlog import GlobalEntry

SUMMARY_KEYS = ("sales", "sales_returns", "payments", "products", "customers")

Summary = dict[str, dict[str, int]]


def empty_summary() -> Summary:
    return {key: {"synced": 0, "total": 0} for key in SUMMARY_KEYS}


def summary_of(counts: dict[str, dict[str, int]]) -> Summary:
    """The five counts the history shows, from a run's counts (absent kinds count zero)."""
    summary = empty_summary()
    for key in SUMMARY_KEYS:
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


class History:
    events = (SyncRequested, SyncFinished, DocumentPosted, PostingFailed)

    def apply(self, db: Db, entry: GlobalEntry, context: Context) -> None:
        event = entry.event
        if isinstance(event, SyncRequested):
            self._requested(db, entry, event, context)
        elif isinstance(event, SyncFinished):
            self._finished(db, event, context)
        elif isinstance(event, DocumentPosted | PostingFailed):
            self._outcome(db, entry, event, context)

    def _requested(
        self, db: Db, entry: GlobalEntry, event: SyncRequested, context: Context
    ) -> None:
        db.execute(
            "INSERT INTO proj_runs (run_id, setting_id, seq, kind, method, status, started_at,"
            " finished_at, summary, error_count, error, closed)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, ?, 0, NULL, 0)"
            " ON CONFLICT (run_id) DO NOTHING",
            (
                str(event.run_id),
                str(event.setting_id),
                entry.global_position,
                event.kind,
                event.method,
                context.local_text(event.timestamp),
                to_json(empty_summary()),
            ),
        )

    def _finished(self, db: Db, event: SyncFinished, context: Context) -> None:
        db.execute(
            "UPDATE proj_runs SET status = ?, finished_at = ?, summary = ?, error = ?, closed = 1"
            " WHERE run_id = ?",
            (
                event.status,
                context.local_text(event.timestamp),
                to_json(summary_of(event.counts)),
                event.error,
                str(event.run_id),
            ),
        )

    def _outcome(
        self,
        db: Db,
        entry: GlobalEntry,
        event: DocumentPosted | PostingFailed,
        context: Context,
    ) -> None:
        run = self._run_of(db, event)
        rolling = run is None
        if run is None:
            run = self._webhook_row(db, entry, event, context)
        run_id, closed, summary_text, error_count = run
        posted = isinstance(event, DocumentPosted)
        key = doc_key(event.kind, event.custom_id, event.moka_reference)
        before = db.one(
            "SELECT posted FROM proj_run_docs WHERE run_id = ? AND doc_key = ?", (run_id, key)
        )
        self._record_doc(db, run_id, key, event, posted)
        was_posted = None if before is None else bool(before[0])
        error_count += int(not posted) - int(was_posted is False)
        summary: Summary = json.loads(summary_text)
        count_key = DocumentKind(event.kind).summary_key
        if not closed and count_key in summary:
            count = summary[count_key]
            count["total"] += int(was_posted is None)
            count["synced"] += int(posted) - int(bool(was_posted))
        if closed:
            db.execute(
                "UPDATE proj_runs SET error_count = ? WHERE run_id = ?", (error_count, run_id)
            )
        elif rolling:
            # A rolling row never finishes: its status and end follow each outcome.
            db.execute(
                "UPDATE proj_runs SET summary = ?, error_count = ?, status = ?, finished_at = ?"
                " WHERE run_id = ?",
                (
                    to_json(summary),
                    error_count,
                    _rolling_status(summary, error_count).value,
                    context.local_text(event.timestamp),
                    run_id,
                ),
            )
        else:
            db.execute(
                "UPDATE proj_runs SET summary = ?, error_count = ? WHERE run_id = ?",
                (to_json(summary), error_count, run_id),
            )

    @staticmethod
    def _run_of(db: Db, event: DocumentPosted | PostingFailed) -> tuple[Any, ...] | None:
        """The row of the run the outcome names. An outcome without a run, or naming a run this
        log never requested, was posted outside any run: it goes where webhook postings go."""
        if event.run_id is None:
            return None
        return db.one(
            "SELECT run_id, closed, summary, error_count FROM proj_runs"
            " WHERE run_id = ? AND setting_id = ?",
            (str(event.run_id), str(event.setting_id)),
        )

    @staticmethod
    def _webhook_row(
        db: Db, entry: GlobalEntry, event: DocumentPosted | PostingFailed, context: Context
    ) -> tuple[Any, ...]:
        at = context.local(event.timestamp)
        hour_start = at.replace(minute=0, second=0, microsecond=0).isoformat()
        run_id = str(webhook_row_id(event.setting_id, hour_start))
        row = db.one(
            "SELECT run_id, closed, summary, error_count FROM proj_runs WHERE run_id = ?",
            (run_id,),
        )
        if row is not None:
            return row
        summary = to_json(empty_summary())
        db.execute(
            "INSERT INTO proj_runs (run_id, setting_id, seq, kind, method, status, started_at,"
            " finished_at, summary, error_count, error, closed)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, ?, 0, NULL, 0)",
            (
                run_id,
                str(event.setting_id),
                entry.global_position,
                RunKind.WEBHOOK.value,
                RunMethod.WEBHOOK.value,
                at.isoformat(),
                summary,
            ),
        )
        return (run_id, 0, summary, 0)

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
