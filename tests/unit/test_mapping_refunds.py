"""Moka refunds as Jurnal sales returns on the posted invoice, line by line, totalling Moka's
refund to the rupiah — or failing on their own, with a reason, where Jurnal cannot."""

from __future__ import annotations

from decimal import Decimal

from domain.chart import Account, Chart
from domain.jurnal_arithmetic import sales_return_totals
from domain.mapping import JurnalDocument, JurnalRefs, Unmappable, documents_for_payment
from domain.mapping.follow_ups import follow_up_custom_ids
from domain.mapping.preview import posted_on_paper
from domain.mapping.setting import default_setting
from sandbox.moka.pricing import Discount
from tests.moka_sales import (
    BOBA,
    ES_TEH,
    KOPI,
    LEVY,
    NASI,
    PB1,
    SERVICE,
    Till,
    assert_exact,
    company_taxes,
    line,
    sync,
)

SETTING = default_setting("4522")
VOUCHER = Discount(12, "Voucher 10rb", "cash", Decimal(10000))


def returns_of(planned: list) -> list:
    return [d for d in planned if d.kind == "sales_return"]


def invoice_lines(planned: list) -> dict[str, dict]:
    posted = posted_on_paper(planned[0])
    return {x["custom_id"]: x for x in posted["transaction_lines_attributes"]}


def test_returns_wait_for_the_posted_invoice_and_then_follow_it():
    till = Till()
    sale = till.sell([line(ES_TEH), line(NASI)])
    till.refund(sale)

    first = documents_for_payment(sale, SETTING, JurnalRefs())
    assert [d.kind for d in first] == ["sales_invoice"]
    planned = sync(sale, SETTING)
    assert [d.kind for d in planned] == [
        "sales_invoice",
        "receive_payment",
        "sales_return",
        "customer_credit_memo_refund",
    ]
    ret = returns_of(planned)[0]
    assert ret.custom_id == f"moka-4522-refund-{sale['payment_refunds'][0]['uuid']}"
    assert ret.body["sales_return"]["invoice_id"] == 1
    assert ret.body["sales_return"]["transaction_date"] == "2026-03-03"
    assert ret.body["sales_return"]["memo"] == f"Moka refund {sale['payment_no']}: Cancelled Order"


def test_a_full_refund_returns_every_line_of_the_invoice_rounding_included():
    till = Till()
    sale = till.sell([line(KOPI, 2, BOBA), line(NASI)], gratuities=[SERVICE], taxes=[PB1, LEVY])
    till.refund(sale)
    planned = sync(sale, SETTING)

    posted = posted_on_paper(planned[0])
    returned = returns_of(planned)[0].body["sales_return"]["transaction_return_lines_attributes"]
    assert {(r["transaction_line_id"], r["return_quantity"]) for r in returned} == {
        (x["id"], x["quantity"]) for x in posted["transaction_lines_attributes"]
    }
    result = sales_return_totals(
        returns_of(planned)[0].body["sales_return"], posted, company_taxes(SETTING, PB1, LEVY)
    )
    assert result.return_amount == Decimal(str(sale["total_collected"]))
    assert_exact(sale, planned, company_taxes(SETTING, PB1, LEVY))


def test_a_partial_refund_returns_its_units_of_the_item_and_of_each_of_its_modifiers():
    till = Till()
    sale = till.sell([line(KOPI, 3, BOBA), line(NASI)], payment_type="ovo")
    kopi = sale["checkouts"][0]
    till.refund(sale, {kopi["uuid"]: 2})
    planned = sync(sale, SETTING)

    lines = invoice_lines(planned)
    returned = returns_of(planned)[0].body["sales_return"]["transaction_return_lines_attributes"]
    assert returned == [
        {
            "transaction_line_id": lines[f"moka-4522-line-{kopi['uuid']}"]["id"],
            "return_quantity": 2,
        },
        {
            "transaction_line_id": lines[f"moka-4522-line-{kopi['modifiers'][0]['uuid']}"]["id"],
            "return_quantity": 2,
        },
    ]
    assert_exact(sale, planned, company_taxes(SETTING, PB1))


def test_a_partial_refund_returns_its_share_of_a_service_charge_as_a_fraction_of_the_line():
    till = Till()
    sale = till.sell(
        [line(KOPI, 2), line(NASI, 3)],
        gratuities=[SERVICE],
        include_gratuity_tax=True,
        payment_type="card",
    )
    till.refund(sale, {sale["checkouts"][1]["uuid"]: 1})
    planned = sync(sale, SETTING)

    charge_id = invoice_lines(planned)[f"moka-4522-charge-{sale['id']}-{SERVICE.id}"]["id"]
    returned = {
        r["transaction_line_id"]: r["return_quantity"]
        for r in returns_of(planned)[0].body["sales_return"]["transaction_return_lines_attributes"]
    }
    refund = sale["payment_refunds"][0]
    share = Decimal(returned[charge_id]) * Decimal(str(sale["gratuities"]))
    assert abs(share + Decimal(str(refund["total_gratuity_amount"]))) < Decimal("0.001")
    assert_exact(sale, planned, company_taxes(SETTING, PB1))


def test_two_partial_refunds_then_the_rest_return_exactly_what_the_invoice_had():
    till = Till()
    # A bill of whole rupiah, which GoPay takes without rounding (so its refunds are not rounded).
    sale = till.sell(
        [line(KOPI, 2), line(NASI, 2)], gratuities=[SERVICE], bill_discounts=[VOUCHER],
        payment_type="gopay",
    )  # fmt: skip
    assert sale["total_rounding_amount"] is None
    kopi, nasi = (c["uuid"] for c in sale["checkouts"])
    till.refund(sale, {kopi: 1})
    till.refund(sale, {nasi: 1, kopi: 1}, days=2)
    till.refund(sale, None, days=3)
    planned = sync(sale, SETTING)

    assert len(returns_of(planned)) == 3 and all(
        isinstance(d, JurnalDocument) for d in returns_of(planned)
    )
    posted = posted_on_paper(planned[0])
    returned: dict[int, Decimal] = {}
    for ret in returns_of(planned):
        for row in ret.body["sales_return"]["transaction_return_lines_attributes"]:
            key = row["transaction_line_id"]
            returned[key] = returned.get(key, Decimal(0)) + Decimal(str(row["return_quantity"]))
    assert returned == {
        x["id"]: Decimal(x["quantity"]) for x in posted["transaction_lines_attributes"]
    }
    assert_exact(sale, planned, company_taxes(SETTING, PB1))


def test_an_untaxed_service_charge_makes_up_for_the_cash_rounding_of_a_partial_refund():
    till = Till()
    sale = till.sell([line(KOPI, 2, BOBA), line(ES_TEH, 2)], gratuities=[SERVICE])
    till.refund(sale, {sale["checkouts"][0]["uuid"]: 1})
    refund = sale["payment_refunds"][0]
    assert (sale["total_rounding_amount"], refund["total_rounding_amount"]) == (-75, 87.5)

    planned = sync(sale, SETTING)
    assert isinstance(returns_of(planned)[0], JurnalDocument)
    assert_exact(sale, planned, company_taxes(SETTING, PB1))


def test_a_partial_refund_of_a_rounded_cash_sale_is_made_exact_by_a_rounding_adjustment():
    # Jurnal returns the units with their share of the invoice's rounding discount; Moka rounds
    # the refund afresh. With every line taxed no return totals Moka's refund, so the money paid
    # back is the whole credit memo and a journal entry books the difference.
    till = Till()
    sale = till.sell([line(KOPI, 3), line(ES_TEH, 2)], taxes=[PB1, LEVY])
    kopi = sale["checkouts"][0]["uuid"]
    till.refund(sale, {kopi: 1})
    till.refund(sale, {kopi: 1}, days=2)
    assert sale["total_rounding_amount"] != 0

    # The company's chart: the refund and the entry refer to its accounts by id.
    kas = Account(11, "Kas", "1-10001", 3)
    sales = Account(44, "Pendapatan", "4-40000", 13)
    chart = Chart((kas, sales), {"default_sale_account": sales})
    planned = sync(sale, SETTING, JurnalRefs(chart=chart))
    assert [d.kind for d in planned] == [
        "sales_invoice",
        "receive_payment",
        *["sales_return", "customer_credit_memo_refund", "journal_entry"] * 2,
    ]
    assert not any(isinstance(d, Unmappable) for d in planned)
    assert_exact(sale, planned, company_taxes(SETTING, PB1, LEVY))
    first_return = returns_of(planned)[0]
    money, entry = planned[3], planned[4]
    refund = sale["payment_refunds"][0]
    paid_back = -Decimal(str(refund["total_collected_amount"]))
    given_back = first_return.moka.total
    assert given_back != paid_back  # the share of the rounding
    [memo_line] = money.body["customer_credit_memo_refund"]["credit_memo_refund_lines_attributes"]
    assert Decimal(memo_line["refund_amount"]) == given_back
    assert money.body["customer_credit_memo_refund"]["refund_from_id"] == 11
    # Cash leaves Kas by exactly what the till paid back: the refund less what the entry puts back.
    lines = entry.body["journal_entry"]["transaction_account_lines_attributes"]
    cash = next(x for x in lines if x["account_id"] == 11)
    rounding = next(x for x in lines if x["account_id"] == 44)  # the default sales account
    assert given_back - Decimal(cash["debit"]) + Decimal(cash["credit"]) == paid_back
    assert Decimal(rounding["credit"]) - Decimal(rounding["debit"]) == given_back - paid_back
    assert entry.custom_id == f"moka-4522-adjust-{refund['uuid']}"
    memo = entry.body["journal_entry"]["memo"]
    assert "Rounding of Moka refund" in memo and "paid back 26400" in memo and len(memo) <= 250


def test_the_engine_knows_a_refund_needs_an_adjustment_before_anything_is_posted():
    till = Till()
    sale = till.sell([line(KOPI, 3), line(ES_TEH, 2)], taxes=[PB1, LEVY])
    till.refund(sale, {sale["checkouts"][0]["uuid"]: 1})
    till.refund(sale, None, days=2)
    follow_ups = follow_up_custom_ids(sale, SETTING)
    planned = sync(sale, SETTING)
    assert [kind for kind, _ in follow_ups] == [d.kind for d in planned[1:]]
    assert [cid for _, cid in follow_ups] == [d.custom_id for d in planned[1:]]


def test_a_refund_of_an_unpaid_invoice_moves_no_money():
    till = Till()
    sale = till.sell([line(NASI, 2)], payment_type="invoice", rounding=False)
    till.refund(sale, {sale["checkouts"][0]["uuid"]: 1})
    planned = sync(sale, SETTING)
    assert [d.kind for d in planned] == ["sales_invoice", "sales_return"]
    assert [kind for kind, _ in follow_up_custom_ids(sale, SETTING)] == ["sales_return"]


def test_a_refund_return_is_the_same_whenever_it_is_computed():
    till = Till()
    sale = till.sell([line(KOPI, 3), line(NASI, 2)], gratuities=[SERVICE], payment_type="edc")
    till.refund(sale, {sale["checkouts"][0]["uuid"]: 2})
    before = returns_of(sync(sale, SETTING))
    till.refund(sale, None, days=4)
    after = returns_of(sync(sale, SETTING))
    assert after[0] == before[0]
    assert len(after) == 2


def test_a_line_discounted_whole_by_two_halves_is_refunded_without_a_cent_too_many():
    # Found by hypothesis: two 50 % discounts on 2 × Rp 1.000,01, one unit refunded. Each half of
    # the refund rounds to -500,01, which would take the refund line a cent below zero.
    half = Discount(21, "Diskon 50%", "percentage", Decimal(50))
    variant = {"id": 7770, "name": "", "price": Decimal("1000.01")}
    odd = {"id": 777, "name": "Produk Ganjil", "item_variants": [variant]}
    till = Till()
    sale = till.sell([line(odd, 2, discounts=[half, half]), line(KOPI)])
    refund = till.refund(sale, {sale["checkouts"][0]["uuid"]: 1})

    refunded = refund["checkouts"][0]
    assert Decimal(str(refunded["gross_sales"])) == Decimal("-1000.01")
    assert Decimal(str(refunded["discount_amount"])) == Decimal("-1000.01")
    planned = sync(sale, SETTING)
    assert not [p for p in planned if isinstance(p, Unmappable)]
    assert_exact(sale, planned, company_taxes(SETTING, PB1))
