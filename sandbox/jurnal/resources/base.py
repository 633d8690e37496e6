"""What every Jurnal resource has in common: envelopes, `{id}` lookups, paging and sorting,
create with the `custom_id` check (atomic or not), batch create without it, update and delete.

A `Resource` describes one resource; its `build` turns a (merged) request body into a stored
record, validating against the company's documents, and its `render` turns a record into the
answer body. Callers hold the sandbox lock except where `create` deliberately lets go of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..errors import CUSTOM_ID_TAKEN, TRANSACTION_NO_TAKEN, Duplicate, Invalid, NotFound
from ..formats import show_date, timestamp
from ..store import Collection, Company, Record

if TYPE_CHECKING:
    from ..state import JurnalSandbox

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 200


@dataclass
class Context:
    sandbox: JurnalSandbox
    company: Company

    def collection(self, name: str) -> Collection:
        return self.company.collections[name]

    def new_id(self) -> int:
        return self.sandbox.new_id()

    def now(self) -> float:
        return self.sandbox.clock()

    def today(self) -> date:
        return self.sandbox.today()


Build = Callable[[Context, dict[str, Any], Record | None], Record]
Render = Callable[[Context, Record], dict[str, Any]]
Effect = Callable[[Context, Record, int], None]


def any_changes(ctx: Context, changes: dict[str, Any]) -> None:
    """Most resources take a PATCH of any subset of their fields."""


def no_effect(ctx: Context, record: Record, sign: int) -> None:
    """Most resources change nothing else when saved or deleted."""


def may_delete(ctx: Context, record: Record) -> None:
    """Most resources can always be deleted."""


def merge_fields(existing: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH takes the fields it is given and keeps the rest."""
    return {**existing, **changes}


@dataclass(frozen=True)
class Resource:
    name: str  # the collection, and the URL segment unless `path` says otherwise
    singular: str  # request root, and answer root unless `answer_root` says otherwise
    build: Build
    render: Render
    create_status: int = 201
    answer_root: str = ""  # "" means the singular root
    list_root: str = ""  # "" means the resource name
    paged: bool = True
    lookup_fields: tuple[str, ...] = ("custom_id",)  # besides the numeric id
    unique_fields: tuple[str, ...] = ("custom_id",)
    sort_keys: Mapping[str, Callable[[Context, Record], Any]] = field(default_factory=dict)
    refused_sort_keys: frozenset[str] = frozenset()
    effect: Effect = no_effect  # applied with +1 on save and -1 on delete or before a change
    check_delete: Callable[[Context, Record], None] = may_delete
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = merge_fields
    check_changes: Callable[[Context, dict[str, Any]], None] = any_changes  # the PATCH as sent
    batch_status: int | None = None  # None: no batch_create
    required_plan: str | None = None  # creating one needs this plan
    render_row: Render | None = None  # list rows, where they differ from single answers
    bare_get: bool = False  # GET /payment_methods/{id} answers the bare object
    bare_create: bool = False  # POST /product_units answers the bare object
    path: str = ""
    answer_extras: Mapping[str, Any] = field(default_factory=dict)  # beside the root object

    @property
    def url_segment(self) -> str:
        return self.path or self.name

    @property
    def single_root(self) -> str:
        return self.answer_root or self.singular

    @property
    def plural_root(self) -> str:
        return self.list_root or self.name

    def wrap(self, rendered: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
        bare = self.bare_create if created else self.bare_get
        return rendered if bare else {self.single_root: rendered, **self.answer_extras}


# -- reading ----------------------------------------------------------------------------------


def lookup(ctx: Context, resource: Resource, reference: str) -> Record:
    """`{id}` is the numeric id or, where Jurnal allows, a custom id or transaction number."""
    collection = ctx.collection(resource.name)
    if reference.isdigit():
        found = collection.get(int(reference))
        if found is not None:
            return found
    for field_name in resource.lookup_fields:
        matches = collection.find(field_name, reference)
        if matches:
            return matches[0]
    raise NotFound()


def page_of(
    ctx: Context,
    resource: Resource,
    records: list[Record],
    args: Mapping[str, str],
    base_url: str,
) -> dict[str, Any]:
    """One page of a list, rendering only the rows on it."""
    records = sorted_records(ctx, resource, records, args)
    render = resource.render_row or resource.render
    if not resource.paged:
        return {resource.plural_root: [render(ctx, r) for r in records]}
    page = _positive(args.get("page"), 1, "page")
    size = min(_positive(args.get("page_size"), DEFAULT_PAGE_SIZE, "page_size"), MAX_PAGE_SIZE)
    total_pages = max(math.ceil(len(records) / size), 1)
    links = {}
    if page > 1:
        links["prev_link"] = _page_link(base_url, args, page - 1)
    if page < total_pages:
        links["next_link"] = _page_link(base_url, args, page + 1)
    return {
        resource.plural_root: [render(ctx, r) for r in records[(page - 1) * size : page * size]],
        "total_count": len(records),
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }


def sorted_records(
    ctx: Context, resource: Resource, records: list[Record], args: Mapping[str, str]
) -> list[Record]:
    key = args.get("sort_key")
    descending = args.get("sort_order", "asc").lower() == "desc"
    if not key:
        return records[::-1] if descending else records
    if key in resource.refused_sort_keys or key not in resource.sort_keys:
        raise Invalid.field("sort_key", f"({key} is not a valid sort key)")
    sort_value = resource.sort_keys[key]
    return sorted(
        records, key=lambda r: (_sortable(sort_value(ctx, r)), r["id"]), reverse=descending
    )


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


def _positive(raw: str | None, default: int, name: str) -> int:
    if raw in (None, ""):
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid.field(name, "(Must be a positive number)")
    return int(raw)


def _page_link(base_url: str, args: Mapping[str, str], page: int) -> str:
    return f"{base_url}?{urlencode({**args, 'page': page})}"


# -- writing ----------------------------------------------------------------------------------


def check_unique(ctx: Context, resource: Resource, record: Record, own_id: int | None) -> None:
    """409 with the existing id when a unique field is taken by another document."""
    collection = ctx.collection(resource.name)
    taken: dict[str, str] = {}
    existing_id: int | None = None
    for field_name in resource.unique_fields:
        for other in collection.find(field_name, record.get(field_name)):
            if other["id"] != own_id:
                taken[field_name] = _TAKEN.get(field_name, "(has already been taken)")
                existing_id = existing_id or other["id"]
                break
    if existing_id is not None:
        raise Duplicate(existing_id, taken)


_TAKEN = {"custom_id": CUSTOM_ID_TAKEN, "transaction_no": TRANSACTION_NO_TAKEN}


def insert(ctx: Context, resource: Resource, source: dict[str, Any]) -> Record:
    """Build, stamp and store a new document, then apply its effect on others."""
    record = resource.build(ctx, source, None)
    now = ctx.now()
    record.setdefault("request", source)  # builders may return it with ids filled in
    record.update(id=ctx.new_id(), created_at=now, updated_at=now)
    ctx.collection(resource.name).put(record)
    resource.effect(ctx, record, +1)
    return record


def update(ctx: Context, resource: Resource, record: Record, changes: dict[str, Any]) -> Record:
    resource.check_changes(ctx, changes)
    source = resource.merge(record["request"], changes)
    resource.effect(ctx, record, -1)
    try:
        updated = resource.build(ctx, source, record)
        check_unique(ctx, resource, updated, record["id"])
    except Exception:
        resource.effect(ctx, record, +1)
        raise
    updated.setdefault("request", source)
    updated.update(id=record["id"], created_at=record["created_at"], updated_at=ctx.now())
    ctx.collection(resource.name).put(updated)
    resource.effect(ctx, updated, +1)
    return updated


def delete(ctx: Context, resource: Resource, record: Record) -> None:
    resource.check_delete(ctx, record)
    resource.effect(ctx, record, -1)
    ctx.collection(resource.name).remove(record["id"])


def stamps(record: Record) -> dict[str, Any]:
    return {
        "created_at": timestamp(record["created_at"]),
        "updated_at": timestamp(record["updated_at"]),
        "deleted_at": None,
    }


# Transactions sort by date or by creation, whatever their kind.
TRANSACTION_SORT_KEYS: dict[str, Callable[[Context, Record], Any]] = {
    "transaction_date": lambda _, r: r["transaction_date"],
    "created_at": lambda _, r: r["created_at"],
}


def transaction_head(record: Record, type_id: int, type_name: str) -> dict[str, Any]:
    """The fields every approved transaction answer starts with."""
    return {
        "id": record["id"],
        "transaction_no": record["transaction_no"],
        "custom_id": record["custom_id"],
        "status": "approved",
        **stamps(record),
        "transaction_date": show_date(record["transaction_date"]),
        "transaction_type": {"id": type_id, "name": type_name},
    }
