"""Jurnal companies, Moka connections and settings, with every rule of design §2.

A *setting* joins one Moka outlet to one Jurnal company. Its rules:

- every field is validated, and all problems are reported at once (`SettingInvalid.fields`);
- start date, default customer, the data naming (prefix and suffix) and what the setting joins
  (company, Moka connection, outlet) are set once; changing them raises `ImmutableField`, because
  documents already posted carry them. Sending the value a field already has is not a change;
- a tag (on the setting or on a payment account) needs Jurnal Pro or Enterprise, a warehouse needs
  Enterprise (`PlanRequired`). On an update only the fields being changed are checked, so a company
  that moved to a lower package can still edit its other fields;
- a company holds at most `quota` live settings (default 1; `QuotaExceeded`);
- transactions sync from one calendar month before the start date, and only once a master-data
  sync has completed (`MasterDataNotSynced`);
- the sales, purchase and tax accounts are optional: empty, each is the Jurnal company's own
  default account (`domain.chart`). Whether the named accounts exist is checked against the
  company's chart by the use cases, which can ask Jurnal.

Aggregates validate in their command methods; the `@event` bodies only assign, because they run
again whenever the aggregate is rebuilt from its events. Event payloads hold plain values (str,
bool, date, time, UUID, dicts) so that the store can serialise them; payment accounts travel as
`{"account": ..., "tag": ...}` dicts and become `PaymentAccount` values on the aggregate.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    CompanyInvalid,
    ImmutableField,
    MasterDataNotSynced,
    MokaConnectionInvalid,
    PlanRequired,
    QuotaExceeded,
    SettingInvalid,
    SettingNotFound,
)
from domain.sealed import Sealed

# Deterministic ids (uuid5) hang off this namespace, so the same natural key gives the same id on
# every machine.
SAMBUNG_NAMESPACE = uuid5(NAMESPACE_URL, "https://sambung.dev/ids")

TEXT_LIMIT = 100
NAMING_LIMIT = 50
NAMING_SEPARATOR = " | "
DEFAULT_SYNC_TIME = time(22, 0)
DEFAULT_QUOTA = 1


class JurnalPackage(StrEnum):
    BASIC = "Basic"
    PRO = "Pro"
    ENTERPRISE = "Enterprise"

    @classmethod
    def from_jurnal(cls, company_package: str) -> JurnalPackage:
        """Read Jurnal's `company_package` ("Trial Enterprise", "pro", "Starter"...).

        A trial counts as the plan it trials; anything that is neither Pro nor Enterprise is Basic.
        """
        lowered = company_package.lower()
        if "enterprise" in lowered:
            return cls.ENTERPRISE
        if "pro" in lowered:
            return cls.PRO
        return cls.BASIC

    @property
    def has_tags(self) -> bool:
        return self in (JurnalPackage.PRO, JurnalPackage.ENTERPRISE)

    @property
    def has_warehouses(self) -> bool:
        return self is JurnalPackage.ENTERPRISE


# Moka payment-type buckets (design §2), with the add-on's labels.
PAYMENT_BUCKETS: dict[str, str] = {
    "cash": "Tunai",
    "edc": "EDC",
    "gift_card": "Gift Card",
    "ovo": "OVO",
    "tcash": "TCASH/GoPay/QRIS",
    "other": "Lain-lain",
}


@dataclass(frozen=True)
class PaymentAccount:
    """Where one payment bucket's money goes in Jurnal: a deposit account and an optional tag."""

    account: str
    tag: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"account": self.account, "tag": self.tag}


def parse_package(value: object) -> JurnalPackage:
    if isinstance(value, JurnalPackage):
        return value
    if isinstance(value, str):
        for package in JurnalPackage:
            if value.strip().lower() == package.value.lower():
                return package
    known = ", ".join(p.value for p in JurnalPackage)
    raise CompanyInvalid({"package": f"must be one of {known}, not {value!r}"})


# -- Company ----------------------------------------------------------------------------------


class Company(Aggregate):
    """A Jurnal company: its credential (client id and sealed secret), package and quota."""

    @classmethod
    def register(
        cls,
        *,
        name: str,
        jurnal_client_id: str,
        jurnal_client_secret: Sealed,
        package: JurnalPackage | str,
        quota: int = DEFAULT_QUOTA,
    ) -> Company:
        errors: dict[str, str] = {}
        checked_name = _collect(errors, "name", name, _required_text)
        client_id = _collect(errors, "jurnal_client_id", jurnal_client_id, _required_text)
        checked_quota = _collect(errors, "quota", quota, _quota)
        if errors:
            raise CompanyInvalid(errors)
        company: Company = cls(
            name=checked_name,
            jurnal_client_id=client_id,
            jurnal_client_secret=jurnal_client_secret,
            package=parse_package(package).value,
            quota=checked_quota,
        )
        return company

    @event("Registered")
    def __init__(
        self,
        name: str,
        jurnal_client_id: str,
        jurnal_client_secret: Sealed,
        package: str,
        quota: int,
    ) -> None:
        self.name = name
        self.jurnal_client_id = jurnal_client_id
        self.jurnal_client_secret = jurnal_client_secret
        self.package = JurnalPackage(package)
        self.quota = quota
        self.setting_ids: list[UUID] = []

    def add_setting(self, setting_id: UUID) -> None:
        if len(self.setting_ids) >= self.quota:
            raise QuotaExceeded(self.id, self.quota)
        self._setting_added(setting_id=setting_id)

    @event("SettingAdded")
    def _setting_added(self, setting_id: UUID) -> None:
        self.setting_ids.append(setting_id)

    def remove_setting(self, setting_id: UUID) -> None:
        if setting_id in self.setting_ids:
            self._setting_removed(setting_id=setting_id)

    @event("SettingRemoved")
    def _setting_removed(self, setting_id: UUID) -> None:
        self.setting_ids.remove(setting_id)

    def set_quota(self, quota: int) -> None:
        """Lowering the quota below the live settings keeps them; it only refuses new ones."""
        errors: dict[str, str] = {}
        checked = _collect(errors, "quota", quota, _quota)
        if errors:
            raise CompanyInvalid(errors)
        if checked != self.quota:
            self._quota_set(quota=checked)

    @event("QuotaSet")
    def _quota_set(self, quota: int) -> None:
        self.quota = quota

    def record_package(self, package: JurnalPackage | str) -> None:
        checked = parse_package(package)
        if checked is not self.package:
            self._package_recorded(package=checked.value)

    @event("PackageRecorded")
    def _package_recorded(self, package: str) -> None:
        self.package = JurnalPackage(package)

    def change_credentials(self, jurnal_client_id: str, jurnal_client_secret: Sealed) -> None:
        """Also used to re-seal the secret under a new key (same plaintext, new ciphertext)."""
        errors: dict[str, str] = {}
        client_id = _collect(errors, "jurnal_client_id", jurnal_client_id, _required_text)
        if errors:
            raise CompanyInvalid(errors)
        self._credentials_changed(
            jurnal_client_id=client_id, jurnal_client_secret=jurnal_client_secret
        )

    @event("CredentialsChanged")
    def _credentials_changed(self, jurnal_client_id: str, jurnal_client_secret: Sealed) -> None:
        self.jurnal_client_id = jurnal_client_id
        self.jurnal_client_secret = jurnal_client_secret


# -- Moka connection --------------------------------------------------------------------------


class MokaConnection(Aggregate):
    """A Moka business connected through OAuth: who connected, its outlets and sealed tokens.

    Its id derives from (company, business), so connecting the same business again for the same
    company refreshes this connection instead of making a second one.
    """

    @staticmethod
    def create_id(company_id: UUID, business_id: str) -> UUID:
        return uuid5(SAMBUNG_NAMESPACE, f"moka-connection:{company_id}:{business_id}")

    @classmethod
    def connect(
        cls,
        *,
        company_id: UUID,
        email: str,
        business_id: str | int,
        outlets: Mapping[str | int, str],
        access_token: Sealed,
        refresh_token: Sealed,
        token_expires_at: datetime | None = None,
    ) -> MokaConnection:
        checked = _check_connection(email, business_id, outlets, token_expires_at)
        connection: MokaConnection = cls(
            company_id=company_id,
            email=checked["email"],
            business_id=checked["business_id"],
            outlets=checked["outlets"],
            access_token=access_token,
            refresh_token=refresh_token,
            token_expires_at=token_expires_at,
        )
        return connection

    @event("Connected")
    def __init__(
        self,
        company_id: UUID,
        email: str,
        business_id: str,
        outlets: dict[str, str],
        access_token: Sealed,
        refresh_token: Sealed,
        token_expires_at: datetime | None,
    ) -> None:
        self.company_id = company_id
        self.email = email
        self.business_id = business_id
        self.outlets = dict(outlets)
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.token_expires_at = token_expires_at

    @property
    def outlet_ids(self) -> list[str]:
        return list(self.outlets)

    def reconnect(
        self,
        *,
        email: str,
        outlets: Mapping[str | int, str],
        access_token: Sealed,
        refresh_token: Sealed,
        token_expires_at: datetime | None = None,
    ) -> None:
        checked = _check_connection(email, self.business_id, outlets, token_expires_at)
        self._reconnected(
            email=checked["email"],
            outlets=checked["outlets"],
            access_token=access_token,
            refresh_token=refresh_token,
            token_expires_at=token_expires_at,
        )

    @event("Reconnected")
    def _reconnected(
        self,
        email: str,
        outlets: dict[str, str],
        access_token: Sealed,
        refresh_token: Sealed,
        token_expires_at: datetime | None,
    ) -> None:
        self.email = email
        self.outlets = dict(outlets)
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.token_expires_at = token_expires_at

    def store_tokens(
        self, access_token: Sealed, refresh_token: Sealed, token_expires_at: datetime | None
    ) -> None:
        """Moka rotates refresh tokens: each works once, so every refresh is stored at once."""
        if token_expires_at is not None and token_expires_at.tzinfo is None:
            raise MokaConnectionInvalid({"token_expires_at": "must carry a UTC offset"})
        self._tokens_stored(
            access_token=access_token,
            refresh_token=refresh_token,
            token_expires_at=token_expires_at,
        )

    @event("TokensStored")
    def _tokens_stored(
        self, access_token: Sealed, refresh_token: Sealed, token_expires_at: datetime | None
    ) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.token_expires_at = token_expires_at


def _check_connection(
    email: str,
    business_id: str | int,
    outlets: Mapping[str | int, str],
    token_expires_at: datetime | None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {
        "email": _collect(errors, "email", email, _email),
        "business_id": _collect(errors, "business_id", business_id, _moka_id),
    }
    if not isinstance(outlets, Mapping):
        errors["outlets"] = "must map each outlet id to its name"
    else:
        checked_outlets: dict[str, str] = {}
        for raw_id, outlet_name in outlets.items():
            outlet_id = _collect(errors, "outlets", raw_id, _moka_id)
            checked_outlets[outlet_id] = outlet_name if isinstance(outlet_name, str) else ""
        checked["outlets"] = checked_outlets
    if token_expires_at is not None and token_expires_at.tzinfo is None:
        errors["token_expires_at"] = "must carry a UTC offset"
    if errors:
        raise MokaConnectionInvalid(errors)
    return checked


# -- Setting ----------------------------------------------------------------------------------

SETTING_FIELDS = (
    "company_id",
    "moka_connection_id",
    "outlet_id",
    "name",
    "start_date",
    "default_customer",
    "name_prefix",
    "name_suffix",
    "track_inventory",
    "auto_sync",
    "sync_time",
    "tag",
    "warehouse",
    "sync_by_product_name",
    "sales_account",
    "purchase_account",
    "sell_tax_account",
    "buy_tax_account",
    "payment_accounts",
    "posting_mode",
    "rounding_account",
    "summary_close_time",
)
POSTING_MODES = ("per_sale", "daily_summary")
IMMUTABLE_FIELDS = frozenset(
    {
        "company_id",
        "moka_connection_id",
        "outlet_id",
        "start_date",
        "default_customer",
        "name_prefix",
        "name_suffix",
    }
)
SETTING_DEFAULTS: dict[str, Any] = {
    "name_prefix": "",
    "name_suffix": "",
    "track_inventory": False,
    "auto_sync": True,
    "sync_time": DEFAULT_SYNC_TIME,
    "tag": None,
    "warehouse": None,
    "sync_by_product_name": False,
    # An account left empty is the company's own default (see `domain.chart`).
    "sales_account": None,
    "purchase_account": None,
    "sell_tax_account": None,
    "buy_tax_account": None,
    "payment_accounts": {},
    "posting_mode": "per_sale",
    # The daily summary's balancing entry goes here; empty is the setting's sales account.
    "rounding_account": None,
    # When a business day closes for the daily summary; empty: at the setting's sync time.
    "summary_close_time": None,
}


class Setting(Aggregate):
    """One Moka outlet → one Jurnal company, with the fields and rules of design §2."""

    @classmethod
    def create(
        cls,
        *,
        company: Company,
        connection: MokaConnection,
        values: Mapping[str, Any],
    ) -> Setting:
        """Validate `values` (field name → value; absent optional fields take their defaults)
        against the company's package and the connection's outlets, then create the setting.

        The caller saves the company too: `company.add_setting` enforces the quota.
        """
        given = {**SETTING_DEFAULTS, **values}
        given["company_id"] = company.id
        given["moka_connection_id"] = connection.id
        checked = validate_setting_values(given, SETTING_FIELDS)
        errors: dict[str, str] = {}
        if connection.company_id != company.id:
            errors["moka_connection_id"] = "belongs to another company"
        if checked["outlet_id"] not in connection.outlets:
            errors["outlet_id"] = (
                f"{checked['outlet_id']} is not one of the Moka connection's outlets "
                f"({', '.join(connection.outlet_ids) or 'none'})"
            )
        if errors:
            raise SettingInvalid(errors)
        gate_plan(checked, company.package)
        setting: Setting = cls(values=_to_wire(checked))
        company.add_setting(setting.id)
        return setting

    @event("Created")
    def __init__(self, values: dict[str, Any]) -> None:
        self.company_id: UUID = values["company_id"]
        self.moka_connection_id: UUID = values["moka_connection_id"]
        self.outlet_id: str = values["outlet_id"]
        self.name: str = values["name"]
        self.start_date: date = values["start_date"]
        self.default_customer: str = values["default_customer"]
        self.name_prefix: str = values["name_prefix"]
        self.name_suffix: str = values["name_suffix"]
        self.track_inventory: bool = values["track_inventory"]
        self.auto_sync: bool = values["auto_sync"]
        self.sync_time: time = values["sync_time"]
        self.tag: str | None = values["tag"]
        self.warehouse: str | None = values["warehouse"]
        self.sync_by_product_name: bool = values["sync_by_product_name"]
        self.sales_account: str | None = values["sales_account"]
        self.purchase_account: str | None = values["purchase_account"]
        # Settings created before taxes carried accounts have neither: the company's defaults.
        self.sell_tax_account: str | None = values.get("sell_tax_account")
        self.buy_tax_account: str | None = values.get("buy_tax_account")
        self.payment_accounts = _accounts_from_wire(values["payment_accounts"])
        # Settings created before posting modes existed post per sale.
        self.posting_mode: str = values.get("posting_mode") or "per_sale"
        self.rounding_account: str | None = values.get("rounding_account")
        self.summary_close_time: time | None = values.get("summary_close_time")
        # The mode chosen at creation, and each later change by the first business day it
        # governs ("YYYY-MM-DD" → mode): the days before a change keep the mode they had.
        self.first_posting_mode: str = self.posting_mode
        self.posting_mode_changes: dict[str, str] = {}
        self.deleted = False
        self.master_data_synced_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        """Every field by name: payment accounts as `{bucket: {"account", "tag"}}` dicts."""
        return _to_wire({name: getattr(self, name) for name in SETTING_FIELDS})

    def update(
        self, changes: Mapping[str, Any], package: JurnalPackage, *, today: date | None = None
    ) -> dict[str, Any]:
        """Apply the mutable `changes`; return those that differ from the current values.

        A new `posting_mode` takes effect from the business day after `today` (the merchant's
        date, required then): the days up to today, posted or not, keep the mode they had."""
        self.require_live()
        unknown = [name for name in changes if name not in SETTING_FIELDS]
        if unknown:
            raise SettingInvalid({name: "is not a setting field" for name in unknown})
        checked = validate_setting_values(changes, tuple(changes))
        current = self.values()
        different = {
            name: value for name, value in _to_wire(checked).items() if current[name] != value
        }
        frozen = sorted(name for name in different if name in IMMUTABLE_FIELDS)
        if frozen:
            raise ImmutableField(
                {name: "cannot change; delete the setting and create it again" for name in frozen}
            )
        gate_plan(checked, package, only=tuple(different))
        if "posting_mode" in different:
            if today is None:
                raise SettingInvalid({"posting_mode": "a change needs the merchant's date"})
            since = date.fromordinal(today.toordinal() + 1).isoformat()
            different["posting_mode_changes"] = {
                **self.posting_mode_changes,
                since: different["posting_mode"],
            }
        if different:
            self._changed(changes=different)
        return different

    @event("Changed")
    def _changed(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if name == "payment_accounts":
                value = _accounts_from_wire(value)
            setattr(self, name, value)

    def delete(self) -> None:
        self.require_live()
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.deleted = True

    def require_live(self) -> None:
        if self.deleted:
            raise SettingNotFound(self.id, f"setting {self.id} was deleted")

    # -- what the sync engine needs ------------------------------------------------------------

    def posting_mode_on(self, day: date) -> str:
        """The posting mode that governs the sales of business day `day`."""
        return posting_mode_on(day, self.first_posting_mode, self.posting_mode_changes)

    @property
    def master_data_synced(self) -> bool:
        return self.master_data_synced_at is not None

    def record_master_data_synced(self, at: datetime) -> None:
        """The first completed master-data sync opens transaction syncs; later ones change
        nothing."""
        if self.master_data_synced_at is None:
            self._master_data_synced(at=at)

    @event("MasterDataSynced")
    def _master_data_synced(self, at: datetime) -> None:
        self.master_data_synced_at = at

    def require_master_data_synced(self) -> None:
        if not self.master_data_synced:
            raise MasterDataNotSynced(self.id)

    @property
    def transactions_from(self) -> date:
        """The first day whose transactions sync: one calendar month before the start date."""
        return one_month_before(self.start_date)

    def apply_naming(self, name: str) -> str:
        """Product, product code, tax and additional-charge names as Jurnal shows them, e.g.
        `Outlet Jakarta Selatan | Jus Jeruk`: prefix, name and suffix joined by " | "."""
        parts = (self.name_prefix, name, self.name_suffix)
        return NAMING_SEPARATOR.join(part for part in parts if part)


def posting_mode_on(day: date, first: str, changes: Mapping[str, str]) -> str:
    """The mode of business day `day`: the latest change that governs it, else the first."""
    mode = first
    for since, changed in sorted(changes.items()):
        if day.isoformat() >= since:
            mode = changed
    return mode


def one_month_before(day: date) -> date:
    """The same day a calendar month earlier, clamped to that month's end (31 Mar → 28/29 Feb)."""
    year, month = (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- validation -------------------------------------------------------------------------------


class _FieldError(ValueError):
    pass


def validate_setting_values(values: Mapping[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    """Check and normalise the named fields; raise `SettingInvalid` naming every bad one."""
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for name in required:
        if name not in values:
            errors[name] = "is required"
            continue
        if name == "payment_accounts":
            checked[name] = _payment_accounts(values[name], errors)
        else:
            checked[name] = _collect(errors, name, values[name], _FIELD_CHECKS[name])
    if errors:
        raise SettingInvalid(errors)
    return checked


def gate_plan(
    values: Mapping[str, Any], package: JurnalPackage, only: tuple[str, ...] | None = None
) -> None:
    """Refuse a tag below Pro and a warehouse below Enterprise, naming the package needed."""
    errors: dict[str, str] = {}
    fields = values if only is None else {k: v for k, v in values.items() if k in only}
    needs_tags = "needs Jurnal Pro or Enterprise; this company's package is " + package
    if fields.get("tag") and not package.has_tags:
        errors["tag"] = needs_tags
    accounts: Mapping[str, PaymentAccount] = fields.get("payment_accounts") or {}
    for bucket, account in accounts.items():
        if account.tag and not package.has_tags:
            errors[f"payment_accounts.{bucket}.tag"] = needs_tags
    if fields.get("warehouse") and not package.has_warehouses:
        errors["warehouse"] = "needs Jurnal Enterprise; this company's package is " + package
    if errors:
        raise PlanRequired(errors)


def _to_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    wire = dict(values)
    if "payment_accounts" in wire:
        wire["payment_accounts"] = {
            bucket: account.as_dict() for bucket, account in wire["payment_accounts"].items()
        }
    return wire


def _accounts_from_wire(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, PaymentAccount]:
    return {
        bucket: PaymentAccount(entry["account"], entry.get("tag")) for bucket, entry in raw.items()
    }


def _collect(errors: dict[str, str], name: str, value: Any, check: Callable[[Any], Any]) -> Any:
    try:
        return check(value)
    except _FieldError as error:
        errors[name] = str(error)
        return None


def _required_text(value: Any, limit: int = TEXT_LIMIT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _FieldError("is required")
    text = value.strip()
    if len(text) > limit:
        raise _FieldError(f"must be at most {limit} characters")
    return text


def _optional_text(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _required_text(value)


def _naming(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _FieldError("must be text")
    text = value.strip()
    if len(text) > NAMING_LIMIT:
        raise _FieldError(f"must be at most {NAMING_LIMIT} characters")
    if NAMING_SEPARATOR.strip() in text:
        raise _FieldError(f"must not contain {NAMING_SEPARATOR.strip()!r}; Sambung adds it")
    return text


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _FieldError("must be true or false")
    return value


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        raise _FieldError("must be a date without a time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _FieldError("must be a date, YYYY-MM-DD")


def _time_of_day(value: Any) -> time:
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value.strip())
        except ValueError:
            raise _FieldError("must be a time of day, HH:MM") from None
    if not isinstance(value, time):
        raise _FieldError("must be a time of day, HH:MM")
    if value.tzinfo is not None:
        raise _FieldError("must be a wall-clock time in the merchant's timezone, without offset")
    return value.replace(second=0, microsecond=0)


def _posting_mode(value: Any) -> str:
    if value not in POSTING_MODES:
        raise _FieldError(f"must be one of {', '.join(POSTING_MODES)}")
    return str(value)


def _optional_time(value: Any) -> time | None:
    if value is None or value == "":
        return None
    return _time_of_day(value)


def _uuid(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise _FieldError("must be an id") from None


def _moka_id(value: Any) -> str:
    """Moka ids are integers; webhooks send them as digit strings. Keep them as strings."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
        raise _FieldError("must be a Moka id")
    return str(value).strip()


def _email(value: Any) -> str:
    text = _required_text(value)
    if "@" not in text:
        raise _FieldError("must be an email address")
    return text


def _quota(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _FieldError("must be a whole number, 0 or more")
    return int(value)


def _payment_accounts(value: Any, errors: dict[str, str]) -> dict[str, PaymentAccount]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors["payment_accounts"] = "must map payment buckets to {account, tag}"
        return {}
    accounts: dict[str, PaymentAccount] = {}
    for bucket, entry in value.items():
        where = f"payment_accounts.{bucket}"
        if bucket not in PAYMENT_BUCKETS:
            errors[where] = f"is not a payment bucket; known: {', '.join(PAYMENT_BUCKETS)}"
            continue
        if isinstance(entry, PaymentAccount):
            entry = entry.as_dict()
        if not isinstance(entry, Mapping):
            errors[where] = "must be {account, tag}"
            continue
        account = _collect(errors, f"{where}.account", entry.get("account"), _required_text)
        tag = _collect(errors, f"{where}.tag", entry.get("tag"), _optional_text)
        if account is not None:
            accounts[bucket] = PaymentAccount(account, tag)
    return accounts


_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "company_id": _uuid,
    "moka_connection_id": _uuid,
    "outlet_id": _moka_id,
    "name": _required_text,
    "start_date": _date,
    "default_customer": _required_text,
    "name_prefix": _naming,
    "name_suffix": _naming,
    "track_inventory": _flag,
    "auto_sync": _flag,
    "sync_time": _time_of_day,
    "tag": _optional_text,
    "warehouse": _optional_text,
    "sync_by_product_name": _flag,
    "sales_account": _optional_text,
    "purchase_account": _optional_text,
    "sell_tax_account": _optional_text,
    "buy_tax_account": _optional_text,
    "posting_mode": _posting_mode,
    "rounding_account": _optional_text,
    "summary_close_time": _optional_time,
}
