"""The marshmallow schemas at the edge: what the webhook endpoint and the JSON API accept and
answer. The views load requests and dump answers with them, and `gateway.openapi` generates the
OpenAPI document from the same classes, so the document cannot drift from the code.

Schemas check shapes and types only; the domain checks the rules (quota, immutable fields,
packages) and names the offending field the same way. Request schemas refuse unknown fields (a
typo should not be ignored silently); the webhook envelope tolerates them, as Moka may add some.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from domain.log import RunMethod, RunStatus
from domain.moka_webhooks import EVENT_NAMES
from domain.settings import NAMING_LIMIT, PAYMENT_BUCKETS, TEXT_LIMIT, JurnalPackage

MAX_EVENTS_PAGE = 1000
MAX_RECONCILIATION_DAYS = 366


# -- fields -----------------------------------------------------------------------------------


class StrictBoolean(fields.Boolean):
    """JSON true or false only: marshmallow's Boolean also takes 1, "yes" and "on"."""

    openapi = {"type": "boolean"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class MokaId(fields.Field):
    """A Moka integer id, sent as a number or as a string of digits; kept as a string."""

    openapi = {"oneOf": [{"type": "string", "pattern": r"^\s*\d+\s*$"}, {"type": "integer"}]}
    default_error_messages = {"invalid": "Not a Moka id (digits, as a number or a string)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.make_error("invalid")
        text = str(value).strip()
        if not text.isdigit():
            raise self.make_error("invalid")
        return text

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class Timestamp(fields.String):
    """A time the read models already wrote as ISO 8601 text with its offset."""

    openapi = {"type": "string", "format": "date-time"}


class DayText(fields.String):
    openapi = {"type": "string", "format": "date"}


class Money(fields.String):
    """An amount in rupiah as a decimal string (never a float)."""

    openapi = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}


def _text(limit: int = TEXT_LIMIT, **options: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=limit), **options)


def _uuid_list(**options: Any) -> fields.List:
    return fields.List(fields.UUID(), **options)


class RequestSchema(Schema):
    class Meta:
        unknown = RAISE


# -- errors -----------------------------------------------------------------------------------


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable."})
    message = fields.String(required=True, metadata={"description": "For the person."})
    fields = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Each offending field by its dotted path, with its problem."},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


# -- webhooks ---------------------------------------------------------------------------------


class WebhookHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_name = fields.String(required=True, validate=validate.OneOf(EVENT_NAMES))
    timestamp = fields.AwareDateTime(required=True)
    outlet_id = MokaId(required=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Equal(1))


class WebhookSchema(Schema):
    """The adopted webhook format (reference §12.2): `body` is one Moka payment, item or
    customer, stored whole."""

    class Meta:
        unknown = EXCLUDE

    header = fields.Nested(WebhookHeaderSchema, required=True)
    body = fields.Dict(required=True, metadata={"description": "A v3 payment, item or customer."})


class WebhookAcceptedSchema(Schema):
    event_id = fields.UUID(required=True)
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(["stored", "duplicate", "stale", "unrouted"]),
        metadata={"description": "unrouted: no setting takes this outlet; nothing was stored."},
    )
    settings = fields.Integer(required=True, metadata={"description": "Settings of the outlet."})
    stored = fields.Integer(required=True, metadata={"description": "Logs that took it now."})


# -- companies --------------------------------------------------------------------------------


class CompanyCreateSchema(RequestSchema):
    name = _text(required=True)
    jurnal_client_id = _text(required=True)
    jurnal_client_secret = fields.String(required=True, load_only=True)


class CompanySchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    package = fields.String(required=True, validate=validate.OneOf(list(JurnalPackage)))
    quota = fields.Integer(required=True)
    settings_used = fields.Integer(required=True)


class CompanyListSchema(Schema):
    companies = fields.List(fields.Nested(CompanySchema), required=True)


class QuotaSchema(RequestSchema):
    quota = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


# -- Moka connections -------------------------------------------------------------------------


class AuthorizeQuerySchema(RequestSchema):
    company_id = fields.UUID(required=True)


class CallbackQuerySchema(RequestSchema):
    code = fields.String()
    state = fields.String(metadata={"description": "Absent for installs from Moka's App Market."})
    company_id = fields.UUID(metadata={"description": "Which company, when there is no state."})
    error = fields.String()
    error_description = fields.String()


class MokaConnectionCreateSchema(RequestSchema):
    company_id = fields.UUID(required=True)
    access_token = fields.String(required=True, load_only=True, validate=validate.Length(min=1))
    refresh_token = fields.String(required=True, load_only=True, validate=validate.Length(min=1))
    expires_at = fields.AwareDateTime(
        metadata={"description": "When the access token expires, if known."}
    )


class OutletSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class OutletListSchema(Schema):
    outlets = fields.List(fields.Nested(OutletSchema), required=True)


class MokaConnectionSchema(Schema):
    id = fields.UUID(required=True)
    company_id = fields.UUID(required=True)
    email = fields.String(required=True)
    business_id = fields.String(required=True)
    outlets = fields.List(fields.Nested(OutletSchema), required=True)


# -- settings ---------------------------------------------------------------------------------


class PaymentAccountSchema(RequestSchema):
    account = _text(required=True, metadata={"description": "Jurnal deposit account."})
    tag = _text(allow_none=True, metadata={"description": "Jurnal tag (Pro or Enterprise)."})


class PaymentAccountsSchema(RequestSchema):
    cash = fields.Nested(PaymentAccountSchema, metadata={"description": PAYMENT_BUCKETS["cash"]})
    edc = fields.Nested(PaymentAccountSchema, metadata={"description": PAYMENT_BUCKETS["edc"]})
    gift_card = fields.Nested(
        PaymentAccountSchema, metadata={"description": PAYMENT_BUCKETS["gift_card"]}
    )
    ovo = fields.Nested(PaymentAccountSchema, metadata={"description": PAYMENT_BUCKETS["ovo"]})
    tcash = fields.Nested(PaymentAccountSchema, metadata={"description": PAYMENT_BUCKETS["tcash"]})
    other = fields.Nested(PaymentAccountSchema, metadata={"description": PAYMENT_BUCKETS["other"]})


POSTING_MODES = ("per_sale", "daily_summary")
POSTING_MODE_HELP = (
    "per_sale (default): each sale its own invoice and payment, keeping each customer and "
    "receipt; daily_summary: each business day of the outlet as one invoice, a payment per "
    "payment method, one return and a balancing entry, keeping Jurnal's call budget. A change "
    "takes effect from the next business day."
)
ACCOUNT_HELP = (
    "A Jurnal account's name or number, checked against the company's chart; empty: the "
    "company's own default account."
)


class SettingChangesSchema(RequestSchema):
    """Every field of a setting, none required: a PATCH sends the ones to change. Start date,
    default customer, naming and what the setting joins are set once; the domain refuses a
    change to them with 422."""

    company_id = fields.UUID()
    moka_connection_id = fields.UUID()
    outlet_id = MokaId()
    name = _text()
    start_date = fields.Date(metadata={"description": "Set once."})
    default_customer = _text(metadata={"description": "Jurnal customer; set once."})
    name_prefix = _text(NAMING_LIMIT, metadata={"description": "Set once."})
    name_suffix = _text(NAMING_LIMIT, metadata={"description": "Set once."})
    track_inventory = StrictBoolean()
    auto_sync = StrictBoolean()
    sync_time = fields.Time(metadata={"description": "HH:MM, in the merchant's timezone."})
    tag = _text(allow_none=True, metadata={"description": "Jurnal Pro or Enterprise only."})
    warehouse = _text(allow_none=True, metadata={"description": "Jurnal Enterprise only."})
    sync_by_product_name = StrictBoolean()
    sales_account = _text(allow_none=True, metadata={"description": ACCOUNT_HELP})
    purchase_account = _text(allow_none=True, metadata={"description": ACCOUNT_HELP})
    sell_tax_account = _text(
        allow_none=True, metadata={"description": "Taxes' sales account. " + ACCOUNT_HELP}
    )
    buy_tax_account = _text(
        allow_none=True, metadata={"description": "Taxes' purchase account. " + ACCOUNT_HELP}
    )
    payment_accounts = fields.Nested(PaymentAccountsSchema)
    posting_mode = fields.String(
        validate=validate.OneOf(POSTING_MODES),
        metadata={"description": POSTING_MODE_HELP},
    )
    rounding_account = _text(
        allow_none=True,
        metadata={
            "description": "Daily summary: where its balancing journal entry books what "
            "Jurnal's rounding cannot equal. " + ACCOUNT_HELP
        },
    )
    summary_close_time = fields.Time(
        allow_none=True,
        metadata={
            "description": "Daily summary: HH:MM at which a business day closes and is posted; "
            "empty: at the end of the day (the next sync posts it)."
        },
    )


class SettingCreateSchema(SettingChangesSchema):
    company_id = fields.UUID(required=True)
    moka_connection_id = fields.UUID(required=True)
    outlet_id = MokaId(required=True)
    name = _text(required=True)
    start_date = fields.Date(required=True, metadata={"description": "Set once."})
    default_customer = _text(required=True, metadata={"description": "Set once."})


class SettingSchema(Schema):
    id = fields.UUID(required=True)
    company_id = fields.UUID(required=True)
    moka_connection_id = fields.UUID(required=True)
    outlet_id = fields.String(required=True)
    name = fields.String(required=True)
    start_date = fields.Date(required=True)
    default_customer = fields.String(required=True)
    name_prefix = fields.String(required=True)
    name_suffix = fields.String(required=True)
    track_inventory = fields.Boolean(required=True)
    auto_sync = fields.Boolean(required=True)
    sync_time = fields.Time(required=True, format="%H:%M")
    tag = fields.String(required=True, allow_none=True)
    warehouse = fields.String(required=True, allow_none=True)
    sync_by_product_name = fields.Boolean(required=True)
    sales_account = fields.String(required=True, allow_none=True)
    purchase_account = fields.String(required=True, allow_none=True)
    sell_tax_account = fields.String(required=True, allow_none=True)
    buy_tax_account = fields.String(required=True, allow_none=True)
    payment_accounts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list(PAYMENT_BUCKETS))),
        values=fields.Nested(PaymentAccountSchema),
        required=True,
    )
    posting_mode = fields.String(required=True)
    rounding_account = fields.String(required=True, allow_none=True)
    summary_close_time = fields.Time(required=True, allow_none=True, format="%H:%M")
    posting_mode_changes = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Each posting-mode change by the first business day it governs."},
    )
    transactions_from = fields.Date(
        required=True, metadata={"description": "One calendar month before the start date."}
    )
    master_data_synced_at = fields.AwareDateTime(required=True, allow_none=True)


# -- sync and replay --------------------------------------------------------------------------


class RunRequestedSchema(Schema):
    run_id = fields.UUID(required=True)


class SyncAllSchema(RequestSchema):
    setting_ids = _uuid_list(metadata={"description": "Default: every setting of the caller."})


class SkippedSchema(Schema):
    setting_id = fields.UUID(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class RunsRequestedSchema(Schema):
    run_ids = _uuid_list(required=True)
    skipped = fields.List(
        fields.Nested(SkippedSchema),
        required=True,
        metadata={"description": "Settings that cannot sync transactions yet, and why."},
    )


class ReplaySchema(RequestSchema):
    only_failed = StrictBoolean(load_default=False)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    event_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        metadata={"description": "Log positions of the events to replay."},
    )
    dry_run = StrictBoolean(load_default=False)

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_window(data, "since", "until")


class PlannedDocumentSchema(Schema):
    """A document a replay would send: its body, or why it cannot be made."""

    kind = fields.String(required=True)
    custom_id = fields.String(required=True)
    body = fields.Dict(metadata={"description": "What would be sent to Jurnal."})
    error = fields.String(metadata={"description": "Why it cannot be made (the error's class)."})
    message = fields.String(metadata={"description": "For the person."})


class DryRunSchema(Schema):
    documents = fields.List(fields.Nested(PlannedDocumentSchema), required=True)


# -- the log ----------------------------------------------------------------------------------


class EventsQuerySchema(RequestSchema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_EVENTS_PAGE))


class LogEntrySchema(Schema):
    position = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"description": "PaymentReceived, ..."})
    timestamp = fields.AwareDateTime(required=True)
    data = fields.Dict(required=True)


class EventPageSchema(Schema):
    events = fields.List(fields.Nested(LogEntrySchema), required=True)
    next_after = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null on the last page."}
    )


def _check_window(
    data: dict[str, Any], start: str, end: str, names: tuple[str, str] | None = None
) -> None:
    """Refuse a window whose end comes before its start, naming the end as the request does."""
    start_name, end_name = names or (start, end)
    if data.get(start) and data.get(end) and data[end] < data[start]:
        raise ValidationError({end_name: [f"Must not be before {start_name}."]})


# -- the read models --------------------------------------------------------------------------


class CountSchema(Schema):
    synced = fields.Integer(required=True)
    total = fields.Integer(required=True)


class SummarySchema(Schema):
    """Per kind, how many of the run's items reached Jurnal; kinds with nothing are absent.
    `daily_summaries`: business days of a daily-summary setting fully posted."""

    sales = fields.Nested(CountSchema)
    sales_returns = fields.Nested(CountSchema)
    payments = fields.Nested(CountSchema)
    products = fields.Nested(CountSchema)
    customers = fields.Nested(CountSchema)
    daily_summaries = fields.Nested(CountSchema)


class RunSchema(Schema):
    id = fields.UUID(required=True)
    setting_id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"description": "master_data, transactions..."})
    started_at = Timestamp(required=True)
    finished_at = Timestamp(
        required=True, allow_none=True, metadata={"description": "null while it runs."}
    )
    status = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf([s.value for s in RunStatus]),
        metadata={"description": "Sukses, Sebagian or Gagal; null while it runs."},
    )
    method = fields.String(required=True, validate=validate.OneOf([m.value for m in RunMethod]))
    summary = fields.Nested(SummarySchema, required=True)
    error_count = fields.Integer(required=True)
    error = fields.String(
        required=True, allow_none=True, metadata={"description": "Why the run itself failed."}
    )


class RunErrorSchema(Schema):
    moka_reference = fields.String(required=True)
    kind = fields.String(required=True)
    message = fields.String(required=True)
    error_class = fields.String(required=True)
    position = fields.Integer(required=True, metadata={"description": "Of the failure."})
    resolves = fields.Integer(required=True, metadata={"description": "The failed event."})
    custom_id = fields.String(required=True, allow_none=True)


class RunDetailSchema(RunSchema):
    errors = fields.List(fields.Nested(RunErrorSchema), required=True)


class RunListSchema(Schema):
    runs = fields.List(fields.Nested(RunSchema), required=True)


class ErrorItemSchema(Schema):
    moka_reference = fields.String(required=True)
    custom_id = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)
    position = fields.Integer(required=True)
    resolves = fields.Integer(required=True)
    run_id = fields.UUID(required=True, allow_none=True)
    failed_at = Timestamp(required=True)
    retryable = fields.Boolean(required=True)


class ErrorGroupSchema(Schema):
    cause = fields.String(required=True, metadata={"description": "For the person."})
    error_class = fields.String(required=True)
    message = fields.String(required=True)
    kind = fields.String(required=True)
    count = fields.Integer(required=True)
    items = fields.List(
        fields.Nested(ErrorItemSchema),
        required=True,
        metadata={"description": "The oldest items of the group."},
    )


class ErrorListSchema(Schema):
    errors = fields.List(fields.Nested(ErrorGroupSchema), required=True)


class SyncStateSchema(Schema):
    last_success_at = Timestamp(required=True, allow_none=True)
    last_sync_at = Timestamp(required=True, allow_none=True)
    last_status = fields.String(required=True, allow_none=True)


class OverviewSchema(Schema):
    tags = fields.List(fields.String(), required=True)
    master_data = fields.Nested(SyncStateSchema, required=True)
    transactions = fields.Nested(SyncStateSchema, required=True)


class SettingRowSchema(SettingSchema):
    overview = fields.Nested(
        OverviewSchema,
        required=True,
        allow_none=True,
        metadata={"description": "null until the read models have seen the setting."},
    )


class SettingListSchema(Schema):
    settings = fields.List(fields.Nested(SettingRowSchema), required=True)


class ReconciliationQuerySchema(RequestSchema):
    date_from = fields.Date(required=True, data_key="from")
    date_to = fields.Date(required=True, data_key="to")

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_window(data, "date_from", "date_to", names=("from", "to"))
        if (data["date_to"] - data["date_from"]).days > MAX_RECONCILIATION_DAYS:
            raise ValidationError(
                {"to": [f"Must be within {MAX_RECONCILIATION_DAYS} days of from."]}
            )


class TotalsSchema(Schema):
    sales = Money(required=True)
    returns = Money(required=True)
    taxes = Money(required=True)
    collected = Money(required=True)


class SaleDifferenceSchema(Schema):
    sale_id = fields.String(required=True)
    reference = fields.String(required=True)
    moka = fields.Nested(TotalsSchema, required=True)
    jurnal = fields.Nested(TotalsSchema, required=True)
    difference = fields.Nested(TotalsSchema, required=True)


class ReconciliationDaySchema(Schema):
    date = DayText(required=True)
    moka = fields.Nested(TotalsSchema, required=True)
    jurnal = fields.Nested(TotalsSchema, required=True)
    difference = fields.Nested(
        TotalsSchema, required=True, metadata={"description": "Moka − Jurnal."}
    )
    sales_count = fields.Integer(required=True, metadata={"description": "Sales that differ."})
    sales = fields.List(fields.Nested(SaleDifferenceSchema), required=True)


class ReconciliationSchema(Schema):
    days = fields.List(fields.Nested(ReconciliationDaySchema), required=True)
