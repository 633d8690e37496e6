from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain.errors import MokaRecordInvalid, RunAlreadyFinished, RunInvalid
from domain.log import (
    DocumentKind,
    MokaKind,
    RunKind,
    RunMethod,
    RunStatus,
    SyncRun,
    check_counts,
    moka_identity,
    run_status,
)

WIB = timezone(timedelta(hours=7))


def test_a_payment_is_identified_by_its_uuid_and_updated_at():
    moka_id, updated_at = moka_identity(
        MokaKind.PAYMENT,
        {"id": "7c1e-uuid", "updated_at": "2022-10-20T15:09:59.496155+07:00"},
    )
    assert moka_id == "7c1e-uuid"
    assert updated_at == datetime(2022, 10, 20, 15, 9, 59, 496155, tzinfo=WIB)


def test_an_old_payment_with_id_zero_falls_back_to_its_uuid():
    moka_id, _ = moka_identity(
        MokaKind.PAYMENT, {"id": 0, "uuid": "abc", "updated_at": "2022-10-20T15:09:59+07:00"}
    )
    assert moka_id == "abc"


def test_the_same_instant_in_other_offsets_is_the_same_version():
    _, wib = moka_identity(MokaKind.ITEM, {"id": 1, "updated_at": "2024-05-02T10:00:00+07:00"})
    _, utc = moka_identity(MokaKind.ITEM, {"id": 1, "updated_at": "2024-05-02T03:00:00Z"})
    assert wib == utc


def test_a_record_without_id_or_offset_is_refused_naming_both():
    with pytest.raises(MokaRecordInvalid) as refused:
        moka_identity(MokaKind.CUSTOMER, {"name": "San", "updated_at": "2024-05-02T10:00:00"})
    assert set(refused.value.fields) == {"id", "updated_at"}


def test_run_status_follows_the_counts():
    assert run_status({}) is RunStatus.SUCCEEDED
    assert run_status({"sales": {"synced": 11, "total": 11}}) is RunStatus.SUCCEEDED
    assert run_status({"sales": {"synced": 10, "total": 11}}) is RunStatus.PARTIAL
    assert run_status({"sales": {"synced": 0, "total": 11}}) is RunStatus.FAILED
    assert run_status({"sales": {"synced": 1, "total": 1}}, aborted=True) is RunStatus.FAILED


def test_counts_name_known_kinds_with_synced_at_most_total():
    assert check_counts({"products": {"synced": 427, "total": 427}}) == {
        "products": {"synced": 427, "total": 427}
    }
    with pytest.raises(RunInvalid) as refused:
        check_counts({"sales": {"synced": 3, "total": 2}, "widgets": {"synced": 0, "total": 0}})
    assert set(refused.value.fields) == {"counts.sales", "counts.widgets"}


def test_each_document_kind_has_a_summary_count():
    assert DocumentKind.SALES_INVOICE.summary_key == "sales"
    assert DocumentKind.RECEIVE_PAYMENT.summary_key == "payments"
    assert {kind.summary_key for kind in DocumentKind} >= {
        "sales",
        "sales_returns",
        "payments",
        "products",
        "customers",
    }


def run(kind=RunKind.TRANSACTIONS):
    return SyncRun.request(
        run_id=uuid4(), setting_id=uuid4(), kind=kind, method=RunMethod.MANUAL, params={}
    )


def test_a_run_takes_the_id_it_is_given():
    run_id = uuid4()
    requested = SyncRun.request(
        run_id=run_id, setting_id=uuid4(), kind="replay", method="Replay", params={}
    )
    assert requested.id == run_id
    assert requested.kind is RunKind.REPLAY


def test_a_run_with_an_unknown_kind_or_method_is_refused():
    with pytest.raises(RunInvalid) as refused:
        SyncRun.request(run_id=uuid4(), setting_id=uuid4(), kind="x", method="y", params={})
    assert set(refused.value.fields) == {"kind", "method"}


def test_a_run_finishes_once():
    requested = run()
    requested.finish(status="Sebagian", counts={}, error=None, checkpoint=None)
    assert requested.finished and requested.status is RunStatus.PARTIAL
    assert requested.finished_at is not None
    with pytest.raises(RunAlreadyFinished):
        requested.finish(status="Sukses", counts={}, error=None, checkpoint=None)


def test_only_a_transactions_run_carries_a_checkpoint():
    with pytest.raises(RunInvalid) as refused:
        run(RunKind.MASTER_DATA).finish(
            status="Sukses", counts={}, error=None, checkpoint=datetime.now(UTC)
        )
    assert list(refused.value.fields) == ["checkpoint"]


@pytest.mark.parametrize(
    ("status", "opens"),
    [(RunStatus.SUCCEEDED, True), (RunStatus.PARTIAL, True), (RunStatus.FAILED, False)],
)
def test_a_master_data_run_that_did_not_fail_completes_master_data(status, opens):
    requested = run(RunKind.MASTER_DATA)
    requested.finish(status=status, counts={}, error=None, checkpoint=None)
    assert requested.completes_master_data is opens
