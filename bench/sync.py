"""`sambung bench sync`: how many Jurnal calls Sambung spends, and what that costs in time at
Jurnal's real limits.

Both sandboxes run in this process; the sync runs in this process too, through the same job
functions a worker runs (`run_master_data_sync`, `run_transactions_sync`), on the scratch stack.
Calls are counted by the Jurnal sandbox (every answered request but its own control API).

- `first_sync_hours`: a café's first sync (430 products, 130 customers, 30 days of about 32
  sales, ~970 sales with refunds and unpaid invoices, from the sandbox's generator): master data,
  then transactions, then the hours those calls take at Jurnal's documented limits, the binding
  one of 30 a minute and 1,800 an hour per credential and 40 a minute and 2,500 an hour per IP
  (computed from the calls, not waited for). `--quick` syncs a fifth of that café and scales its
  calls up by five (said in the output); the full run syncs the whole café.
- `calls_per_document`: then a steady-state day: the master data synced, a day of new sales and
  two refunds rung up at the till, and the nightly transaction sync; Jurnal calls ÷ Jurnal
  documents it created (goal ≤ 1.05).

The Jurnal sandbox keeps Jurnal's documented limit shape, in a window compressed to 0.2 s: this
scenario counts calls (a 429 counts as one), it does not time them; `drain` measures time.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.harness import Say, Scratch, scratch
from sandbox.jurnal import JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.moka import MokaSandbox
from sandbox.moka import create_app as moka_app
from sandbox.serving import RunningServer, serve_in_thread

JAKARTA = ZoneInfo("Asia/Jakarta")
CAFE = {"products": 430, "customers": 130, "days": 30, "transactions_per_day": 32}
QUICK_SCALE = 5
DAY_SALES = 40
COUNTING_WINDOW = 0.2  # seconds: Jurnal's minute, compressed where calls are counted, not timed
JURNAL_CLIENT = ("bench-jurnal-client", "bench-jurnal-secret")
# Jurnal's documented limits (reference §5): per credential and per outgoing IP.
PER_HOUR = {"credential": min(30 * 60, 1800), "ip": min(40 * 60, 2500)}
PAYMENT_ACCOUNTS = {
    bucket: {"account": "Kas" if bucket == "cash" else "Rekening Bank", "tag": None}
    for bucket in ("cash", "edc", "gift_card", "ovo", "tcash", "other")
}
DOCUMENTS = ("products", "customers", "sales_invoices", "receive_payments", "sales_returns",
             "taxes", "units", "tags", "warehouses", "accounts")  # fmt: skip


@dataclass
class Sandboxes:
    moka: RunningServer
    jurnal: RunningServer
    moka_sandbox: MokaSandbox
    jurnal_sandbox: JurnalSandbox

    def moka_control(self, method: str, path: str, **kwargs: Any) -> Any:
        return _control(self.moka.url, method, path, **kwargs)

    def jurnal_calls(self) -> int:
        """Requests the Jurnal sandbox has answered, its control API aside."""
        with self.jurnal_sandbox.lock:
            return sum(self.jurnal_sandbox.requests.values())

    def jurnal_documents(self) -> int:
        counts = self.jurnal_sandbox.state()["counts"]
        return sum(n for kind, n in counts.items() if kind in DOCUMENTS)


def _control(base: str, method: str, path: str, **kwargs: Any) -> Any:
    answer = requests.request(method, f"{base}/_sandbox{path}", timeout=120, **kwargs)
    if answer.status_code >= 300:
        raise RuntimeError(f"sandbox {method} {path}: {answer.status_code} {answer.text}")
    return answer.json()


@contextlib.contextmanager
def sandboxes(jurnal: JurnalSandbox) -> Iterator[Sandboxes]:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    jurnal_server = serve_in_thread(_counted_api_only(jurnal))
    moka = MokaSandbox(seed=1)
    moka_server = serve_in_thread(moka_app(moka))
    try:
        yield Sandboxes(moka_server, jurnal_server, moka, jurnal)
    finally:
        moka_server.stop()
        jurnal_server.stop()


def _counted_api_only(jurnal: JurnalSandbox) -> Any:
    """The Jurnal sandbox, its control API's requests left out of the count."""
    app = jurnal_app(jurnal)
    counting = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/_sandbox"):
            before = dict(jurnal.requests)
            body = counting(environ, start_response)
            with jurnal.lock:
                jurnal.requests.clear()
                jurnal.requests.update(before)
            return body
        return counting(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def limited_jurnal(window: float) -> JurnalSandbox:
    """The Jurnal sandbox at Jurnal's documented limit shape (30 a window per credential, 40 per
    IP, an hour of 60 windows) with a compressed window (JURNAL_RATE_WINDOW_SECONDS)."""
    return JurnalSandbox(
        client_id=JURNAL_CLIENT[0], client_secret=JURNAL_CLIENT[1], rate_window_seconds=window
    )


def jurnal_for_timing(window: float = 1.0) -> tuple[JurnalSandbox, dict[str, Any]]:
    """For scenarios where the limit is not the subject: the documented shape, compressed."""
    return limited_jurnal(window), {"shape": "documented", "window_seconds": window}


def env_for(boxes: Sandboxes, limits: dict[str, Any]) -> dict[str, str]:
    env = {
        "MOKA_BASE_URL": boxes.moka.url,
        "JURNAL_BASE_URL": boxes.jurnal.url,
        "JURNAL_SETTLE_MS": "200",
    }
    env["JURNAL_RATE_WINDOW_SECONDS"] = str(limits["window_seconds"])
    return env


def make_setting(
    stack: Scratch, boxes: Sandboxes, seeded: dict[str, Any], start: date, **fields: Any
) -> Any:
    from services.companies import register_company
    from services.moka import connect_moka_with_tokens

    container = stack.container
    company = register_company(
        container, name="PT Bench Kopi", jurnal_client_id=JURNAL_CLIENT[0],
        jurnal_client_secret=JURNAL_CLIENT[1],
    )  # fmt: skip
    connection = connect_moka_with_tokens(
        container, company_id=company.id, access_token=seeded["access_token"],
        refresh_token=seeded["refresh_token"],
    )  # fmt: skip
    return container.log.create_setting(
        company_id=company.id,
        moka_connection_id=connection.id,
        outlet_id=str(seeded["outlet_ids"][0]),
        name="Kafe Bench",
        start_date=start,
        default_customer="Pelanggan Umum",
        sales_account="Pendapatan",
        purchase_account="Beban Pokok Pendapatan",
        payment_accounts=PAYMENT_ACCOUNTS,
        **fields,
    )


def run(
    *, quick: bool, store: str = "sqlite", say: Say = print, scale: int | None = None,
    day_sales: int = DAY_SALES,
) -> dict[str, Any]:  # fmt: skip
    from jobs import sync

    scale = scale or (QUICK_SCALE if quick else 1)
    cafe = {**CAFE, "products": max(10, CAFE["products"] // scale),
            "customers": max(2, CAFE["customers"] // scale),
            "days": max(1, CAFE["days"] // scale)}  # fmt: skip
    today = datetime.now(JAKARTA).date()
    # The month sits before today, and a setting syncs from a month before its start date.
    start = today - timedelta(days=cafe["days"]) + timedelta(days=31)
    jurnal, limits = jurnal_for_timing(COUNTING_WINDOW)
    with sandboxes(jurnal) as boxes, scratch(store, **env_for(boxes, limits)) as stack:
        seeded = boxes.moka_control(
            "POST", "/seed", json={**cafe, "seed": 2026, "start_date": str(start - timedelta(31))}
        )
        setting_id = make_setting(stack, boxes, seeded, start)
        log = stack.container.log
        calls = boxes.jurnal_calls()
        run_id = log.request_run(setting_id, "master_data", "Manual").run_id
        sync.run_master_data_sync(stack.container, setting_id, run_id)
        master_calls = boxes.jurnal_calls() - calls
        calls = boxes.jurnal_calls()
        run_id = log.request_run(setting_id, "transactions", "Manual").run_id
        counts = sync.run_transactions_sync(stack.container, setting_id, run_id)
        transaction_calls = boxes.jurnal_calls() - calls
        sales = sum(c["total"] for k, c in counts.items() if k in ("sales",))
        say(f"first sync: {master_calls} calls for master data, {transaction_calls} for "
            f"{sales} sales ({counts})")  # fmt: skip
        first_calls = (master_calls + transaction_calls) * scale

        _ring_up_a_day(boxes, seeded, day_sales)
        # Moka's window is in whole seconds: the night comes after the day's last second.
        time.sleep(1.1)
        calls, documents = boxes.jurnal_calls(), boxes.jurnal_documents()
        run_id = log.request_run(setting_id, "transactions", "Otomatis").run_id
        day_counts = sync.run_transactions_sync(stack.container, setting_id, run_id)
        day_calls = boxes.jurnal_calls() - calls
        day_documents = boxes.jurnal_documents() - documents
        say(f"a day: {day_calls} calls for {day_documents} documents ({day_counts})")
    binding = min(PER_HOUR.values())
    return {
        "calls_per_document": round(day_calls / max(day_documents, 1), 3),
        "first_sync_hours": round(first_calls / binding, 2),
        "sync": {
            "first_sync_calls": first_calls,
            "first_sync_master_data_calls": master_calls * scale,
            "first_sync_transaction_calls": transaction_calls * scale,
            "first_sync_sales_synced": sales * scale,
            "first_sync_scaled_from": (
                f"1/{scale} of the café ({cafe}), calls times {scale}" if scale > 1 else None
            ),
            "binding_limit_per_hour": binding,
            "jurnal_limits": limits,
            "day_calls": day_calls,
            "day_documents": day_documents,
        },
    }


def _ring_up_a_day(boxes: Sandboxes, seeded: dict[str, Any], count: int) -> None:
    """A day's new sales at the till, a few of them refunded (each sends nothing we listen to:
    the nightly pull finds them)."""
    rng = random.Random(20)
    outlet_id = int(seeded["outlet_ids"][0])
    with boxes.moka_sandbox.lock:
        _, outlet = boxes.moka_sandbox.outlet(outlet_id)
        items = [i["id"] for i in outlet.items.values() if not i["is_deleted"]]
    sold = []
    for _ in range(count):
        lines = [{"item_id": item, "quantity": rng.randint(1, 3)}
                 for item in rng.sample(items, rng.randint(1, 3))]  # fmt: skip
        payment_type = rng.choice(["cash", "cash", "edc", "ovo", "tcash"])
        sold.append(boxes.moka_control(
            "POST", "/payments",
            json={"outlet_id": outlet_id, "payment": {"checkouts": lines,
                                                      "payment_type": payment_type}},
        )["id"])  # fmt: skip
    for sale in sold[:2]:
        boxes.moka_control(
            "POST", "/payments",
            json={"outlet_id": outlet_id, "payment": {"parent_payment_uuid": sale}},
        )  # fmt: skip
