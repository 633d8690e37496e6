"""Journal entries: debits and credits between accounts, for what no sales document can say.

`reference/jurnal-api.md` lists no journal-entry body, so this resource is modelled on Jurnal's
other transactions (inferred throughout): `POST /journal_entries` with the root `journal_entry`,
`transaction_date`, `transaction_no` (else auto-numbered), `memo`, `custom_id` (409 when reused;
`{id}` takes it), `tags`, and `transaction_account_lines_attributes` of
`{account_id|account_name|account_number, debit, credit, description}`; 201 with the same root.
It is no kinder than the documented transactions: at least two lines, each either a debit or a
credit and not both, every account known, debits equal to credits to the sen, no emoji in the
memo.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import Invalid, Problems
from ..formats import money, number, rupiah
from ..store import Record
from .base import TRANSACTION_SORT_KEYS, Context, Resource, transaction_head
from .master import account_by, optional_text
from .transactions import check_texts, full_account_ref, tags, transaction_date

ZERO = Decimal(0)
UNBALANCED = "Total debit and total credit must be equal"


def build_entry(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    problems = Problems()
    texts = check_texts(source, problems)
    entry_tags = tags(ctx, source, problems)
    issued = transaction_date(source, "transaction_date", problems, ctx.today())
    lines = _lines(ctx, source, problems)
    debit = sum((line["debit"] for line in lines), ZERO)
    credit = sum((line["credit"] for line in lines), ZERO)
    if lines and debit != credit:
        problems.message(UNBALANCED)
    problems.raise_any()
    return {
        "transaction_no": own["transaction_no"] if own else _number(ctx, source),
        "custom_id": optional_text(source, "custom_id"),
        "transaction_date": issued,
        "memo": texts["memo"],
        "tags": entry_tags,
        "lines": lines,
        "total": debit,
    }


def _number(ctx: Context, source: dict[str, Any]) -> str:
    return optional_text(source, "transaction_no") or ctx.company.next_transaction_no(
        "journal_entry"
    )


def _lines(ctx: Context, source: dict[str, Any], problems: Problems) -> list[dict[str, Any]]:
    rows = source.get("transaction_account_lines_attributes")
    if not isinstance(rows, list) or len(rows) < 2 or not all(isinstance(r, dict) for r in rows):
        problems.field("transaction_account_lines", "(A journal entry needs at least two lines)")
        return []
    lines = []
    for row in rows:
        try:
            account = account_by(ctx, row, "account", "Account")
            debit = number(row.get("debit"), "debit")
            credit = number(row.get("credit"), "credit")
        except Invalid as invalid:
            problems.absorb(invalid)
            continue
        if account is None:
            problems.field("account", "(Account must be sent)")
            continue
        if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
            problems.field(
                "transaction_account_lines", "(Each line is either a debit or a credit above 0)"
            )
            continue
        lines.append(
            {
                "id": ctx.new_id(),
                "account": full_account_ref(account),
                "debit": debit,
                "credit": credit,
                "description": optional_text(row, "description"),
            }
        )
    return lines


def render_entry(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        **transaction_head(record, 11, "Journal Entry"),
        "memo": record["memo"],
        "tags": record["tags"],
        "tags_string": ", ".join(t["name"] for t in record["tags"]),
        "transaction_account_lines_attributes": [
            {
                "id": line["id"],
                "account": line["account"],
                "debit": money(line["debit"]),
                "credit": money(line["credit"]),
                "debit_currency_format": rupiah(line["debit"]),
                "credit_currency_format": rupiah(line["credit"]),
                "description": line["description"],
            }
            for line in record["lines"]
        ],
        "total_debit": money(record["total"]),
        "total_credit": money(record["total"]),
        "currency_code": "IDR",
        "currency_rate": 1,
    }


JOURNAL_ENTRIES = Resource(
    name="journal_entries",
    singular="journal_entry",
    build=build_entry,
    render=render_entry,
    lookup_fields=("custom_id", "transaction_no"),
    sort_keys=TRANSACTION_SORT_KEYS,
)
