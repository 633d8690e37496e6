"""The money of a refund of a paid sale: what the till paid back, and the adjustment that makes
the books exact where Jurnal's return and Moka's refund land on different rupiahs.

A sales return of a paid invoice leaves customer credit (a credit memo) in Jurnal; no money moves
(reference §8). So after the return:

1. a **customer credit-memo refund** (§6.9) pays the whole credit memo out of the deposit account
   of the refund's payment bucket: the cash leaves the account the sale's cash came into, and no
   credit is left on the customer;
2. when Moka paid back a different amount than the return gave back (a partial refund of a sale
   Moka rounded: the return carries its share of the invoice's rounding, Moka rounds the refund
   afresh), a **journal entry** moves the difference between that deposit account and the
   setting's sales account (the company's default sales account when the setting names none),
   where cash rounding is booked (the "Pembulatan" product sells to it): more paid back than
   returned is a debit on the sales account and a credit on the cash, less the other way round.
   Its memo tells the accountant why it exists.

Accounts go by Jurnal id, found in the company's chart (`accounts`): the documented
`refund_from_id`, and `account_id` on the entry's lines. Without a chart (`sambung map`) the
setting's text stands in. Both documents refer to the posted return (its credit memo's id and
amount, from Jurnal's answer), so they are planned once the return is posted; their custom ids
depend on Moka alone (`follow_ups`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.chart import Chart
from domain.jurnal_arithmetic import to_decimal
from domain.mapping.accounts import account_fields
from domain.mapping.buckets import Deposit, deposit_for, tags
from domain.mapping.errors import NotExpressible
from domain.mapping.moka import ZERO, Payment, Refund
from domain.mapping.naming import outlet_custom_id, plain_text
from domain.mapping.setting import MappingSetting
from domain.mapping.wire import day, number


def money_back_custom_id(setting: MappingSetting, refund_uuid: str) -> str:
    return outlet_custom_id(setting, "payback", refund_uuid)


def adjustment_custom_id(setting: MappingSetting, refund_uuid: str) -> str:
    return outlet_custom_id(setting, "adjust", refund_uuid)


def refund_deposit(setting: MappingSetting, sale: Payment, refund: Refund) -> Deposit:
    """The account the money left: the refund's own payment type's bucket (the sale's when the
    refund does not say)."""
    payment_type = refund.payment_type or sale.payment_type
    label = sale.payment_type_label if payment_type == sale.payment_type else payment_type
    return deposit_for(setting, payment_type, label)


def credit_memo_of(posted_return: Mapping[str, Any]) -> Mapping[str, Any] | None:
    memo = posted_return.get("credit_memo")
    if isinstance(memo, Mapping) and memo.get("id") is not None:
        return memo
    return None


def money_back_body(
    setting: MappingSetting,
    sale: Payment,
    refund: Refund,
    posted_return: Mapping[str, Any],
    chart: Chart | None = None,
) -> dict[str, Any] | None:
    """The credit-memo refund paying out the whole credit the posted return left; None when it
    left none (the invoice was not paid, so the return only lowered what is owed)."""
    memo = credit_memo_of(posted_return)
    if memo is None:
        return None
    amount = to_decimal(memo.get("original_amount") or memo.get("amount"))
    if amount <= ZERO:
        return None
    deposit = refund_deposit(setting, sale, refund)
    person = posted_return.get("person")
    body: dict[str, Any] = {
        "transaction_date": day(refund.created_at.date()),
        "person_id": person.get("id") if isinstance(person, Mapping) else None,
        **account_fields(
            chart, "refund_from", deposit.account, f"{deposit.payment_method} refund account"
        ),
        "credit_memo_refund_lines_attributes": [
            {
                "credit_memo_id": memo["id"],
                "refund_amount": number(amount),
                "description": plain_text(f"Moka refund {sale.payment_no}"),
            }
        ],
        "custom_id": money_back_custom_id(setting, refund.uuid),
        "memo": plain_text(f"Moka refund {sale.payment_no} ({deposit.payment_method})"),
    }
    chosen = tags(setting.tag, deposit.tag)
    if chosen:
        body["tags"] = chosen
    return {"customer_credit_memo_refund": body}


def adjustment_body(
    setting: MappingSetting,
    sale: Payment,
    refund: Refund,
    posted_return: Mapping[str, Any],
    chart: Chart | None = None,
) -> tuple[dict[str, Any], Decimal]:
    """The journal entry for what Moka paid back beyond (or short of) the posted return, on
    Jurnal's own return amount, with that difference (positive: more paid back). Raises
    `NotExpressible` when they agree after all (Jurnal rounded the return as Moka did), since a
    journal entry of nothing cannot be posted."""
    returned = to_decimal(posted_return.get("return_amount"))
    difference = refund.totals.collected - returned
    if difference == ZERO:
        raise NotExpressible(
            f"The refund of Moka receipt {sale.payment_no} needed no rounding adjustment after "
            "all: Jurnal's return equals Moka's refund."
        )
    deposit = refund_deposit(setting, sale, refund)
    amount = number(abs(difference))
    why = (
        f"Rounding of Moka refund {sale.payment_no}: the till paid back "
        f"{number(refund.totals.collected)}, the sales return gives back {number(returned)} "
        "(Moka rounded the refund afresh); this books the difference so cash matches Moka."
    )
    rounding_side = {
        **account_fields(
            chart, "account", setting.sales_account, "sales account", field_name="sales_account"
        ),
        "description": "Pembulatan retur",
    }
    cash_side = {
        **account_fields(chart, "account", deposit.account, f"{deposit.payment_method} account"),
        "description": f"Moka {sale.payment_no}",
    }
    debit, credit = (rounding_side, cash_side) if difference > ZERO else (cash_side, rounding_side)
    body: dict[str, Any] = {
        "transaction_date": day(refund.created_at.date()),
        "memo": plain_text(why),
        "custom_id": adjustment_custom_id(setting, refund.uuid),
        "transaction_account_lines_attributes": [
            {**debit, "debit": amount, "credit": "0"},
            {**credit, "debit": "0", "credit": amount},
        ],
    }
    if setting.tag:
        body["tags"] = [setting.tag]
    return {"journal_entry": body}, difference
