"""How invoice lines refer to Jurnal products, and the products' names and custom ids.

Lines refer to products by `product_custom_id` (reference §3.3): no lookup, and a product renamed
in Jurnal still matches. With "sync transactions by product name" on, a product that Jurnal does
not have under its Moka custom id (a Moka product deleted before it was synced, re-created by hand
in Jurnal) is referred to by its name instead: the name the master-data sync would have given it,
built from the sale's own snapshot of the item and variant names.
"""

from __future__ import annotations

from domain.mapping.errors import ProductNotSynced
from domain.mapping.naming import apply_naming, option_label, outlet_custom_id, product_label
from domain.mapping.refs import JurnalRefs
from domain.mapping.setting import MappingSetting

ROUNDING_LABEL = "Pembulatan"


def variant_custom_id(setting: MappingSetting, variant_id: int) -> str:
    return outlet_custom_id(setting, "variant", variant_id)


def option_custom_id(setting: MappingSetting, option_id: int) -> str:
    return outlet_custom_id(setting, "option", option_id)


def gratuity_custom_id(setting: MappingSetting, gratuity_id: int) -> str:
    return outlet_custom_id(setting, "gratuity", gratuity_id)


def rounding_custom_id(setting: MappingSetting) -> str:
    return outlet_custom_id(setting, "rounding")


def product_reference(
    setting: MappingSetting,
    refs: JurnalRefs,
    custom_id: str | None,
    label: str,
    moka_ref: str,
) -> dict[str, str]:
    """The line fields that name the product: its custom id, or its name (see module doc)."""
    known = refs.product_custom_ids
    if custom_id is not None and (known is None or custom_id in known):
        return {"product_custom_id": custom_id}
    name = apply_naming(setting, label)
    if setting.sync_by_product_name:
        return {"product_name": name}
    raise ProductNotSynced(name, moka_ref)


def variant_reference(
    setting: MappingSetting,
    refs: JurnalRefs,
    variant_id: int | None,
    item_name: str,
    variant_name: str,
) -> dict[str, str]:
    custom_id = None if variant_id is None else variant_custom_id(setting, variant_id)
    return product_reference(
        setting,
        refs,
        custom_id,
        product_label(item_name, variant_name),
        f"Moka variant {variant_id}",
    )


def option_reference(
    setting: MappingSetting,
    refs: JurnalRefs,
    option_id: int | None,
    group_name: str,
    option_name: str,
) -> dict[str, str]:
    custom_id = None if option_id is None else option_custom_id(setting, option_id)
    return product_reference(
        setting,
        refs,
        custom_id,
        option_label(group_name, option_name),
        f"Moka modifier option {option_id}",
    )


def gratuity_reference(
    setting: MappingSetting, refs: JurnalRefs, gratuity_id: int | None, name: str
) -> dict[str, str]:
    custom_id = None if gratuity_id is None else gratuity_custom_id(setting, gratuity_id)
    return product_reference(setting, refs, custom_id, name, f"Moka service charge {gratuity_id}")


def rounding_reference(setting: MappingSetting, refs: JurnalRefs) -> dict[str, str]:
    return product_reference(
        setting, refs, rounding_custom_id(setting), ROUNDING_LABEL, "cash rounding"
    )
