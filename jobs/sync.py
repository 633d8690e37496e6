"""Sync runs: master data and transactions, each pulled from Moka into the log, then posted.

Both are RQ jobs taking string ids, enqueued by `services.syncing` after the run was requested in
the log; both are safe to run twice (a finished run is left alone, the log dedupes what was
pulled, and posting skips what exists). The CLI runs the same functions in-process with a
progress bar.

- **Master data**: customers (business), items with variants and modifiers, taxes and service
  charges. A re-sync updates in Jurnal only what changed in Moka, and a repeated sync with no
  change in Moka makes no Jurnal write.
- **Transactions**: three pulls, each cheap to repeat because the log dedupes what it already
  holds (a repeat costs Moka calls, never a duplicate):
  1. payments whose `updated_at` falls after the last checkpoint (a few minutes of overlap), or
     on the first run everything since one calendar month before the start date;
  2. a re-scan of the sales *created* in the trailing `SAMBUNG_MOKA_RESCAN_DAYS` (35) days: a
     refund probably does not move its sale's `updated_at` (reference §8.4), and a sale from a
     till that synced late arrives with `updated_at` already behind the checkpoint. Only
     payments that bring something new (a new refund, a first appearance) count in the run;
  3. the invoices since the setting's first day from `/v3/reports/invoices`: an invoice whose
     row shows money in (`paid`, or more `amount_pay`) that its payment records do not account
     for gets the difference as an inferred record (`clients.moka.invoices`), posted as a
     receive payment. So unpaid invoices are followed until they are paid, whether or not Moka
     moves their `updated_at` or shows payment records.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import requests
from rq import get_current_job

from clients.jurnal import JurnalError, JurnalRateLimited, JurnalTransientError
from clients.moka import MokaClient, MokaError
from clients.moka.invoices import carry_inferred, shows_money_in, with_invoice_payments
from domain.chart import Chart
from domain.errors import RunAlreadyFinished
from domain.log import RunStatus, run_status
from domain.mapping import (
    JurnalDocument,
    customer_display_names,
    customer_documents,
    product_documents,
    tax_documents,
)
from domain.mapping.errors import MappingError
from domain.mapping.master import UNIT_NAME, unit_custom_id
from domain.mapping.naming import outlet_custom_id
from domain.settings import Setting
from infra import bootstrap
from infra.bootstrap import Container
from jobs.engine import Blocked, Deferred, Poster, Tally
from jobs.setting_lock import SettingLock, acquire
from jobs.summary import post_summaries

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)

PULL_OVERLAP = timedelta(minutes=5)
PAGE = 200  # payments appended to the log at once
LOCK_WAIT_SECONDS = 15 * 60


class SettingBusy(Exception):
    """Another worker kept the setting's lock for longer than a sync will wait."""


# -- jobs -------------------------------------------------------------------------------------


def sync_master_data(setting_id: str, run_id: str) -> dict[str, dict[str, int]]:
    """RQ job: pull master data from Moka, then create or update it in Jurnal."""
    return run_master_data_sync(bootstrap.current(), UUID(setting_id), UUID(run_id))


def sync_transactions(setting_id: str, run_id: str) -> dict[str, dict[str, int]]:
    """RQ job: pull sales since the checkpoint, then post them to Jurnal."""
    return run_transactions_sync(bootstrap.current(), UUID(setting_id), UUID(run_id))


# -- master data ------------------------------------------------------------------------------


def run_master_data_sync(
    container: Container, setting_id: UUID, run_id: UUID, progress: Progress | None = None
) -> dict[str, dict[str, int]]:
    if container.log.get_run(run_id).finished:
        return container.log.get_run(run_id).counts
    setting = container.log.get_setting(setting_id)
    try:
        library = pull_master_data(container, setting)
    except MokaError as error:
        return _finish(container, run_id, Tally(), f"Moka: {error}")
    head = container.log.head(setting_id)

    def post(poster: Poster) -> None:
        try:
            documents = master_documents(setting, library, poster.chart())
        except MappingError as error:
            poster.error = error.message
            return
        ensure_default_customer(poster, head)
        ensure_unit(poster, UNIT_NAME)
        for done, doc in enumerate(documents, start=1):
            synced = poster.upsert(doc, describe(doc), head)
            poster.tally.add(doc.kind, synced=synced)
            if progress:
                progress(done, len(documents))

    return post_under_lock(container, setting_id, run_id, post)


def pull_master_data(container: Container, setting: Setting) -> dict[str, list[dict[str, Any]]]:
    """Everything master data is made from, appended to the log as pulled (deduped there)."""
    client = setting_moka_client(container, setting)
    outlet = int(setting.outlet_id)
    connection = container.log.get_moka_connection(setting.moka_connection_id)
    library = {
        "customer": list(client.iter_customers(int(connection.business_id))),
        "item": list(client.iter_items(outlet)),
        "tax": list(client.iter_library(outlet, "taxes")),
        "gratuity": list(client.iter_library(outlet, "gratuities")),
        "modifier": list(client.iter_library(outlet, "modifiers")),
    }
    for kind in ("customer", "item", "tax", "gratuity"):
        container.log.receive_many(setting.id, kind, library[kind], "pull")
    return library


def master_documents(
    setting: Setting, library: Mapping[str, list[dict[str, Any]]], chart: Chart | None = None
) -> list[JurnalDocument]:
    """Taxes first (products and invoices refer to them), then products, then customers; the
    accounts from the company's `chart`."""
    names = customer_display_names(library["customer"], taken=[setting.default_customer])
    return [
        *tax_documents(setting, library["tax"], chart),
        *product_documents(
            setting, library["item"], library["gratuity"], library["modifier"], chart=chart
        ),
        *customer_documents(library["customer"], names),
    ]


def ensure_unit(poster: Poster, name: str) -> None:
    """Products are made in `name` units: make the unit through `POST /product_units` when the
    company does not have it (Jurnal refuses a product in an unknown unit)."""
    if poster.jurnal.find_by_name("product_units", name) is not None:
        return
    poster.ensure_lock()
    try:
        poster.jurnal.create("product_units", {"name": name, "custom_id": unit_custom_id(name)})
    except (JurnalTransientError, JurnalRateLimited, requests.RequestException) as error:
        raise Deferred(f"Jurnal could not take product unit {name}: {error}") from error
    except JurnalError as error:
        # Each product then fails with Jurnal's own message, which says what to fix.
        log.warning("product unit %s was refused: %s", name, error)


def ensure_default_customer(poster: Poster, resolves: int) -> None:
    """Walk-in sales go to the setting's default customer: make it if Jurnal lacks it."""
    name = poster.setting.default_customer
    if poster.jurnal.find_by_name("customers", name) is not None:
        return
    custom_id = outlet_custom_id(poster.setting, "default-customer", "walk-in")
    doc = JurnalDocument(
        "customer", custom_id, {"customer": {"display_name": name, "custom_id": custom_id}}
    )
    poster.upsert(doc, f"default customer {name}", resolves)


def describe(doc: JurnalDocument) -> str:
    body = doc.body.get(doc.kind, {})
    return str(body.get("display_name") or body.get("name") or doc.custom_id)


# -- transactions -----------------------------------------------------------------------------


def run_transactions_sync(
    container: Container,
    setting_id: UUID,
    run_id: UUID,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> dict[str, dict[str, int]]:
    if container.log.get_run(run_id).finished:
        return container.log.get_run(run_id).counts
    setting = container.log.get_setting(setting_id)
    until = now or datetime.now(UTC)
    since = pull_start(container, setting)
    # The lease is taken before pulling, so that the sweeper's poster does not post what this
    # run pulls: its documents belong to this run in the history.
    with setting_lease(container, setting_id) as lock:
        try:
            payments = pull_payments(
                container,
                setting,
                since,
                until,
                lock=lock,
                rescan_from=rescan_start(container, setting, until),
            )
        except MokaError as error:
            return _finish(container, run_id, Tally(), f"Moka: {error}")

        def post(poster: Poster) -> None:
            total = container.log.head(setting_id) - container.log.posting_cursor(setting_id)
            poster.progress = (lambda done: progress(done, total)) if progress else None
            poster.post_pending()
            poster.tally = tally_payments(poster, payments)
            post_summaries(poster, until)

        return _post_holding(container, setting_id, run_id, lock, post, checkpoint=until)


def pull_start(container: Container, setting: Setting) -> datetime:
    checkpoint = container.log.transactions_checkpoint(setting.id)
    if checkpoint is not None:
        return checkpoint - PULL_OVERLAP
    return _first_moment(container, setting)


def rescan_start(container: Container, setting: Setting, until: datetime) -> datetime:
    """Where the trailing `created_at` re-scan starts: `moka_rescan_days` before `until`, but
    not before the setting's first day."""
    trailing = until - timedelta(days=container.config.moka_rescan_days)
    return max(trailing, _first_moment(container, setting))


def _first_moment(container: Container, setting: Setting) -> datetime:
    zone = ZoneInfo(container.config.timezone)
    return datetime.combine(setting.transactions_from, datetime.min.time(), zone)


def pull_payments(
    container: Container,
    setting: Setting,
    since: datetime,
    until: datetime,
    *,
    lock: SettingLock | None = None,
    rescan_from: datetime | None = None,
) -> list[dict[str, Any]]:
    """Payments updated in [since, until] and made on or after the setting's first day, appended
    to the log in pages (renewing `lock`, if held, at each page). With `rescan_from`, also the
    sales created since then and the invoices whose payment the log lacks (see the module
    docstring); of those, only the ones that brought something new are returned."""
    client = setting_moka_client(container, setting)
    outlet, first_day = int(setting.outlet_id), setting.transactions_from
    changed: dict[str, dict[str, Any]] = {}
    for payment in client.iter_latest_transactions(outlet, since=since, until=until):
        if _business_date(payment) >= first_day:
            changed[str(payment["id"])] = payment
    brought: list[dict[str, Any]] = []
    if rescan_from is not None and rescan_from < since:
        page: list[dict[str, Any]] = []
        for payment in client.iter_latest_transactions(
            outlet, since=rescan_from, until=until, time_filter="created_at"
        ):
            if str(payment["id"]) not in changed and _business_date(payment) >= first_day:
                page.append(payment)
            if len(page) >= PAGE:
                brought += _append_in_pages(container, setting, page, lock, new=True)
                page = []
        brought += _append_in_pages(container, setting, page, lock, new=True)
    if rescan_from is not None:
        paid_later: list[dict[str, Any]] = []
        end = until.astimezone(ZoneInfo(container.config.timezone)).date()
        for row in client.iter_invoices(outlet, start=first_day, end=end, time_filter="created_at"):
            key = str(row["id"])
            held = container.log.latest_record(setting.id, "payment", key)
            current = changed.get(key) or held
            if current is None or not shows_money_in(row):
                continue
            merged = with_invoice_payments(current, row, held, noticed_at=until)
            if merged is not None and key in changed:
                changed[key] = merged
            elif merged is not None:
                paid_later.append(merged)
        brought += _append_in_pages(container, setting, paid_later, lock, new=True)
    pulled = _append_in_pages(container, setting, list(changed.values()), lock) + brought
    # One entry per payment, its newest version: a re-scanned invoice may be followed up too.
    return list({str(p["id"]): p for p in pulled}.values())


def _append_in_pages(
    container: Container,
    setting: Setting,
    payments: list[dict[str, Any]],
    lock: SettingLock | None,
    *,
    new: bool = False,
) -> list[dict[str, Any]]:
    """Append payments to the log, `PAGE` at a time, keeping the invoice payments inferred
    before; returns them all, or with `new` only those the log did not hold yet."""
    kept: list[dict[str, Any]] = []
    for start in range(0, len(payments), PAGE):
        if lock is not None:
            lock.ensure_held()
        page = [
            carry_inferred(p, container.log.latest_record(setting.id, "payment", str(p["id"])))
            if p.get("payment_type") == "invoice"
            else p
            for p in payments[start : start + PAGE]
        ]
        results = container.log.receive_many(setting.id, "payment", page, "pull")
        kept += [p for p, r in zip(page, results, strict=True) if r.stored or not new]
    return kept


def tally_payments(poster: Poster, payments: Iterable[Mapping[str, Any]]) -> Tally:
    """Of the documents the pulled payments need, how many exist in Jurnal now."""
    tally = Tally()
    for payment in payments:
        for kind, custom_id in poster.documents_needed(payment):
            tally.add(kind, synced=poster.is_posted(custom_id))
    return tally


def _business_date(payment: Mapping[str, Any]) -> date:
    return datetime.fromisoformat(str(payment["created_at"])).date()


# -- shared -----------------------------------------------------------------------------------


def setting_moka_client(container: Container, setting: Setting) -> MokaClient:
    return container.moka_for(setting.moka_connection_id)


@contextlib.contextmanager
def setting_lease(container: Container, setting_id: UUID) -> Iterator[SettingLock]:
    """Hold the setting's lock, waiting for the current holder if need be."""
    lock = acquire(
        container.redis,
        str(setting_id),
        ttl_ms=container.config.posting_lock_ttl_ms,
        wait_seconds=LOCK_WAIT_SECONDS,
    )
    if lock is None:
        raise SettingBusy(f"setting {setting_id} stayed locked for {LOCK_WAIT_SECONDS}s")
    try:
        yield lock
    finally:
        lock.release()


def post_under_lock(
    container: Container,
    setting_id: UUID,
    run_id: UUID,
    post: Callable[[Poster], None],
) -> dict[str, dict[str, int]]:
    with setting_lease(container, setting_id) as lock:
        return _post_holding(container, setting_id, run_id, lock, post)


def _post_holding(
    container: Container,
    setting_id: UUID,
    run_id: UUID,
    lock: SettingLock,
    post: Callable[[Poster], None],
    checkpoint: datetime | None = None,
) -> dict[str, dict[str, int]]:
    """Run `post` with the setting's lock held, waiting out transient Jurnal failures, then
    record the run's end with its counts."""
    poster = _poster_with_retries(container, setting_id, run_id, lock, post)
    return _finish(container, run_id, poster.tally, poster.error, checkpoint)


def _poster_with_retries(
    container: Container,
    setting_id: UUID,
    run_id: UUID,
    lock: SettingLock,
    post: Callable[[Poster], None],
) -> Poster:
    """Run `post`. A transient Jurnal failure raises out of the job while RQ will run it again
    (`infra.queues.SYNC_RETRY`); on the last try, or outside RQ, it ends the run with the
    reason."""
    poster = Poster(container, setting_id, lock, run_id=run_id)
    try:
        post(poster)
    except Deferred as reason:
        if _retried_later():
            log.warning("sync of %s deferred, RQ retries it: %s", setting_id, reason)
            raise
        poster.error = f"Jurnal stayed unavailable: {reason}"
    except Blocked as reason:
        poster.error = str(reason)
    return poster


def _retried_later() -> bool:
    """Whether RQ runs the current job again if it fails now."""
    job = get_current_job()
    return job is not None and bool(job.retries_left)


def _finish(
    container: Container,
    run_id: UUID,
    tally: Tally,
    error: str | None,
    checkpoint: datetime | None = None,
) -> dict[str, dict[str, int]]:
    counts = tally.as_dict()
    status = RunStatus.FAILED if error and not tally.total else run_status(counts)
    if error and status is RunStatus.SUCCEEDED:
        status = RunStatus.PARTIAL
    with contextlib.suppress(RunAlreadyFinished):  # a second delivery of the same job
        container.log.finish_run(
            run_id,
            status=status,
            counts=counts,
            error=error,
            checkpoint=checkpoint if status is not RunStatus.FAILED else None,
        )
    return counts
