"""Moka payment-type codes, their display labels and the add-on's payment-method buckets
(reference §10): one table shared by the Moka sandbox and the Moka→Jurnal mapping.

Codes marked *inferred* in the reference are guesses; an unknown code lands in Lain-lain, and
the caller should warn with the code and label so that a merchant can see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

TUNAI: Final = "Tunai"
EDC: Final = "EDC"
GIFT_CARD: Final = "Gift Card"
OVO: Final = "OVO"
GOPAY: Final = "TCASH/GoPay/QRIS"
LAIN_LAIN: Final = "Lain-lain"

BUCKETS: Final = (TUNAI, EDC, GIFT_CARD, OVO, GOPAY, LAIN_LAIN)


@dataclass(frozen=True)
class PaymentType:
    code: str
    label: str
    bucket: str


PAYMENT_TYPES: Final[dict[str, PaymentType]] = {
    t.code: t
    for t in (
        PaymentType("cash", "Cash", TUNAI),
        PaymentType("card", "Credit / Debit", EDC),
        PaymentType("edc", "EDC", EDC),
        PaymentType("gift_card", "Gift Card", GIFT_CARD),
        PaymentType("ovo", "OVO", OVO),
        PaymentType("gopay", "GoPay", GOPAY),
        PaymentType("tcash", "TCASH", GOPAY),
        PaymentType("other", "Other", LAIN_LAIN),
        PaymentType("invoice", "Invoice", LAIN_LAIN),
    )
}


def bucket_for(code: str | None) -> str:
    """The add-on's bucket for a payment-type code; Lain-lain when the code is unknown."""
    known = PAYMENT_TYPES.get((code or "").strip().lower())
    return known.bucket if known else LAIN_LAIN


def label_for(code: str) -> str:
    known = PAYMENT_TYPES.get(code)
    return known.label if known else code.replace("_", " ").title()
