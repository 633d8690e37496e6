"""Numbers and dates as they go into Jurnal request bodies.

Money, rates and percentages travel as decimal strings ("64000", "17.8125"), which Jurnal takes
(reference §3.5) and which keep every digit of a `Decimal`; whole quantities as integers.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

RUPIAH = Decimal(1)
SEN = Decimal("0.01")
HALF_RUPIAH = Decimal("0.5")


def number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def quantity(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else number(value)


def day(value: date) -> str:
    return value.isoformat()


def rupiah(value: Decimal) -> Decimal:
    """An amount to the rupiah as Jurnal would show it: first to the sen, as Jurnal displays
    money, then to the whole rupiah, both half up."""
    return value.quantize(SEN, rounding=ROUND_HALF_UP).quantize(RUPIAH, rounding=ROUND_HALF_UP)


def within_rupiah(jurnal: Decimal, moka: Decimal) -> bool:
    """The exactness rule's tolerance: "to the rupiah" means the difference rounds to no rupiah,
    i.e. is less than half a rupiah. (Equal rupiah-rounded values would be stricter only at a
    half rupiah, where two amounts a sen apart round apart; no Jurnal form can always avoid that:
    a sale's last refund returns whatever is left, while Moka rounds each refund to the sen.)"""
    return abs(jurnal - moka) < HALF_RUPIAH


def same_rupiah(left: Decimal, right: Decimal) -> bool:
    """Both round to the same rupiah: what the mapping aims for beyond the rule, moving a line by
    a hair where that lands Jurnal's amount on Moka's rupiah."""
    return rupiah(left) == rupiah(right)
