"""The read side through the API: sync history, a run with its errors, open errors and the
reconciliation, answered from the read models after the sync engine's records (simulated here
through the event log, as the engine writes them)."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from domain.log import RunKind, RunMethod, RunStatus
from projections.runner import catch_up
from tests.gateway_support import deliver, envelope, finish_master_data, make_tenant


def sale(number: int, total: float, tax: float) -> dict:
    return {
        "id": f"pay-{number}",
        "payment_no": f"P{number:05d}",
        "created_at": "2024-05-02T10:00:00+07:00",
        "updated_at": "2024-05-02T10:00:00+07:00",
        "payment_type": "cash",
        "subtotal": total - tax,
        "taxes": tax,
        "total_collected": total,
        "payment_refunds": [],
    }


@pytest.fixture
def history(client, gateway_container):
    """A setting with a finished master-data run and a partly failed transactions run."""
    tenant = make_tenant(gateway_container)
    master_run = finish_master_data(gateway_container, tenant.setting_id)
    for number, total in ((1, 92000.0), (2, 55000.0)):
        event = envelope(sale(number, total, total / 11), "moka.transaction.created",
                         event_id=str(uuid.uuid4()))  # fmt: skip
        assert deliver(client, event).json["outcome"] == "stored"
    log = gateway_container.log
    first, second = (e.position for e in log.read(tenant.setting_id) if hasattr(e, "record"))
    run = log.request_run(tenant.setting_id, RunKind.TRANSACTIONS, RunMethod.MANUAL).run_id
    log.record_posted(
        tenant.setting_id,
        kind="sales_invoice",
        custom_id="moka-sale-pay-1",
        jurnal_id="5001",
        moka_reference="P00001",
        resolves=first,
        run_id=run,
        amounts={"total": "92000", "tax": str(92000 / 11), "paid": "92000",
                 "business_date": "2024-05-02"},
    )  # fmt: skip
    log.record_failed(
        tenant.setting_id,
        kind="sales_invoice",
        custom_id="moka-sale-pay-2",
        error_class="PaymentAccountMissing",
        message="no deposit account mapped for OVO",
        retryable=False,
        moka_reference="P00002",
        resolves=second,
        run_id=run,
    )
    log.finish_run(run, status=RunStatus.PARTIAL, counts={"sales": {"synced": 1, "total": 2}})
    catch_up(gateway_container)
    return tenant, master_run, run


def test_runs_list_the_sync_history_newest_first(client, history):
    tenant, master_run, run = history
    response = client.get(f"/api/v1/settings/{tenant.setting_id}/runs", headers=tenant.headers)
    assert response.status_code == 200
    newest, oldest = response.json["runs"]
    assert (UUID(newest["id"]), UUID(oldest["id"])) == (run, master_run)
    assert newest["status"] == "Sebagian" and newest["method"] == "Manual"
    assert newest["summary"]["sales"] == {"synced": 1, "total": 2}
    assert set(newest["summary"]) == {"sales", "sales_returns", "payments", "products", "customers"}
    assert newest["error_count"] == 1 and newest["finished_at"] is not None
    assert oldest["summary"]["products"] == {"synced": 3, "total": 3}
    assert set(newest) == {
        "id", "setting_id", "kind", "started_at", "finished_at", "status", "method", "summary",
        "error_count", "error",
    }  # fmt: skip


def test_a_run_shows_the_errors_of_its_failed_items(client, history):
    tenant, _, run = history
    response = client.get(f"/api/v1/runs/{run}", headers=tenant.headers)
    assert response.status_code == 200
    (error,) = response.json["errors"]
    assert error["moka_reference"] == "P00002"
    assert error["message"] == "no deposit account mapped for OVO"
    assert error["error_class"] == "PaymentAccountMissing"


def test_a_running_run_has_no_finish_time(client, gateway_container):
    tenant = make_tenant(gateway_container)
    run = client.post(
        f"/api/v1/settings/{tenant.setting_id}/sync/master-data", headers=tenant.headers
    ).json["run_id"]
    catch_up(gateway_container)
    detail = client.get(f"/api/v1/runs/{run}", headers=tenant.headers).json
    assert detail["finished_at"] is None and detail["status"] is None and detail["errors"] == []


def test_an_unknown_or_foreign_run_answers_404(client, gateway_container, history):
    _, _, run = history
    stranger = make_tenant(gateway_container, "PT Stranger")
    for run_id in (run, uuid.uuid4()):
        response = client.get(f"/api/v1/runs/{run_id}", headers=stranger.headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "run_not_found"


def test_open_errors_are_grouped_by_cause(client, history):
    tenant, _, _ = history
    response = client.get(f"/api/v1/settings/{tenant.setting_id}/errors", headers=tenant.headers)
    assert response.status_code == 200
    (group,) = response.json["errors"]
    assert group["count"] == 1 and group["error_class"] == "PaymentAccountMissing"
    assert group["items"][0]["moka_reference"] == "P00002"
    assert group["items"][0]["retryable"] is False


def test_reconciliation_compares_moka_and_jurnal_per_day(client, history):
    tenant, _, _ = history
    response = client.get(
        f"/api/v1/settings/{tenant.setting_id}/reconciliation?from=2024-05-01&to=2024-05-31",
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.json
    (day,) = response.json["days"]
    assert day["date"] == "2024-05-02"
    assert day["moka"]["collected"] == "147000" and day["jurnal"]["collected"] == "92000"
    assert day["difference"]["collected"] == "55000"
    assert day["sales_count"] == 1 and day["sales"][0]["reference"] == "P00002"
    empty = client.get(
        f"/api/v1/settings/{tenant.setting_id}/reconciliation?from=2024-06-01&to=2024-06-30",
        headers=tenant.headers,
    )
    assert empty.json == {"days": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2024-05-01", "to"),
        ("to=2024-05-01", "from"),
        ("from=2024-05-31&to=2024-05-01", "to"),
        ("from=2023-01-01&to=2024-05-01", "to"),
        ("from=1 May&to=2024-05-01", "from"),
    ],
)
def test_a_bad_reconciliation_window_answers_422(client, gateway_container, query, field):
    tenant = make_tenant(gateway_container)
    response = client.get(
        f"/api/v1/settings/{tenant.setting_id}/reconciliation?{query}", headers=tenant.headers
    )
    assert response.status_code == 422 and field in response.json["error"]["fields"]
