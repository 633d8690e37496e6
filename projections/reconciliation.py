"""Reconciliation: per setting and business day, Moka's sales, returns, taxes and collected
money against what Sambung has posted to Jurnal, with the sales behind any difference.

Both sides are kept as *parts*, each one document's contribution to four metrics:

- Moka, from each payment's latest revision only (a newer revision replaces every part the
  previous one gave): the sale on its `created_at` day (sales = `total_collected`, taxes,
  collected unless it is an unpaid invoice), each refund on its own `created_at` day
  (returns = the refunded amount, taxes and collected go down), and each later payment of an
  invoice on its own day (collected).
- Jurnal, from `DocumentPosted.amounts` (Jurnal's arithmetic on the posted body): a sales
  invoice adds sales, taxes and what it was paid at creation; a sales return adds returns and
  takes taxes down (it moves no money: a paid sale's return leaves customer credit); a
  receive payment adds collected; a credit-memo refund (the money paid back) takes collected
  down; a rounding adjustment (a journal entry) adds its signed amount to returns and takes it
  from collected, so a return that Jurnal rounded differently from Moka's refund, with its
  adjustment, equals the refund. Collected money is thus net of refunds on both sides. A
  document posted again replaces its part.

A setting in daily-summary mode posts a day's paid sales as a few documents for the whole
day: those sales' parts, and the summary documents' (custom ids with `-day-<date>-`), roll up
into one row per day, `summary:<date>` ("Ringkasan Harian <date>"), instead of one per sale;
the mode of each day follows the setting's own events.

Parts roll up into one row per sale and day (the sale found through the payment event the
document resolves) and one row per day; both change by the part's delta, so a day's totals cost
one row to read whatever the size of the log. While a sale's two sides differ, its entry in the
answer is also kept ready, as JSON text, in `proj_recon_listed` (in the order a day lists them),
and leaves it when they agree again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from domain.daily_summary import PostingMode, summarised
from domain.log import (
    DocumentKind,
    DocumentPosted,
    PaymentReceived,
    SettingChanged,
    SettingCreated,
)
from domain.mapping.errors import MappingError
from domain.mapping.moka import read_payment
from domain.moka_money import NotANumber, moka_decimal
from domain.settings import posting_mode_on
from infra.eventlog import GlobalEntry
from infra.readmodel_schema import METRICS
from infra.readmodels import Db
from projections.view import Context

ZERO = Decimal(0)
SIDES = ("moka", "jurnal")
_SUMMARY_DOCUMENT = re.compile(r"-day-(\d{4}-\d{2}-\d{2})-\d+-")


@dataclass(frozen=True)
class Metrics:
    sales: Decimal = ZERO
    returns: Decimal = ZERO
    taxes: Decimal = ZERO
    collected: Decimal = ZERO

    def values(self) -> tuple[Decimal, ...]:
        return (self.sales, self.returns, self.taxes, self.collected)

    @classmethod
    def of(cls, values: Sequence[Decimal]) -> Metrics:
        return cls(*values)

    def plus(self, other: Metrics, sign: int = 1) -> Metrics:
        return Metrics.of(
            [a + sign * b for a, b in zip(self.values(), other.values(), strict=True)]
        )

    @property
    def is_zero(self) -> bool:
        return all(value == 0 for value in self.values())

    def as_dict(self) -> dict[str, str]:
        return {
            name: decimal_text(value) for name, value in zip(METRICS, self.values(), strict=True)
        }


@dataclass(frozen=True)
class Part:
    """One document's contribution to one sale's day."""

    key: str
    sale_id: str
    reference: str
    business_date: date
    metrics: Metrics


def decimal_text(value: Decimal) -> str:
    """A Decimal as a plain string, without exponent or trailing zeros ('92000', '356.25')."""
    return "0" if value == 0 else format(value.normalize(), "f")


# -- Moka's side --------------------------------------------------------------------------------


def moka_parts(
    moka_id: str, record: Mapping[str, Any], timezone: ZoneInfo, received: date
) -> list[Part]:
    """What one revision of a Moka payment contributes: the sale (or, for a refund sent as a
    payment of its own, that refund), its nested refunds and an invoice's later payments.
    `received` (the revision's `updated_at` day) stands in for a missing `created_at`."""

    def day(row: Mapping[str, Any]) -> date:
        return _day(row, timezone) or received

    parent = record.get("parent_payment_uuid")
    if parent and str(parent) != moka_id:
        reference = str(record.get("payment_no") or moka_id)
        return [_refund_part(str(parent), reference, record, day(record))]
    reference = str(record.get("payment_no") or moka_id)
    is_invoice = record.get("payment_type") == "invoice"
    due = _money(record, "total_collected", "total_collected_amount")
    if is_invoice and due == 0:
        # Moka's own invoice rows may show 0 collected with a cancelling rounding (reference
        # §9.2 item 6); the amount due is then subtotal + service charges + taxes.
        due = (
            _money(record, "subtotal")
            + _money(record, "gratuities", "total_gratuity_amount")
            + _money(record, "taxes", "total_tax_amount")
        )
    sale = Metrics(
        sales=due,
        taxes=_money(record, "taxes", "total_tax_amount"),
        collected=ZERO if is_invoice else due,
    )
    parts = [Part(f"sale:{moka_id}", moka_id, reference, day(record), sale)]
    for paid in record.get("invoice_payment_records") or []:
        key = f"invoice_payment:{paid.get('uuid')}"
        metrics = Metrics(collected=_money(paid, "amount"))
        parts.append(Part(key, moka_id, reference, day(paid), metrics))
    parts += [
        _refund_part(moka_id, reference, refund, day(refund))
        for refund in record.get("payment_refunds") or []
    ]
    return parts


def _refund_part(sale_id: str, reference: str, refund: Mapping[str, Any], day: date) -> Part:
    # Moka signs refunds negative (reference §8.4); magnitudes keep this independent of that.
    amount = abs(_money(refund, "total_collected_amount", "total_collected")) or abs(
        _money(refund, "refund_amount")
    )
    tax = abs(_money(refund, "total_tax_amount", "taxes"))
    refund_id = refund.get("uuid") or refund.get("refund_uuid") or refund.get("id")
    metrics = Metrics(returns=amount, taxes=-tax, collected=-amount)
    return Part(f"refund:{refund_id}", sale_id, reference, day, metrics)


def _money(record: Mapping[str, Any], *names: str) -> Decimal:
    """The first of `names` that the record carries, as an exact Decimal (Moka sends floats)."""
    for name in names:
        value = record.get(name)
        if value is None or value == "":
            continue
        try:
            return moka_decimal(value, name)
        except NotANumber:
            continue
    return ZERO


def _day(record: Mapping[str, Any], timezone: ZoneInfo) -> date | None:
    """The business day of a Moka record: its `created_at` where the business is."""
    try:
        instant = datetime.fromisoformat(str(record.get("created_at")).strip())
    except ValueError:
        return None
    return instant.astimezone(timezone).date() if instant.tzinfo else None


# -- Jurnal's side ------------------------------------------------------------------------------


def jurnal_metrics(kind: str, amounts: Mapping[str, str]) -> Metrics | None:
    """What one posted document counts for, by its kind; None for documents that are not
    sales money (products, customers, taxes)."""
    total, tax = Decimal(amounts["total"]), Decimal(amounts["tax"])
    if kind == DocumentKind.SALES_INVOICE:
        return Metrics(sales=total, taxes=tax, collected=Decimal(amounts.get("paid", "0")))
    if kind == DocumentKind.SALES_RETURN:
        return Metrics(returns=total, taxes=-tax)
    if kind == DocumentKind.RECEIVE_PAYMENT:
        return Metrics(collected=total)
    if kind == DocumentKind.CREDIT_MEMO_REFUND:
        return Metrics(collected=-total)
    if kind == DocumentKind.JOURNAL_ENTRY:
        # A daily summary's balancing entry also moves tax; a refund's adjustment never does.
        return Metrics(returns=total, taxes=tax, collected=-total)
    return None


# -- the view -----------------------------------------------------------------------------------


def summary_row(day: date) -> tuple[str, str]:
    """The sale id and reference of a daily summary's row."""
    return f"summary:{day.isoformat()}", f"Ringkasan Harian {day.isoformat()}"


class Reconciliation:
    events = (PaymentReceived, DocumentPosted, SettingCreated, SettingChanged)

    def apply(self, db: Db, entry: GlobalEntry, context: Context) -> None:
        event = entry.event
        if isinstance(event, SettingCreated):
            db.execute(
                "INSERT INTO proj_recon_modes (setting_id, first_mode, changes) VALUES (?, ?, ?)"
                " ON CONFLICT (setting_id) DO NOTHING",
                (str(event.setting_id), event.values.get("posting_mode") or "per_sale", "{}"),
            )
        elif isinstance(event, SettingChanged) and "posting_mode_changes" in event.changes:
            db.execute(
                "UPDATE proj_recon_modes SET changes = ? WHERE setting_id = ?",
                (json.dumps(event.changes["posting_mode_changes"], sort_keys=True),
                 str(event.setting_id)),
            )  # fmt: skip
        elif isinstance(event, PaymentReceived):
            self._payment(db, event, context)
        elif isinstance(event, DocumentPosted) and event.amounts:
            self._posted(db, event)

    def _payment(self, db: Db, event: PaymentReceived, context: Context) -> None:
        setting_id = str(event.setting_id)
        received = context.local(event.updated_at).date()
        found = moka_parts(event.moka_id, event.record, context.timezone, received)
        if found and self._summarised(db, setting_id, event.record, found[0].business_date):
            found = [
                Part(p.key, *summary_row(p.business_date), p.business_date, p.metrics)
                for p in found
            ]
        parts = {part.key: part for part in found}
        _positions(db)[setting_id, event.position] = found[0].sale_id
        before = {
            row[0]: _part(row)
            for row in db.all(
                "SELECT part_key, sale_id, reference, business_date, sales, returns, taxes,"
                " collected FROM proj_recon_parts"
                " WHERE setting_id = ? AND side = 'moka' AND source_key = ?",
                (setting_id, event.moka_id),
            )
        }
        for key in sorted(before.keys() | parts.keys()):
            old = before.get(key) or self._stored_part(db, setting_id, "moka", key)
            self._replace(db, setting_id, "moka", event.moka_id, old, parts.get(key))

    def _posted(self, db: Db, event: DocumentPosted) -> None:
        assert event.amounts is not None
        metrics = jurnal_metrics(event.kind, event.amounts)
        if metrics is None:
            return
        setting_id = str(event.setting_id)
        sale_id = _positions(db).get((setting_id, event.resolves))
        if sale_id is None:
            row = db.one(
                "SELECT sale_id FROM proj_recon_positions WHERE setting_id = ? AND position = ?",
                (setting_id, event.resolves),
            )
            # A document that resolves no payment event still counts, under its Moka reference.
            sale_id = row[0] if row else f"ref:{event.moka_reference}"
        day = date.fromisoformat(event.amounts["business_date"])
        reference = event.moka_reference
        if _SUMMARY_DOCUMENT.search(event.custom_id):
            sale_id, reference = summary_row(day)
        new = Part(event.custom_id, sale_id, reference, day, metrics)
        old = self._stored_part(db, setting_id, "jurnal", event.custom_id)
        self._replace(db, setting_id, "jurnal", event.custom_id, old, new)

    @staticmethod
    def _summarised(db: Db, setting_id: str, record: Mapping[str, Any], day: date) -> bool:
        """Whether the payment went into its day's summary (see `jobs.summary`)."""
        row = db.one(
            "SELECT first_mode, changes FROM proj_recon_modes WHERE setting_id = ?",
            (setting_id,),
        )
        if row is None:
            return False
        mode = posting_mode_on(day, row[0], json.loads(row[1]))
        if mode != PostingMode.DAILY_SUMMARY:
            return False
        try:
            return summarised(read_payment(record))
        except MappingError:
            return False

    @staticmethod
    def _stored_part(db: Db, setting_id: str, side: str, key: str) -> Part | None:
        row = db.one(
            "SELECT part_key, sale_id, reference, business_date, sales, returns, taxes, collected"
            " FROM proj_recon_parts WHERE setting_id = ? AND side = ? AND part_key = ?",
            (setting_id, side, key),
        )
        return None if row is None else _part(row)

    def _replace(
        self, db: Db, setting_id: str, side: str, source: str, old: Part | None, new: Part | None
    ) -> None:
        # Many revisions change nothing that counts (a customer attached at the till, a note):
        # then only the part's row is rewritten, and the sums are left alone.
        if old is not None and old != new:
            self._add(db, setting_id, side, old, sign=-1)
        if new is not None:
            if old != new:
                self._add(db, setting_id, side, new, sign=1)
            db.execute(
                "INSERT INTO proj_recon_parts (setting_id, side, part_key, source_key, sale_id,"
                " reference, business_date, sales, returns, taxes, collected)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (setting_id, side, part_key) DO UPDATE SET"
                " source_key = excluded.source_key, sale_id = excluded.sale_id,"
                " reference = excluded.reference, business_date = excluded.business_date,"
                " sales = excluded.sales, returns = excluded.returns, taxes = excluded.taxes,"
                " collected = excluded.collected",
                (
                    setting_id,
                    side,
                    new.key,
                    source,
                    new.sale_id,
                    new.reference,
                    new.business_date.isoformat(),
                    *(decimal_text(v) for v in new.metrics.values()),
                ),
            )
        elif old is not None:
            db.execute(
                "DELETE FROM proj_recon_parts WHERE setting_id = ? AND side = ? AND part_key = ?",
                (setting_id, side, old.key),
            )

    def _add(self, db: Db, setting_id: str, side: str, part: Part, *, sign: int) -> None:
        """Add (or take away) a part's metrics to its sale's day and to the day's totals."""
        day = part.business_date.isoformat()
        row = db.one(
            "SELECT reference, " + SIDE_COLUMNS + " FROM proj_recon_sales"
            " WHERE setting_id = ? AND sale_id = ? AND business_date = ?",
            (setting_id, part.sale_id, day),
        )
        sides = sides_of(row[1:]) if row else {s: Metrics() for s in SIDES}
        differed = row is not None and sides["moka"] != sides["jurnal"]
        sides[side] = sides[side].plus(part.metrics, sign)
        differs = sides["moka"] != sides["jurnal"]
        # The Moka receipt number names a sale; a Jurnal document's reference only stands in.
        reference = part.reference if side == "moka" or row is None else row[0]
        if sides["moka"].is_zero and sides["jurnal"].is_zero:
            db.execute(
                "DELETE FROM proj_recon_sales WHERE setting_id = ? AND sale_id = ?"
                " AND business_date = ?",
                (setting_id, part.sale_id, day),
            )
        else:
            difference = sides["moka"].plus(sides["jurnal"], -1)
            db.execute(
                "INSERT INTO proj_recon_sales (setting_id, sale_id, business_date, reference, "
                f"{SIDE_COLUMNS}, {_DIFFERENCE_COLUMNS}, differs)"
                f" VALUES ({', '.join('?' * 17)})"
                " ON CONFLICT (setting_id, sale_id, business_date) DO UPDATE SET"
                f" reference = excluded.reference, {_SIDE_UPDATES}, {_DIFFERENCE_UPDATES},"
                " differs = excluded.differs",
                (
                    setting_id,
                    part.sale_id,
                    day,
                    reference,
                    *_side_texts(sides),
                    *(decimal_text(v) for v in difference.values()),
                    int(differs),
                ),
            )
        if differed and (not differs or row[0] != reference):
            db.execute(
                "DELETE FROM proj_recon_listed WHERE setting_id = ? AND business_date = ?"
                " AND reference = ? AND sale_id = ?",
                (setting_id, day, row[0], part.sale_id),
            )
        if differs:
            db.execute(
                "INSERT INTO proj_recon_listed (setting_id, business_date, reference, sale_id,"
                " listing) VALUES (?, ?, ?, ?, ?) ON CONFLICT (setting_id, business_date,"
                " reference, sale_id) DO UPDATE SET listing = excluded.listing",
                (
                    setting_id,
                    day,
                    reference,
                    part.sale_id,
                    sale_listing(part.sale_id, reference, sides),
                ),
            )
        delta = Metrics().plus(part.metrics, sign)
        self._add_to_day(db, setting_id, day, side, delta, int(differs) - int(differed))

    @staticmethod
    def _add_to_day(
        db: Db, setting_id: str, day: str, side: str, delta: Metrics, differing: int
    ) -> None:
        days = _days(db)
        if (setting_id, day) not in days:
            row = db.one(
                f"SELECT differing, {SIDE_COLUMNS} FROM proj_recon_days"
                " WHERE setting_id = ? AND business_date = ?",
                (setting_id, day),
            )
            sides = sides_of(row[1:]) if row else {s: Metrics() for s in SIDES}
            days[setting_id, day] = _Day(sides, row[0] if row else 0)
        totals = days[setting_id, day]
        totals.sides[side] = totals.sides[side].plus(delta)
        totals.differing += differing


@dataclass
class _Day:
    """A day's totals while a batch changes them (see `Db.pending`)."""

    sides: dict[str, Metrics]
    differing: int


def _days(db: Db) -> dict[tuple[str, str], _Day]:
    return db.pending("reconciliation.days", _write_days)


def _write_days(db: Db, days: dict[tuple[str, str], _Day]) -> None:
    db.executemany(
        f"INSERT INTO proj_recon_days (setting_id, business_date, {SIDE_COLUMNS}, differing)"
        f" VALUES ({', '.join('?' * 11)})"
        f" ON CONFLICT (setting_id, business_date) DO UPDATE SET {_SIDE_UPDATES},"
        " differing = excluded.differing",
        [
            (setting_id, day, *_side_texts(totals.sides), totals.differing)
            for (setting_id, day), totals in sorted(days.items())
        ],
    )


def _positions(db: Db) -> dict[tuple[str, int], str]:
    """Which sale each payment event of this batch is about; written when the batch ends."""
    return db.pending("reconciliation.positions", _write_positions)


def _write_positions(db: Db, positions: dict[tuple[str, int], str]) -> None:
    db.executemany(
        "INSERT INTO proj_recon_positions (setting_id, position, sale_id) VALUES (?, ?, ?)",
        [
            (setting_id, position, sale)
            for (setting_id, position), sale in sorted(positions.items())
        ],
    )


_SIDE_NAMES = [f"{side}_{metric}" for side in SIDES for metric in METRICS]
SIDE_COLUMNS = ", ".join(_SIDE_NAMES)
_SIDE_UPDATES = ", ".join(f"{name} = excluded.{name}" for name in _SIDE_NAMES)
_DIFFERENCE_NAMES = [f"difference_{metric}" for metric in METRICS]
_DIFFERENCE_COLUMNS = ", ".join(_DIFFERENCE_NAMES)
_DIFFERENCE_UPDATES = ", ".join(f"{name} = excluded.{name}" for name in _DIFFERENCE_NAMES)


def sale_listing(sale_id: str, reference: str, sides: Mapping[str, Metrics]) -> str:
    """A differing sale's entry in the reconciliation answer, as the JSON text it is stored as:
    {sale_id, reference, moka, jurnal, difference} (moka − jurnal), money as Decimal strings."""
    entry = {"sale_id": sale_id, "reference": reference, **compared(sides)}
    return json.dumps(entry, separators=(",", ":"))


def compared(sides: Mapping[str, Metrics]) -> dict[str, dict[str, str]]:
    """The two sides and their difference (moka − jurnal), as the answers give them."""
    moka, jurnal = sides["moka"], sides["jurnal"]
    return {
        "moka": moka.as_dict(),
        "jurnal": jurnal.as_dict(),
        "difference": moka.plus(jurnal, -1).as_dict(),
    }


def sides_of(texts: Sequence[str]) -> dict[str, Metrics]:
    numbers = [Decimal(text) for text in texts]
    size = len(METRICS)
    return {side: Metrics.of(numbers[i * size : (i + 1) * size]) for i, side in enumerate(SIDES)}


def _side_texts(sides: Mapping[str, Metrics]) -> list[str]:
    return [decimal_text(v) for side in SIDES for v in sides[side].values()]


def _part(row: Sequence[Any]) -> Part:
    key, sale_id, reference, day, *numbers = row
    metrics = Metrics.of([Decimal(n) for n in numbers])
    return Part(key, sale_id, reference, date.fromisoformat(day), metrics)
