"""Reconciliation against a real store (SQLite and PostgreSQL): Moka's totals from the received
payments against the Jurnal amounts recorded with each posted document."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from projections.queries import reconciliation
from projections.runner import catch_up
from sandbox.moka.generator import generate_outlet
from tests.projection_support import (
    DAY,
    NEXT_DAY,
    WIB,
    EngineRun,
    invoice_amounts,
    refund,
    return_amounts,
    sale,
    synced_setting,
)

ZERO = {"sales": "0", "returns": "0", "taxes": "0", "collected": "0"}


@pytest.fixture
def log(container):
    return container.log


@pytest.fixture
def setting_id(log):
    return synced_setting(log)


def receive(log, setting_id, *payments):
    return [a.position for a in log.receive_many(setting_id, "payment", list(payments), "pull")]


def post_sales(log, setting_id, payments, positions, **changes):
    run = EngineRun(log, setting_id)
    for payment, position in zip(payments, positions, strict=True):
        amounts = invoice_amounts(payment, **changes.get(payment["id"], {}))
        run.posted("sales_invoice", payment["payment_no"], position, amounts=amounts)
    run.finish()
    return run


def test_a_day_posted_exactly_as_moka_sold_it_has_no_difference(container, log, setting_id):
    payments = [sale(1, total="92000", tax="9200"), sale(2, total="35500.50", tax="3227.32")]
    post_sales(log, setting_id, payments, receive(log, setting_id, *payments))

    catch_up(container)
    [day] = reconciliation(container.views, setting_id, DAY, DAY)
    assert day["date"] == "2024-05-02"
    expected = {"sales": "127500.5", "returns": "0", "taxes": "12427.32", "collected": "127500.5"}
    assert day["moka"] == expected
    assert day["jurnal"] == expected
    assert day["difference"] == ZERO
    assert (day["sales_count"], day["sales"]) == (0, [])


def test_a_difference_names_the_sales_behind_it(container, log, setting_id):
    payments = [sale(1), sale(2), sale(3)]
    positions = receive(log, setting_id, *payments)
    run = EngineRun(log, setting_id)
    run.posted("sales_invoice", "P00001", positions[0], amounts=invoice_amounts(payments[0]))
    run.posted(
        "sales_invoice",
        "P00002",
        positions[1],
        amounts=invoice_amounts(payments[1], tax="9201", total="92001"),
    )
    run.failed("sales_invoice", "P00003", positions[2], "no deposit account mapped for OVO")
    run.finish()

    catch_up(container)
    [day] = reconciliation(container.views, setting_id, "2024-05-01", "2024-05-31")
    # P00002's invoice totals a rupiah more than Moka collected; its deposit is still right.
    assert day["difference"] == {
        "sales": "91999",
        "returns": "0",
        "taxes": "9199",
        "collected": "92000",
    }
    assert day["sales_count"] == 2
    mismatched, unposted = day["sales"]
    assert (mismatched["sale_id"], mismatched["reference"]) == ("pay-2", "P00002")
    assert mismatched["difference"] == {
        "sales": "-1",
        "returns": "0",
        "taxes": "-1",
        "collected": "0",
    }
    assert (unposted["reference"], unposted["jurnal"]) == ("P00003", ZERO)
    assert unposted["moka"]["sales"] == "92000"
    assert (
        reconciliation(container.views, setting_id, DAY, DAY, sales_per_day=1)[0]["sales_count"]
        == 2
    )
    assert (
        len(reconciliation(container.views, setting_id, DAY, DAY, sales_per_day=1)[0]["sales"]) == 1
    )


def test_a_refund_counts_on_its_own_day_with_the_money_paid_back(container, log, setting_id):
    refunded = sale(
        1, total="92000", tax="9200", refunds=[refund(1, day=NEXT_DAY, total="46000", tax="4600")]
    )
    [position] = receive(log, setting_id, refunded)
    run = EngineRun(log, setting_id)
    run.posted("sales_invoice", "P00001", position, amounts=invoice_amounts(refunded))
    returned_amounts = return_amounts(refunded["payment_refunds"][0])
    run.posted(
        "sales_return",
        "P00001",
        position,
        custom_id="moka-return-refund-1",
        amounts=returned_amounts,
    )
    run.finish()

    catch_up(container)
    sold, returned = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert sold["moka"] == {"sales": "92000", "returns": "0", "taxes": "9200", "collected": "92000"}
    assert returned["date"] == "2024-05-03"
    assert returned["moka"] == {
        "sales": "0",
        "returns": "46000",
        "taxes": "-4600",
        "collected": "-46000",
    }
    # The return alone leaves the money in Jurnal's cash: the difference says so.
    assert returned["difference"] == {**ZERO, "collected": "-46000"}

    money = {**returned_amounts, "tax": "0"}
    run = EngineRun(log, setting_id)
    run.posted(
        "customer_credit_memo_refund",
        "P00001",
        position,
        custom_id="moka-return-payback-1",
        amounts=money,
    )
    run.finish()
    catch_up(container)
    sold, returned = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert returned["jurnal"] == returned["moka"]
    assert (sold["difference"], returned["difference"]) == (ZERO, ZERO)


def test_a_rounding_adjustment_explains_a_return_that_jurnal_rounded_otherwise(
    container, log, setting_id
):
    refunded = sale(
        1,
        total="97300",
        tax="10812.5",
        refunds=[refund(1, day=NEXT_DAY, total="26400", tax="2937.5")],
    )
    [position] = receive(log, setting_id, refunded)
    business_day = NEXT_DAY.isoformat()
    run = EngineRun(log, setting_id)
    run.posted("sales_invoice", "P00001", position, amounts=invoice_amounts(refunded))
    given_back = {"total": "26434.1", "tax": "2937.5", "business_date": business_day}
    run.posted("sales_return", "P00001", position, custom_id="r-1", amounts=given_back)
    paid = {"total": "26434.1", "tax": "0", "business_date": business_day}
    run.posted("customer_credit_memo_refund", "P00001", position, custom_id="m-1", amounts=paid)
    adjusted = {"total": "-34.1", "tax": "0", "business_date": business_day}
    run.posted("journal_entry", "P00001", position, custom_id="j-1", amounts=adjusted)
    run.finish()

    catch_up(container)
    _, returned = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert (
        returned["jurnal"]
        == returned["moka"]
        == {
            "sales": "0",
            "returns": "26400",
            "taxes": "-2937.5",
            "collected": "-26400",
        }
    )
    assert returned["difference"] == ZERO


def test_only_the_latest_revision_of_a_payment_counts(container, log, setting_id):
    first = sale(1, total="92000", tax="9200")
    [position] = receive(log, setting_id, first)
    post_sales(log, setting_id, [first], [position])
    # The nightly pull brings a newer revision: a refund was made the same afternoon.
    revised = sale(
        1,
        total="92000",
        tax="9200",
        updated_minute=30,
        refunds=[refund(1, total="92000", tax="9200")],
    )
    [revised_position] = receive(log, setting_id, revised)
    assert revised_position > position

    catch_up(container)
    [day] = reconciliation(container.views, setting_id, DAY, DAY)
    assert day["moka"] == {"sales": "92000", "returns": "92000", "taxes": "0", "collected": "0"}
    assert day["difference"] == {
        "sales": "0",
        "returns": "92000",
        "taxes": "-9200",
        "collected": "-92000",
    }
    [behind] = day["sales"]
    assert behind["reference"] == "P00001"


def test_an_unpaid_invoice_is_sold_at_once_and_collected_when_paid(container, log, setting_id):
    unpaid = sale(1, payment_type="invoice", total="150000", tax="15000")
    [position] = receive(log, setting_id, unpaid)
    post_sales(log, setting_id, [unpaid], [position])
    catch_up(container)
    [day] = reconciliation(container.views, setting_id, DAY, DAY)
    assert (day["moka"]["sales"], day["moka"]["collected"]) == ("150000", "0")
    assert day["difference"] == ZERO

    paid = {
        **unpaid,
        "updated_at": datetime(2024, 5, 3, 9, 0, tzinfo=WIB).isoformat(),
        "invoice_payment_records": [
            {"uuid": "record-1", "amount": 150000.0, "created_at": "2024-05-03T09:00:00+07:00"}
        ],
    }
    [paid_position] = receive(log, setting_id, paid)
    catch_up(container)
    _, next_day = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert next_day["difference"]["collected"] == "150000"
    assert next_day["sales"][0]["reference"] == "P00001"

    run = EngineRun(log, setting_id)
    run.posted(
        "receive_payment",
        "P00001",
        paid_position,
        custom_id="moka-payment-record-1",
        amounts={"total": "150000", "tax": "0", "business_date": "2024-05-03"},
    )
    run.finish()
    catch_up(container)
    sold, collected = reconciliation(container.views, setting_id, DAY, NEXT_DAY)
    assert (sold["difference"], collected["difference"]) == (ZERO, ZERO)
    assert collected["jurnal"]["collected"] == "150000"


def test_a_document_posted_again_replaces_its_amounts(container, log, setting_id):
    payment = sale(1)
    [position] = receive(log, setting_id, payment)
    post_sales(log, setting_id, [payment], [position], **{"pay-1": {"total": "1"}})
    # Deleted in Jurnal and created again after a fix: a new Jurnal id, the same custom_id.
    again = EngineRun(log, setting_id, kind="replay", method="Replay")
    again.posted(
        "sales_invoice", "P00001", position, amounts=invoice_amounts(payment), jurnal_id="j-new"
    )
    again.finish()
    catch_up(container)
    [day] = reconciliation(container.views, setting_id, DAY, DAY)
    assert day["jurnal"]["sales"] == "92000"
    assert day["difference"] == ZERO


def test_a_range_shows_only_its_days(container, log, setting_id):
    payments = [sale(1, day=date(2024, 5, d)) for d in (1, 15, 31)]
    payments = [{**p, "id": f"pay-{i}", "payment_no": f"P{i:05d}"} for i, p in enumerate(payments)]
    receive(log, setting_id, *payments)
    other = synced_setting(log, outlet_id="4523", name="Outlet Bandung")
    receive(log, other, sale(9, day=date(2024, 5, 15)))
    catch_up(container)
    assert [
        d["date"] for d in reconciliation(container.views, setting_id, "2024-05-02", "2024-05-31")
    ] == [
        "2024-05-15",
        "2024-05-31",
    ]
    assert reconciliation(container.views, setting_id, "2024-06-01", "2024-06-30") == []


def test_a_generated_month_posted_faithfully_reconciles_to_the_rupiah(container, log, setting_id):
    """Payments in the sandbox's full v3 shape (discounts, service charges, rounding, invoices
    paid later, full and partial refunds), posted by a simulated engine whose Jurnal documents
    match Moka: every day matches, and Moka's side equals sums taken straight from the
    payments."""
    outlet = generate_outlet(
        11,
        products=12,
        customers=6,
        days=4,
        transactions_per_day=12,
        start_date=date(2024, 5, 1),
        refund_rate=0.2,
        invoice_rate=0.2,
    )
    positions = receive(log, setting_id, *outlet.payments)
    expected = defaultdict(Decimal)
    run = EngineRun(log, setting_id)
    for payment, position in zip(outlet.payments, positions, strict=True):
        day = _day(payment["created_at"])
        amounts = invoice_amounts(payment, business_date=day)
        run.posted("sales_invoice", payment["payment_no"], position, amounts=amounts)
        expected[day, "sales"] += Decimal(str(payment["total_collected"]))
        if payment["payment_type"] != "invoice":
            expected[day, "collected"] += Decimal(str(payment["total_collected"]))
        for record in payment.get("invoice_payment_records") or []:
            paid_day = _day(record["created_at"])
            run.posted(
                "receive_payment",
                payment["payment_no"],
                position,
                custom_id=f"moka-payment-{record['uuid']}",
                amounts={"total": str(record["amount"]), "tax": "0", "business_date": paid_day},
            )
            expected[paid_day, "collected"] += Decimal(str(record["amount"]))
        for row in payment["payment_refunds"] or []:
            amounts = return_amounts(row)
            amounts["business_date"] = _day(row["created_at"])
            run.posted(
                "sales_return",
                payment["payment_no"],
                position,
                custom_id=f"moka-return-{row['uuid']}",
                amounts=amounts,
            )
            run.posted(
                "customer_credit_memo_refund",
                payment["payment_no"],
                position,
                custom_id=f"moka-payback-{row['uuid']}",
                amounts={**amounts, "tax": "0"},
            )
            expected[amounts["business_date"], "returns"] += Decimal(amounts["total"])
    run.finish()
    assert any(p["payment_refunds"] for p in outlet.payments)
    assert any(p.get("invoice_payment_records") for p in outlet.payments)

    catch_up(container)
    days = reconciliation(container.views, setting_id, "2024-04-01", "2024-06-30")
    assert days
    for day in days:
        assert day["difference"] == ZERO, day["date"]
        for metric in ("sales", "returns"):
            assert Decimal(day["moka"][metric]) == expected[day["date"], metric]


def _day(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(WIB).date().isoformat()
