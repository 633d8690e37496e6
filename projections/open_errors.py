"""Open errors: the documents of a setting whose latest outcome is a failure, grouped by cause.

A failure opens (or replaces) the document's entry; a later posting of the same document — by a
replay, a retry or the nightly sync — closes it. A document posted whose Jurnal total or tax is a
rupiah or more from Moka's ("Jurnal totalled X, Moka Y", `domain.log.totals_differ`) stays open
too: it exists in Jurnal and is not posted again, but its numbers need a person.

The cause is the error class plus the message with what differs from one item to the next taken
out (the item's own references, ids, large numbers), so that "no deposit account mapped for OVO"
on fourteen sales is one cause.
"""

from __future__ import annotations

import re

from domain.log import DocumentKind, DocumentPosted, PostingFailed, totals_differ
from infra.eventlog import GlobalEntry
from infra.readmodels import Db
from projections.view import Context, doc_key

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACES = re.compile(r"\s+")
_PLACEHOLDER = "…"

_NOUNS = {
    DocumentKind.SALES_INVOICE: ("sale", "sales"),
    DocumentKind.SALES_RETURN: ("sales return", "sales returns"),
    DocumentKind.RECEIVE_PAYMENT: ("payment", "payments"),
    DocumentKind.PRODUCT: ("product", "products"),
    DocumentKind.CUSTOMER: ("customer", "customers"),
    DocumentKind.TAX: ("tax", "taxes"),
    DocumentKind.CREDIT_MEMO_REFUND: ("refund paid back", "refunds paid back"),
    DocumentKind.JOURNAL_ENTRY: ("rounding adjustment", "rounding adjustments"),
}
TOTALS_DIFFER = "JurnalTotalsDiffer"


def normalise_message(message: str, *specifics: str | None) -> str:
    """The part of a message that its cause shares with other items' messages."""
    text = message
    for specific in specifics:
        if specific:
            text = text.replace(specific, _PLACEHOLDER)
    text = _UUID.sub(_PLACEHOLDER, text)
    # Small numbers are part of a cause (HTTP 422, a 10% tax); long ones and amounts are not.
    text = _NUMBER.sub(lambda m: m[0] if len(m[0]) < 4 and m[0].isdigit() else "#", text)
    return _SPACES.sub(" ", text).strip().rstrip(".")


def describe_cause(message: str, kind: str, count: int) -> str:
    """'no deposit account mapped for OVO (14 sales)'."""
    one, many = _NOUNS[DocumentKind(kind)]
    return f"{message} ({count} {one if count == 1 else many})"


class OpenErrors:
    events = (DocumentPosted, PostingFailed)

    def apply(self, db: Db, entry: GlobalEntry, context: Context) -> None:
        event = entry.event
        if isinstance(event, DocumentPosted):
            # Also close a failure recorded before the document had a custom_id.
            keys = (event.custom_id, doc_key(event.kind, None, event.moka_reference))
            db.execute(
                "DELETE FROM proj_open_errors WHERE setting_id = ? AND doc_key IN (?, ?)",
                (str(event.setting_id), *keys),
            )
            differs = totals_differ(event.amounts) if event.amounts else None
            if differs:
                message = (
                    f"{differs}: the {_NOUNS[DocumentKind(event.kind)][0]} is in Jurnal, but its "
                    "numbers are not Moka's; correct it in Jurnal by hand."
                )
                self._open(db, event, TOTALS_DIFFER, message, False, context)
        elif isinstance(event, PostingFailed):
            self._open(db, event, event.error_class, event.message, event.retryable, context)

    @staticmethod
    def _open(
        db: Db,
        event: DocumentPosted | PostingFailed,
        error_class: str,
        message: str,
        retryable: bool,
        context: Context,
    ) -> None:
        cause = normalise_message(message, event.moka_reference, event.custom_id)
        db.execute(
            "INSERT INTO proj_open_errors (setting_id, doc_key, kind, error_class, cause, message,"
            " moka_reference, custom_id, retryable, position, resolves, run_id, failed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (setting_id, doc_key) DO UPDATE SET kind = excluded.kind,"
            " error_class = excluded.error_class, cause = excluded.cause,"
            " message = excluded.message, moka_reference = excluded.moka_reference,"
            " retryable = excluded.retryable, position = excluded.position,"
            " resolves = excluded.resolves, run_id = excluded.run_id,"
            " failed_at = excluded.failed_at",
            (
                str(event.setting_id),
                doc_key(event.kind, event.custom_id, event.moka_reference),
                event.kind,
                error_class,
                cause,
                message,
                event.moka_reference,
                event.custom_id,
                int(retryable),
                event.position,
                event.resolves,
                None if event.run_id is None else str(event.run_id),
                context.local_text(event.timestamp),
            ),
        )
