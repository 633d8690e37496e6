"""Which Jurnal tax an invoice line carries for a Moka payment's taxes.

Moka applies every tax of a payment to the same base, the whole subtotal (plus service charges
when `include_gratuity_tax`); a Jurnal line carries one tax. One Moka tax maps to the Jurnal tax of
the same (prefixed) name and rate, found by the custom id the master-data sync gave it (else by
name), and lines refer to it by its Jurnal id. Several map to one combined Jurnal tax, "PB1 +
Retribusi", at the sum of the rates: the only Jurnal form whose tax equals Moka's to the rupiah.
Its `tax_details` then show one entry instead of one per Moka tax; the master-data sync creates
the combined tax for the outlet's taxes alongside the single ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.jurnal_arithmetic import Tax
from domain.mapping.errors import TaxNotInJurnal, TaxRateMismatch
from domain.mapping.moka import ZERO, Charge
from domain.mapping.naming import apply_naming, combined_tax_label, outlet_custom_id
from domain.mapping.refs import JurnalRefs
from domain.mapping.setting import MappingSetting


def tax_custom_id(setting: MappingSetting, tax_ids: Sequence[int | None]) -> str:
    return outlet_custom_id(setting, "tax", *(str(i) for i in tax_ids))


def moka_tax(setting: MappingSetting, rows: Sequence[Charge]) -> Tax | None:
    """The Jurnal tax that stands for these Moka tax rows (by Moka tax id order), as the
    master-data sync names it; None when nothing is taxed."""
    charged = sorted((row for row in rows if row.rate != ZERO), key=_order)
    if not charged:
        return None
    rate = sum((row.rate for row in charged), ZERO)
    label = combined_tax_label(row.name for row in charged)
    return Tax(
        id=None,
        name=apply_naming(setting, label),
        rate=rate,
        custom_id=tax_custom_id(setting, [row.id for row in charged]),
    )


def jurnal_tax(setting: MappingSetting, refs: JurnalRefs, rows: Sequence[Charge]) -> Tax | None:
    """The tax a line refers to, checked against the company's taxes when they are known."""
    wanted = moka_tax(setting, rows)
    if wanted is None or refs.taxes is None:
        return wanted
    # The tax the master-data sync made, by its custom id; else one made by hand, by name.
    by_custom_id = [tax for tax in refs.taxes if tax.custom_id == wanted.custom_id]
    by_name = [tax for tax in refs.taxes if tax.name.casefold() == wanted.name.casefold()]
    for tax in by_custom_id or by_name:
        if tax.rate != wanted.rate:
            raise TaxRateMismatch(tax.name, _pct(tax.rate), _pct(wanted.rate))
        return tax
    raise TaxNotInJurnal(wanted.name, _pct(wanted.rate))


def taxes_for_check(refs: JurnalRefs, tax: Tax | None) -> list[Tax]:
    """The tax table the exactness check totals with: the company's, else the one tax used."""
    if refs.taxes is not None:
        return list(refs.taxes)
    return [] if tax is None else [tax]


def _order(row: Charge) -> tuple[int, str]:
    return (row.id if row.id is not None else -1, row.name)


def _pct(rate: Decimal) -> str:
    return format(rate.normalize(), "f")
