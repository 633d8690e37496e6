"""Moka's JSON numbers as exact Decimals: the one parser every room uses for Moka's money and
quantities (the Jurnal side has its own, `domain.jurnal_arithmetic.to_decimal`).

Moka sends money as JSON floats (`5000.0`, `1643.75`) or integers; `str` of a float is the
shortest text that reads back as the same float, so `Decimal(str(value))` is the amount Moka
meant. `null` and `""` are zero."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class NotANumber(ValueError):
    """A value Moka sent where a number belongs that is no (finite) number."""


def moka_decimal(value: object, field: str = "amount") -> Decimal:
    """An exact Decimal of a Moka number; raises `NotANumber` naming `field` for booleans, text
    that is no number, NaN and infinities."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise NotANumber(f"Moka field {field!r} is not a number: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise NotANumber(f"Moka field {field!r} is not a number: {value!r}") from None
    if not number.is_finite():
        raise NotANumber(f"Moka field {field!r} is not a finite number: {value!r}")
    return number
