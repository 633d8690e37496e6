"""The sandbox's in-memory documents: one `Company` per Jurnal company, holding a `Collection` per
resource. Callers hold the sandbox lock; nothing here locks on its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .arithmetic import Rules

Record = dict[str, Any]

# Fields each collection can be searched by; names compare case-insensitively (§3.3).
INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ("custom_id", "name", "number"),
    "taxes": ("custom_id", "name"),
    "tags": ("custom_id", "name"),
    "warehouses": ("custom_id", "name", "code"),
    "payment_methods": ("custom_id", "name"),
    "terms": ("custom_id", "name"),
    "product_units": ("custom_id", "name"),
    "product_categories": ("custom_id", "name"),
    "products": ("custom_id", "name", "product_code"),
    "customers": ("custom_id", "display_name"),
    "sales_invoices": ("custom_id", "transaction_no"),
    "receive_payments": ("custom_id", "transaction_no"),
    "sales_returns": ("custom_id", "transaction_no"),
    "customer_credit_memo_refund": ("custom_id", "transaction_no"),
    "customer_apply_credit_memo": ("custom_id", "transaction_no"),
    "journal_entries": ("custom_id", "transaction_no"),
}
CASE_INSENSITIVE = frozenset({"name", "display_name"})


def index_value(field_name: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    return text.casefold() if field_name in CASE_INSENSITIVE else text


class Collection:
    """Documents of one resource, in creation order, with indexes on the searchable fields.
    An index maps to a list because the non-atomic duplicate check can let twins in."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields = INDEXED_FIELDS[name]
        self._records: dict[int, Record] = {}
        self._indexes: dict[str, dict[str, list[int]]] = {f: {} for f in self.fields}

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._records.values()))

    def get(self, record_id: int) -> Record | None:
        return self._records.get(record_id)

    def find(self, field_name: str, value: object) -> list[Record]:
        key = index_value(field_name, value)
        if key is None:
            return []
        return [self._records[i] for i in self._indexes[field_name].get(key, [])]

    def first(self, field_name: str, value: object) -> Record | None:
        found = self.find(field_name, value)
        return found[0] if found else None

    def put(self, record: Record) -> None:
        """Insert or replace (by `id`), keeping the indexes right."""
        previous = self._records.get(record["id"])
        if previous is not None:
            self._unindex(previous)
        self._records[record["id"]] = record
        for field_name in self.fields:
            key = index_value(field_name, record.get(field_name))
            if key is not None:
                self._indexes[field_name].setdefault(key, []).append(record["id"])

    def remove(self, record_id: int) -> None:
        record = self._records.pop(record_id)
        self._unindex(record)

    def _unindex(self, record: Record) -> None:
        for field_name in self.fields:
            key = index_value(field_name, record.get(field_name))
            if key is not None:
                ids = self._indexes[field_name][key]
                ids.remove(record["id"])
                if not ids:
                    del self._indexes[field_name][key]

    def custom_id_counts(self) -> dict[str, int]:
        return {key: len(ids) for key, ids in self._indexes["custom_id"].items()}


PLANS = ("basic", "pro", "enterprise")


def plan_of(package: str) -> str:
    """`Trial Enterprise` counts as Enterprise; `Starter` and anything else as Basic (§10)."""
    lowered = package.lower()
    if "enterprise" in lowered:
        return "enterprise"
    if "pro" in lowered:
        return "pro"
    return "basic"


@dataclass
class Company:
    id: int
    name: str
    package: str
    client_id: str
    client_secret: str
    access_token: str | None = None
    # What a lower plan gets for tags or a warehouse: "refuse" (422) or "ignore" (dropped).
    gating: str = "refuse"
    # How the company rounds where the reference does not say (`arithmetic.Rules`).
    arithmetic: Rules = field(default_factory=Rules)
    # The seeded chart's language: "id" (Indonesian) or "en" (English), see `seed`.
    chart: str = "id"
    # Jurnal documents no unique names for taxes, tags, units, categories, payment methods,
    # warehouses or terms; a strict company refuses a taken name anyway (422).
    strict_names: bool = False
    # A tax created without accounts: refused (the documented example sends both), or given
    # the company's default tax accounts.
    tax_account_defaults: bool = False
    # `companies/active` → `default_accounts`: key → account id (see `seed.DEFAULT_ACCOUNTS`).
    default_accounts: dict[str, int] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in INDEXED_FIELDS:
            self.collections.setdefault(name, Collection(name))

    @property
    def plan(self) -> str:
        return plan_of(self.package)

    def allows(self, plan: str) -> bool:
        return PLANS.index(self.plan) >= PLANS.index(plan)

    def next_transaction_no(self, kind: str) -> str:
        """Jurnal numbers each transaction type on its own, counting from 10001."""
        self.numbers[kind] = self.numbers.get(kind, 10000) + 1
        return str(self.numbers[kind])

    def counts(self) -> dict[str, int]:
        return {name: len(collection) for name, collection in self.collections.items()}
