"""The Jurnal resources the sandbox serves, by URL segment."""

from __future__ import annotations

from .base import Resource
from .credit_memos import CREDIT_MEMO_APPLICATIONS, CREDIT_MEMO_REFUNDS
from .invoices import SALES_INVOICES
from .journal_entries import JOURNAL_ENTRIES
from .master import (
    ACCOUNTS,
    PAYMENT_METHODS,
    PRODUCT_CATEGORIES,
    PRODUCT_UNITS,
    TAGS,
    TAXES,
    TERMS,
    WAREHOUSES,
)
from .payments import RECEIVE_PAYMENTS
from .people import CONTACTS, CUSTOMERS
from .products import PRODUCTS
from .returns import SALES_RETURNS

RESOURCES: dict[str, Resource] = {
    resource.url_segment: resource
    for resource in (
        ACCOUNTS,
        TAXES,
        TAGS,
        WAREHOUSES,
        PAYMENT_METHODS,
        TERMS,
        PRODUCT_UNITS,
        PRODUCT_CATEGORIES,
        PRODUCTS,
        CUSTOMERS,
        CONTACTS,
        SALES_INVOICES,
        RECEIVE_PAYMENTS,
        SALES_RETURNS,
        CREDIT_MEMO_REFUNDS,
        CREDIT_MEMO_APPLICATIONS,
        JOURNAL_ENTRIES,
    )
}
