"""The mapping's documents posted to the Jurnal sandbox, signed, as the sync engine will post them:
master data first, then each generated sale with its payments and refunds (the return, the money
paid back and any rounding adjustment). Jurnal takes every body, and its own answers total each
invoice to what Moka collected, and each return with its adjustment to what Moka paid back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.chart import chart_from_jurnal
from domain.jurnal_arithmetic import Tax
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
from domain.mapping.naming import apply_naming, product_label
from domain.mapping.setting import PaymentAccount, default_setting
from domain.mapping.wire import same_rupiah, within_rupiah
from sandbox.jurnal import JurnalSandbox, create_app
from sandbox.moka.generator import generate_outlet
from tests.jurnal_support import FakeClock, SignedClient


@pytest.fixture(scope="module")
def outlet() -> Any:
    return generate_outlet(
        41, products=80, customers=40, days=6, transactions_per_day=40, refund_rate=0.25,
        invoice_rate=0.15, start_date=date(2026, 2, 2),
    )  # fmt: skip


@pytest.fixture
def jurnal() -> SignedClient:
    clock = FakeClock()
    sandbox = JurnalSandbox(clock=clock)  # Jurnal's documented limits
    # Thirty requests a minute, as Sambung's budget spends them; waiting costs no real time.
    return SignedClient(create_app(sandbox), clock=clock, pace=2.0)


def post(jurnal: SignedClient, document: JurnalDocument) -> dict[str, Any]:
    answer = jurnal.post(f"/{document.resource}", document.body)
    assert answer.status_code in (200, 201), (document.kind, answer.json, document.body)
    root = "company_tax" if document.kind == "tax" else document.kind
    created: dict[str, Any] = answer.json[root]
    return created


def test_a_generated_week_posts_to_jurnal_and_jurnal_totals_it_as_moka_did(jurnal, outlet):
    setting = replace(
        default_setting(str(outlet.outlet["id"])),
        name_prefix="Jaksel",
        tag="Outlet Jaksel",
        sync_by_product_name=True,
        payment_accounts={
            **default_setting("").payment_accounts,
            "cash": PaymentAccount("Kas", "Tunai"),
        },
    )
    for tag in ("Outlet Jaksel", "Tunai"):
        assert jurnal.post("/tags", {"tag": {"name": tag}}).status_code == 201
    assert (
        jurnal.post("/customers", {"customer": {"display_name": "Pelanggan Umum"}}).status_code
        == 201
    )

    chart = chart_from_jurnal(
        jurnal.get("/accounts").json["accounts"], jurnal.get("/companies/active").json
    )
    names = customer_display_names(outlet.customers, [setting.default_customer])
    for document in customer_documents(outlet.customers, names):
        post(jurnal, document)
    products = product_documents(
        setting, outlet.items, outlet.gratuities, outlet.modifiers, chart=chart
    )
    for document in products:
        post(jurnal, document)
    # The merchant re-creates by hand, under their synced name, the products deleted in Moka.
    for item in outlet.items:
        for variant in item["item_variants"] if item["is_deleted"] else []:
            name = apply_naming(setting, product_label(item["name"], variant["name"]))
            by_hand = {"product": {"name": name, "product_code": f"HAND-{variant['id']}"}}
            assert jurnal.post("/products", by_hand).status_code == 201
    taxes = []
    for document in tax_documents(setting, outlet.taxes, chart):
        created = post(jurnal, document)
        taxes.append(
            Tax(created["id"], created["name"], Decimal(created["rate"]), document.custom_id)
        )
    refs = JurnalRefs(
        customer_names=names,
        taxes=taxes,
        product_custom_ids=frozenset(d.custom_id for d in products),
        chart=chart,
    )

    posted: dict[str, dict[str, Any]] = {}
    refused = 0
    for payment in outlet.payments:
        while True:
            planned = documents_for_payment(payment, setting, refs)
            new = [d for d in planned if d.custom_id not in posted]
            if not new:
                break
            for entry in new:
                if isinstance(entry, Unmappable):
                    refused += 1
                    posted[entry.custom_id] = {}
                    continue
                created = post(jurnal, entry)
                posted[entry.custom_id] = created
                if entry.kind == "sales_invoice":
                    refs = refs.with_invoice(entry.custom_id, created)
                    _assert_invoice_is_mokas(created, payment)
                if entry.kind == "sales_return":
                    refs = refs.with_return(entry.custom_id, created)
                    _assert_return_is_mokas(created, entry, payment)

    invoices = [p for p in outlet.payments if f"moka-{setting.outlet_id}-sale-{p['id']}" in posted]
    assert len(invoices) == len(outlet.payments) > 200
    paid_in_full = [
        p for p in outlet.payments if p["payment_type"] != "invoice" and not p["payment_refunds"]
    ]
    for payment in paid_in_full[:25]:
        answer = jurnal.get(f"/sales_invoices/moka-{setting.outlet_id}-sale-{payment['id']}")
        assert answer.json["sales_invoice"]["transaction_status"]["name"] == "Paid"
    assert sum(1 for cid in posted if "-refund-" in cid) >= 20
    assert sum(1 for cid in posted if "-payback-" in cid) >= 20
    assert refused == 0


def _assert_invoice_is_mokas(created: dict[str, Any], payment: dict[str, Any]) -> None:
    due = Decimal(str(payment["total_collected"]))
    if payment["payment_type"] == "invoice":
        due = sum(
            (Decimal(str(payment[k])) for k in ("subtotal", "gratuities", "taxes")), Decimal(0)
        )
    assert Decimal(created["original_amount"]) == due
    assert same_rupiah(Decimal(created["tax_amount"]), Decimal(str(payment["taxes"])))


def _assert_return_is_mokas(
    created: dict[str, Any], planned: JurnalDocument, payment: dict[str, Any]
) -> None:
    """The return gives back Moka's refund less the rounding adjustment planned beside it."""
    refund = next(r for r in payment["payment_refunds"] if created["custom_id"].endswith(r["uuid"]))
    assert planned.moka is not None
    assert within_rupiah(Decimal(str(created["return_amount"])), planned.moka.total)
    assert abs(planned.moka.total - Decimal(str(refund["refund_amount"]))) < 1000
    assert within_rupiah(
        Decimal(str(created["returned_tax"])), -Decimal(str(refund["total_tax_amount"]))
    )
