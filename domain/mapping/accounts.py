"""How documents refer to the company's accounts (reference jurnal-api §3.3, §12): by the
Jurnal id of the account the setting chose (or the company's default, see `domain.chart`), found
in the chart the engine read from Jurnal. An id decides in Jurnal, so a renamed account still
matches and no name has to be unique.

Without a chart (`sambung map`, which has no Jurnal at hand) the setting's own text goes as the
name, or as the number when it looks like one ("1-10001").
"""

from __future__ import annotations

import re

from domain.chart import Account, Chart
from domain.mapping.errors import AccountNotInJurnal

_NUMBER = re.compile(r"\d+-\d+")


def chosen_account(
    chart: Chart | None, field_name: str | None, chosen: str | None, what: str
) -> Account | None:
    """The account a setting field (or, with `field_name` None, a payment bucket) stands for;
    None without a chart. Raises `AccountNotInJurnal` when the chart lacks it."""
    if chart is None:
        return None
    if field_name is None:
        found = chart.find(chosen) if chosen else None
    else:
        found = chart.account_for(field_name, chosen)
    if found is None or found.id is None:
        raise AccountNotInJurnal(what, chosen)
    return found


def by_text(prefix: str, chosen: str) -> dict[str, object]:
    """The preview's reference: `<prefix>_number` for an account number, else `<prefix>_name`."""
    if _NUMBER.fullmatch(chosen.strip()):
        return {f"{prefix}_number": chosen.strip()}
    return {f"{prefix}_name": chosen}


def account_fields(
    chart: Chart | None,
    prefix: str,
    chosen: str | None,
    what: str,
    *,
    field_name: str | None = None,
    form: str = "id",
) -> dict[str, object]:
    """`{<prefix>_id: …}` (or `_number`, where Jurnal documents only name and number) for the
    chosen account; the preview's text without a chart; nothing when there is neither."""
    account = chosen_account(chart, field_name, chosen, what)
    if account is not None:
        return {f"{prefix}_{form}": account.id if form == "id" else account.number}
    return by_text(prefix, chosen) if chosen else {}
