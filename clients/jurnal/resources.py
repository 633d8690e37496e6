"""The envelope of each Jurnal resource the client uses (`reference/jurnal-api.md` §3.1): the
request root, the single-answer root, the list root, and how a `custom_id` is found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceInfo:
    path: str
    singular: str  # request root
    answer_root: str = ""  # "" → the singular root; answers may also come bare
    list_root: str = ""  # "" → the path
    # `customers/{id}` takes the numeric id only, so a custom id is found by listing.
    get_by_custom_id: bool = True
    paged: bool = True
    name_field: str = "name"

    @property
    def single_root(self) -> str:
        return self.answer_root or self.singular

    @property
    def plural_root(self) -> str:
        return self.list_root or self.path


RESOURCES: dict[str, ResourceInfo] = {
    info.path: info
    for info in (
        ResourceInfo("accounts", "account"),
        ResourceInfo("taxes", "tax", answer_root="company_tax", list_root="company_taxes"),
        ResourceInfo("tags", "tag", paged=False),
        ResourceInfo("warehouses", "warehouse"),
        ResourceInfo("payment_methods", "payment_method", paged=False),
        ResourceInfo("terms", "term"),
        ResourceInfo("product_units", "product_unit", paged=False),
        ResourceInfo("product_categories", "product_category", paged=False),
        ResourceInfo("products", "product"),
        ResourceInfo("customers", "customer", get_by_custom_id=False, name_field="display_name"),
        ResourceInfo("contacts", "person", get_by_custom_id=False, name_field="display_name"),
        ResourceInfo("sales_invoices", "sales_invoice", name_field="transaction_no"),
        ResourceInfo("receive_payments", "receive_payment", name_field="transaction_no"),
        ResourceInfo("sales_returns", "sales_return", name_field="transaction_no"),
        ResourceInfo(
            "customer_credit_memo_refund",
            "customer_credit_memo_refund",
            name_field="transaction_no",
        ),
        ResourceInfo("journal_entries", "journal_entry", name_field="transaction_no"),
    )
}


def resource(path: str) -> ResourceInfo:
    try:
        return RESOURCES[path]
    except KeyError:
        raise ValueError(f"unknown Jurnal resource {path!r}") from None
