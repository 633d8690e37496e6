"""How Jurnal writes numbers, money and dates in its answers, and reads them in requests
(`reference/jurnal-api.md` §3.4, §3.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from .arithmetic import NotANumber, decimal_of, decimal_text
from .errors import Invalid

REQUEST_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def money(value: Decimal) -> str:
    """A money field in an answer: a decimal string with at least one decimal."""
    return decimal_text(value)


def bare(value: Decimal) -> int | float:
    """The fields Jurnal answers as bare JSON numbers (`witholding_amount`, `return_amount`…).
    Floats print their shortest round-tripping form, so rupiah amounts survive intact."""
    return int(value) if value == value.to_integral_value() else float(value)


def rupiah(value: Decimal) -> str:
    """The `*_currency_format` twin: `Rp.`, two spaces, `.` thousands, `,` decimals."""
    cents = value.quantize(Decimal("0.01"), ROUND_HALF_UP)
    body = f"{abs(cents):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return "Rp.  " + ("-" if cents < 0 else "") + body


def number(value: object, field: str) -> Decimal:
    try:
        return decimal_of(value)
    except NotANumber:
        raise Invalid.field(field, "(Must be a number)") from None


def parse_date(value: object, field: str) -> date:
    """Requests may send `YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY`."""
    text = str(value).strip()
    for pattern in REQUEST_DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise Invalid.field(field, "(Invalid date format)")


def show_date(value: date | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value is not None else None


def timestamp(epoch_seconds: float) -> str:
    """UTC with milliseconds, as Jurnal answers: `2017-10-01T05:42:20.000Z`."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
