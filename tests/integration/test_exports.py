"""Exports: the sync history, the open errors and the reconciliation download as CSV and XLSX,
read back here and compared with the JSON the same API answers, figure by figure."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from domain.log import RunKind, RunMethod, RunStatus
from gateway.exports import RUPIAH_FORMAT
from projections.runner import catch_up
from tests.gateway_support import deliver, envelope, finish_master_data, make_tenant

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sale(number: int, total: str, tax: str) -> dict:
    return {
        "id": f"pay-{number}",
        "payment_no": f"P{number:05d}",
        "created_at": "2024-05-02T10:00:00+07:00",
        "updated_at": "2024-05-02T10:00:00+07:00",
        "payment_type": "ovo" if number > 1 else "cash",
        "subtotal": float(Decimal(total) - Decimal(tax)),
        "taxes": float(tax),
        "total_collected": float(total),
        "payment_refunds": [],
    }


@pytest.fixture
def books(client, gateway_container):
    """A setting whose transactions run posted one sale (with a tax in cents) and failed two
    for the same cause, and one for another."""
    tenant = make_tenant(gateway_container)
    finish_master_data(gateway_container, tenant.setting_id)
    amounts = {1: ("92000.50", "8363.68"), 2: ("55000", "5000"), 3: ("11000", "1000"),
               4: ("23100", "2100")}  # fmt: skip
    for number, (total, tax) in amounts.items():
        event = envelope(sale(number, total, tax), "moka.transaction.created",
                         event_id=str(uuid.uuid4()))  # fmt: skip
        assert deliver(client, event).json["outcome"] == "stored"
    log = gateway_container.log
    positions = [e.position for e in log.read(tenant.setting_id) if hasattr(e, "record")]
    run = log.request_run(tenant.setting_id, RunKind.TRANSACTIONS, RunMethod.MANUAL).run_id
    log.record_posted(
        tenant.setting_id,
        kind="sales_invoice",
        custom_id="moka-sale-pay-1",
        jurnal_id="5001",
        moka_reference="P00001",
        resolves=positions[0],
        run_id=run,
        amounts={"total": "92000.50", "tax": "8363.68", "paid": "92000.50",
                 "business_date": "2024-05-02"},
    )  # fmt: skip
    causes = {2: "no deposit account mapped for OVO", 3: "no deposit account mapped for OVO",
              4: "Jurnal refused the product \u201cKopi Susu\u201d"}  # fmt: skip
    for number, message in causes.items():
        log.record_failed(
            tenant.setting_id,
            kind="sales_invoice",
            custom_id=f"moka-sale-pay-{number}",
            error_class="PaymentAccountMissing" if "OVO" in message else "JurnalValidationError",
            message=message,
            retryable=False,
            moka_reference=f"P{number:05d}",
            resolves=positions[number - 1],
            run_id=run,
        )
    log.finish_run(run, status=RunStatus.PARTIAL, counts={"sales": {"synced": 1, "total": 4}})
    catch_up(gateway_container)
    return tenant


def fetch(client, tenant, path: str, file_format: str):
    joiner = "&" if "?" in path else "?"
    url = f"/api/v1/settings/{tenant.setting_id}/{path}"
    as_json = client.get(url, headers=tenant.headers)
    as_file = client.get(f"{url}{joiner}format={file_format}", headers=tenant.headers)
    assert as_json.status_code == 200 and as_file.status_code == 200, as_file.data
    return as_json.json, as_file


def read_csv(response) -> list[dict[str, str]]:
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def read_xlsx(response):
    assert response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    names = [cell.value for cell in rows[0]]
    return [dict(zip(names, row, strict=True)) for row in rows[1:]]


def test_the_sync_history_downloads_as_csv_with_the_jsons_figures(client, books):
    answer, response = fetch(client, books, "runs", "csv")
    assert 'filename="sync-history-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert [row["run_id"] for row in rows] == [run["id"] for run in answer["runs"]]
    for row, run in zip(rows, answer["runs"], strict=True):
        assert row["status"] == run["status"] and row["method"] == run["method"]
        assert row["started_at"] == run["started_at"]
        assert row["sales_synced"] == str(run["summary"]["sales"]["synced"])
        assert row["products_total"] == str(run["summary"]["products"]["total"])
        assert row["error_count"] == str(run["error_count"])
    newest = rows[0]
    assert (newest["status"], newest["sales_synced"], newest["sales_total"]) == ("Sebagian", "1",
                                                                                  "4")  # fmt: skip


def test_the_sync_history_downloads_as_xlsx(client, books):
    answer, response = fetch(client, books, "runs", "xlsx")
    rows = read_xlsx(response)
    assert len(rows) == len(answer["runs"]) == 2
    for row, run in zip(rows, answer["runs"], strict=True):
        assert row["run_id"].value == run["id"]
        assert row["status"].value == run["status"]
        assert row["sales_total"].value == run["summary"]["sales"]["total"]
        assert row["error_count"].value == run["error_count"]


def test_every_open_error_downloads_one_row_per_item_grouped_by_cause(client, books):
    answer, response = fetch(client, books, "errors", "csv")
    rows = read_csv(response)
    items = [(g["cause"], i["moka_reference"]) for g in answer["errors"] for i in g["items"]]
    assert [(row["cause"], row["moka_reference"]) for row in rows] == items
    assert [row["moka_reference"] for row in rows] == ["P00002", "P00003", "P00004"]
    assert rows[0]["cause_count"] == "2" and rows[2]["cause_count"] == "1"
    assert rows[2]["message"] == "Jurnal refused the product \u201cKopi Susu\u201d"
    assert rows[0]["retryable"] == "false"
    _, as_xlsx = fetch(client, books, "errors", "xlsx")
    cells = read_xlsx(as_xlsx)
    assert [row["moka_reference"].value for row in cells] == ["P00002", "P00003", "P00004"]
    assert cells[0]["retryable"].value is False and cells[1]["cause_count"].value == 2


def test_the_export_lists_errors_beyond_what_the_json_shows(client, books, gateway_container):
    from projections import queries

    shown = queries.open_errors(gateway_container.views, books.setting_id, items_per_cause=1)
    assert sum(len(g["items"]) for g in shown) == 2  # the JSON's cut, at one per cause
    _, response = fetch(client, books, "errors", "csv")
    assert len(read_csv(response)) == 3


def test_the_reconciliation_downloads_with_exact_money(client, books):
    path = "reconciliation?from=2024-05-01&to=2024-05-31"
    answer, response = fetch(client, books, path, "csv")
    (day,) = answer["days"]
    rows = read_csv(response)
    assert [row["reference"] for row in rows] == ["", "P00002", "P00003", "P00004"]
    totals = rows[0]
    for side in ("moka", "jurnal", "difference"):
        for metric in ("sales", "returns", "taxes", "collected"):
            assert totals[f"{side}_{metric}"] == day[side][metric]
    assert Decimal(totals["jurnal_collected"]) == Decimal("92000.50")
    assert totals["sales_count"] == str(day["sales_count"]) == "3"
    for row, difference in zip(rows[1:], day["sales"], strict=True):
        assert row["moka_collected"] == difference["moka"]["collected"]
        assert row["difference_taxes"] == difference["difference"]["taxes"]


def test_the_reconciliation_xlsx_holds_money_as_rupiah_numbers(client, books):
    path = "reconciliation?from=2024-05-01&to=2024-05-31"
    answer, response = fetch(client, books, path, "xlsx")
    (day,) = answer["days"]
    rows = read_xlsx(response)
    totals = rows[0]
    assert totals["date"].value.date() == date(2024, 5, 2)
    for side in ("moka", "jurnal", "difference"):
        for metric in ("sales", "returns", "taxes", "collected"):
            cell = totals[f"{side}_{metric}"]
            assert isinstance(cell.value, (int, float)), cell.value
            assert cell.number_format == RUPIAH_FORMAT
            # The number is the JSON's Decimal, not a float near it.
            assert Decimal(repr(cell.value)) == Decimal(day[side][metric])
    assert Decimal(repr(totals["jurnal_taxes"].value)) == Decimal("8363.68")
    assert [row["reference"].value for row in rows[1:]] == ["P00002", "P00003", "P00004"]


def test_an_unknown_format_answers_422_and_other_companies_get_404(client, books,
                                                                    gateway_container):  # fmt: skip
    url = f"/api/v1/settings/{books.setting_id}/runs?format=pdf"
    response = client.get(url, headers=books.headers)
    assert response.status_code == 422 and "format" in response.json["error"]["fields"]
    stranger = make_tenant(gateway_container, "PT Stranger")
    for path in ("runs", "errors", "reconciliation?from=2024-05-01&to=2024-05-31"):
        joiner = "&" if "?" in path else "?"
        url = f"/api/v1/settings/{books.setting_id}/{path}{joiner}format=xlsx"
        assert client.get(url, headers=stranger.headers).status_code == 404


def test_the_openapi_document_describes_the_downloads(client):
    document = client.get("/api/openapi.json").json
    for path in ("runs", "errors", "reconciliation"):
        operation = document["paths"][f"/api/v1/settings/{{setting_id}}/{path}"]["get"]
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv", XLSX}
        formats = [p for p in operation["parameters"] if p["name"] == "format"]
        assert formats[0]["schema"]["enum"] == ["json", "csv", "xlsx"]
