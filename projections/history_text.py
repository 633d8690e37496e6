"""The sync history as text, laid out like the add-on's history page: date and time, status,
method, the summary lines, and under each run the items that failed. Used by `sambung history`
and the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from infra.readmodels import ViewStore
from projections.queries import format_summary, run_detail, settings_overview, sync_history

ERRORS_PER_RUN = 10


@dataclass(frozen=True)
class _Words:
    title: str
    columns: tuple[str, str, str, str]
    running: str
    empty: str
    more: str


_WORDS = {
    "id": _Words(
        title="Riwayat sinkronisasi",
        columns=("Tanggal & Waktu", "Status", "Metode", "Ringkasan"),
        running="Berjalan",
        empty="Belum ada sinkronisasi.",
        more="… dan {n} kesalahan lainnya",
    ),
    "en": _Words(
        title="Sync history",
        columns=("Date & Time", "Status", "Method", "Summary"),
        running="Running",
        empty="No syncs yet.",
        more="… and {n} more errors",
    ),
}
_WIDTHS = (18, 10, 10)


def history_lines(
    store: ViewStore, setting_id: UUID | str, lang: str = "id", limit: int = 50
) -> list[str]:
    words = _WORDS[lang]
    name = settings_overview(store, [setting_id]).get(str(setting_id), {}).get("name")
    lines = [f"{words.title}: {name or setting_id}"]
    runs = sync_history(store, setting_id, limit=limit)
    if not runs:
        return [*lines, words.empty]
    lines.append(_row(words.columns))
    for run in runs:
        summary = format_summary(run["summary"], lang) or ["-"]
        when = datetime.fromisoformat(run["started_at"]).strftime("%d/%m/%Y %H:%M")
        status = run["status"] or words.running
        lines.append(_row((when, status, run["method"], summary[0])))
        lines += [_row(("", "", "", more)) for more in summary[1:]]
        if run["error"]:
            lines.append(f"    ! {run['error']}")
        if run["error_count"]:
            lines += _errors(store, run, words)
    return lines


def _errors(store: ViewStore, run: dict[str, Any], words: _Words) -> list[str]:
    detail = run_detail(store, run["id"]) or {"errors": []}
    errors = detail["errors"]
    lines = [
        f"    ! {e['moka_reference']} ({e['kind']}): {e['message']}"
        for e in errors[:ERRORS_PER_RUN]
    ]
    if len(errors) > ERRORS_PER_RUN:
        lines.append("    " + words.more.format(n=len(errors) - ERRORS_PER_RUN))
    return lines


def _row(cells: tuple[str, ...]) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells, _WIDTHS, strict=False)]
    return "  ".join([*padded, *cells[len(_WIDTHS) :]]).rstrip()
