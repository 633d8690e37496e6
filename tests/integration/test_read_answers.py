"""The read side's answers as the API sends them, on both stores: sent without a marshmallow
dump (`gateway.routing.Dumped`), so each must already be exactly what its declared schema would
dump; the reconciliation is joined from each differing sale's stored entry
(`proj_recon_listed`), so each entry must agree with the numbers stored beside it, follow
every new event, and come back the same when views of the layout before it are rebuilt."""

from __future__ import annotations

import json

import pytest

from gateway.app import create_app
from gateway.routing import schema_instance
from gateway.schemas import ErrorListSchema, ReconciliationSchema, RunDetailSchema, RunListSchema
from infra.api_tokens import issue_token
from infra.bootstrap import Container
from infra.readmodel_schema import METRICS
from projections.queries import reconciliation, reconciliation_json, sync_history
from projections.runner import catch_up
from tests.projection_support import (
    DAY,
    NEXT_DAY,
    OVO,
    EngineRun,
    canonical_dump,
    invoice_amounts,
    refund,
    return_amounts,
    sale,
    synced_setting,
)


@pytest.fixture
def log(container):
    return container.log


def month(log):
    """Two days of sales: posted, failed, posted short by Jurnal, refunded the next day, and
    a revision; one of the failed sales is replayed. Returns the setting, the night's run and
    the failed sale that stays failed."""
    setting_id = synced_setting(log)
    payments = [sale(n, hour=8 + n % 10) for n in range(1, 9)]
    payments += [sale(n, day=NEXT_DAY, hour=9 + n % 5, total="55000", tax="5000") for n in (9, 10)]
    payments[0]["payment_refunds"] = [refund(1, day=NEXT_DAY, total="46000", tax="4600")]
    positions = [a.position for a in log.receive_many(setting_id, "payment", payments, "pull")]
    night = EngineRun(log, setting_id, method="Otomatis")
    for payment, position in zip(payments, positions, strict=True):
        reference = payment["payment_no"]
        if payment["id"] in ("pay-3", "pay-4", "pay-9"):
            night.failed("sales_invoice", reference, position, OVO)
        elif payment["id"] == "pay-6":  # Jurnal rounded the tax otherwise
            amounts = invoice_amounts(payment, tax="9199.5")
            night.posted("sales_invoice", reference, position, amounts=amounts)
        else:
            night.posted("sales_invoice", reference, position, amounts=invoice_amounts(payment))
    night.posted(
        "sales_return", "P00001", positions[0], custom_id="moka-return-refund-1",
        amounts=return_amounts(payments[0]["payment_refunds"][0]),
    )  # fmt: skip
    night.finish()
    replay = EngineRun(log, setting_id, kind="replay", method="Replay")
    replay.posted("sales_invoice", "P00003", positions[2], amounts=invoice_amounts(payments[2]))
    replay.finish()
    log.receive(
        setting_id, "payment", sale(7, hour=16, total="50000", tax="5000", updated_minute=9), "pull"
    )
    return setting_id, night.run_id, positions


def admin_headers(container):
    return {"Authorization": f"Bearer {issue_token(container.log, admin=True).token}"}


def answers(container, headers, setting_id, run_id):
    """The four read answers over the API, as the client receives them."""
    client = create_app(container=container, test_config={"TESTING": True}).test_client()
    base = f"/api/v1/settings/{setting_id}"
    got = {}
    for name, path in (
        ("runs", f"{base}/runs"),
        ("run", f"/api/v1/runs/{run_id}"),
        ("errors", f"{base}/errors"),
        ("reconciliation", f"{base}/reconciliation?from=2024-05-01&to=2024-05-31"),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/json"
        got[name] = response.json
    return got


def test_each_read_answer_is_what_its_schema_would_dump(container, log):
    setting_id, run_id, _ = month(log)
    catch_up(container)
    got = answers(container, admin_headers(container), setting_id, run_id)

    schemas = {
        "runs": RunListSchema,
        "run": RunDetailSchema,
        "errors": ErrorListSchema,
        "reconciliation": ReconciliationSchema,
    }
    for name, schema in schemas.items():
        assert schema_instance(schema).dump(got[name]) == got[name], name
    assert [run["kind"] for run in got["runs"]["runs"]] == ["replay", "transactions", "master_data"]
    # The night run keeps its own failures, P00003 too (the replay posted it in a run of its own).
    assert [e["moka_reference"] for e in got["run"]["errors"]] == ["P00003", "P00004", "P00009"]
    assert got["errors"]["errors"][0]["count"] == 2
    first, second = got["reconciliation"]["days"]
    assert [s["reference"] for s in first["sales"]] == ["P00004", "P00006", "P00007"]
    assert first["sales_count"] == 3
    assert first["sales"][1]["difference"] == {
        "sales": "0", "returns": "0", "taxes": "0.5", "collected": "0",
    }  # fmt: skip
    # The revision of P00007 (50,000 now) against the 92,000 posted for it.
    assert first["sales"][2]["moka"]["sales"] == "50000"
    assert first["sales"][2]["jurnal"]["sales"] == "92000"
    assert second["date"] == NEXT_DAY.isoformat()
    # The refund's return is posted, but not the money paid back: Moka collected 46,000 less.
    assert [s["reference"] for s in second["sales"]] == ["P00001", "P00009"]
    assert second["moka"]["returns"] == second["jurnal"]["returns"] == "46000"
    assert second["sales"][0]["difference"]["collected"] == "-46000"


def _entry_from_columns(row):
    sale_id, reference, *texts = row
    size = len(METRICS)
    moka, jurnal, difference = (texts[i * size : (i + 1) * size] for i in range(3))
    return {
        "sale_id": sale_id,
        "reference": reference,
        "moka": dict(zip(METRICS, moka, strict=True)),
        "jurnal": dict(zip(METRICS, jurnal, strict=True)),
        "difference": dict(zip(METRICS, difference, strict=True)),
    }


def _check_listings(container):
    """The listed entries are exactly the differing sales, each saying what the sale's columns
    say. Returns the entries by day, in the order the answer lists them."""
    columns = ", ".join(
        [f"{side}_{m}" for side in ("moka", "jurnal") for m in METRICS]
        + [f"difference_{m}" for m in METRICS]
    )
    db = container.views.db()
    rows = db.all(
        f"SELECT business_date, differs, sale_id, reference, {columns} FROM proj_recon_sales"
        " ORDER BY business_date, reference, sale_id"
    )
    assert rows
    expected: dict[str, list[dict]] = {}
    for day, differs, *numbers in rows:
        entry = _entry_from_columns(numbers)
        assert bool(differs) == (entry["moka"] != entry["jurnal"])
        if differs:
            expected.setdefault(day, []).append(entry)
    listed: dict[str, list[dict]] = {}
    for day, reference, sale_id, listing in db.all(
        "SELECT business_date, reference, sale_id, listing FROM proj_recon_listed"
        " ORDER BY business_date, reference, sale_id"
    ):
        entry = json.loads(listing)
        assert (entry["reference"], entry["sale_id"]) == (reference, sale_id)
        listed.setdefault(day, []).append(entry)
    assert listed == expected
    return listed


def test_the_listed_sales_follow_every_new_event(container, log):
    setting_id, _, positions = month(log)
    catch_up(container)
    listed = _check_listings(container)
    days = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert {day["date"]: day["sales"] for day in days} == listed
    assert json.loads(reconciliation_json(container.views, setting_id, DAY, NEXT_DAY)) == {
        "days": days
    }
    assert [len(day["sales"]) for day in reconciliation(
        container.views, setting_id, DAY, NEXT_DAY, sales_per_day=1
    )] == [1, 1]  # fmt: skip

    # P00004 posted at last: it agrees now, and leaves the list at the next catch-up.
    replay = EngineRun(log, setting_id, kind="replay", method="Replay")
    replay.posted("sales_invoice", "P00004", positions[3], amounts=invoice_amounts(sale(4)))
    replay.finish()
    catch_up(container)

    listed = _check_listings(container)
    first, _ = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert [s["reference"] for s in first["sales"]] == ["P00006", "P00007"]
    assert [entry["reference"] for entry in listed[DAY.isoformat()]] == ["P00006", "P00007"]
    assert first["sales_count"] == 2
    assert first["difference"]["taxes"] == "-4199.5"  # P00007's 4,200 and P00006's half rupiah

    # A revision of P00006 that Jurnal's rounding now matches: its entry goes too.
    log.receive(setting_id, "payment", sale(6, hour=16, tax="9199.5", updated_minute=30), "pull")
    catch_up(container)
    listed = _check_listings(container)
    first, _ = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert [s["reference"] for s in first["sales"]] == ["P00007"]
    assert [entry["reference"] for entry in listed[DAY.isoformat()]] == ["P00007"]


def test_an_unknown_setting_has_an_empty_reconciliation(container):
    assert json.loads(reconciliation_json(container.views, "not-a-uuid", DAY, DAY)) == {"days": []}
    assert reconciliation(container.views, "not-a-uuid", DAY, DAY) == []


def test_views_of_the_layout_before_listings_are_rebuilt_with_the_same_answers(
    container, config, log
):
    setting_id, run_id, _ = month(log)
    headers = admin_headers(container)
    catch_up(container)
    current = canonical_dump(container)
    before = answers(container, headers, setting_id, run_id)
    # The layout of schema version 6: no listed entries, an index over every sale instead.
    db = container.views.db()
    db.execute("DROP TABLE proj_recon_listed")
    db.execute(
        "CREATE INDEX proj_recon_sales_differing ON proj_recon_sales"
        " (setting_id, differs, business_date, reference, sale_id)"
    )
    db.execute("UPDATE proj_tracking SET version = 6")

    upgraded = Container(config)  # a process started with the new code
    try:
        assert upgraded.views.position() == 0
        assert sync_history(upgraded.views, setting_id) == []
        catch_up(upgraded)
        assert canonical_dump(upgraded) == current
        assert answers(upgraded, headers, setting_id, run_id) == before
        _check_listings(upgraded)
    finally:
        upgraded.close()
