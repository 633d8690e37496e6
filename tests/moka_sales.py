"""Moka sales built with the Moka sandbox's own pricing, for the mapping tests: a small library,
carts rung up into v3 payments, refunds and invoice payments — and an independent check that
Jurnal's arithmetic totals the mapping's documents to Moka's numbers."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.jurnal_arithmetic import Tax, invoice_totals, sales_return_totals
from domain.mapping import JurnalDocument, JurnalRefs, documents_for_payment, tax_documents
from domain.mapping.document import Planned
from domain.mapping.preview import posted_on_paper, returns_on_paper
from domain.mapping.setting import MappingSetting
from domain.mapping.wire import same_rupiah, within_rupiah
from sandbox.moka.formats import WIB
from sandbox.moka.invoices import record_invoice_payment
from sandbox.moka.payments import Cart, CartLine, Ids, PaymentContext, Staff, price_cart
from sandbox.moka.pricing import Charge, Discount, Rounding
from sandbox.moka.refunds import apply_refund, refund_payment

Json = dict[str, Any]

OUTLET_ID = 4522
PB1 = Charge(40475, "PB1", Decimal(10))
LEVY = Charge(40476, "Retribusi", Decimal("2.5"))
SERVICE = Charge(592604, "Service Charge", Decimal("7.5"))
DINE_IN: Json = {"id": 807678, "name": "Dine In"}
MONDAY = datetime(2026, 3, 2, 12, 30, tzinfo=WIB)


def item(item_id: int, name: str, price: int, *, variant: str = "", sku: str = "") -> Json:
    return {
        "id": item_id,
        "name": name,
        "is_sales_type_price": False,
        "category_id": 1,
        "category": {"id": 1, "name": "Minuman"},
        "item_variants": [
            {"id": item_id * 10, "name": variant, "sku": sku, "price": price, "track_stock": True}
        ],
        "active_modifiers": [],
    }


def option(option_id: int, name: str, price: int, group: str = "Topping") -> tuple[Json, Json]:
    return ({"id": option_id // 10, "name": group}, {"id": option_id, "name": name, "price": price})


ES_TEH = item(101, "Es Teh", 8000)
KOPI = item(102, "Kopi Susu", 23500, variant="Large", sku="KS-L")
NASI = item(103, "Nasi Goreng", 35000)
BOBA = option(9001, "Boba", 5000)
KEJU = option(9002, "Keju", 3500)


def line(
    product: Json,
    quantity: int = 1,
    *options: tuple[Json, Json],
    discounts: Sequence[Discount] = (),
) -> CartLine:
    return CartLine(product, product["item_variants"][0], quantity, list(options), list(discounts))


@dataclass
class Till:
    """One outlet's till: ids and receipt numbers from a seeded RNG."""

    seed: int = 1
    rounding: Rounding = field(default_factory=Rounding)

    def __post_init__(self) -> None:
        self.ids = Ids(random.Random(self.seed))
        self.ctx = PaymentContext(
            business_id=4011,
            outlet_id=OUTLET_ID,
            outlet_name="Jakarta Selatan",
            device_uniq_id="141",
            staff=[Staff(1, "Shinta", "Owner")],
            latitude=-6.3,
            longitude=106.7,
            rounding=self.rounding,
            receipt_counter=36**6,
        )

    def sell(
        self,
        lines: Sequence[CartLine],
        *,
        payment_type: str = "cash",
        taxes: Sequence[Charge] = (PB1,),
        gratuities: Sequence[Charge] = (),
        include_gratuity_tax: bool = False,
        bill_discounts: Sequence[Discount] = (),
        customer: Json | None = None,
        rounding: bool = True,
        at: datetime = MONDAY,
    ) -> Json:
        cart = Cart(
            created_at=at,
            sales_type=DINE_IN,
            lines=list(lines),
            payment_type=payment_type,
            bill_discounts=list(bill_discounts),
            customer=customer,
            gratuities=list(gratuities),
            taxes=list(taxes),
            include_gratuity_tax=include_gratuity_tax,
            enable_rounding=rounding,
        )
        return price_cart(cart, self.ctx, self.ids)

    def refund(
        self, sale: Json, quantities: dict[str, int] | None = None, *, days: int = 1
    ) -> Json:
        moment = datetime.fromisoformat(sale["created_at"]) + timedelta(days=days)
        refund = refund_payment(sale, self.ctx, self.ids, at=moment, quantities=quantities)
        apply_refund(sale, refund)
        return refund

    def pay_invoice(
        self, invoice: Json, amount: Decimal | None, payment_type: str, *, days: int
    ) -> Json:
        moment = datetime.fromisoformat(invoice["created_at"]) + timedelta(days=days)
        return record_invoice_payment(
            invoice, self.ids, amount=amount, payment_type=payment_type, at=moment
        )


def tax_rows(*charges: Charge) -> list[Json]:
    return [{"id": c.id, "name": c.name, "amount": float(c.rate)} for c in charges]


def company_taxes(setting: MappingSetting, *charges: Charge) -> list[Tax]:
    """The Jurnal company's taxes after the master-data sync of these Moka taxes."""
    return [
        Tax(
            id=n,
            name=d.body["tax"]["name"],
            rate=Decimal(d.body["tax"]["rate"]),
            custom_id=d.custom_id,
        )
        for n, d in enumerate(tax_documents(setting, tax_rows(*charges)), start=1)
    ]


def sync(payment: Json, setting: MappingSetting, refs: JurnalRefs | None = None) -> list[Planned]:
    """What the engine does: map, "post" the invoice, map again for its payments and returns."""
    refs = refs or JurnalRefs()
    planned = documents_for_payment(payment, setting, refs)
    invoices = [d for d in planned if isinstance(d, JurnalDocument) and d.kind == "sales_invoice"]
    if invoices:
        refs = refs.with_invoice(invoices[0].custom_id, posted_on_paper(invoices[0]))
        planned = documents_for_payment(payment, setting, refs)
        refs = returns_on_paper(planned, refs)
        planned = documents_for_payment(payment, setting, refs)
    return planned


def amount_due(payment: Mapping[str, Any]) -> Decimal:
    if payment["payment_type"] == "invoice":
        return sum(
            (Decimal(str(payment[k])) for k in ("subtotal", "gratuities", "taxes")), Decimal(0)
        )
    return Decimal(str(payment["total_collected"]))


def assert_exact(payment: Json, planned: Sequence[Planned], taxes: Sequence[Tax]) -> None:
    """The exactness rule, checked with Jurnal's arithmetic on the bodies alone: the invoice
    totals Moka's total exactly with Moka's tax to the rupiah, and each return with its rounding
    adjustment (if it has one) Moka's refund."""
    documents = [d for d in planned if isinstance(d, JurnalDocument)]
    invoice = next(d for d in documents if d.kind == "sales_invoice")
    totals = invoice_totals(invoice.body["sales_invoice"], taxes)
    assert totals.original_amount == amount_due(payment)
    # Beyond the rule (less than half a rupiah apart), invoices land on Moka's rupiah too.
    assert same_rupiah(totals.tax_amount, Decimal(str(payment["taxes"])))
    for line in invoice.body["sales_invoice"]["transaction_lines_attributes"]:
        assert Decimal(line["rate"]) > 0 and Decimal(line.get("discount", "0")) < 100
    posted = posted_on_paper(invoice)
    returns = {d.custom_id: d for d in documents if d.kind == "sales_return"}
    for refund in payment["payment_refunds"]:
        found = [d for cid, d in returns.items() if cid.endswith(refund["uuid"])]
        if not found:
            continue
        result = sales_return_totals(found[0].body["sales_return"], posted, taxes)
        adjustments = [
            d.moka.total
            for d in documents
            if d.kind == "journal_entry" and d.custom_id.endswith(refund["uuid"]) and d.moka
        ]
        paid_back = result.return_amount + sum(adjustments, Decimal(0))
        assert within_rupiah(paid_back, -Decimal(str(refund["total_collected_amount"])))
        assert within_rupiah(result.returned_tax, -Decimal(str(refund["total_tax_amount"])))
