"""The Moka → Jurnal mapping: pure functions from Moka data, a setting and the known Jurnal
references to the exact Jurnal request bodies (design §2, §6).

The sync engine calls:

- `documents_for_payment(payment, setting, refs)` for each Moka v3 payment (its invoice, receive
  payments and sales returns, in posting order; see `sale`);
- `customer_display_names` + `customer_documents`, `product_documents` and `tax_documents` for
  master data (see `master`).

Each raises a `MappingError` subclass (see `errors`) instead of producing a body that Jurnal would
total differently from Moka.
"""

from domain.mapping.document import JurnalDocument, Planned, Unmappable
from domain.mapping.errors import MappingError
from domain.mapping.master import (
    customer_display_names,
    customer_documents,
    product_documents,
    tax_documents,
)
from domain.mapping.refs import JurnalRefs
from domain.mapping.sale import documents_for_payment, sale_invoice_custom_id
from domain.mapping.setting import MappingSetting, SettingValues, default_setting

__all__ = [
    "JurnalDocument",
    "JurnalRefs",
    "MappingError",
    "MappingSetting",
    "Planned",
    "SettingValues",
    "Unmappable",
    "customer_display_names",
    "customer_documents",
    "default_setting",
    "documents_for_payment",
    "product_documents",
    "sale_invoice_custom_id",
    "tax_documents",
]
