"""How Moka writes times and money on the wire (reference §1, §5): `+07:00` timestamps with
milliseconds (v1 objects) or microseconds (payments), display strings, and float money."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

WIB = timezone(timedelta(hours=7), "WIB")


def iso_ms(moment: datetime) -> str:
    """v1 objects: `2017-08-11T09:43:15.795+07:00`."""
    return moment.astimezone(WIB).isoformat(timespec="milliseconds")


def iso_us(moment: datetime) -> str:
    """Payments and refunds: `2022-10-20T15:09:59.496155+07:00`."""
    return moment.astimezone(WIB).isoformat(timespec="microseconds")


def display_date(moment: datetime) -> str:
    """`transaction_date`: `20 Oct 2022`."""
    return moment.astimezone(WIB).strftime("%d %b %Y")


def display_time(moment: datetime) -> str:
    """`transaction_time`, with Moka's spaced colon: `03 : 09 PM`."""
    return moment.astimezone(WIB).strftime("%I : %M %p")


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=WIB)


def money(amount: Decimal) -> float:
    """Rows carry floats (`5000.0`, `1643.75`), as Moka sends them."""
    return float(amount)


def total(amount: Decimal) -> int | float:
    """Header totals come as integers when whole (`92000`) and floats otherwise (`52.5`)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)
