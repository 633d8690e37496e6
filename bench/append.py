"""`sambung bench append`: does appending to a setting's log slow down as the log grows?

`append_ratio` = the rate of single appends at the end of a log of `events` events (1,000,000;
`--quick`: 100,000) ÷ their rate at the start of a fresh log, in the same run (goal ≥ 0.9), on
SQLite and, with `--store postgres`, on PostgreSQL.

Each measured append is one Moka payment, one atomic append (the webhook path, the costliest per
event). The log is filled first with pages of payments (`receive_many`, as the nightly pull
appends them; the fill is not measured, only makes the log long). Each append commits durably
(SQLite's default fsync; PostgreSQL with fsync on), and on a shared machine the disk and CPU
swing several-fold from one minute to the next, which would decide a comparison of two windows
taken minutes apart. So the two windows are measured side by side: the last 1,000 appends of the
long log alternate, 50 at a time, with the first 1,000 appends of a second, fresh log in a fresh
store. Both windows see the same machine; only the length of the log (and the size of the store)
differs. Rates are appends over the summed time of the window's appends.

The payments are shaped like Moka's v3 payment (every top-level key of the documented example,
two checkout lines with discounts, taxes, gratuities and a modifier; about 5 KB of JSON each),
each with its own id. The bench runs on throwaway stores, never on a configured database.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from infra.config import Config
from infra.eventlog import EventLog, open_event_log

EVENTS = 1_000_000
QUICK_EVENTS = 100_000
WINDOW = 1_000
TARGET_RATIO = 0.9
_PAGE = 500  # payments per `receive_many` while filling
_TURN = 50  # appends per turn when the two windows alternate
_BENCH_KEY = "bench-append-throwaway-key"


class Appender:
    """One throwaway store with one setting, fed distinct payments."""

    def __init__(self, data_dir: Path, store_env: dict[str, str] | None = None) -> None:
        env = {"SAMBUNG_DATA_DIR": str(data_dir), "SAMBUNG_SECRET_KEY": _BENCH_KEY}
        self.log = open_event_log(Config.from_env(env | (store_env or {})))
        self.setting_id = _setting(self.log)
        self.payments = _payments()
        self.seconds = 0.0
        self.appended = 0

    def append(self, count: int) -> None:
        for _ in range(count):
            payment = next(self.payments)
            started = time.perf_counter()
            appended = self.log.receive(self.setting_id, "payment", payment, "webhook")
            self.seconds += time.perf_counter() - started
            assert appended.stored, appended
        self.appended += count

    def rate(self) -> float:
        return self.appended / self.seconds

    def fill(self, count: int) -> None:
        """Append `count` payments in pages, unmeasured."""
        while count > 0:
            page = [next(self.payments) for _ in range(min(_PAGE, count))]
            self.log.receive_many(self.setting_id, "payment", page, "pull")
            count -= len(page)

    def reset_clock(self) -> None:
        self.seconds, self.appended = 0.0, 0

    @property
    def events(self) -> int:
        return self.log.head(self.setting_id)


def run(
    events: int = EVENTS, store: str = "sqlite", say: Callable[[str], None] = print
) -> dict[str, float | int]:
    """Fill a fresh log to `events` events; return the figures the CLI prints."""
    if events < 2 * WINDOW + 1:
        raise ValueError(f"events must be at least {2 * WINDOW + 1}")
    with ExitStack() as stack:
        root = Path(stack.enter_context(_scratch_dir()))
        envs: list[dict[str, str] | None] = [None, None]
        if store == "postgres":
            from bench.postgres import postgres_server

            server = stack.enter_context(postgres_server())
            envs = [server.create_database("full"), server.create_database("fresh")]
        full = Appender(root / "full", envs[0])
        stack.callback(full.log.close)
        _fill(full, events - WINDOW, say)
        fresh = Appender(root / "fresh", envs[1])
        stack.callback(fresh.log.close)
        full.reset_clock()
        for _ in range(WINDOW // _TURN):
            fresh.append(_TURN)
            full.append(_TURN)
        say(f"side by side: first {WINDOW:,} of a fresh log {fresh.rate():,.0f} appends/s, "
            f"last {WINDOW:,} of this one {full.rate():,.0f} appends/s")  # fmt: skip
        figures = {
            "append_ratio": round(full.rate() / fresh.rate(), 3),
            "events": full.events,
            "rate_first_1000": round(fresh.rate(), 1),
            "rate_last_1000": round(full.rate(), 1),
        }
    return figures


def _fill(appender: Appender, until: int, say: Callable[[str], None]) -> None:
    chunk = max(WINDOW, until // 10)
    while (head := appender.events) < until:
        appender.fill(min(chunk, until - head))
        say(f"{appender.events:>9,} events")


def _scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="sambung-bench-append-")


def _setting(log: EventLog) -> UUID:
    company_id = log.register_company(
        name="Bench FnB", jurnal_client_id="bench", jurnal_client_secret="bench", package="Pro"
    )
    connection_id = log.connect_moka(
        company_id=company_id,
        email="bench@example.com",
        business_id=4011,
        outlets={4522: "Bench Outlet"},
        access_token="bench",
        refresh_token="bench",
    )
    return log.create_setting(
        company_id=company_id,
        moka_connection_id=connection_id,
        outlet_id=4522,
        name="Bench Outlet",
        start_date="2024-05-01",
        default_customer="Pelanggan Umum",
        sales_account="4-40000",
        purchase_account="5-50000",
    )


def _payments() -> Iterator[dict[str, Any]]:
    """Distinct payments, a minute apart, sharing their (unchanging) lines."""
    moment = datetime(2024, 5, 1, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    lines = [_checkout(0, "Ice Cappucino", 64000.0), _checkout(1, "Nasi Goreng", 35000.0)]
    number = 0
    while True:
        number += 1
        moment += timedelta(minutes=1)
        yield _payment(str(uuid4()), number, moment.isoformat(), lines)


def _payment(payment_id: str, number: int, at: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": payment_id, "payment_no": f"{number:07X}", "created_at": at, "updated_at": at,
        "parent_payment_created_at": at, "total_collected": 92000.0,
        "total_item_price_amount": 99000.0, "name": "Ice Cappucino",
        "parent_payment_id": payment_id, "payment_type": "cash", "payment_type_label": "Cash",
        "customer_id": None, "payment_note": "", "discounts": 11400.0, "subtotal": 52600.0,
        "gratuities": 21040.0, "taxes": 18410.0, "tendered": 100000.0, "change": 8000.0,
        "include_gratuity_tax": True, "enable_tax": True, "enable_gratuity": True,
        "card_type": None, "card_no": None, "transaction_date": "01 May 2024",
        "transaction_time": "08 : 01 AM", "collected_by": "Kasir 1", "served_by": "Kasir 1",
        "synchronized_at": at, "outlet_id": 4522, "pg_mid": None, "mpos_device_id": None,
        "transaction_certificate": None, "transaction_status_info": None,
        "mpos_transaction_date": None, "merchant_id": None, "transaction_reference": None,
        "transaction_number": None, "order_info": None, "cc_name": None, "pii": None,
        "guid": payment_id, "uniq_id": payment_id, "invoice_due_date": None, "invoice_no": None,
        "invoice_deposit_amount": None, "invoice_payment_records": [],
        "payment_discounts": [], "payment_taxes": [], "payment_gratuities": [],
        "checkouts": lines, "payment_refunds": [], "is_refund_breakdown": False,
        "total_refund": 0, "is_refunded": False, "refund_amount": 0, "customer_name": "",
        "customer_phone": "", "customer_email": "", "table_name": None,
        "total_rounding_amount": -50.0, "order_id": f"141TH{number:04d}",
    }  # fmt: skip


def _checkout(position: int, name: str, price: float) -> dict[str, Any]:
    checkout_id = str(uuid4())
    return {
        "uuid": checkout_id, "item_name": name, "item_id": 1181590 + position,
        "item_variant_id": 1784869 + position, "item_variant_name": "", "sku": "",
        "category_id": 94185, "category_name": "Beverage", "sales_type_id": 807678,
        "sales_type_name": "Kaki lima", "quantity": 1, "refunded_quantity": 0,
        "price": price, "item_price": price, "item_price_library": price,
        "item_price_quantity": price, "gross_sales": price, "discount_amount": 11400.0,
        "item_discount": 0, "item_price_discount": price - 11400.0,
        "item_price_discount_gratuity": 0, "net_sales": price - 11400.0,
        "total_price": price - 11400.0, "tax_amount": 18410.0, "gratuity_amount": 21040.0,
        "custom_amount": 0.0, "redeem_amount": 0.0, "cogs": 0.0, "position": position,
        "track_stock": False, "is_deleted": False, "is_recipe": False, "is_program_item": False,
        "note": None, "item_image": "", "business_id": 4011, "outlet_id": 4522,
        "parent_checkout_uuid": None,
        "discounts": [
            {"discount_id": 429550, "discount_type": "cash", "discount_name": "Promo",
             "discount_amount": 5000.0, "amount": 5000.0, "checkout_uuid": checkout_id},
            {"discount_id": 429551, "discount_type": "percentage", "discount_name": "Member",
             "discount_amount": 6400.0, "amount": 10.0, "checkout_uuid": checkout_id},
        ],
        "gratuities": [
            {"gratuity_id": 172881, "gratuity_name": "Service ", "amount": 5.0,
             "total": 2630.0, "checkout_uuid": checkout_id},
        ],
        "taxes": [
            {"tax_id": 88120, "tax_name": "PB1", "amount": 10.0, "total": 18410.0,
             "checkout_uuid": checkout_id},
        ],
        "modifiers": [
            {"modifier_id": 5512, "modifier_name": "Topping", "modifier_option_id": 9921,
             "modifier_option_name": "Extra shot", "price": 6000.0, "quantity": 1},
        ],
    }  # fmt: skip
