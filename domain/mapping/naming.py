"""Names, product codes and `custom_id`s of the Jurnal documents, all derived deterministically
from Moka ids and the setting's naming, so that a second sync finds what the first one made.

Naming (design §2): prefix, name and suffix joined by " | " (`Outlet Jakarta Selatan | Jus
Jeruk`), exactly as `domain.settings.Setting.apply_naming` does; it applies to product names and
codes, tax names and service-charge names, not to customers.

`custom_id`s use only `[A-Za-z0-9_-]` (reference §9: a `#` broke lookups), start with `moka-`, and
carry the outlet for outlet-owned things (the library, sales); customers belong to the Moka
business, so theirs does not. Every id fits in 80 characters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from domain.mapping.setting import MappingSetting
from domain.settings import NAMING_SEPARATOR

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_MAX_PART = 40


def apply_naming(setting: MappingSetting, name: str) -> str:
    parts = (setting.name_prefix, name, setting.name_suffix)
    return NAMING_SEPARATOR.join(part for part in parts if part)


def safe_part(value: object) -> str:
    """A Moka id as a custom-id part: itself when it is already safe and short (UUIDs and
    integers are), otherwise a digest of it, so that distinct ids never collide."""
    text = str(value)
    if _SAFE.fullmatch(text) and len(text) <= _MAX_PART:
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:32]


def custom_id(*parts: object) -> str:
    return "-".join(["moka", *(safe_part(part) for part in parts)])


def outlet_custom_id(setting: MappingSetting, kind: str, *parts: object) -> str:
    return custom_id(setting.outlet_id, kind, *parts)


def plain_text(text: str | None, limit: int = 250) -> str:
    """Free text Jurnal accepts: no emoji or other pictographs ("Memo may not contain emoji"),
    single-spaced, at most `limit` characters."""
    if not text:
        return ""
    if text.isascii():
        return " ".join(text.split())[:limit]
    kept = "".join(
        ch for ch in text if ord(ch) <= 0xFFFF and unicodedata.category(ch) not in ("So", "Cs")
    )
    return " ".join(kept.split())[:limit]


def product_label(item_name: str, variant_name: str | None) -> str:
    """A variant's product name before naming: the item, and the variant when it has a name."""
    item, variant = item_name.strip(), (variant_name or "").strip()
    return f"{item} - {variant}" if variant else item


def option_label(group_name: str, option_name: str) -> str:
    return f"{group_name.strip()} - {option_name.strip()}"


def combined_tax_label(names: Iterable[str]) -> str:
    """One Jurnal tax stands for several Moka taxes on the same base: "PB1 + Retribusi"."""
    return " + ".join(name.strip() for name in names)


def unique_names(entries: Iterable[tuple[str, str]], taken: Iterable[str] = ()) -> list[str]:
    """Names Jurnal can tell apart (it compares them case-insensitively), for `(moka_id, name)`
    entries given oldest first: the first holder of a name keeps it plain and each later one gets
    its Moka id in brackets, so a record created later never renames one that exists. Names in
    `taken` belong to something else and are never kept plain."""
    in_use = {name.casefold() for name in taken}
    chosen = []
    for moka_id, name in entries:
        plain = name.strip()
        unique = plain if plain and plain.casefold() not in in_use else f"{plain} ({moka_id})"
        in_use.add(unique.strip().casefold())
        chosen.append(unique.strip())
    return chosen
