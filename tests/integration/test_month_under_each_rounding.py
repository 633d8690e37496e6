"""A generated month posted to the Jurnal sandbox under each reading of Jurnal's rounding that the
reference leaves open (§13): how discounts spread, per-line or per-invoice tax rounding, the
tax-inclusive formula. The mapping predicts Jurnal with its own arithmetic; the sandbox computes
with its own. Whatever the reading, every sale is either exact or flagged by the engine's check
("Jurnal totalled X, Moka Y"), never silently off; under the default reading nothing is flagged,
and Jurnal's cash per account and receivables match Moka's after every refund.

The documents go in as the engine sends them (master data, then each payment's invoice, its
payments, its returns with the money paid back and any rounding adjustment), through the signed
sandbox app in-process: HTTP through the engine is not the point here, and a month through the
documented rate limit would take hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.chart import chart_from_jurnal
from domain.jurnal_arithmetic import Tax
from domain.log import totals_differ
from domain.mapping import (
    JurnalDocument,
    JurnalRefs,
    Unmappable,
    customer_display_names,
    customer_documents,
    documents_for_payment,
    product_documents,
    tax_documents,
)
from domain.mapping.buckets import deposit_for
from domain.mapping.follow_ups import follow_up_custom_ids
from domain.mapping.moka import read_payment
from domain.mapping.naming import apply_naming, product_label
from domain.mapping.setting import default_setting
from jobs.engine import document_amounts
from sandbox.jurnal import JurnalSandbox, create_app
from sandbox.jurnal.resources.base import Context
from sandbox.jurnal.resources.invoices import totals_of
from sandbox.jurnal.store import Company
from sandbox.moka.generator import generate_outlet
from tests.jurnal_support import FakeClock, SignedClient

ZERO = Decimal(0)
RUPIAH = Decimal(1)
HALF = Decimal("0.5")

READINGS = {
    "default": {},
    "discount remainder on the first line": {"discount_spread": "first"},
    "discount remainder on the largest line": {"discount_spread": "largest"},
    "discount shares unrounded": {"discount_spread": "exact"},
    "tax rounded per invoice": {"tax_rounding": "invoice"},
    "tax-inclusive net first": {"tax_inclusive": "net_first"},
}


@pytest.fixture(scope="module")
def month() -> Any:
    return generate_outlet(
        23, products=40, customers=20, days=30, transactions_per_day=7, refund_rate=0.3,
        invoice_rate=0.1, start_date=date(2026, 4, 1),
    )  # fmt: skip


@dataclass
class Posted:
    """What one month left in Jurnal, beside what the engine's check said of it."""

    company: Company
    refs: JurnalRefs
    documents: dict[str, tuple[JurnalDocument, dict[str, Any]]] = field(default_factory=dict)
    flagged: set[str] = field(default_factory=set)  # posted, but "Jurnal totalled X, Moka Y"
    refused_by_jurnal: set[str] = field(default_factory=set)  # a 422: a failure the engine shows
    refused: list[Unmappable] = field(default_factory=list)

    def shows(self, custom_id: str) -> bool:
        """Whether the engine would show the document as an open error."""
        return custom_id in self.flagged or custom_id in self.refused_by_jurnal


def post_month(month: Any, reading: dict[str, str], chart: str = "id") -> Posted:
    clock = FakeClock()
    sandbox = JurnalSandbox(clock=clock)  # Jurnal's documented limits
    app = create_app(sandbox)
    company = {
        "name": "Kafe",
        "package": "Enterprise",
        "client_id": "kafe",
        "client_secret": "kafe-secret",
        "chart": chart,
        "arithmetic": reading,
    }
    made = app.test_client().post("/_sandbox/companies", json=company)
    assert made.status_code == 201, made.json
    # Thirty requests a minute, as Sambung's budget spends them; waiting costs no real time.
    jurnal = SignedClient(app, "kafe", "kafe-secret", clock=clock, pace=2.0)
    setting = replace(
        default_setting(str(month.outlet["id"])), name_prefix="Jaksel", sync_by_product_name=True
    )
    refs = master_data(jurnal, month, setting)
    result = Posted(sandbox.company(made.json["id"]), refs)
    for payment in month.payments:
        while True:
            planned = documents_for_payment(payment, setting, refs)
            new = [d for d in planned if d.custom_id not in result.documents]
            if not new:
                break
            for entry in new:
                if isinstance(entry, Unmappable):
                    result.refused.append(entry)
                    result.documents[entry.custom_id] = (entry, {})  # type: ignore[assignment]
                    continue
                created = post(jurnal, entry, strict=not reading)
                result.documents[entry.custom_id] = (entry, created or {})
                if created is None:
                    result.refused_by_jurnal.add(entry.custom_id)
                    continue
                amounts = document_amounts(entry, created)
                if amounts and totals_differ(amounts):
                    result.flagged.add(entry.custom_id)
                if entry.kind == "sales_invoice":
                    refs = refs.with_invoice(entry.custom_id, created)
                if entry.kind == "sales_return":
                    refs = refs.with_return(entry.custom_id, created)
    return result


def master_data(jurnal: SignedClient, month: Any, setting: Any) -> JurnalRefs:
    """What the engine knows after the master-data sync: customers, products, taxes and the
    company's chart, by which documents refer to accounts."""
    assert jurnal.post("/customers", {"customer": {"display_name": "Pelanggan Umum"}}).status_code
    chart = chart_from_jurnal(
        jurnal.get("/accounts").json["accounts"], jurnal.get("/companies/active").json
    )
    units = {u["name"] for u in jurnal.get("/product_units").json["product_units"]}
    if "Pcs" not in units:  # the master-data sync makes the unit its products use
        assert jurnal.post("/product_units", {"product_unit": {"name": "Pcs"}}).status_code == 200
    names = customer_display_names(month.customers, [setting.default_customer])
    for document in customer_documents(month.customers, names):
        post(jurnal, document)
    products = product_documents(
        setting, month.items, month.gratuities, month.modifiers, chart=chart
    )
    for document in products:
        post(jurnal, document)
    for item in month.items:
        for variant in item["item_variants"] if item["is_deleted"] else []:
            name = apply_naming(setting, product_label(item["name"], variant["name"]))
            by_hand = {"product": {"name": name, "product_code": f"HAND-{variant['id']}"}}
            assert jurnal.post("/products", by_hand).status_code == 201
    taxes = []
    for document in tax_documents(setting, month.taxes, chart):
        created = post(jurnal, document)
        assert created is not None
        taxes.append(
            Tax(created["id"], created["name"], Decimal(created["rate"]), document.custom_id)
        )
    return JurnalRefs(
        customer_names=names,
        taxes=taxes,
        product_custom_ids=frozenset(d.custom_id for d in products),
        chart=chart,
    )


def post(
    jurnal: SignedClient, document: JurnalDocument, *, strict: bool = True
) -> dict[str, Any] | None:
    """Jurnal's document; a 422 is None where Jurnal may refuse (under another reading)."""
    answer = jurnal.post(f"/{document.resource}", document.body)
    if answer.status_code == 422 and not strict:
        return None
    assert answer.status_code in (200, 201), (document.kind, answer.json, document.body)
    root = "company_tax" if document.kind == "tax" else document.kind
    created: dict[str, Any] = answer.json[root]
    return created


def money(value: object) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize("reading", READINGS.values(), ids=list(READINGS))
def test_every_sale_of_a_generated_month_is_exact_or_flagged_under_each_reading(month, reading):
    result = post_month(month, reading)
    assert result.refused == []  # no refund is refused: an adjustment makes each one exact
    silently_off = []
    for payment in month.payments:
        sale = read_payment(payment)
        prefix = f"moka-{sale.outlet_id}"
        ids = [f"{prefix}-sale-{sale.id}"] + [
            f"{prefix}-{kind}-{key}"
            for kind, key in [("payment", sale.id)]
            + [("payment", r.uuid) for r in sale.invoice_records]
            + [(k, r.uuid) for r in sale.refunds for k in ("refund", "payback", "adjust")]
        ]
        shown = any(result.shows(cid) for cid in ids)
        if not shown and is_off(result, sale, prefix):
            silently_off.append(sale.payment_no)
    assert silently_off == []
    # Jurnal refuses nothing under any reading: a paid sale pays Jurnal's own total where Jurnal
    # rounded it some sen below Moka's.
    assert result.refused_by_jurnal == set()
    if not reading:
        assert result.flagged == set()
        assert_the_engine_knew_each_follow_up_beforehand(result, month)
    assert_books_match_moka(result, month, per_sale=bool(reading))


def test_on_an_english_chart_the_money_paid_back_leaves_cash_and_the_books_match(month):
    result = post_month(month, {}, chart="en")
    assert result.refused == [] and result.flagged == result.refused_by_jurnal == set()
    refunds = result.company.collections["customer_credit_memo_refund"]
    assert {refund["refund_from"]["name"] for refund in refunds} <= {"Cash", "Bank Account"}
    entries = result.company.collections["journal_entries"]
    assert {line["account"]["name"] for e in entries for line in e["lines"]} <= {
        "Cash",
        "Bank Account",
        "Service Revenue",
    }
    assert_books_match_moka(result, month, per_sale=False)


class _NoSandbox:
    """`totals_of` reads only the company; no sandbox services are needed to total a record."""


def assert_the_engine_knew_each_follow_up_beforehand(result: Posted, month: Any) -> None:
    """What the engine expects of a payment before it asks Jurnal anything (its payments,
    returns, money paid back and rounding adjustments) is what was posted for it."""
    setting = replace(
        default_setting(str(month.outlet["id"])), name_prefix="Jaksel", sync_by_product_name=True
    )
    for payment in month.payments:
        expected = [cid for _, cid in follow_up_custom_ids(payment, setting)]
        posted = [
            cid
            for cid in result.documents
            if cid != f"moka-{setting.outlet_id}-sale-{payment['id']}"
            and any(key in cid for key in _keys(payment))
        ]
        assert sorted(expected) == sorted(posted), payment["payment_no"]


def _keys(payment: dict[str, Any]) -> list[str]:
    return [
        str(payment["id"]),
        *(r["uuid"] for r in payment["payment_refunds"] or []),
        *(r["uuid"] for r in payment.get("invoice_payment_records") or []),
    ]


def is_off(result: Posted, sale: Any, prefix: str) -> bool:
    """Jurnal's invoice total or tax, or a refund's return with its adjustment, a rupiah or more
    from Moka's."""
    invoice, answer = result.documents[f"{prefix}-sale-{sale.id}"]
    assert invoice.moka is not None
    if abs(money(answer["original_amount"]) - invoice.moka.total) >= RUPIAH:
        return True
    if abs(money(answer["tax_amount"]) - invoice.moka.tax) >= RUPIAH:
        return True
    for refund in sale.refunds:
        _, returned = result.documents[f"{prefix}-refund-{refund.uuid}"]
        given_back = money(returned["return_amount"])
        adjustment = result.documents.get(f"{prefix}-adjust-{refund.uuid}")
        if adjustment is not None and adjustment[0].moka is not None:
            given_back += adjustment[0].moka.total
        if abs(given_back - refund.totals.collected) >= RUPIAH:
            return True
        if abs(money(returned["returned_tax"]) - refund.totals.taxes) >= RUPIAH:
            return True
    return False


def assert_books_match_moka(result: Posted, month: Any, *, per_sale: bool) -> None:
    """Cash per deposit account and receivables, Jurnal's (from its documents) against Moka's:
    apart by less than half a rupiah per refund (Jurnal keeps sen that Moka rounds away), and
    under another reading of Jurnal's rounding per sale too."""
    setting = default_setting(str(month.outlet["id"]))
    company = result.company.collections
    # Accounts by number, which Jurnal's answers carry and the setting's buckets name.
    jurnal_cash: dict[str, Decimal] = defaultdict(Decimal)
    for payment in company["receive_payments"]:
        jurnal_cash[payment["deposit_to"]["number"]] += payment["total"]
    for invoice in company["sales_invoices"]:
        if invoice["deposit"]:
            jurnal_cash[invoice["deposit_to"]["number"]] += invoice["deposit"]
    for refund in company["customer_credit_memo_refund"]:
        jurnal_cash[refund["refund_from"]["number"]] -= refund["total"]
    for entry in company["journal_entries"]:
        for line in entry["lines"]:
            if line["account"]["category"]["name"] == "Cash & Bank":
                jurnal_cash[line["account"]["number"]] += line["debit"] - line["credit"]

    chart = result.refs.chart
    assert chart is not None

    def number_of(bucket_account: str) -> str:
        found = chart.find(bucket_account)
        assert found is not None, bucket_account
        return found.number

    moka_cash: dict[str, Decimal] = defaultdict(Decimal)
    refunds = 0
    for payment in month.payments:
        sale = read_payment(payment)
        if sale.is_invoice:
            for record in sale.invoice_records:
                account = deposit_for(setting, record.payment_type, record.payment_type_label)
                moka_cash[number_of(account.account)] += record.amount
            if sale.invoice_deposit:
                cash = deposit_for(setting, "cash", "Cash").account
                moka_cash[number_of(cash)] += sale.invoice_deposit
            continue
        account = number_of(
            deposit_for(setting, sale.payment_type, sale.payment_type_label).account
        )
        moka_cash[account] += sale.totals.collected
        for refund in sale.refunds:
            moka_cash[account] -= refund.totals.collected
            refunds += 1
    assert refunds >= 30
    assert len(company["journal_entries"]) >= 1
    tolerance = HALF * (refunds + (len(month.payments) if per_sale else 0))
    for account in moka_cash.keys() | jurnal_cash.keys():
        assert abs(jurnal_cash[account] - moka_cash[account]) < tolerance, account
    # Paid back in full: no customer credit is left in Jurnal.
    for sales_return in company["sales_returns"]:
        memo = sales_return["credit_memo"]
        assert memo is None or memo["remaining"] == 0
    # Receivables: each invoice owes in Jurnal what it still owes in Moka.
    ctx = Context(_NoSandbox(), result.company)  # type: ignore[arg-type]
    invoices = 0
    for payment in month.payments:
        sale = read_payment(payment)
        if not sale.is_invoice:
            continue
        invoices += 1
        [invoice] = company["sales_invoices"].find(
            "custom_id", f"moka-{sale.outlet_id}-sale-{sale.id}"
        )
        paid = sale.invoice_deposit + sum((r.amount for r in sale.invoice_records), ZERO)
        owed = sale.totals.collected - paid
        assert abs(totals_of(ctx, invoice).remaining - owed) < HALF, sale.payment_no
    assert invoices >= 5
