"""Receive payments: the money of a paid sale, and the later payments of an unpaid invoice.

A paid sale's money is a receive payment rather than the invoice's `deposit`, because only a
receive payment carries a payment method and tags (reference §6.7–6.8): the payment's bucket gives
its deposit account, its tag and a payment method named after the bucket. An unpaid invoice gets
one receive payment per later Moka payment record, each with its own bucket. Both refer to the
posted invoice by its Jurnal number (and to its customer), so they are made once the invoice is
posted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.chart import Chart
from domain.mapping.accounts import account_fields
from domain.mapping.buckets import deposit_for, tags
from domain.mapping.moka import ZERO
from domain.mapping.naming import outlet_custom_id, plain_text
from domain.mapping.setting import MappingSetting
from domain.mapping.wire import day, number


@dataclass(frozen=True)
class MoneyIn:
    """One Moka payment of money into the outlet."""

    moka_id: str  # the sale's id, or the invoice payment record's uuid
    when: date
    amount: Decimal
    payment_type: str
    payment_label: str
    memo: str


def payment_custom_id(setting: MappingSetting, moka_id: str) -> str:
    return outlet_custom_id(setting, "payment", moka_id)


def deposit_fields(chart: Chart | None, account: str, what: str) -> dict[str, object]:
    """`deposit_to_id` of the bucket's account, found in the company's chart."""
    return account_fields(chart, "deposit_to", account, what)


def receive_payment_body(
    setting: MappingSetting,
    money: MoneyIn,
    person_name: str,
    invoice: Mapping[str, Any],
    chart: Chart | None = None,
) -> dict[str, Any] | None:
    """The receive payment for `money` against the posted `invoice`; None for nothing paid."""
    if money.amount <= ZERO:
        return None
    deposit = deposit_for(setting, money.payment_type, money.payment_label)
    body: dict[str, Any] = {
        "transaction_date": day(money.when),
        "records_attributes": [
            {"transaction_no": str(invoice["transaction_no"]), "amount": number(money.amount)}
        ],
        "custom_id": payment_custom_id(setting, money.moka_id),
        **_customer_of(invoice, person_name),
        "payment_method_name": deposit.payment_method,
        **deposit_fields(chart, deposit.account, f"{deposit.payment_method} deposit account"),
        "memo": plain_text(money.memo),
        "is_draft": False,
    }
    chosen = tags(setting.tag, deposit.tag)
    if chosen:
        body["tags"] = chosen
    return {"receive_payment": body}


def _customer_of(invoice: Mapping[str, Any], person_name: str) -> dict[str, Any]:
    """The posted invoice's customer, by Jurnal id when the answer gives it: a customer attached
    to the Moka sale after the invoice was posted must not make the payment name another one."""
    person = invoice.get("person")
    if isinstance(person, Mapping) and person.get("id") is not None:
        return {"person_id": person["id"]}
    return {"person_name": person_name}
