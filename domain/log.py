"""What a setting's append-only log records, and the sync run as a small aggregate.

Each setting has one log: an ordered stream of `LogEvent`s, numbered from 1 (`position`). It holds

- the setting's lifecycle: `SettingCreated`, `SettingChanged`, `SettingDeleted` (copies of the
  setting aggregate's own events, so that the log alone can rebuild every read model);
- Moka data as received, whole: `PaymentReceived`, `ItemReceived`, `CustomerReceived`,
  `TaxReceived`, `GratuityReceived`, each with its Moka id, `updated_at`, `revision` (1 for the
  first version of that record in this log, 2 for the next newer one...) and `source`;
- sync runs: `SyncRequested` and `SyncFinished` (run id, kind, method, status, counts);
- outcomes: `DocumentPosted` or `PostingFailed`, each naming the `position` of the event it
  resolves (`resolves`).

Event topics embed this module's path and the class names: renaming either is a data migration.
Fields hold plain values (str for the enums below, which compare equal to their members).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import MokaRecordInvalid, OutcomeInvalid, RunAlreadyFinished, RunInvalid


class Source(StrEnum):
    """How Moka data reached Sambung."""

    WEBHOOK = "webhook"
    PULL = "pull"
    REPLAY = "replay"
    # The scheduler's pull every few minutes, between sync runs: posted like a webhook, outside
    # any run, and shown in the history as "Otomatis".
    LIVE_PULL = "live_pull"


class MokaKind(StrEnum):
    """The kinds of Moka record the log takes; each has its own event class."""

    PAYMENT = "payment"
    ITEM = "item"
    CUSTOMER = "customer"
    TAX = "tax"
    GRATUITY = "gratuity"


class RunKind(StrEnum):
    MASTER_DATA = "master_data"
    TRANSACTIONS = "transactions"
    REPLAY = "replay"
    WEBHOOK = "webhook"
    LIVE_PULL = "live_pull"  # the history's hourly row of live-pulled postings, never requested


class RunMethod(StrEnum):
    """How a run was started, as the sync history shows it."""

    MANUAL = "Manual"
    SCHEDULED = "Otomatis"
    WEBHOOK = "Webhook"
    REPLAY = "Replay"


class RunStatus(StrEnum):
    SUCCEEDED = "Sukses"
    PARTIAL = "Sebagian"
    FAILED = "Gagal"


class DocumentKind(StrEnum):
    """The Jurnal documents Sambung writes. `summary_key` is the run summary's count key; a
    refund's money paid back and its rounding adjustment count together under `refunds_paid`
    (the run's status weighs them; the history shows the add-on's five lines only)."""

    SALES_INVOICE = "sales_invoice"
    SALES_RETURN = "sales_return"
    RECEIVE_PAYMENT = "receive_payment"
    PRODUCT = "product"
    CUSTOMER = "customer"
    TAX = "tax"
    CREDIT_MEMO_REFUND = "customer_credit_memo_refund"
    JOURNAL_ENTRY = "journal_entry"

    @property
    def summary_key(self) -> str:
        return _SUMMARY_KEYS[self]


_SUMMARY_KEYS = {
    DocumentKind.SALES_INVOICE: "sales",
    DocumentKind.SALES_RETURN: "sales_returns",
    DocumentKind.RECEIVE_PAYMENT: "payments",
    DocumentKind.PRODUCT: "products",
    DocumentKind.CUSTOMER: "customers",
    DocumentKind.TAX: "taxes",
    DocumentKind.CREDIT_MEMO_REFUND: "refunds_paid",
    DocumentKind.JOURNAL_ENTRY: "refunds_paid",
}
# The keys of a run's `counts`, each `{"synced": n, "total": m}`; `daily_summaries` counts the
# business days a daily-summary setting posted ("Ringkasan Harian: 30 dari 30 hari").
COUNT_KEYS = (*dict.fromkeys(_SUMMARY_KEYS.values()), "daily_summaries")


# -- the log's events -------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEvent(DomainEvent):
    """An entry of a setting's log. `originator_id` is the log's stream id, not the setting id."""

    setting_id: UUID

    @property
    def position(self) -> int:
        """1 for the log's first event, then 2, 3... without gaps."""
        return self.originator_version


@dataclass(frozen=True)
class SettingCreated(LogEvent):
    company_id: UUID
    values: dict[str, Any]


@dataclass(frozen=True)
class SettingChanged(LogEvent):
    changes: dict[str, Any]


@dataclass(frozen=True)
class SettingDeleted(LogEvent):
    pass


@dataclass(frozen=True)
class MokaDataReceived(LogEvent):
    """A Moka record as received, stored whole. A newer `updated_at` is a new revision."""

    kind: str
    moka_id: str
    updated_at: datetime
    revision: int
    source: str
    record: dict[str, Any]


@dataclass(frozen=True)
class PaymentReceived(MokaDataReceived):
    @property
    def payment(self) -> dict[str, Any]:
        return self.record


@dataclass(frozen=True)
class ItemReceived(MokaDataReceived):
    @property
    def item(self) -> dict[str, Any]:
        return self.record


@dataclass(frozen=True)
class CustomerReceived(MokaDataReceived):
    @property
    def customer(self) -> dict[str, Any]:
        return self.record


@dataclass(frozen=True)
class TaxReceived(MokaDataReceived):
    pass


@dataclass(frozen=True)
class GratuityReceived(MokaDataReceived):
    pass


RECEIVED_EVENTS: dict[MokaKind, type[MokaDataReceived]] = {
    MokaKind.PAYMENT: PaymentReceived,
    MokaKind.ITEM: ItemReceived,
    MokaKind.CUSTOMER: CustomerReceived,
    MokaKind.TAX: TaxReceived,
    MokaKind.GRATUITY: GratuityReceived,
}


@dataclass(frozen=True)
class SyncRequested(LogEvent):
    run_id: UUID
    kind: str
    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SyncFinished(LogEvent):
    run_id: UUID
    kind: str
    method: str
    status: str
    counts: dict[str, dict[str, int]]
    error: str | None
    checkpoint: datetime | None


@dataclass(frozen=True)
class DocumentPosted(LogEvent):
    """A Jurnal document exists. `amounts` (see `check_amounts`) is what it holds by Jurnal's
    own arithmetic, for reconciliation; None on events recorded before it existed."""

    kind: str
    custom_id: str
    jurnal_id: str
    moka_reference: str
    resolves: int
    run_id: UUID | None
    amounts: dict[str, str] | None = None


@dataclass(frozen=True)
class PostingFailed(LogEvent):
    kind: str
    error_class: str
    message: str
    retryable: bool
    moka_reference: str
    resolves: int
    run_id: UUID | None
    custom_id: str | None


LOG_EVENT_TYPES: tuple[type[LogEvent], ...] = (
    SettingCreated,
    SettingChanged,
    SettingDeleted,
    *RECEIVED_EVENTS.values(),
    SyncRequested,
    SyncFinished,
    DocumentPosted,
    PostingFailed,
)


AMOUNT_KEYS = ("total", "tax", "paid", "moka_total", "moka_tax")
OPTIONAL_AMOUNT_KEYS = frozenset({"paid", "moka_total", "moka_tax"})
# Jurnal and Moka may differ by sen (Jurnal keeps them, Moka rounds them away); a rupiah is a
# difference someone has to look at.
RUPIAH = Decimal(1)


def check_amounts(amounts: Mapping[str, Any]) -> dict[str, str]:
    """The Jurnal-side amounts of a posted document, as plain strings.

    `total` (the document's total: an invoice's `original_amount`, a return's total, a receive
    payment's amount, a credit-memo refund's money, an adjustment's signed amount) and `tax` are
    required Decimal strings; `paid` (money received inside the document, e.g. an invoice's
    `deposit`) is optional; `moka_total` and `moka_tax` (optional) are what Moka says the
    document stands for (see `totals_differ`); `business_date` (YYYY-MM-DD) is the Moka business
    day the document belongs to.
    """
    errors: dict[str, str] = {}
    checked: dict[str, str] = {}
    for key in sorted(set(amounts) - {*AMOUNT_KEYS, "business_date"}):
        errors[f"amounts.{key}"] = (
            "is not an amount; known: total, tax, paid, moka_total, moka_tax, business_date"
        )
    for key in AMOUNT_KEYS:
        if key in OPTIONAL_AMOUNT_KEYS and key not in amounts:
            continue
        number = _decimal(amounts.get(key))
        if number is None:
            errors[f"amounts.{key}"] = "must be a decimal number as a string"
        else:
            checked[key] = str(number)
    try:
        checked["business_date"] = date.fromisoformat(str(amounts.get("business_date"))).isoformat()
    except ValueError:
        errors["amounts.business_date"] = "must be a date, YYYY-MM-DD"
    if errors:
        raise OutcomeInvalid(errors)
    return checked


def totals_differ(amounts: Mapping[str, str]) -> str | None:
    """ "Jurnal totalled X, Moka Y" when a posted document's total or tax is a rupiah or more
    from what Moka says it stands for; None when they agree (or Moka's side is not recorded)."""
    problems = []
    for key, label in (("total", "totalled"), ("tax", "taxed")):
        moka = amounts.get(f"moka_{key}")
        if moka is None:
            continue
        jurnal = Decimal(amounts[key])
        if abs(jurnal - Decimal(moka)) >= RUPIAH:
            problems.append(f"Jurnal {label} {_plain(jurnal)}, Moka {_plain(Decimal(moka))}")
    return "; ".join(problems) or None


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("0", "-0") else text


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, (str, Decimal)):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# -- Moka record identity ---------------------------------------------------------------------


def moka_identity(kind: MokaKind, record: Mapping[str, Any]) -> tuple[str, datetime]:
    """The Moka id and `updated_at` that identify one version of a record.

    Payments key on their UUID (`id`, or `uuid` where an old record has `"id": 0`); the library,
    customers, taxes and gratuities on their integer id. `updated_at` must carry its UTC offset,
    as every Moka timestamp does, so versions from webhooks and pulls compare exactly.
    """
    if not isinstance(record, Mapping):
        raise MokaRecordInvalid({"record": f"a Moka {kind} must be a JSON object"})
    errors: dict[str, str] = {}
    raw_id = record.get("id") or (record.get("uuid") if kind is MokaKind.PAYMENT else None)
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        errors["id"] = f"is required on a Moka {kind}"
    updated_at = _aware_datetime(record.get("updated_at"))
    if updated_at is None:
        errors["updated_at"] = "must be an ISO-8601 time with a UTC offset"
    if errors:
        raise MokaRecordInvalid(errors)
    assert updated_at is not None
    return str(raw_id).strip(), updated_at


def record_progress(kind: MokaKind, record: Mapping[str, Any]) -> int:
    """How far a record has moved besides its `updated_at`: for a payment, how many refunds and
    later invoice payments it carries. Moka may add a refund without moving the sale's
    `updated_at` (reference §8.4), so a version is (`updated_at`, progress): a payment seen again
    with the same `updated_at` but a new refund is a new revision, not a duplicate."""
    if kind is not MokaKind.PAYMENT:
        return 0
    rows = 0
    for key in ("payment_refunds", "invoice_payment_records", "payment_records"):
        value = record.get(key)
        if isinstance(value, list):
            rows += len(value)
    return rows


def _aware_datetime(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


# -- sync runs --------------------------------------------------------------------------------


def run_status(counts: Mapping[str, Mapping[str, int]], *, aborted: bool = False) -> RunStatus:
    """Sukses when everything synced (or there was nothing to sync), Gagal when nothing did or
    the run was aborted, Sebagian in between."""
    if aborted:
        return RunStatus.FAILED
    synced = sum(count["synced"] for count in counts.values())
    total = sum(count["total"] for count in counts.values())
    if synced == total:
        return RunStatus.SUCCEEDED
    return RunStatus.FAILED if synced == 0 else RunStatus.PARTIAL


def check_counts(counts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    errors: dict[str, str] = {}
    checked: dict[str, dict[str, int]] = {}
    for key, count in counts.items():
        where = f"counts.{key}"
        if key not in COUNT_KEYS:
            errors[where] = f"is not a count; known: {', '.join(COUNT_KEYS)}"
            continue
        pair = _count_pair(count)
        if pair is None:
            errors[where] = "must be {synced, total}, whole numbers with 0 <= synced <= total"
            continue
        checked[key] = {"synced": pair[0], "total": pair[1]}
    if errors:
        raise RunInvalid(errors)
    return checked


def _count_pair(count: object) -> tuple[int, int] | None:
    if not isinstance(count, Mapping):
        return None
    synced, total = count.get("synced"), count.get("total")
    if not (_is_count(synced) and _is_count(total)):
        return None
    assert isinstance(synced, int) and isinstance(total, int)
    return (synced, total) if synced <= total else None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_member(enum: type[StrEnum], value: object) -> bool:
    return isinstance(value, str) and value in {member.value for member in enum}


class SyncRun(Aggregate):
    """One sync run of one setting, from request to finish. Its id may be chosen by the caller
    (e.g. derived from the setting and the night it serves), so requesting it twice is harmless."""

    @staticmethod
    def create_id(run_id: UUID) -> UUID:
        return run_id

    @classmethod
    def request(
        cls,
        *,
        run_id: UUID,
        setting_id: UUID,
        kind: RunKind | str,
        method: RunMethod | str,
        params: Mapping[str, Any],
    ) -> SyncRun:
        errors: dict[str, str] = {}
        if not _is_member(RunKind, kind):
            errors["kind"] = f"must be one of {', '.join(RunKind)}"
        if not _is_member(RunMethod, method):
            errors["method"] = f"must be one of {', '.join(RunMethod)}"
        if errors:
            raise RunInvalid(errors)
        run: SyncRun = cls(
            run_id=run_id,
            setting_id=setting_id,
            kind=RunKind(kind).value,
            method=RunMethod(method).value,
            params=dict(params),
        )
        return run

    @event("Requested")
    def __init__(
        self, run_id: UUID, setting_id: UUID, kind: str, method: str, params: dict[str, Any]
    ) -> None:
        self.setting_id = setting_id
        self.kind = RunKind(kind)
        self.method = RunMethod(method)
        self.params = params
        self.status: RunStatus | None = None
        self.counts: dict[str, dict[str, int]] = {}
        self.error: str | None = None
        self.checkpoint: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status is not None

    @property
    def requested_at(self) -> datetime:
        return self.created_on

    @property
    def finished_at(self) -> datetime | None:
        return self.modified_on if self.finished else None

    def finish(
        self,
        *,
        status: RunStatus | str,
        counts: Mapping[str, Mapping[str, int]],
        error: str | None,
        checkpoint: datetime | None,
    ) -> None:
        if self.finished:
            raise RunAlreadyFinished(self.id)
        errors: dict[str, str] = {}
        if not _is_member(RunStatus, status):
            errors["status"] = f"must be one of {', '.join(RunStatus)}"
        if checkpoint is not None and checkpoint.tzinfo is None:
            errors["checkpoint"] = "must carry a UTC offset"
        if checkpoint is not None and self.kind is not RunKind.TRANSACTIONS:
            errors["checkpoint"] = "belongs to transactions runs only"
        if errors:
            raise RunInvalid(errors)
        self._finished(
            status=RunStatus(status).value,
            counts=check_counts(counts),
            error=error,
            checkpoint=checkpoint,
        )

    @event("Finished")
    def _finished(
        self,
        status: str,
        counts: dict[str, dict[str, int]],
        error: str | None,
        checkpoint: datetime | None,
    ) -> None:
        self.status = RunStatus(status)
        self.counts = counts
        self.error = error
        self.checkpoint = checkpoint

    @property
    def completes_master_data(self) -> bool:
        """A finished master-data run that was not a total failure opens transaction syncs."""
        return self.kind is RunKind.MASTER_DATA and self.status in (
            RunStatus.SUCCEEDED,
            RunStatus.PARTIAL,
        )
