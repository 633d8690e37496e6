"""Which of the setting's six payment buckets a Moka payment type falls in, and what a receive
payment carries for it: the bucket's deposit account and tag, and a payment method named after
the bucket (Jurnal creates a payment method given by a new name, reference §6.8).

The code → bucket table is `domain.moka_payment_types`, shared with the Moka sandbox; an unknown
code lands in Lain-lain.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.mapping.errors import PaymentAccountMissing
from domain.mapping.setting import BUCKET_LABELS, MappingSetting
from domain.moka_payment_types import bucket_for

_KEY_OF_LABEL = {label: key for key, label in BUCKET_LABELS.items()}


@dataclass(frozen=True)
class Deposit:
    bucket: str  # the setting's key: cash, edc, gift_card, ovo, tcash, other
    account: str
    tag: str | None
    payment_method: str


def bucket_key(payment_type: str) -> str:
    return _KEY_OF_LABEL[bucket_for(payment_type)]


def deposit_for(setting: MappingSetting, payment_type: str, payment_label: str) -> Deposit:
    key = bucket_key(payment_type)
    label = BUCKET_LABELS[key]
    mapped = setting.payment_accounts.get(key)
    if mapped is None or not mapped.account:
        raise PaymentAccountMissing(label, payment_label or payment_type)
    return Deposit(key, mapped.account, mapped.tag or None, label)


def tags(*names: str | None) -> list[str]:
    """Tag names in order, without blanks or repeats (Jurnal refuses unknown tags, so none are
    invented here: they come from the setting)."""
    chosen: list[str] = []
    for name in names:
        if name and name not in chosen:
            chosen.append(name)
    return chosen
