"""A Jurnal document the sync will post (its kind, `custom_id` and request body), or the reason a
document a Moka payment needs cannot be made (`Unmappable`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from domain.mapping.errors import MappingError

Kind = Literal[
    "customer",
    "product",
    "tax",
    "sales_invoice",
    "receive_payment",
    "sales_return",
    "customer_credit_memo_refund",
    "journal_entry",
]

# Where each kind is posted, under `/public/jurnal/api/v1`; the body's root is the kind itself.
RESOURCES: dict[str, str] = {
    "customer": "customers",
    "product": "products",
    "tax": "taxes",
    "sales_invoice": "sales_invoices",
    "receive_payment": "receive_payments",
    "sales_return": "sales_returns",
    "customer_credit_memo_refund": "customer_credit_memo_refund",
    "journal_entry": "journal_entries",
}


@dataclass(frozen=True)
class MokaAmounts:
    """What a document stands for on Moka's side, for the engine to check Jurnal's answer
    against: an invoice's collected total and tax; a return's refund (less the adjustment booked
    beside it) and tax; an adjustment's signed amount (positive: more money paid back)."""

    total: Decimal
    tax: Decimal


@dataclass(frozen=True)
class JurnalDocument:
    kind: Kind
    custom_id: str
    body: dict[str, Any]  # with its root: {"sales_invoice": {...}}
    moka: MokaAmounts | None = None

    @property
    def resource(self) -> str:
        """The collection to POST to, and to `GET /<resource>/<custom_id>` from."""
        return RESOURCES[self.kind]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "custom_id": self.custom_id, "body": self.body}


@dataclass(frozen=True)
class Unmappable:
    """A document a payment needs that cannot be made exactly (a sales return Jurnal cannot
    total to Moka's refund, a later payment without a deposit account). The payment's other
    documents still post; this one is reported as failed with `error.message`."""

    kind: Kind
    custom_id: str
    error: MappingError

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "custom_id": self.custom_id,
            "error": type(self.error).__name__,
            "message": self.error.message,
        }


Planned = JurnalDocument | Unmappable
