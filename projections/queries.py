"""The read side's questions, answered from the views as JSON-ready dicts: times are ISO strings
with their offset (in the business time zone), money is a Decimal string, ids are strings.

The views are as fresh as the last catch-up: the workers' runners keep them within a second of
the log; a command that must show the very latest calls `projections.runner.catch_up` first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from infra.readmodels import Db, Row, ViewStore
from projections.history import DAY_KEY, SUMMARY_KEYS
from projections.open_errors import describe_cause
from projections.reconciliation import SIDE_COLUMNS, compared, sides_of

ITEMS_PER_CAUSE = 100
SALES_PER_DAY = 100
_IN_CHUNK = 500

_RUN_COLUMNS = (
    "run_id, setting_id, kind, method, status, started_at, finished_at, summary, error_count, error"
)

_LABELS = {
    "id": (
        "{label}: {synced} dari {total}",
        {
            "sales": "Penjualan",
            "sales_returns": "Retur Penjualan",
            "payments": "Penerimaan Pembayaran",
            "products": "Produk",
            "customers": "Pelanggan",
            DAY_KEY: "Ringkasan Harian",
        },
    ),
    "en": (
        "{label}: {synced} of {total}",
        {
            "sales": "Sales",
            "sales_returns": "Sales Returns",
            "payments": "Payments Received",
            "products": "Products",
            "customers": "Customers",
            DAY_KEY: "Daily Summaries",
        },
    ),
}


# -- sync history -------------------------------------------------------------------------------


def sync_history(
    store: ViewStore, setting_id: UUID | str, *, limit: int = 100
) -> list[dict[str, Any]]:
    """A setting's runs, newest first: [{id, setting_id, kind, started_at, finished_at, status,
    method, summary: {sales|sales_returns|payments|products|customers: {synced, total}},
    error_count, error}]. `status` and `finished_at` are None while a run runs; webhook
    postings appear as one rolling row per hour (kind "webhook", method "Webhook"), live-pulled
    ones likewise (kind "live_pull", method "Otomatis")."""
    setting = _id_text(setting_id)
    if setting is None:
        return []
    rows = store.db().all(
        f"SELECT {_RUN_COLUMNS} FROM proj_runs WHERE setting_id = ? ORDER BY seq DESC LIMIT ?",
        (setting, limit),
    )
    return [_run(row) for row in rows]


def run_detail(store: ViewStore, run_id: UUID | str) -> dict[str, Any] | None:
    """One run as in `sync_history`, plus `errors`: [{moka_reference, kind, message,
    error_class, position, resolves, custom_id}] for each item whose latest outcome in the run
    is a failure, in log order. None for an unknown run."""
    run = _id_text(run_id)
    if run is None:
        return None
    with store.reading() as db:
        row = db.one(f"SELECT {_RUN_COLUMNS} FROM proj_runs WHERE run_id = ?", (run,))
        failures = db.all(
            "SELECT moka_reference, kind, message, error_class, position, resolves, custom_id"
            " FROM proj_run_docs WHERE run_id = ? AND posted = 0 ORDER BY position",
            (run,),
        )
    if row is None:
        return None
    detail = _run(row)
    names = ("moka_reference", "kind", "message", "error_class", "position", "resolves")
    detail["errors"] = [dict(zip((*names, "custom_id"), f, strict=True)) for f in failures]
    return detail


def _run(row: tuple[Any, ...]) -> dict[str, Any]:
    run_id, setting_id, kind, method, status, started, finished, summary, errors, error = row
    return {
        "id": run_id,
        "setting_id": setting_id,
        "kind": kind,
        "started_at": started,
        "finished_at": finished,
        "status": status,
        "method": method,
        "summary": _ordered(json.loads(summary)),
        "error_count": errors,
        "error": error,
    }


def _ordered(summary: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {key: summary[key] for key in (*SUMMARY_KEYS, DAY_KEY) if key in summary}


def format_summary(summary: dict[str, dict[str, int]], lang: str = "id") -> list[str]:
    """The add-on's summary lines, e.g. ["Penjualan: 11 dari 11", "Produk: 427 dari 427"]
    (English: "Sales: 11 of 11"), for the kinds the run had anything to sync."""
    if lang not in _LABELS:
        raise ValueError(f"lang must be one of {', '.join(_LABELS)}")
    template, labels = _LABELS[lang]
    days = {"id": " hari", "en": " days"}[lang]
    return [
        template.format(label=labels[key], **summary[key]) + (days if key == DAY_KEY else "")
        for key in (*SUMMARY_KEYS, DAY_KEY)
        if key in summary and summary[key]["total"] > 0
    ]


# -- open errors --------------------------------------------------------------------------------


def open_errors(
    store: ViewStore, setting_id: UUID | str, *, items_per_cause: int = ITEMS_PER_CAUSE
) -> list[dict[str, Any]]:
    """A setting's open errors grouped by cause, the largest first: [{cause, error_class,
    message, kind, count, items: [{moka_reference, custom_id, message, position, resolves,
    run_id, failed_at, retryable}]}]. `cause` reads "no deposit account mapped for OVO
    (14 sales)"; `message` is the shared part of the items' messages; `items` holds the oldest
    `items_per_cause` of the `count`."""
    setting = _id_text(setting_id)
    if setting is None:
        return []
    # Counted in the index, then each cause's oldest items read by a short range of it: the
    # answer costs the same with fifty open errors or fifty thousand.
    with store.reading() as db:
        causes = db.all(
            "SELECT error_class, cause, kind, COUNT(*) FROM proj_open_errors"
            " WHERE setting_id = ? GROUP BY error_class, cause, kind",
            (setting,),
        )
        groups = [
            {
                "cause": describe_cause(cause, kind, count),
                "error_class": error_class,
                "message": cause,
                "kind": kind,
                "count": count,
                "items": [
                    _error_item(row)
                    for row in db.all(
                        "SELECT moka_reference, custom_id, message, position, resolves, run_id,"
                        " failed_at, retryable FROM proj_open_errors WHERE setting_id = ?"
                        " AND error_class = ? AND cause = ? AND kind = ? ORDER BY position LIMIT ?",
                        (setting, error_class, cause, kind, items_per_cause),
                    )
                ],
            }
            for error_class, cause, kind, count in causes
        ]
    groups.sort(key=lambda g: (-g["count"], g["error_class"], g["message"], g["kind"]))
    return groups


def _error_item(row: tuple[Any, ...]) -> dict[str, Any]:
    reference, custom_id, message, position, resolves, run_id, failed_at, retryable = row
    return {
        "moka_reference": reference,
        "custom_id": custom_id,
        "message": message,
        "position": position,
        "resolves": resolves,
        "run_id": run_id,
        "failed_at": failed_at,
        "retryable": bool(retryable),
    }


# -- settings overview --------------------------------------------------------------------------


def settings_overview(
    store: ViewStore, setting_ids: Iterable[UUID | str]
) -> dict[str, dict[str, Any]]:
    """The settings list's columns by setting id: {setting_id, company_id, name, tag, tags,
    warehouse, deleted, master_data: {last_success_at, last_sync_at, last_status},
    transactions: {...}}. Ids the views do not know are left out."""
    wanted = sorted({text for text in map(_id_text, setting_ids) if text is not None})
    db = store.db()
    overview: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for row in db.all(
            "SELECT setting_id, company_id, name, tag, warehouse, payment_tags, deleted,"
            " master_last_success_at, master_last_sync_at, master_last_status,"
            " tx_last_success_at, tx_last_sync_at, tx_last_status"
            f" FROM proj_settings WHERE setting_id IN ({marks})",
            chunk,
        ):
            overview[row[0]] = _overview_row(row)
    return overview


def _overview_row(row: tuple[Any, ...]) -> dict[str, Any]:
    setting_id, company_id, name, tag, warehouse, tags_json, deleted, *syncs = row
    tags = [tag] if tag else []
    tags += [t for t in json.loads(tags_json) if t not in tags]
    keys = ("last_success_at", "last_sync_at", "last_status")
    return {
        "setting_id": setting_id,
        "company_id": company_id,
        "name": name,
        "tag": tag,
        "tags": tags,
        "warehouse": warehouse,
        "deleted": bool(deleted),
        "master_data": dict(zip(keys, syncs[:3], strict=True)),
        "transactions": dict(zip(keys, syncs[3:], strict=True)),
    }


# -- reconciliation -----------------------------------------------------------------------------


def reconciliation(
    store: ViewStore,
    setting_id: UUID | str,
    date_from: date | str,
    date_to: date | str,
    *,
    sales_per_day: int = SALES_PER_DAY,
) -> list[dict[str, Any]]:
    """Per business day with activity, oldest first: [{date, moka, jurnal, difference,
    sales_count, sales}], where moka, jurnal and difference (moka − jurnal) are {sales,
    returns, taxes, collected} Decimal strings, `sales_count` counts the sales whose two sides
    differ that day and `sales` lists the first `sales_per_day` of them by Moka reference:
    [{sale_id, reference, moka, jurnal, difference}]."""
    answer = reconciliation_json(store, setting_id, date_from, date_to, sales_per_day=sales_per_day)
    days: list[dict[str, Any]] = json.loads(answer)["days"]
    return days


def reconciliation_json(
    store: ViewStore,
    setting_id: UUID | str,
    date_from: date | str,
    date_to: date | str,
    *,
    sales_per_day: int = SALES_PER_DAY,
) -> str:
    """`reconciliation`'s days as the JSON text of {"days": [...]}. The view stores each
    differing sale's entry as JSON text, so a month's answer (thousands of sales) is joined
    from them rather than built and dumped: this is what the API sends."""
    setting = _id_text(setting_id)
    if setting is None:
        return _days_text([])
    first, last = _iso_date(date_from), _iso_date(date_to)
    entries = []
    for day, differing, *numbers, sales in _days_with_sales(
        store, setting, first, last, sales_per_day
    ):
        head = _json({"date": day, **compared(sides_of(numbers)), "sales_count": differing})
        # The head's closing brace gives way to the day's stored sales.
        entries.append(f'{head[:-1]},"sales":[{sales or ""}]}}')
    return _days_text(entries)


def _days_with_sales(
    store: ViewStore, setting: str, first: str, last: str, limit: int
) -> list[Row]:
    """Each day of the range with activity: (day, differing, its eight totals, the stored
    entries of its first `limit` differing sales by Moka reference, joined by commas). Each
    day's entries are read in the listed table's own order, and a LIMIT per day reads only the
    rows it lists, however many sales differ that day. PostgreSQL answers in one statement (a
    snapshot of its own, one round trip); SQLite, in process, a query a day in one read
    transaction."""
    days_sql = (
        f"SELECT business_date, differing, {SIDE_COLUMNS} FROM proj_recon_days"
        " WHERE setting_id = ? AND business_date BETWEEN ? AND ? ORDER BY business_date"
    )
    if store.postgres:
        return store.db().all(
            f"SELECT business_date, differing, {SIDE_COLUMNS}, CASE WHEN differing > 0 THEN"
            " (SELECT string_agg(listing, ',' ORDER BY reference, sale_id) FROM"
            "  (SELECT listing, reference, sale_id FROM proj_recon_listed AS s"
            "   WHERE s.setting_id = d.setting_id AND s.business_date = d.business_date"
            "   ORDER BY reference, sale_id LIMIT ?) AS first_sales) END"
            " FROM proj_recon_days AS d"
            " WHERE setting_id = ? AND business_date BETWEEN ? AND ? ORDER BY business_date",
            (limit, setting, first, last),
        )
    with store.reading() as db:
        return [
            (*day, _sales_of_day(db, setting, day[0], limit) if day[1] else None)
            for day in db.all(days_sql, (setting, first, last))
        ]


def _sales_of_day(db: Db, setting: str, day: str, limit: int) -> str:
    rows = db.all(
        "SELECT listing FROM proj_recon_listed WHERE setting_id = ? AND business_date = ?"
        " ORDER BY reference, sale_id LIMIT ?",
        (setting, day, limit),
    )
    return ",".join(listing for (listing,) in rows)


def _days_text(entries: list[str]) -> str:
    return f'{{"days":[{",".join(entries)}]}}'


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# -- helpers ------------------------------------------------------------------------------------


def _id_text(value: UUID | str) -> str | None:
    try:
        return str(value if isinstance(value, UUID) else UUID(str(value)))
    except ValueError:
        return None


def _iso_date(value: date | str) -> str:
    return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
