"""Downloads of the read side: the sync history, the open errors and the reconciliation as CSV
and as XLSX, from the same rows the JSON API answers with.

Each export is one flat table (`Table`): a header row, then one row per run, per open error, or
per day followed by that day's differing sales. The CSV holds the JSON's own text (money as
the Decimal string, times in ISO 8601 with their offset), so a figure reads the same on screen,
in the JSON and in the file. The XLSX holds money as numbers written from that exact Decimal
text, shown with a rupiah format, dates as dates, and every other value as in the CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response
from marshmallow import fields, validate

from gateway.schemas import ReconciliationQuerySchema, RequestSchema

FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DOWNLOADS = tuple(MEDIA_TYPES.values())
# A download lists every open error, not only the oldest of each cause that the JSON shows.
ALL_ITEMS = 100_000
RUPIAH_FORMAT = '"Rp" #,##0.00;-"Rp" #,##0.00'
_SUMMARY_KEYS = ("sales", "sales_returns", "payments", "products", "customers")
_METRICS = ("sales", "returns", "taxes", "collected")
_SIDES = ("moka", "jurnal", "difference")


def _format_field() -> fields.String:
    return fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "json (default), or csv or xlsx to download a file."},
    )


class ExportQuerySchema(RequestSchema):
    format = _format_field()


class ReconciliationExportQuerySchema(ReconciliationQuerySchema):
    format = _format_field()


@dataclass(frozen=True)
class Column:
    name: str
    money: bool = False
    day: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]]


# -- the three tables -------------------------------------------------------------------------


def runs_table(runs: Iterable[Mapping[str, Any]]) -> Table:
    """One row per run, newest first, as `GET /settings/{id}/runs` lists them."""
    columns = (
        Column("run_id"),
        Column("started_at"),
        Column("finished_at"),
        Column("kind"),
        Column("method"),
        Column("status"),
        *(Column(f"{key}_{part}") for key in _SUMMARY_KEYS for part in ("synced", "total")),
        Column("error_count"),
        Column("error"),
    )
    rows = [
        [
            run["id"],
            run["started_at"],
            run["finished_at"],
            run["kind"],
            run["method"],
            run["status"],
            *(run["summary"][key][part] for key in _SUMMARY_KEYS for part in ("synced", "total")),
            run["error_count"],
            run["error"],
        ]
        for run in runs
    ]
    return Table("runs", columns, rows)


def errors_table(groups: Iterable[Mapping[str, Any]]) -> Table:
    """One row per open error item, grouped by cause as `GET /settings/{id}/errors` groups
    them; `cause_count` repeats the group's count."""
    columns = tuple(
        Column(name)
        for name in (
            "cause",
            "error_class",
            "kind",
            "cause_count",
            "moka_reference",
            "custom_id",
            "message",
            "failed_at",
            "retryable",
            "run_id",
            "position",
            "resolves",
        )
    )
    rows = [
        [
            group["cause"],
            group["error_class"],
            group["kind"],
            group["count"],
            item["moka_reference"],
            item["custom_id"],
            item["message"],
            item["failed_at"],
            item["retryable"],
            item["run_id"],
            item["position"],
            item["resolves"],
        ]
        for group in groups
        for item in group["items"]
    ]
    return Table("errors", columns, rows)


def reconciliation_table(days: Iterable[Mapping[str, Any]]) -> Table:
    """Per day a row of the day's totals (empty `reference`), then a row per differing sale
    of that day."""
    columns = (
        Column("date", day=True),
        Column("reference"),
        Column("sale_id"),
        *(Column(f"{side}_{metric}", money=True) for side in _SIDES for metric in _METRICS),
        Column("sales_count"),
    )
    rows: list[list[Any]] = []
    for day in days:
        rows.append([day["date"], "", "", *_amounts(day), day["sales_count"]])
        for sale in day["sales"]:
            rows.append([day["date"], sale["reference"], sale["sale_id"], *_amounts(sale), ""])
    return Table("reconciliation", columns, rows)


def _amounts(row: Mapping[str, Any]) -> list[str]:
    return [row[side][metric] for side in _SIDES for metric in _METRICS]


# -- files ------------------------------------------------------------------------------------


def download(table: Table, file_format: str, name: str) -> Response:
    """The table as an attachment named `name`.csv or `name`.xlsx."""
    if file_format == "csv":
        body = to_csv(table)
    elif file_format == "xlsx":
        body = to_xlsx(table)
    else:
        raise ValueError(f"no download in {file_format!r}")
    response = Response(body, mimetype=MEDIA_TYPES[file_format])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read Bahasa Indonesia
    accents and the rupiah sign right."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(column.name for column in table.columns)
    for row in table.rows:
        writer.writerow(_csv_value(value) for value in row)
    return text.getvalue().encode("utf-8-sig")


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_xlsx(table: Table) -> bytes:
    # Imported here: only a download needs it, and it is the largest import of the gateway.
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title
    sheet.append([column.name for column in table.columns])
    for row in table.rows:
        cells = zip(table.columns, row, strict=True)
        sheet.append([_xlsx_value(column, value) for column, value in cells])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(column.name) + 2)
        if column.money or column.day:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if column.money and cell.value is not None:
                    cell.number_format = RUPIAH_FORMAT
                elif column.day and cell.value is not None:
                    cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_value(column: Column, value: Any) -> Any:
    if value is None or value == "":
        return None
    if column.money:
        # Decimal, not float: openpyxl writes it from its own exact text.
        return Decimal(str(value))
    if column.day:
        return date.fromisoformat(str(value))
    return value
