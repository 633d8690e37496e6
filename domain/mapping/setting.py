"""What the mapping reads from a setting, as a `typing.Protocol`, so that the event-sourced
`Setting` aggregate, a JSON file given to `sambung map` and a test double all fit.

Also the documented default setting that `sambung map` uses when no setting file is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from domain.mapping.errors import MappingError
from domain.settings import PAYMENT_BUCKETS

# The payment buckets of design §2, keyed as the setting keys them, with the add-on's labels.
BUCKET_LABELS: Mapping[str, str] = PAYMENT_BUCKETS


class PaymentAccountLike(Protocol):
    """Where one bucket's money goes: a Jurnal deposit (Cash & Bank) account name and a tag."""

    @property
    def account(self) -> str: ...

    @property
    def tag(self) -> str | None: ...


class MappingSetting(Protocol):
    """The setting fields the mapping uses (names as in `domain.settings.Setting`)."""

    @property
    def outlet_id(self) -> str: ...

    @property
    def name_prefix(self) -> str: ...

    @property
    def name_suffix(self) -> str: ...

    @property
    def default_customer(self) -> str: ...

    @property
    def track_inventory(self) -> bool: ...

    @property
    def tag(self) -> str | None: ...

    @property
    def warehouse(self) -> str | None: ...

    @property
    def sync_by_product_name(self) -> bool: ...

    # Account names or numbers; None is the company's default account (`domain.chart`).
    @property
    def sales_account(self) -> str | None: ...

    @property
    def purchase_account(self) -> str | None: ...

    @property
    def sell_tax_account(self) -> str | None: ...

    @property
    def buy_tax_account(self) -> str | None: ...

    @property
    def payment_accounts(self) -> Mapping[str, PaymentAccountLike]: ...

    @property
    def start_date(self) -> date | None: ...


@dataclass(frozen=True)
class PaymentAccount:
    account: str
    tag: str | None = None


@dataclass(frozen=True)
class SettingValues:
    """A plain setting: what `sambung map` reads from `--setting`, and the default below."""

    outlet_id: str
    name_prefix: str = ""
    name_suffix: str = ""
    default_customer: str = "Pelanggan Umum"
    track_inventory: bool = False
    tag: str | None = None
    warehouse: str | None = None
    sync_by_product_name: bool = False
    sales_account: str | None = None
    purchase_account: str | None = None
    sell_tax_account: str | None = None
    buy_tax_account: str | None = None
    payment_accounts: Mapping[str, PaymentAccount] = field(default_factory=dict)
    start_date: date | None = None


# The default chart's two Cash & Bank accounts, by number, which stays the same whatever language
# the company's account names are in (reference §6.2: "Kas"/"Cash" and "Rekening Bank"/"Bank
# Account"): cash goes to the first, everything that settles through a bank to the second.
DEFAULT_PAYMENT_ACCOUNTS: Mapping[str, PaymentAccount] = {
    "cash": PaymentAccount("1-10001"),
    "edc": PaymentAccount("1-10002"),
    "gift_card": PaymentAccount("1-10002"),
    "ovo": PaymentAccount("1-10002"),
    "tcash": PaymentAccount("1-10002"),
    "other": PaymentAccount("1-10002"),
}


def default_setting(outlet_id: str) -> SettingValues:
    """The setting `sambung map` uses without `--setting`: no naming prefix or suffix, default
    customer "Pelanggan Umum", no tag or warehouse, no inventory tracking, products by Moka id,
    the company's default sales, purchase and tax accounts, cash to account 1-10001 and every
    other bucket to 1-10002 (the default chart's Cash & Bank accounts)."""
    return SettingValues(outlet_id=outlet_id, payment_accounts=dict(DEFAULT_PAYMENT_ACCOUNTS))


class SettingFileInvalid(MappingError):
    """A setting given as JSON has a field of the wrong kind."""


_TEXT_FIELDS = ("name_prefix", "name_suffix", "default_customer")
_OPTIONAL_TEXT_FIELDS = (
    "tag",
    "warehouse",
    "sales_account",
    "purchase_account",
    "sell_tax_account",
    "buy_tax_account",
)
_FLAGS = ("track_inventory", "sync_by_product_name")


def setting_from_json(raw: Any, outlet_id: str) -> SettingValues:
    """A setting from JSON with the setting's field names; missing fields (and payment buckets)
    take the defaults of `default_setting`, and `outlet_id` defaults to the payment's outlet."""
    if not isinstance(raw, Mapping):
        raise SettingFileInvalid("a setting must be a JSON object of setting fields")
    base = default_setting(str(raw.get("outlet_id") or outlet_id))
    values: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        if name in raw:
            values[name] = _text(raw[name], name)
    for name in _OPTIONAL_TEXT_FIELDS:
        if name in raw:
            values[name] = None if raw[name] in (None, "") else _text(raw[name], name)
    for name in _FLAGS:
        if name in raw:
            if not isinstance(raw[name], bool):
                raise SettingFileInvalid(f"setting field {name!r} must be true or false")
            values[name] = raw[name]
    if raw.get("start_date") not in (None, ""):
        try:
            values["start_date"] = date.fromisoformat(str(raw["start_date"]))
        except ValueError:
            raise SettingFileInvalid("setting field 'start_date' must be YYYY-MM-DD") from None
    if "payment_accounts" in raw:
        # Buckets the file leaves out keep their default account.
        values["payment_accounts"] = {
            **base.payment_accounts,
            **_payment_accounts(raw["payment_accounts"]),
        }
    return replace(base, **values)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise SettingFileInvalid(f"setting field {name!r} must be text")
    return value


def _payment_accounts(raw: Any) -> dict[str, PaymentAccount]:
    if not isinstance(raw, Mapping):
        raise SettingFileInvalid("payment_accounts must map buckets to {account, tag}")
    accounts = {}
    for bucket, entry in raw.items():
        if bucket not in BUCKET_LABELS:
            known = ", ".join(BUCKET_LABELS)
            raise SettingFileInvalid(f"payment bucket {bucket!r} is not one of {known}")
        if not isinstance(entry, Mapping) or not isinstance(entry.get("account"), str):
            raise SettingFileInvalid(f"payment_accounts.{bucket} must be {{account, tag}}")
        tag = entry.get("tag")
        accounts[bucket] = PaymentAccount(entry["account"], None if tag in (None, "") else str(tag))
    return accounts
