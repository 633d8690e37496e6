"""What the mapping needs to know about the Jurnal company: the known references.

Every field is optional. Left at its default, the mapping trusts that master data was synced (by
the mapping's own names and custom ids) and uses Moka's own tax rates — that is how `sambung map`
previews a payment with no Jurnal at hand. Given, each is checked, so that a missing customer,
product or tax fails the item with a message instead of a Jurnal 422.

- `customer_names`: Moka customer id → Jurnal display name, as the master-data sync made them
  (`customer_documents`); the engine keeps it from its own log or from `GET /customers`.
- `taxes`: the company's taxes (`GET /taxes`), for the names invoices refer to and their rates.
- `product_custom_ids`: custom ids of the products that exist in Jurnal (what the master-data sync
  posted), to tell a deleted Moka product from a synced one.
- `chart`: the company's accounts and default accounts (`domain.chart`), so that documents
  refer to the setting's accounts by Jurnal id (see `accounts`).
- `warehouse_ids`: warehouse name (case-insensitive) → Jurnal id, for the setting's warehouse.
- `invoices`: invoice custom id → the posted invoice as Jurnal answered it (the `sales_invoice`
  object of the POST 201 or of `GET /sales_invoices/{custom_id}`). Receive payments and sales
  returns refer to the invoice's Jurnal id, number and line ids, so they are produced only once
  their invoice is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from domain.chart import Chart
from domain.jurnal_arithmetic import Tax


@dataclass(frozen=True)
class JurnalRefs:
    customer_names: Mapping[int, str] | None = None
    taxes: Sequence[Tax] | None = None
    product_custom_ids: frozenset[str] | None = None
    chart: Chart | None = None
    warehouse_ids: Mapping[str, int] | None = None
    invoices: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    returns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def warehouse(self, name: str) -> dict[str, object]:
        """The invoice fields naming the setting's warehouse: by id once known."""
        if self.warehouse_ids is not None and name.casefold() in self.warehouse_ids:
            return {"warehouse_id": self.warehouse_ids[name.casefold()]}
        return {"warehouse_name": name}

    def with_invoice(self, custom_id: str, posted: Mapping[str, Any]) -> JurnalRefs:
        """These references plus one posted invoice (accepts the `sales_invoice` object or the
        whole answer with its root)."""
        invoice = posted.get("sales_invoice", posted)
        if not isinstance(invoice, Mapping):
            raise TypeError("a posted invoice must be the sales_invoice object")
        return replace(self, invoices={**self.invoices, custom_id: invoice})

    def with_return(self, custom_id: str, posted: Mapping[str, Any]) -> JurnalRefs:
        """These references plus one posted sales return (the object or the whole answer)."""
        sales_return = posted.get("sales_return", posted)
        if not isinstance(sales_return, Mapping):
            raise TypeError("a posted return must be the sales_return object")
        return replace(self, returns={**self.returns, custom_id: sales_return})
