"""`sambung map`: the documents the sync would send for one Moka payment, with no Jurnal at hand.

It runs `documents_for_payment` exactly as the worker does, with empty references (so master data
is taken as synced under the mapping's own names, and Moka's tax rates as Jurnal's). Receive
payments and sales returns need the posted invoice, so the preview "posts" it on paper: the
invoice gets Jurnal id 1 and number `DRY-RUN`, and its lines ids 1, 2, 3… in order. A refund's
money paid back needs its posted return, so returns are posted on paper too: each gives back what
the mapping computes and leaves a credit memo of that amount (id 1001, 1002… in order). Those
placeholders are the only values that differ from what a real sync sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.mapping.document import JurnalDocument
from domain.mapping.errors import MappingError, UnsupportedPayment
from domain.mapping.refs import JurnalRefs
from domain.mapping.sale import documents_for_payment
from domain.mapping.setting import MappingSetting

DRY_RUN_INVOICE_ID = 1
DRY_RUN_INVOICE_NO = "DRY-RUN"


def payment_of(document: Any) -> Mapping[str, Any]:
    """The payment in a file: a bare v3 payment, a webhook (`{"header", "body"}`), or a
    `get_latest_transactions` answer holding exactly one payment."""
    if not isinstance(document, Mapping):
        raise UnsupportedPayment("the file does not hold a JSON object")
    if isinstance(document.get("body"), Mapping) and "header" in document:
        return payment_of(document["body"])
    data = document.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("payments"), list):
        payments = data["payments"]
        if len(payments) != 1:
            raise UnsupportedPayment(
                f"the file holds {len(payments)} payments; give one payment at a time"
            )
        return payment_of(payments[0])
    if "checkouts" not in document or "id" not in document:
        raise UnsupportedPayment("the file holds no Moka v3 payment (no id and checkouts)")
    return document


def preview(payment: Mapping[str, Any], setting: MappingSetting) -> dict[str, Any]:
    """`{"documents": [...]}` as `sambung map` prints it; a payment that cannot be posted gives
    no documents and an `error` with the merchant's message."""
    try:
        refs = JurnalRefs()
        planned = documents_for_payment(payment, setting, refs)
        invoice = next(
            (e for e in planned if isinstance(e, JurnalDocument) and e.kind == "sales_invoice"),
            None,
        )
        if invoice is not None:
            refs = refs.with_invoice(invoice.custom_id, posted_on_paper(invoice))
            planned = documents_for_payment(payment, setting, refs)
            refs = returns_on_paper(planned, refs)
            planned = documents_for_payment(payment, setting, refs)
    except MappingError as error:
        return {
            "documents": [],
            "error": {"type": type(error).__name__, "message": error.message},
        }
    return {"documents": [entry.as_json() for entry in planned]}


def posted_on_paper(invoice: JurnalDocument) -> dict[str, Any]:
    body = dict(invoice.body["sales_invoice"])
    body["id"] = DRY_RUN_INVOICE_ID
    body["transaction_no"] = DRY_RUN_INVOICE_NO
    body["transaction_lines_attributes"] = [
        {**line, "id": number}
        for number, line in enumerate(body["transaction_lines_attributes"], start=1)
    ]
    return body


def returns_on_paper(planned: list[Any], refs: JurnalRefs) -> JurnalRefs:
    """`refs` plus every planned sales return "posted" (see the module doc)."""
    returns = [e for e in planned if isinstance(e, JurnalDocument) and e.kind == "sales_return"]
    for number, sales_return in enumerate(returns, start=1):
        amount = sales_return.moka.total if sales_return.moka else 0
        posted = {
            "id": number,
            "transaction_no": f"{DRY_RUN_INVOICE_NO}-R{number}",
            "return_amount": str(amount),
            "credit_memo": {"id": 1000 + number, "original_amount": str(amount)},
        }
        refs = refs.with_return(sales_return.custom_id, posted)
    return refs
