"""The sync engine's core: turning a setting's log into Jurnal documents, exactly once.

`Poster` walks the setting's log from its posting cursor, in order, and for each Moka payment
posts the documents the mapping plans (`domain.mapping.documents_for_payment`): the invoice, then
its receive payments and sales returns. It runs only while holding the setting's lock
(`jobs.setting_lock`). Its Jurnal client holds that lease: it proves and extends it after the
budget is granted, immediately before every request, and keeps it alive through every wait.

Exactly once rests on three things:
- every document has a deterministic `custom_id`, and the log records each outcome under it, so a
  document already posted is never posted again, whichever path (webhook, pull, replay) brought
  the payment;
- the Jurnal client never re-posts after an unknown outcome before looking the document up by
  `custom_id`, and takes a 409 as "it exists";
- one poster per setting (the lock with fencing), because Jurnal's duplicate check is not atomic.

Failures: a permanent one (a mapping error, a 422 from Jurnal) is recorded as `PostingFailed`
and skipped, so one bad sale never blocks the rest; a transient one (5xx, timeout, 429) stops the
pass without moving the cursor past it (`Deferred`), and the job retries later.

Calls are spent carefully: one create per document; master data is referred to by the ids in
the client's cached catalogs (taxes, accounts, warehouses), and a payment whose documents are
all posted costs no call at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import requests

from clients.jurnal import (
    JurnalAuthError,
    JurnalClient,
    JurnalDuplicate,
    JurnalError,
    JurnalNotFound,
    JurnalRateLimited,
    JurnalTransientError,
    JurnalValidationError,
)
from domain.chart import Chart, chart_from_jurnal
from domain.jurnal_arithmetic import Tax, to_decimal
from domain.log import (
    DocumentKind,
    LogEvent,
    MokaDataReceived,
    PaymentReceived,
    RunMethod,
    Source,
    totals_differ,
)
from domain.mapping import (
    JurnalDocument,
    JurnalRefs,
    MappingError,
    Unmappable,
    documents_for_payment,
    sale_invoice_custom_id,
)
from domain.mapping.follow_ups import follow_up_custom_ids
from domain.mapping.master import customer_custom_id
from domain.settings import Setting
from infra import metrics
from infra.bootstrap import Container
from jobs.setting_lock import LockLost, SettingLock
from services import syncing

log = logging.getLogger(__name__)

READ_BATCH = 200
REFUND_MONEY_KINDS = frozenset({"customer_credit_memo_refund", "journal_entry"})
MASTER_DATA_REFRESH_SECONDS = 30
T = TypeVar("T")


class Deferred(Exception):
    """Jurnal could not take a document now (5xx, timeout, 429): stop and try again later."""


class Blocked(Exception):
    """Nothing can be posted for the setting until a person acts (e.g. Jurnal refused the
    credential). The message says what to do."""


# -- counting ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Per document kind, how many documents a run was responsible for and how many exist."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"synced": 0, "total": 0})
    )

    def add(self, kind: str, *, synced: bool) -> None:
        row = self.counts[DocumentKind(kind).summary_key]
        row["total"] += 1
        row["synced"] += int(synced)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {key: dict(row) for key, row in self.counts.items()}

    @property
    def total(self) -> int:
        return sum(row["total"] for row in self.counts.values())


@dataclass
class DryRun:
    """Where a read-only pass shows what it would send, instead of sending or recording it: each
    document's body, or the error that keeps it from being made."""

    documents: list[dict[str, Any]] = field(default_factory=list)

    def document(self, doc: JurnalDocument) -> None:
        self.documents.append(doc.as_json())

    def failure(self, kind: str, custom_id: str, error: Exception) -> None:
        self.documents.append(
            {"kind": kind, "custom_id": custom_id, "error": type(error).__name__,
             "message": error_message(error)}
        )  # fmt: skip


# -- the Jurnal side --------------------------------------------------------------------------


def company_taxes(client: JurnalClient) -> list[Tax]:
    return [
        Tax(
            id=row.get("id"),
            name=str(row.get("name") or ""),
            rate=to_decimal(row.get("rate") or 0),
            custom_id=row.get("custom_id"),
        )
        for row in client.catalog("taxes")
    ]


def document_amounts(doc: JurnalDocument, answer: Mapping[str, Any]) -> dict[str, str] | None:
    """What a posted document holds by Jurnal's own arithmetic, read from Jurnal's answer, on
    the business day of the document (its transaction date), for reconciliation; with what Moka
    says it stands for (`moka_total`, `moka_tax`), so that a difference shows (`totals_differ`)."""
    body = doc.body.get(doc.kind, {})
    day = str(answer.get("transaction_date") or body.get("transaction_date") or "")
    paid = Decimal(0)
    if doc.kind == "sales_invoice":
        total, tax = answer.get("original_amount"), answer.get("tax_amount")
        paid = to_decimal(answer.get("deposit") or body.get("deposit") or 0)
    elif doc.kind == "sales_return":
        total, tax = answer.get("return_amount"), answer.get("returned_tax")
    elif doc.kind == "receive_payment":
        records = answer.get("records") or body.get("records_attributes") or ()
        total = sum((to_decimal(r.get("amount") or 0) for r in records), Decimal(0))
        tax = 0
    elif doc.kind == "customer_credit_memo_refund":
        lines = answer.get("credit_memo_refund_lines_attributes") or ()
        total = sum((to_decimal(r.get("refund_amount") or 0) for r in lines), Decimal(0))
        tax = 0
    elif doc.kind == "journal_entry" and doc.moka is not None:
        # Its amount is signed by the mapping (more money paid back is positive).
        total, tax = doc.moka.total, 0
    else:
        return None
    amounts = {
        "total": str(to_decimal(total or 0)),
        "tax": str(to_decimal(tax or 0)),
        "business_date": _iso_day(day),
    }
    if paid:
        amounts["paid"] = str(paid)
    if doc.moka is not None and doc.kind in ("sales_invoice", "sales_return"):
        amounts["moka_total"] = str(doc.moka.total)
        amounts["moka_tax"] = str(doc.moka.tax)
    return amounts


def _iso_day(text: str) -> str:
    """Jurnal answers dates as dd/mm/yyyy; bodies carry yyyy-mm-dd."""
    if "/" in text:
        day, month, year = text.split("/")
        return f"{year}-{month}-{day}"
    return text


def body_digest(body: Mapping[str, Any]) -> str:
    """A short fingerprint of a request body, to tell whether master data changed."""
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- the poster -------------------------------------------------------------------------------


class Poster:
    """Posts one setting's documents. Build it once the setting's lock is held."""

    def __init__(
        self,
        container: Container,
        setting_id: UUID,
        lock: SettingLock | None,
        *,
        run_id: UUID | None = None,
    ) -> None:
        """`lock` None makes a read-only poster, for dry runs: it refuses to write."""
        self.container = container
        self.log = container.log
        self.setting: Setting = self.log.get_setting(setting_id)
        self.lock = lock
        self.run_id = run_id
        self.tally = Tally()
        self.progress: Callable[[int], None] | None = None  # told how many events are done
        self.error: str | None = None  # why a run that used this poster stopped early
        self._jurnal: JurnalClient | None = None
        self._taxes: list[Tax] | None = None
        self._chart: Chart | None = None

    @property
    def setting_id(self) -> UUID:
        return self.setting.id

    @property
    def jurnal(self) -> JurnalClient:
        """The company's shared client; with a lock, the view of it that holds the lease."""
        if self._jurnal is None:
            shared = self.container.jurnal_for(self.setting.company_id)
            self._jurnal = shared if self.lock is None else shared.holding(self.lock)
        return self._jurnal

    # -- walking the log ------------------------------------------------------------------------

    def post_pending(self) -> int:
        """Process every event after the posting cursor; return how many were processed.
        Raises `Deferred` or `Blocked` after saving the cursor up to the last finished event."""
        cursor = self.log.posting_cursor(self.setting_id)
        processed = 0
        try:
            while True:
                events = self.log.read(self.setting_id, after=cursor, limit=READ_BATCH)
                if not events:
                    return processed
                for event in events:
                    self.process(event)
                    cursor = event.position
                    processed += 1
                    if self.progress is not None:
                        self.progress(processed)
                self.log.advance_posting_cursor(self.setting_id, cursor)
        finally:
            self.log.advance_posting_cursor(self.setting_id, cursor)

    def process(self, event: LogEvent) -> None:
        if isinstance(event, PaymentReceived) and self.summarised(event.record):
            return  # its day's summary posts it (`jobs.summary`)
        if isinstance(event, PaymentReceived):
            self.post_payment(event.record, resolves=event.position, received_at=event.timestamp)
        elif isinstance(event, MokaDataReceived) and event.source == Source.WEBHOOK:
            # Product names must stay unique across the whole library, so a changed item or
            # customer is synced by a master-data run (which writes only what changed).
            self.refresh_master_data()

    def refresh_master_data(self) -> None:
        """Ask for one master-data run, however many library webhooks arrive together."""
        key = f"sambung:master-data-refresh:{self.setting_id}"
        if self.container.redis.set(key, "1", nx=True, ex=MASTER_DATA_REFRESH_SECONDS):
            syncing.request_master_data_sync(self.container, self.setting_id, RunMethod.WEBHOOK)

    # -- payments ---------------------------------------------------------------------------

    def post_payment(
        self,
        payment: Mapping[str, Any],
        *,
        resolves: int,
        received_at: datetime | None = None,
        dry_run: DryRun | None = None,
    ) -> None:
        """Post whatever the payment still needs in Jurnal, and count its documents.

        With `dry_run`, nothing is written anywhere: the documents that would be posted are
        shown to it instead."""
        reference = moka_reference(payment)
        invoice_id = sale_invoice_custom_id(payment, self.setting)
        try:
            follow_ups = follow_up_custom_ids(payment, self.setting)
        except MappingError as error:
            self._fail("sales_invoice", invoice_id, error, reference, resolves, dry_run)
            return
        pending = [
            (kind, cid)
            for kind, cid in [("sales_invoice", invoice_id), *follow_ups]
            if not self.is_posted(cid)
        ]
        for kind, cid in [("sales_invoice", invoice_id), *follow_ups]:
            if (kind, cid) not in pending:
                self.tally.add(kind, synced=True)
        if not pending:
            return
        try:
            refs = self._refs_for(payment)
        except MappingError as error:
            self._fail("sales_invoice", invoice_id, error, reference, resolves, dry_run)
            self.tally.add("sales_invoice", synced=False)
            return
        if self.is_posted(invoice_id):
            refs = refs.with_invoice(invoice_id, self.jurnal.get("sales_invoices", invoice_id))
        refs = self._posted_returns(refs, follow_ups, pending)
        self._post_documents(
            payment,
            refs,
            pending,
            reference=reference,
            resolves=resolves,
            received_at=received_at,
            dry_run=dry_run,
        )

    def _post_documents(
        self,
        payment: Mapping[str, Any],
        refs: JurnalRefs,
        pending: list[tuple[str, str]],
        *,
        reference: str,
        resolves: int,
        received_at: datetime | None,
        dry_run: DryRun | None,
    ) -> None:
        handled: set[str] = set()
        while True:
            try:
                planned = documents_for_payment(payment, self.setting, refs)
            except MappingError as error:
                kind, cid = pending[0]
                self._fail(kind, cid, error, reference, resolves, dry_run)
                for kind, _ in pending:
                    self.tally.add(kind, synced=False)
                return
            fresh = [doc for doc in planned if doc.custom_id not in handled]
            if not fresh:
                break
            for doc in fresh:
                handled.add(doc.custom_id)
                if (doc.kind, doc.custom_id) not in pending:
                    continue
                if isinstance(doc, Unmappable):
                    self._fail(doc.kind, doc.custom_id, doc.error, reference, resolves, dry_run)
                    self.tally.add(doc.kind, synced=False)
                    continue
                if dry_run is not None:
                    dry_run.document(doc)
                    self.tally.add(doc.kind, synced=False)
                    continue
                answer = self.create(
                    doc, reference, resolves, with_amounts=True, received_at=received_at
                )
                self.tally.add(doc.kind, synced=answer is not None)
                if answer is not None and doc.kind == "sales_invoice":
                    refs = refs.with_invoice(doc.custom_id, answer)
                if answer is not None and doc.kind == "sales_return":
                    refs = refs.with_return(doc.custom_id, answer)
        # A follow-up the mapping did not plan (e.g. its invoice failed) is still owed.
        for kind, cid in pending:
            if cid not in handled:
                self.tally.add(kind, synced=False)

    def _posted_returns(
        self,
        refs: JurnalRefs,
        follow_ups: list[tuple[str, str]],
        pending: list[tuple[str, str]],
    ) -> JurnalRefs:
        """The payment's posted returns, read back only when money paid back (or its adjustment)
        is still owed: those refer to the return's credit memo."""
        if not any(kind in REFUND_MONEY_KINDS for kind, _ in pending):
            return refs
        for kind, cid in follow_ups:
            if kind == "sales_return" and self.is_posted(cid):
                refs = refs.with_return(cid, self.jurnal.get("sales_returns", cid))
        return refs

    def _refs_for(self, payment: Mapping[str, Any]) -> JurnalRefs:
        try:
            return JurnalRefs(
                customer_names=self._customer_names(payment),
                taxes=self._company_taxes(),
                product_custom_ids=self._product_custom_ids(),
                chart=self.chart(),
                warehouse_ids=self._warehouse_ids(),
            )
        except JurnalAuthError as error:  # reading the catalogs, before any write
            raise Blocked(
                "Jurnal refused the company's API credential; update it, then replay"
            ) from error

    def chart(self) -> Chart:
        """The company's accounts and default accounts, read once per poster: documents refer
        to the setting's accounts (or the company's defaults) by id."""
        if self._chart is None:
            try:
                rows, active = (
                    self.jurnal.catalog("accounts"),
                    self.container.active_company(self.jurnal),
                )
            except JurnalAuthError as error:
                raise Blocked(
                    "Jurnal refused the company's API credential; update it, then replay"
                ) from error
            except (JurnalTransientError, JurnalRateLimited, requests.RequestException) as error:
                raise Deferred(f"Jurnal could not list the chart of accounts: {error}") from error
            self._chart = chart_from_jurnal(rows, active)
        return self._chart

    def _warehouse_ids(self) -> dict[str, int] | None:
        if not self.setting.warehouse:
            return None
        return {
            str(row["name"]).casefold(): int(row["id"])
            for row in self.jurnal.catalog("warehouses")
            if row.get("name") and row.get("id") is not None
        }

    def _product_custom_ids(self) -> frozenset[str]:
        """Products in Jurnal, to tell a sale of a product deleted in Moka (and so never synced)
        with a clear message instead of Jurnal's 422. From the client's cached catalog."""
        return frozenset(
            str(row["custom_id"]) for row in self.jurnal.catalog("products") if row.get("custom_id")
        )

    def _company_taxes(self) -> list[Tax]:
        if self._taxes is None:
            self._taxes = company_taxes(self.jurnal)
        return self._taxes

    def _customer_names(self, payment: Mapping[str, Any]) -> dict[int, str]:
        """The Jurnal display name of the sale's customer, as master data made it."""
        customer_id = payment.get("customer_id")
        if customer_id in (None, "", 0):
            return {}
        custom_id = customer_custom_id(int(customer_id))
        found = self.jurnal.find_by_custom_id("customers", custom_id)
        if found is None:
            return {}
        return {int(customer_id): str(found.get("display_name") or found.get("name") or "")}

    # -- one document -----------------------------------------------------------------------

    def create(
        self,
        doc: JurnalDocument,
        reference: str,
        resolves: int,
        *,
        with_amounts: bool = False,
        received_at: datetime | None = None,
        digest: str | None = None,
    ) -> dict[str, Any] | None:
        """Create the document in Jurnal once and record the outcome. Returns Jurnal's document,
        or None when Jurnal refused it for good (recorded as failed)."""
        outcome = self._write(
            doc,
            reference,
            resolves,
            lambda: self.jurnal.create_document(doc.resource, doc.body[doc.kind]),
        )
        if outcome is None:
            return None
        document = outcome.document
        amounts = document_amounts(doc, document) if with_amounts else None
        differs = totals_differ(amounts) if amounts else None
        if differs:
            # The document stays (re-posting would not change Jurnal's arithmetic); the open
            # errors and the reconciliation show the difference from the recorded amounts.
            log.warning(
                "jurnal totals differ from moka",
                extra={"setting_id": str(self.setting_id), "kind": doc.kind,
                       "custom_id": doc.custom_id, "difference": differs},
            )  # fmt: skip
        self._record_posted(
            doc,
            document,
            created=outcome.created,
            reference=reference,
            resolves=resolves,
            amounts=amounts,
            digest=digest,
        )
        if received_at is not None:
            lag = (datetime.now(UTC) - received_at).total_seconds()
            metrics.observe(self.container.redis, metrics.POSTING_LAG, max(lag, 0.0))
        return document

    def _record_posted(
        self,
        doc: JurnalDocument,
        document: Mapping[str, Any],
        *,
        created: bool,
        reference: str,
        resolves: int,
        amounts: dict[str, str] | None = None,
        digest: str | None = None,
    ) -> None:
        self.log.record_posted(
            self.setting_id,
            kind=doc.kind,
            custom_id=doc.custom_id,
            jurnal_id=str(document.get("id")),
            moka_reference=reference,
            resolves=resolves,
            run_id=self.run_id,
            amounts=amounts,
            digest=digest,
        )
        self._count(doc.kind, "posted" if created else "found")
        log.info(
            "document posted",
            extra={"setting_id": str(self.setting_id), "kind": doc.kind,
                   "custom_id": doc.custom_id, "jurnal_id": document.get("id"),
                   "moka_reference": reference},
        )  # fmt: skip

    def ensure_lock(self) -> None:
        """Refuse to write without a lock. With one, the client proves the lease itself, after
        the budget is granted and right before the request (a check here would go stale)."""
        if self.lock is None:
            raise LockLost("a read-only poster cannot write to Jurnal")

    def upsert(self, doc: JurnalDocument, reference: str, resolves: int) -> bool:
        """Master data: create the document, or update it when its body changed since it was
        posted; unchanged, it costs no call. Returns whether it exists in Jurnal afterwards."""
        digest = body_digest(doc.body)
        posted = self.log.posted_document(self.setting_id, doc.custom_id)
        if posted is not None and posted.digest == digest:
            return True
        if posted is None:
            return self.create(doc, reference, resolves, digest=digest) is not None
        document = self._write(
            doc,
            reference,
            resolves,
            lambda: self.jurnal.update(doc.resource, posted.jurnal_id, doc.body[doc.kind]),
        )
        if document is None:
            return False
        self._record_posted(
            doc, document, created=True, reference=reference, resolves=resolves, digest=digest
        )
        return True

    def _write(
        self, doc: JurnalDocument, reference: str, resolves: int, call: Callable[[], T]
    ) -> T | None:
        """One Jurnal write for a document, under the lock (`LockLost` if it is gone). Jurnal
        refusing it for good is recorded as failed (None); a refused credential blocks the
        setting; anything transient defers the pass."""
        self.ensure_lock()
        try:
            return call()
        except (JurnalValidationError, JurnalNotFound, JurnalDuplicate) as error:
            self._record_failure(
                doc.kind, doc.custom_id, error, reference=reference, resolves=resolves
            )
            return None
        except JurnalAuthError as error:
            self._record_failure(
                doc.kind, doc.custom_id, error, reference=reference, resolves=resolves,
                retryable=True,
            )  # fmt: skip
            raise Blocked(
                "Jurnal refused the company's API credential; update it, then replay"
            ) from error
        except (JurnalTransientError, JurnalRateLimited, requests.RequestException) as error:
            raise Deferred(f"Jurnal could not take {doc.kind} {doc.custom_id}: {error}") from error

    def summarised(self, payment: Mapping[str, Any]) -> bool:
        from jobs.summary import summarised_payment

        return summarised_payment(self.setting, payment, self.container.config.timezone)

    def documents_needed(self, payment: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(kind, custom id) of every document a payment needs in Jurnal, known without asking
        Jurnal; just its invoice when the payment cannot be read (its invoice fails then).
        None for a sale its day's summary posts (counted per day instead)."""
        if self.summarised(payment):
            return []
        invoice = ("sales_invoice", sale_invoice_custom_id(payment, self.setting))
        try:
            return [invoice, *follow_up_custom_ids(payment, self.setting)]
        except MappingError:
            return [invoice]

    def is_posted(self, custom_id: str) -> bool:
        return self.log.posted_document(self.setting_id, custom_id) is not None

    def _fail(
        self,
        kind: str,
        custom_id: str,
        error: Exception,
        reference: str,
        resolves: int,
        dry_run: DryRun | None,
    ) -> None:
        """A document that cannot be made: shown to a dry run, else recorded as failed."""
        if dry_run is not None:
            dry_run.failure(kind, custom_id, error)
            return
        self._record_failure(kind, custom_id, error, reference=reference, resolves=resolves)

    def _record_failure(
        self,
        kind: str,
        custom_id: str,
        error: Exception,
        *,
        reference: str,
        resolves: int,
        retryable: bool = False,
    ) -> None:
        self.log.record_failed(
            self.setting_id,
            kind=kind,
            custom_id=custom_id,
            error_class=type(error).__name__,
            message=error_message(error),
            retryable=retryable,
            moka_reference=reference,
            resolves=resolves,
            run_id=self.run_id,
        )
        self._count(kind, "failed")
        log.warning(
            "posting failed",
            extra={"setting_id": str(self.setting_id), "kind": kind, "custom_id": custom_id,
                   "moka_reference": reference, "error": error_message(error)},
        )  # fmt: skip

    def _count(self, kind: str, outcome: str) -> None:
        metrics.increment(
            self.container.redis, metrics.POSTINGS, {"kind": kind, "outcome": outcome}
        )


def moka_reference(payment: Mapping[str, Any]) -> str:
    """How people find a sale in Moka: its receipt number, with the payment id."""
    receipt = payment.get("payment_no") or ""
    return f"{receipt} ({payment.get('id')})" if receipt else str(payment.get("id"))


def error_message(error: Exception) -> str:
    if isinstance(error, MappingError):
        return error.message
    if isinstance(error, JurnalValidationError) and error.messages:
        return "Jurnal: " + "; ".join(error.messages)
    if isinstance(error, JurnalError):
        return f"Jurnal: {error}"
    return str(error)
