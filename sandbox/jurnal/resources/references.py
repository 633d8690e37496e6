"""References between documents by id, custom id, name or code (`reference/jurnal-api.md` §3.3).

An id or custom id, once sent, decides; names (case-insensitive) and codes are then ignored. Sent
without an id, a name and a code must point at the same document.
"""

from __future__ import annotations

from typing import Any

from ..store import Record
from .base import Context


class Unresolved(Exception):
    """A reference was sent but names no document (or its forms disagree)."""

    def __init__(self, sent: object) -> None:
        self.sent = sent
        super().__init__(str(sent))


def resolve(
    ctx: Context,
    resource: str,
    *,
    by_id: object = None,
    by_custom_id: object = None,
    by_name: object = None,
    by_code: object = None,
    name_field: str = "name",
    code_field: str = "code",
) -> Record | None:
    """The document referred to, None when no form was sent; `Unresolved` when it is unknown."""
    collection = ctx.collection(resource)
    if _sent(by_id):
        found = collection.get(int(str(by_id))) if str(by_id).isdigit() else None
        if found is None:
            raise Unresolved(by_id)
        return found
    if _sent(by_custom_id):
        match = collection.first("custom_id", by_custom_id)
        if match is None:
            raise Unresolved(by_custom_id)
        return match
    by_name_match = collection.first(name_field, by_name) if _sent(by_name) else None
    by_code_match = collection.first(code_field, by_code) if _sent(by_code) else None
    if _sent(by_name) and by_name_match is None:
        raise Unresolved(by_name)
    if _sent(by_code) and by_code_match is None:
        raise Unresolved(by_code)
    if by_name_match and by_code_match and by_name_match["id"] != by_code_match["id"]:
        raise Unresolved(f"{by_name} / {by_code}")
    return by_name_match or by_code_match


def resolve_prefixed(
    ctx: Context,
    resource: str,
    source: dict[str, Any],
    prefix: str,
    *,
    code_suffix: str = "code",
    code_field: str = "code",
    name_field: str = "name",
) -> Record | None:
    """`<prefix>_id`, `<prefix>_custom_id`, `<prefix>_name` and `<prefix>_<code_suffix>`."""
    return resolve(
        ctx,
        resource,
        by_id=source.get(f"{prefix}_id"),
        by_custom_id=source.get(f"{prefix}_custom_id"),
        by_name=source.get(f"{prefix}_name"),
        by_code=source.get(f"{prefix}_{code_suffix}"),
        name_field=name_field,
        code_field=code_field,
    )


def account_ref(record: Record | None) -> dict[str, Any]:
    if record is None:
        return {"id": None, "name": None, "number": None}
    return {"id": record["id"], "name": record["name"], "number": record["number"]}


def _sent(value: object) -> bool:
    return value is not None and value != ""
