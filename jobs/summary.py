"""Posting in daily-summary mode: each closed business day of a setting as one batch of summary
documents (`domain.daily_summary`), and later batches for what arrives after a day was posted.

Which sales belong to which batch is read from the log alone, so that a crash, a second worker
or a replay plans exactly the same documents: every summary document is recorded with
`resolves` = the log's head when its batch was first planned (the batch's *horizon*); batch k
of a day holds the day's paid sales and refunds whose first revision in the log lies after
batch k−1's horizon and at or before its own. Something first seen after the last horizon of a
posted day starts a new batch: a late refund becomes a correcting return (with its money and
balancing entry) dated the refund day, a late sale a supplementary invoice.

A day is posted once it has closed: at the setting's `summary_close_time` on that day, or else
at the end of the day (so the sync after midnight, e.g. the next nightly run, posts it). The
per-sale poster leaves summarised sales to this room (`summarised_payment`).

Each pass reads the setting's whole log once (payments and the summary documents' outcomes).
"""

from __future__ import annotations

import re
import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from clients.jurnal import JurnalNotFound
from domain.daily_summary import (
    Batch,
    DayRefund,
    PostingMode,
    allocate_returns,
    invoice_id_of,
    plan_batch,
    receipts,
    summarised,
)
from domain.errors import MasterDataNotSynced, NotFound
from domain.jurnal_arithmetic import to_decimal
from domain.log import DocumentPosted, LogEvent, PaymentReceived, PostingFailed, RunMethod
from domain.mapping import JurnalDocument, JurnalRefs, MappingError, Unmappable
from domain.mapping.document import Planned
from domain.mapping.moka import Payment, read_payment
from domain.schedule import due_run_date
from domain.settings import Setting
from infra.bootstrap import Container
from jobs.engine import DryRun, Poster
from services import syncing

PAGE = 500
_DAY_ID = re.compile(r"-day-(\d{4}-\d{2}-\d{2})-(\d+)-")
SUMMARY_KEY = "daily_summaries"


# -- the gate the per-sale poster asks ---------------------------------------------------------


def summarised_payment(setting: Setting, payment: Mapping[str, Any], timezone: str) -> bool:
    """Whether a Moka payment is posted in its day's summary instead of on its own."""
    if not has_summary_days(setting):
        return False  # a per-sale setting pays nothing for the mode
    try:
        sale = read_payment(payment)
    except MappingError:
        return False  # the per-sale poster records why it cannot be read
    day = business_day(sale.created_at, timezone)
    return setting.posting_mode_on(day) == PostingMode.DAILY_SUMMARY and summarised(sale)


def business_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def has_summary_days(setting: Setting) -> bool:
    return PostingMode.DAILY_SUMMARY in (
        setting.first_posting_mode,
        *setting.posting_mode_changes.values(),
    )


def close_run_id(setting_id: UUID, day: date) -> UUID:
    return uuid5(setting_id, f"summary-close:{day.isoformat()}")


def start_close_run_if_due(container: Container, setting: Setting, now: datetime) -> UUID | None:
    """The scheduler's hook: a daily-summary setting with a close time gets a transactions run
    as each day closes (besides its sync time's), so the day is posted that night. Its id comes
    from the day, so it never runs twice."""
    close = setting.summary_close_time
    if not setting.auto_sync or close is None or not has_summary_days(setting):
        return None
    day = due_run_date(now, close, container.config.timezone, setting.created_on)
    if day is None or setting.posting_mode_on(day) != PostingMode.DAILY_SUMMARY:
        return None
    run_id = close_run_id(setting.id, day)
    try:
        container.log.get_run(run_id)
        return None
    except NotFound:
        pass
    try:
        syncing.request_transactions_sync(
            container, setting.id, RunMethod.SCHEDULED, run_id=run_id,
            params={"summary_close": day.isoformat()},
        )  # fmt: skip
    except MasterDataNotSynced:
        return None
    return run_id


# -- what the log says --------------------------------------------------------------------------


@dataclass
class _Seen:
    """A summarised sale: its latest revision, when it was first seen and when each refund was."""

    sale: Payment
    first: int
    refunds_first: dict[str, int] = field(default_factory=dict)


@dataclass
class LogState:
    sales: dict[str, _Seen] = field(default_factory=dict)
    outcomes: dict[str, DocumentPosted | PostingFailed] = field(default_factory=dict)
    head: int = 0

    def horizons(self) -> dict[str, dict[int, int]]:
        """Per ISO day, batch number → horizon, of the batches that have any outcome."""
        found: dict[str, dict[int, int]] = defaultdict(dict)
        for custom_id, outcome in self.outcomes.items():
            match = _DAY_ID.search(custom_id)
            if match:
                found[match.group(1)][int(match.group(2))] = outcome.resolves
        return found


def read_state(
    container: Container, setting: Setting, keep: Callable[[], None] = lambda: None
) -> LogState:
    timezone = container.config.timezone
    state = LogState()
    for event in log_events(container, setting.id):
        if event.position % PAGE == 0:
            keep()
        state.head = event.position
        if isinstance(event, (DocumentPosted, PostingFailed)):
            if event.custom_id and _DAY_ID.search(event.custom_id):
                state.outcomes[event.custom_id] = event
        elif isinstance(event, PaymentReceived):
            if not has_summary_days(setting):
                continue
            try:
                sale = read_payment(event.record)
            except MappingError:
                continue  # the per-sale poster records why it cannot be read
            day = business_day(sale.created_at, timezone)
            if setting.posting_mode_on(day) != PostingMode.DAILY_SUMMARY or not summarised(sale):
                continue
            seen = state.sales.get(sale.id)
            if seen is None:
                seen = state.sales[sale.id] = _Seen(sale, event.position)
            seen.sale = sale
            for refund in sale.refunds:
                seen.refunds_first.setdefault(refund.uuid, event.position)
    return state


def log_events(container: Container, setting_id: UUID) -> Iterator[LogEvent]:
    """A setting's whole log, in order, a page at a time."""
    after = 0
    while True:
        events = container.log.read(setting_id, after=after, limit=PAGE)
        if not events:
            return
        yield from events
        after = events[-1].position


# -- planning the batches -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedBatch:
    batch: Batch
    horizon: int


def _batch_of(position: int, horizons: Mapping[int, int]) -> int | None:
    for number, horizon in sorted(horizons.items()):
        if position <= horizon:
            return number
    return None


def plan_batches(state: LogState, timezone: str, closed: date) -> list[PlannedBatch]:
    """Every batch of the days up to `closed`, oldest day first, with its content."""
    sales: dict[date, list[_Seen]] = defaultdict(list)
    refunds: dict[date, list[tuple[_Seen, str, int]]] = defaultdict(list)
    for seen in state.sales.values():
        sales[business_day(seen.sale.created_at, timezone)].append(seen)
        for refund in seen.sale.refunds:
            when = business_day(refund.created_at, timezone)
            refunds[when].append((seen, refund.uuid, seen.refunds_first[refund.uuid]))
    horizons = state.horizons()
    # Where each sale's goods were invoiced: the batch of its day that took it.
    placed: dict[str, tuple[date, int]] = {}
    batches: list[PlannedBatch] = []
    for day in sorted(sales.keys() | refunds.keys()):
        if day > closed:
            break
        known = horizons.get(day.isoformat(), {})
        next_number = max(known, default=0) + 1
        content: dict[int, tuple[list[Payment], list[DayRefund]]] = defaultdict(lambda: ([], []))
        for seen in sorted(sales.get(day, ()), key=lambda s: (s.sale.created_at, s.sale.id)):
            number = _batch_of(seen.first, known) or next_number
            content[number][0].append(seen.sale)
            placed[seen.sale.id] = (day, number)
        for seen, uuid, first in sorted(refunds.get(day, ()), key=lambda r: r[2]):
            origin = placed.get(seen.sale.id)
            if origin is None:
                continue  # its sale's day is not closed yet (a refund dated before its sale)
            refund = next(r for r in seen.sale.refunds if r.uuid == uuid)
            number = _batch_of(first, known) or next_number
            content[number][1].append(DayRefund(seen.sale, refund, *origin))
        for number, (day_sales, day_refunds) in sorted(content.items()):
            batch = Batch(day, number, tuple(day_sales), tuple(day_refunds))
            horizon = known.get(number, state.head)
            batches.append(PlannedBatch(batch, horizon))
    return batches


def closed_until(setting: Setting, now: datetime, timezone: str) -> date:
    """The last business day that has closed at `now`."""
    local = now.astimezone(ZoneInfo(timezone))
    close: time | None = setting.summary_close_time
    if close is not None and local.time() >= close:
        return local.date()
    return local.date() - timedelta(days=1)


@dataclass(frozen=True)
class DayRange:
    """Business days from `first` to `last`, each end open when None."""

    first: date | None = None
    last: date | None = None

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return (self.first is None or day >= self.first) and (self.last is None or day <= self.last)


# -- posting ------------------------------------------------------------------------------------


@dataclass
class DayTally:
    """Per business day handled, whether every summary document of it is in Jurnal."""

    days: dict[date, bool] = field(default_factory=dict)
    calls: int = 0

    def add(self, day: date, complete: bool) -> None:
        self.days[day] = self.days.get(day, True) and complete

    def as_count(self) -> dict[str, int]:
        return {"synced": sum(self.days.values()), "total": len(self.days)}


class SummaryPoster:
    """Posts a setting's summary batches through a `Poster` (its lock, client and log)."""

    def __init__(self, poster: Poster) -> None:
        self.poster = poster
        self.container = poster.container
        self.setting = poster.setting
        self.timezone = poster.container.config.timezone
        self.answers: dict[str, dict[str, Any]] = {}
        self._renewed = clock.monotonic()

    def keep_lease(self) -> None:
        """Long planning between calls must not let the setting's lease lapse."""
        lock = self.poster.lock
        if lock is not None and clock.monotonic() - self._renewed >= lock.renew_every:
            lock.ensure_held()
            self._renewed = clock.monotonic()

    def post_closed_days(
        self,
        now: datetime,
        *,
        days: DayRange | set[date] | None = None,
        retry_failed: bool = False,
        dry_run: DryRun | None = None,
    ) -> DayTally:
        """Post every batch of the closed days (or of `days`) that Jurnal still lacks. Failed
        documents are tried again only with `retry_failed` (a replay). With `dry_run` nothing
        is written: the documents that would be posted are appended to it."""
        tally = DayTally()
        if not has_summary_days(self.setting):
            return tally
        state = read_state(self.container, self.setting, self.keep_lease)
        closed = closed_until(self.setting, now, self.timezone)
        refs = self.poster._refs_for({})
        # In posting order: where a refund's goods go back depends on every batch before it.
        ordered = sorted(
            plan_batches(state, self.timezone, closed),
            key=lambda p: (p.horizon, p.batch.day, p.batch.number),
        )
        allocated = allocate_returns([p.batch for p in ordered], self.setting, refs)
        recorded = recorded_answers(state)
        self.keep_lease()
        for planned, batch in zip(ordered, allocated, strict=True):
            if days is not None and batch.day not in days:
                continue
            planned = PlannedBatch(batch, planned.horizon)
            complete = self._post_batch(planned, state, recorded, refs, retry_failed, dry_run)
            tally.add(batch.day, complete)
        return tally

    def _post_batch(
        self,
        planned: PlannedBatch,
        state: LogState,
        recorded: Mapping[str, Mapping[str, Any]],
        refs: JurnalRefs,
        retry_failed: bool,
        dry_run: DryRun | None,
    ) -> bool:
        batch = planned.batch
        done = self._settled(batch, state, recorded, refs, retry_failed)
        if done is not None and dry_run is None:
            return done
        handled: set[str] = set()
        complete = True
        while True:
            self.keep_lease()
            posted = self._posted_for(batch, state)
            fresh = [
                doc
                for doc in plan_batch(batch, self.setting, refs, posted)
                if doc.custom_id not in handled
            ]
            if not fresh:
                return complete
            for doc in fresh:
                self.keep_lease()
                handled.add(doc.custom_id)
                if doc.custom_id in posted:
                    continue
                last = state.outcomes.get(doc.custom_id)
                if isinstance(last, PostingFailed) and not retry_failed:
                    complete = False
                    continue
                if dry_run is not None:
                    dry_run.documents.append(self._shown(doc, batch))
                    complete = False
                    continue
                if isinstance(doc, Unmappable):
                    self._fail(doc, planned)
                    complete = False
                    continue
                answer = self._create(doc, planned)
                if answer is None:
                    complete = False
                    continue
                self.answers[doc.custom_id] = answer
            if dry_run is not None:
                return complete

    def _settled(
        self,
        batch: Batch,
        state: LogState,
        recorded: Mapping[str, Mapping[str, Any]],
        refs: JurnalRefs,
        retry_failed: bool,
    ) -> bool | None:
        """Whether the batch is settled (True: all in Jurnal; False: only failures are left,
        not retried now), known from the log's recorded amounts (`recorded_answers`) without a
        call to Jurnal; None when something is still to post."""
        plan = plan_batch(batch, self.setting, refs, recorded)
        complete = True
        for doc in plan:
            outcome = state.outcomes.get(doc.custom_id)
            if isinstance(outcome, DocumentPosted):
                continue
            if isinstance(outcome, PostingFailed) and not retry_failed:
                complete = False
                continue
            return None
        return complete

    def _shown(self, doc: Planned, batch: Batch) -> dict[str, Any]:
        shown = {"day": batch.day.isoformat(), "batch": batch.number, **doc.as_json()}
        if doc.kind == "sales_invoice":
            shown["receipts"] = receipts(batch.sales)
        return shown

    def _posted_for(self, batch: Batch, state: LogState) -> dict[str, dict[str, Any]]:
        """Jurnal's answers for the batch's posted documents and the invoices its refunds
        return to: from this pass, else read back (one call each, only when still needed)."""
        wanted = {
            invoice_id_of(self.setting, batch.day, batch.number),
            *(invoice_id_of(self.setting, *origin) for origin in batch.returns or {}),
        }
        prefix = f"-day-{batch.day.isoformat()}-{batch.number}-"
        wanted |= {cid for cid in state.outcomes if prefix in cid}
        wanted |= {cid for cid in self.answers if prefix in cid}
        found: dict[str, dict[str, Any]] = {}
        for custom_id in wanted:
            if custom_id in self.answers:
                found[custom_id] = self.answers[custom_id]
                continue
            outcome = state.outcomes.get(custom_id)
            if not isinstance(outcome, DocumentPosted):
                continue
            answer = self._read_back(outcome)
            if answer is not None:
                self.answers[custom_id] = found[custom_id] = answer
        return found

    def _read_back(self, outcome: DocumentPosted) -> dict[str, Any] | None:
        resource = {
            "sales_invoice": "sales_invoices",
            "sales_return": "sales_returns",
        }.get(outcome.kind)
        if resource is None:
            # Payments, money paid back and entries are never referred to again: their own
            # recorded amounts are all the balancing entry reads.
            return {"id": outcome.jurnal_id, **(outcome.amounts or {})}
        try:
            return self.poster.jurnal.get(resource, outcome.jurnal_id)
        except JurnalNotFound:
            return None

    def _create(self, doc: JurnalDocument, planned: PlannedBatch) -> dict[str, Any] | None:
        reference = f"Ringkasan Harian {planned.batch.day.isoformat()}"
        outcome = self.poster._write(
            doc,
            reference,
            planned.horizon,
            lambda: self.poster.jurnal.create_document(doc.resource, doc.body[doc.kind]),
        )
        if outcome is None:
            return None
        document = outcome.document
        self.poster.log.record_posted(
            self.setting.id,
            kind=doc.kind,
            custom_id=doc.custom_id,
            jurnal_id=str(document.get("id")),
            moka_reference=reference,
            resolves=planned.horizon,
            run_id=self.poster.run_id,
            amounts=summary_amounts(doc, document, planned.batch.day),
        )
        self.poster._count(doc.kind, "posted" if outcome.created else "found")
        return dict(document)

    def _fail(self, doc: Unmappable, planned: PlannedBatch) -> None:
        self.poster._record_failure(
            doc.kind,
            doc.custom_id,
            doc.error,
            reference=f"Ringkasan Harian {planned.batch.day.isoformat()}",
            resolves=planned.horizon,
        )


def post_summaries(poster: Poster, now: datetime) -> DayTally:
    """A sync run's hook: post the closed days' summaries and count them in the run's tally."""
    days = SummaryPoster(poster).post_closed_days(now)
    if days.days:
        poster.tally.counts[SUMMARY_KEY] = days.as_count()
    return days


def recorded_answers(state: LogState) -> dict[str, dict[str, Any]]:
    """`recorded_answer` of every posted summary document with recorded amounts."""
    return {
        custom_id: recorded_answer(outcome)
        for custom_id, outcome in state.outcomes.items()
        if isinstance(outcome, DocumentPosted) and outcome.amounts is not None
    }


def recorded_answer(outcome: DocumentPosted) -> dict[str, Any]:
    """A posted summary document as far as its recorded amounts tell: enough to plan what
    follows it (its totals, a return's credit, which Jurnal gives a paid invoice's return in
    full), not to refer to it (no numbers or line ids)."""
    amounts = outcome.amounts or {}
    total, tax = amounts.get("total", "0"), amounts.get("tax", "0")
    answer: dict[str, Any] = {"id": outcome.jurnal_id, "custom_id": outcome.custom_id}
    if outcome.kind == "sales_invoice":
        answer.update(original_amount=total, tax_amount=tax, transaction_no="")
    elif outcome.kind == "sales_return":
        answer.update(
            return_amount=total,
            returned_tax=tax,
            credit_memo={"id": outcome.jurnal_id, "original_amount": total},
        )
    return answer


def summary_amounts(doc: JurnalDocument, answer: Mapping[str, Any], day: date) -> dict[str, str]:
    """What a summary document holds by Jurnal's answer, on its business day, for the
    reconciliation. Moka's side is not attached: each document alone differs from Moka by
    design; the day with its balancing entry is what equals Moka's."""
    body = doc.body[doc.kind]
    if doc.kind == "sales_invoice":
        total, tax = answer.get("original_amount"), answer.get("tax_amount")
    elif doc.kind == "sales_return":
        total, tax = answer.get("return_amount"), answer.get("returned_tax")
    elif doc.kind == "receive_payment":
        total = sum(
            (to_decimal(r.get("amount") or 0) for r in body["records_attributes"]), Decimal(0)
        )
        tax = 0
    elif doc.kind == "customer_credit_memo_refund":
        total = sum(
            (
                to_decimal(r.get("refund_amount") or 0)
                for r in body["credit_memo_refund_lines_attributes"]
            ),
            Decimal(0),
        )
        tax = 0
    else:  # the balancing entry: returns it adds (signed) and tax it adds
        assert doc.moka is not None
        total, tax = doc.moka.total, doc.moka.tax
    return {
        "total": str(to_decimal(total or 0)),
        "tax": str(to_decimal(tax or 0)),
        "business_date": day.isoformat(),
    }
