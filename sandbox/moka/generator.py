"""A deterministic café or restaurant outlet for the Moka sandbox: master data (`catalog`) and a
month of v3 payments with a realistic mix of sales types, payment types, discounts, taxes,
service charges, cash rounding, unpaid invoices paid later in parts, full and partial refunds,
walk-in and member customers, and a few products deleted after they sold.

What the outlet is set up with holds for every receipt, as at a real till: each taxed sale
carries all of the outlet's taxes; `enable_tax`, `enable_gratuity` and cash rounding follow the
checkout settings; a whole-bill percentage discount sits on the lines only; card, e-wallet and
transfer amounts are whole rupiah; and sales, refunds and invoice payments happen in opening
hours.

Every payment obeys Moka's arithmetic as `pricing` computes it and passes
`sandbox.moka.arithmetic.check_payment_arithmetic`. The same seed and arguments give the same
outlet, ids and money.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from domain.moka_money import moka_decimal
from sandbox.moka.catalog import ONLINE_SALES_TYPES, build_catalog, staff_members
from sandbox.moka.formats import WIB, iso_ms, midnight
from sandbox.moka.invoices import invoice_outstanding, record_invoice_payment
from sandbox.moka.payments import Cart, CartLine, Ids, PaymentContext, Staff, price_cart, unit_price
from sandbox.moka.pricing import Charge, Discount, Rounding, cents
from sandbox.moka.refunds import apply_refund, refund_payment
from sandbox.moka.views import invoice_row

Json = dict[str, Any]

DEFAULT_PASSWORD = "sandbox-password"

# Opening hours 08:00-21:59 with lunch and dinner peaks.
OPENS = 8
HOUR_WEIGHTS = [3, 4, 5, 6, 9, 10, 7, 5, 5, 6, 9, 10, 7, 4]
CLOSES = OPENS + len(HOUR_WEIGHTS)
WEEKDAY_FACTORS = [0.85, 0.9, 0.95, 1.0, 1.15, 1.3, 1.2]
LINE_COUNTS = ([1, 2, 3, 4, 5, 6, 8], [35, 30, 18, 10, 5, 1, 1])
QUANTITIES = ([1, 2, 3, 4], [76, 17, 5, 2])
OFFLINE_TENDERS = (
    ["cash", "card", "edc", "gopay", "ovo", "gift_card", "other", "tcash"],
    [45, 11, 8, 18, 9, 3, 3, 1],
)
CARD_TYPES = ["VISA", "MASTERCARD", "DEBIT BCA", "DEBIT MANDIRI"]
OTHER_NOTES = ["Transfer BCA", "Transfer Mandiri", "ShopeePay", "Dana", "LinkAja"]
CASH_UNITS = ([1000, 5000, 10000, 50000, 100000], [2, 3, 3, 3, 3])
LINE_NOTES = ["less ice", "tanpa bawang", "pisah sambal", "extra panas", "bungkus rapi"]


@dataclass
class GeneratedOutlet:
    """One generated business with a single outlet, in the shapes the API serves."""

    seed: int
    start: datetime
    end: datetime
    business: Json
    outlet: Json
    user: Json
    password: str
    checkout_settings: Json
    categories: list[Json]
    items: list[Json]
    modifiers: list[Json]
    discounts: list[Json]
    taxes: list[Json]
    gratuities: list[Json]
    sales_types: list[Json]
    customers: list[Json]
    payments: list[Json]
    context: PaymentContext
    staff: list[Staff] = field(default_factory=list)

    @property
    def email(self) -> str:
        return str(self.user["email"])

    @property
    def invoices(self) -> list[Json]:
        """Invoice payments as raw rows of `/v3/outlets/{id}/reports/invoices`."""
        return [
            invoice_row(p, self.context) for p in self.payments if p["payment_type"] == "invoice"
        ]

    @property
    def products(self) -> int:
        return sum(len(item["item_variants"]) for item in self.items)


def generate_outlet(
    seed: int,
    *,
    products: int = 430,
    customers: int = 130,
    days: int = 30,
    transactions_per_day: int = 100,
    start_date: date | None = None,
    deleted_products: int = 3,
    refund_rate: float = 0.02,
    invoice_rate: float = 0.025,
    inconsistent_rate: float = 0.0,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    enable_tax: bool = True,
    enable_gratuity: bool = True,
) -> GeneratedOutlet:
    """Generate an outlet and `days` days of sales from `start_date` (default: the `days` days
    that end yesterday in Asia/Jakarta; pass a date for a result that does not depend on today).

    `inconsistent_rate` (default 0) is the share of dine-in sales whose tax rows are broken the
    way the official example's are (reference §9.2 item 1): the row taxes subtotal plus service
    charge although `include_gratuity_tax` is false, while the header keeps the true tax. The
    header relations R1–R12 still hold; only the row check fails, for the mismatch path.

    `enable_tax` and `enable_gratuity` are the outlet's checkout settings.
    """
    if start_date is None:
        start_date = datetime.now(WIB).date() - timedelta(days=days)
    rng = random.Random(seed)
    start = midnight(start_date)
    catalog = build_catalog(
        rng,
        start=start,
        products=products,
        customers=customers,
        email=email or f"owner{seed}@sandbox.mokapos.test",
    )
    catalog.checkout_settings.update(enable_tax=enable_tax, enable_gratuity=enable_gratuity)
    staff = [Staff(i, name, title) for i, name, title in staff_members(rng)]
    ctx = PaymentContext(
        business_id=catalog.business["id"],
        outlet_id=catalog.outlet["id"],
        outlet_name=catalog.outlet["name"],
        device_uniq_id=str(rng.randint(100, 999)),
        staff=staff,
        latitude=catalog.outlet["latitude"],
        longitude=catalog.outlet["longitude"],
        rounding=Rounding(),
        receipt_counter=rng.randint(36**5, 36**6),
    )
    month = _Month(
        rng,
        catalog,
        ctx,
        start,
        days,
        transactions_per_day,
        deleted_products,
        refund_rate,
        invoice_rate,
    )
    payments = month.run()
    if inconsistent_rate > 0:
        _break_tax_rows(payments, random.Random(seed ^ 0x9_2), inconsistent_rate)
    catalog.checkout_settings["include_gratuity_tax"] = month.include_gratuity_tax_after
    return GeneratedOutlet(
        seed=seed,
        start=start,
        end=start + timedelta(days=days),
        business=catalog.business,
        outlet=catalog.outlet,
        user=catalog.user,
        password=password,
        checkout_settings=catalog.checkout_settings,
        categories=catalog.categories,
        items=catalog.items,
        modifiers=catalog.modifiers,
        discounts=catalog.discounts,
        taxes=catalog.taxes,
        gratuities=catalog.gratuities,
        sales_types=catalog.sales_types,
        customers=catalog.customers,
        payments=payments,
        context=ctx,
        staff=staff,
    )


def _break_tax_rows(payments: list[Json], rng: random.Random, rate: float) -> None:
    for payment in payments:
        eligible = payment["payment_gratuities"] and not payment["include_gratuity_tax"]
        if not eligible or payment["payment_refunds"] or rng.random() >= rate:
            continue
        base = moka_decimal(payment["subtotal"]) + moka_decimal(payment["gratuities"])
        for row in payment["payment_taxes"]:
            row["taxable_amount"] = float(base)
            row["total"] = float(cents(base * moka_decimal(row["amount"]) / 100))


def discount_of(row: Json) -> Discount:
    return Discount(row["id"], row["name"], row["type"], moka_decimal(row["amount"]), row["guid"])


def charge_of(row: Json) -> Charge:
    return Charge(row["id"], row["name"], moka_decimal(row["amount"]))


class _Month:
    """Rings up a month of sales, then plays refunds and invoice payments in time order."""

    def __init__(
        self,
        rng: random.Random,
        catalog: Any,
        ctx: PaymentContext,
        start: datetime,
        days: int,
        per_day: int,
        deleted_products: int,
        refund_rate: float,
        invoice_rate: float,
    ) -> None:
        self.rng, self.catalog, self.ctx, self.start, self.days = rng, catalog, ctx, start, days
        self.end = start + timedelta(days=days)
        self.per_day, self.refund_rate, self.invoice_rate = per_day, refund_rate, invoice_rate
        self.ids = Ids(rng)
        self.discounts = {row["name"]: discount_of(row) for row in catalog.discounts}
        self.taxes = [charge_of(row) for row in catalog.taxes if not row.get("is_deleted")]
        self.settings = catalog.checkout_settings
        self.gratuities = {row["id"]: charge_of(row) for row in catalog.gratuities}
        self.sales_types = catalog.sales_types
        self.cashiers = [s for s in ctx.staff if s.title != "Owner"]
        self.include_gratuity_tax_before = rng.random() < 0.5
        self.include_gratuity_tax_after = not self.include_gratuity_tax_before
        self.switch_day = days // 2
        self.deletion_day = max(1, (days * 2) // 3)
        simple = [i for i in catalog.items if len(i["item_variants"]) == 1]
        popular = sorted(simple, key=lambda _: rng.random())[: max(0, deleted_products)]
        self.doomed = popular
        ranked = list(catalog.items)
        rng.shuffle(ranked)
        self.popularity = {item["id"]: 1 / (rank + 1) ** 0.8 for rank, item in enumerate(ranked)}
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self._customers_joining_during_month()

    def _customers_joining_during_month(self) -> None:
        # A few customers sign up during the month, so that a catch-up sees new customers too.
        for customer in self.catalog.customers[-max(1, len(self.catalog.customers) // 25) :]:
            moment = self.start + timedelta(seconds=self.rng.randint(0, self.days * 86400 - 1))
            customer["created_at"] = customer["updated_at"] = customer["synchronized_at"] = iso_ms(
                moment
            )
            if customer["loyalty"]:
                customer["loyalty"]["join_date"] = iso_ms(moment)

    def run(self) -> list[Json]:
        payments: list[Json] = []
        for day in range(self.days):
            if day == self.deletion_day:
                self._delete_doomed(self.start + timedelta(days=day, hours=7))
            payments.extend(self._ring_up_day(day))
        for _, _, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            action()
        return payments

    def _opening_hour(self) -> int:
        return OPENS + self.rng.choices(range(len(HOUR_WEIGHTS)), weights=HOUR_WEIGHTS)[0]

    def _item_pool(self, day: int) -> tuple[list[Json], list[float]]:
        gone = {i["id"] for i in self.doomed} if day >= self.deletion_day else set()
        items = [i for i in self.catalog.items if i["id"] not in gone]
        return items, list(accumulate(self.popularity[i["id"]] for i in items))

    def _delete_doomed(self, at: datetime) -> None:
        for item in self.doomed:
            item["is_deleted"] = True
            item["updated_at"] = item["synchronized_at"] = iso_ms(at)
            for variant in item["item_variants"]:
                variant["is_deleted"] = True
                variant["updated_at"] = variant["synchronized_at"] = iso_ms(at)

    def _ring_up_day(self, day: int) -> list[Json]:
        midnight_ = self.start + timedelta(days=day)
        factor = WEEKDAY_FACTORS[midnight_.weekday()] * self.rng.uniform(0.85, 1.15)
        count = max(1, round(self.per_day * factor))
        times = sorted(
            midnight_
            + timedelta(
                hours=self._opening_hour(),
                seconds=self.rng.randint(0, 3599),
                microseconds=self.rng.randint(0, 999_999),
            )
            for _ in range(count)
        )
        items, cumulative = self._item_pool(day)
        members = [
            c
            for c in self.catalog.customers
            if not c["is_deleted"] and c["created_at"] < iso_ms(midnight_)
        ]
        forced = self.doomed[day] if day < min(len(self.doomed), self.deletion_day) else None
        sales = []
        for number, moment in enumerate(times):
            cart = self._cart(moment, day, items, cumulative, members)
            if number == 0 and forced is not None:
                cart.lines.insert(0, CartLine(forced, forced["item_variants"][0], 1))
            sale = price_cart(cart, self.ctx, self.ids)
            sales.append(sale)
            self._schedule_follow_ups(sale)
        return sales

    def _cart(
        self,
        moment: datetime,
        day: int,
        items: list[Json],
        cumulative: list[float],
        members: list[Json],
    ) -> Cart:
        rng = self.rng
        sales_type = rng.choices(self.sales_types, weights=[55, 25, 12, 8])[0]
        online = sales_type["name"] in ONLINE_SALES_TYPES
        picked = rng.choices(items, cum_weights=cumulative, k=rng.choices(*LINE_COUNTS)[0])
        lines = [self._line(item, sales_type) for item in picked]
        customer = rng.choice(members) if members and not online and rng.random() < 0.35 else None
        payment_type = self._payment_type(sales_type["name"], customer)
        if payment_type == "invoice" and customer is None:
            customer = rng.choice(members) if members else None
            payment_type = "invoice" if customer else "cash"
        gross = sum(
            (
                unit_price(ln.item, ln.variant, sales_type, ln.options)[1] * ln.quantity
                for ln in lines
            ),
            Decimal(0),
        )
        cart = Cart(
            created_at=moment,
            sales_type=sales_type,
            lines=lines,
            payment_type=payment_type,
            bill_discounts=self._bill_discounts(gross, customer, moment),
            customer=customer,
            gratuities=[self.gratuities[g["id"]] for g in sales_type["gratuities"]],
            taxes=self.taxes,
            enable_tax=bool(self.settings["enable_tax"]),
            enable_gratuity=bool(self.settings["enable_gratuity"]),
            enable_rounding=bool(self.settings["enable_rounding"]),
            include_gratuity_tax=(
                self.include_gratuity_tax_before
                if day < self.switch_day
                else self.include_gratuity_tax_after
            ),
            served_by=rng.choice(self.cashiers),
            table_name=f"Meja {rng.randint(1, 24)}" if sales_type["name"] == "Dine In" else "",
            synchronized_after=timedelta(
                seconds=rng.randint(1, 30), microseconds=rng.randint(0, 999) * 1000
            ),
        )
        self._tender(cart)
        return cart

    def _line(self, item: Json, sales_type: Json) -> CartLine:
        rng = self.rng
        variant = rng.choice(item["item_variants"])
        options = []
        for group in item["active_modifiers"]:
            required = group["name"] == "Level Gula"
            if required or rng.random() < 0.25:
                options.append((group, rng.choice(group["modifier_options"])))
        line = CartLine(
            item,
            variant,
            rng.choices(*QUANTITIES)[0],
            options,
            note=rng.choice(LINE_NOTES) if rng.random() < 0.05 else None,
        )
        if rng.random() < 0.05:
            gross = unit_price(item, variant, sales_type, options)[1] * line.quantity
            choice = rng.choice(["Happy Hour", "Diskon Karyawan", "Potongan 5rb"])
            if choice != "Potongan 5rb" or gross >= 15000:
                line.discounts.append(self.discounts[choice])
        return line

    def _payment_type(self, sales_type: str, customer: Json | None) -> str:
        if sales_type == "GoFood":
            return "gopay"
        if sales_type == "GrabFood":
            return "other"
        if customer is not None and self.rng.random() < self.invoice_rate * 3:
            return "invoice"
        return self.rng.choices(*OFFLINE_TENDERS)[0]

    def _bill_discounts(
        self, gross: Decimal, customer: Json | None, moment: datetime
    ) -> list[Discount]:
        if self.rng.random() >= 0.08:
            return []
        if customer is not None and customer["loyalty"]:
            return [self.discounts["Diskon Member"]]
        if moment.day >= 25 and self.rng.random() < 0.5:
            return [self.discounts["Promo Gajian"]]
        if gross >= 100000:
            return [self.discounts["Voucher 25rb"]]
        if gross >= 40000:
            return [self.discounts["Voucher 10rb"]]
        return [self.discounts["Promo Gajian"]]

    def _tender(self, cart: Cart) -> None:
        rng = self.rng
        if cart.payment_type == "cash":
            # The cashier is handed a round note; exact payment is as common as the next note.
            cart.cash_note = None if rng.random() < 0.25 else Decimal(rng.choices(*CASH_UNITS)[0])
        elif cart.payment_type in ("card", "edc"):
            cart.card_type = rng.choice(CARD_TYPES)
            cart.card_no = f"************{rng.randint(1000, 9999)}"
        elif cart.payment_type == "other":
            grab = cart.sales_type["name"] == "GrabFood"
            cart.payment_note = "GrabFood" if grab else rng.choice(OTHER_NOTES)

    def _schedule_follow_ups(self, sale: Json) -> None:
        rng = self.rng
        created = datetime.fromisoformat(sale["created_at"])
        if sale["payment_type"] == "invoice":
            self._schedule_invoice_payments(sale, created)
        elif rng.random() < self.refund_rate:
            self._schedule_refunds(sale, created)

    def _later(self, after: datetime) -> datetime:
        if self.rng.random() < 0.6:
            moment = after + timedelta(
                minutes=self.rng.randint(3, 90), seconds=self.rng.randint(0, 59)
            )
            if moment.date() == after.date() and moment.hour < CLOSES:
                return moment
        moment = after + timedelta(days=self.rng.randint(1, 3))
        return moment.replace(hour=self.rng.randint(9, 20), minute=self.rng.randint(0, 59))

    def _schedule_refunds(self, sale: Json, created: datetime) -> None:
        rng = self.rng
        first = self._later(created)
        if first >= self.end:
            return
        seq = len(self.events)
        if rng.random() < 0.55:
            self.events.append((first, seq, lambda: self._refund(sale, first, None)))
            return
        self.events.append((first, seq, lambda: self._refund(sale, first, self._some_units(sale))))
        second = self._later(first)
        if rng.random() < 0.15 and second < self.end:
            self.events.append(
                (second, seq + 1, lambda: self._refund(sale, second, self._some_units(sale)))
            )

    def _some_units(self, sale: Json) -> dict[str, int]:
        left = [c for c in sale["checkouts"] if c["quantity"] > c["refunded_quantity"]]
        if not left:
            return {}
        line = self.rng.choice(left)
        return {line["uuid"]: self.rng.randint(1, line["quantity"] - line["refunded_quantity"])}

    def _refund(self, sale: Json, at: datetime, quantities: dict[str, int] | None) -> None:
        if quantities == {}:
            return
        reason = self.rng.choice(
            ["Cancelled Order", "Returned Goods", "Salah pesanan", "Pesanan lama"]
        )
        refund = refund_payment(
            sale,
            self.ctx,
            self.ids,
            at=at,
            quantities=quantities,
            reason=reason,
            refunded_by=self.rng.choice(self.cashiers),
        )
        apply_refund(sale, refund)

    def _schedule_invoice_payments(self, invoice: Json, created: datetime) -> None:
        rng = self.rng
        parts = rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
        moment = created
        for part in range(parts):
            # The customer comes back to pay on a later day, while the outlet is open.
            day = moment + timedelta(days=rng.randint(1, 7))
            moment = day.replace(
                hour=self._opening_hour(),
                minute=rng.randint(0, 59),
                second=rng.randint(0, 59),
                microsecond=rng.randint(0, 999_999),
            )
            if moment >= self.end:
                return
            method = rng.choices(["cash", "card", "other"], weights=[3, 3, 4])[0]
            last = part == parts - 1
            at = moment
            self.events.append(
                (
                    at,
                    len(self.events),
                    lambda at=at, method=method, last=last, parts=parts: self._pay_invoice(
                        invoice, at, method, last, parts
                    ),
                )
            )

    def _pay_invoice(
        self, invoice: Json, at: datetime, method: str, last: bool, parts: int
    ) -> None:
        outstanding = invoice_outstanding(invoice)
        if outstanding <= 0:
            return
        amount = None
        if not last:
            share = outstanding / parts
            amount = max(Decimal(1000), (share / 1000).to_integral_value() * 1000)
            amount = min(amount, outstanding)
        paying = outstanding if amount is None else amount
        if method != "cash" and paying != paying.to_integral_value():
            # A card or transfer moves whole rupiah; a remainder with sen is settled in cash.
            method = "cash"
        record_invoice_payment(invoice, self.ids, amount=amount, payment_type=method, at=at)
