"""`sambung demo`: the whole story on one laptop, in a few minutes.

It starts both sandboxes (in this process), then the gateway, two workers and the scheduler (as
child processes, exactly as `sambung up` runs them), on a fresh data dir with its own embedded
Redis. Then, as a merchant and their accountant would, through the public HTTP API only:

1. seeds a Moka café (hundreds of products with variants and modifiers, ~130 customers, a month
   of sales with every case of the generator) and a Jurnal Enterprise company;
2. registers the company, connects Moka through the real OAuth flow (login form, Allow, callback),
   creates a setting with a prefix, tag, warehouse and payment mappings;
3. syncs master data, then transactions, with progress bars;
4. shows the sales of products deleted in Moka failing with a clear message, re-creates those
   products by name in Jurnal, turns on "sync by product name", and replays the failed sales;
5. pushes live sales and a refund through Moka's webhooks and shows each arrive in Jurnal;
6. prints the sync history as the add-on shows it and the month's reconciliation.

With `--exit` it stops there, exiting 0 only when Jurnal holds every expected document exactly
once and the reconciliation shows no difference. Otherwise it keeps serving until Ctrl-C.

The demo runs at Jurnal's documented limits (30 and 1,800 calls per credential, 40 and 2,500 per
IP), in the sandbox and in Sambung's budget alike, with only Jurnal's minute compressed to
`DEMO_RATE_WINDOW_SECONDS`; a real install keeps the 60 s minute, and the first sync of a café
takes correspondingly longer (README, "How long a first sync takes").
"""

from __future__ import annotations

import logging
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import click
import requests

from infra.api_tokens import issue_token
from infra.bootstrap import Container
from infra.config import Config
from infra.embedded import ensure_redis, release_redis
from sambung.supervisor import Child, ProcessTree, child_env
from sandbox.serving import RunningServer, serve_in_thread

JAKARTA = ZoneInfo("Asia/Jakarta")
JURNAL_CLIENT_ID = "demo-jurnal-client"
JURNAL_CLIENT_SECRET = "demo-jurnal-secret"
MOKA_CLIENT_ID = "sandbox-moka-client"
MOKA_CLIENT_SECRET = "sandbox-moka-secret"
WEBHOOK_SECRET = "sandbox-webhook-secret"
# Jurnal's minute, compressed: the documented limits, spent sixty times faster.
DEMO_RATE_WINDOW_SECONDS = 1.0
PREFIX = "Jaksel"
TAG = "Outlet Jaksel"
WAREHOUSE = "Gudang Jaksel"
OUTLET_SIZE = {"seed": 2026, "products": 430, "customers": 130, "days": 30,
               "transactions_per_day": 30}  # fmt: skip
WAIT_SECONDS = 240


class DemoFailed(Exception):
    """A step of the demo did not come out as it must; the message says which."""


@dataclass
class Demo:
    echo: Callable[[str], None]
    data_dir: Path
    gateway_url: str
    moka: RunningServer
    jurnal: RunningServer
    tree: ProcessTree
    container: Container
    token: str = ""
    setting_id: str = ""
    company_id: str = ""

    # -- HTTP -------------------------------------------------------------------------------

    def api(self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        answer = requests.request(
            method, f"{self.gateway_url}/api/v1{path}", headers=headers, timeout=60, **kwargs
        )
        if missing_ok and answer.status_code == 404:
            return None
        if answer.status_code >= 300:
            raise DemoFailed(f"{method} {path} answered {answer.status_code}: {answer.text}")
        return answer.json()

    def moka_control(self, method: str, path: str, **kwargs: Any) -> Any:
        return _control(self.moka.url, method, path, **kwargs)

    def jurnal_control(self, method: str, path: str, **kwargs: Any) -> Any:
        return _control(self.jurnal.url, method, path, **kwargs)

    def jurnal_counts(self) -> dict[str, int]:
        state = self.jurnal_control("GET", "/state")
        return state["companies"][self.jurnal_company]["counts"]

    jurnal_company: str = ""
    moka_token: str = ""

    # -- waiting ----------------------------------------------------------------------------

    def wait(self, what: str, done: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            self.check_children()
            if time.monotonic() > deadline:
                raise DemoFailed(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.25)

    def check_children(self) -> None:
        for child in self.tree.children:
            if child.process is not None and child.process.poll() is not None:
                raise DemoFailed(f"{child.name} exited with status {child.process.returncode}")

    def run_to_end(self, run_id: str, label: str, progress: Callable[[], tuple[int, int]]) -> Any:
        with click.progressbar(length=1, label=label, show_pos=True) as bar:

            def finished() -> bool:
                done, total = progress()
                bar.length = max(total, 1)
                bar.update(min(done, bar.length) - bar.pos)
                # 404 until the read models have seen the run (within a second).
                run = self.api("GET", f"/runs/{run_id}", missing_ok=True)
                return run is not None and run["finished_at"] is not None

            self.wait(label, finished)
        return self.api("GET", f"/runs/{run_id}")


def run_demo(config: Config, *, exit_after: bool, echo: Callable[[str], None] = click.echo) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandboxes' request lines
    data_dir = config.data_dir / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    redis_url = ensure_redis(data_dir)
    moka, jurnal = _start_sandboxes()
    gateway_port = _free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = {
        "SAMBUNG_DATA_DIR": str(data_dir),
        "REDIS_URL": redis_url,
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "MOKA_BASE_URL": moka.url,
        "MOKA_CLIENT_ID": MOKA_CLIENT_ID,
        "MOKA_CLIENT_SECRET": MOKA_CLIENT_SECRET,
        "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "JURNAL_BASE_URL": jurnal.url,
        "JURNAL_RATE_WINDOW_SECONDS": str(DEMO_RATE_WINDOW_SECONDS),
        "JURNAL_SETTLE_MS": "200",
        "SAMBUNG_SECRET_KEY": "demo-secret-key-not-for-production",
        "SAMBUNG_PUBLIC_URL": gateway_url,
    }
    children = [
        Child("gateway", ["serve", "--port", str(gateway_port)]),
        Child("worker-1", ["worker"]),
        Child("worker-2", ["worker"]),
        Child("scheduler", ["scheduler"]),
    ]
    process_log = open(data_dir / "processes.log", "ab")  # noqa: SIM115 - closed in finally
    tree = ProcessTree(children, child_env(env), report=lambda line: None, output=process_log,
                       redis_data_dir=data_dir)  # fmt: skip
    container = Container(Config.from_env(env))
    demo = Demo(echo, data_dir, gateway_url, moka, jurnal, tree, container)
    serving = threading.Event()

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # stops the story wherever it is; `finally` stops every process

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        tree.start()
        demo.wait("the gateway", lambda: _ready(gateway_url), timeout=60)
        demo.token = issue_token(container.log, admin=True).token
        problems = tell_the_story(demo)
        if exit_after:
            return 0 if not problems else 1
        echo("")
        echo(f"Gateway:  {gateway_url}   (API docs: {gateway_url}/api/openapi.json)")
        echo(f"API token (admin): {demo.token}")
        echo(f"Moka sandbox: {moka.url}   Jurnal sandbox: {jurnal.url}")
        echo(f"Logs of the gateway, workers and scheduler: {data_dir / 'processes.log'}")
        echo("Serving until Ctrl-C.")
        serving.set()
        while True:
            demo.check_children()
            time.sleep(0.5)
    except DemoFailed as failure:
        echo(f"\nDEMO FAILED: {failure}\n(see {data_dir / 'processes.log'})")
        return 1
    except KeyboardInterrupt:
        echo("\nstopping")
        return 0 if serving.is_set() else 130
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave processes behind.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        tree.stop()
        container.close()
        process_log.close()
        moka.stop()
        jurnal.stop()
        release_redis(data_dir)
        tree.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- the story --------------------------------------------------------------------------------


def tell_the_story(demo: Demo) -> list[str]:
    echo = demo.echo
    today = datetime.now(JAKARTA).date()
    first_day = today - timedelta(days=OUTLET_SIZE["days"])
    echo("1. Seeding a Moka café and a Jurnal company")
    seeded = demo.moka_control("POST", "/seed", json={**OUTLET_SIZE, "start_date": str(first_day)})
    outlet_id = str(seeded["outlet_ids"][0])
    demo.moka_token = seeded["access_token"]
    outlet = demo.moka_control("GET", "/state")["businesses"][0]["outlets"][0]
    echo(f"   Moka: {outlet['name']}: {outlet['products']} products, "
         f"{demo.moka_control('GET', '/state')['businesses'][0]['customers']} customers, "
         f"{outlet['payments']} sales ({outlet['refunds']} refunds, {outlet['invoices']} "
         f"invoices), {outlet['deleted_items']} items deleted after they sold")  # fmt: skip
    company = demo.jurnal_control(
        "POST", "/companies",
        json={"name": "PT Kopi Sambung", "package": "Enterprise",
              "client_id": JURNAL_CLIENT_ID, "client_secret": JURNAL_CLIENT_SECRET},
    )  # fmt: skip
    demo.jurnal_company = str(company["id"])
    _make_jurnal_references(demo)

    echo("2. Registering the Jurnal company, connecting Moka (OAuth), creating a setting")
    registered = demo.api(
        "POST", "/companies",
        json={"name": "PT Kopi Sambung", "jurnal_client_id": JURNAL_CLIENT_ID,
              "jurnal_client_secret": JURNAL_CLIENT_SECRET},
    )  # fmt: skip
    demo.company_id = registered["id"]
    echo(f"   Jurnal package: {registered['package']}, quota {registered['quota']}")
    connection = _connect_moka_by_oauth(demo, seeded["email"], seeded["password"])
    echo(f"   Moka connected: {connection['email']}, outlets {sorted(connection['outlets'])}")
    setting = demo.api("POST", "/settings", json=_setting_body(demo, connection, outlet_id, today))
    demo.setting_id = setting["id"]
    echo(f"   Setting {setting['name']!r}: prefix {PREFIX!r}, tag {TAG!r}, warehouse {WAREHOUSE!r}")

    echo("3. Syncing master data, then transactions")
    expected_products = outlet["products"]
    run = demo.api("POST", f"/settings/{demo.setting_id}/sync/master-data")["run_id"]
    done = demo.run_to_end(
        run, "   Master data ",
        lambda: (demo.jurnal_counts().get("products", 0), expected_products),
    )  # fmt: skip
    _echo_run(demo, done)
    run = demo.api("POST", f"/settings/{demo.setting_id}/sync/transactions")["run_id"]
    done = demo.run_to_end(
        run, "   Transactions",
        lambda: (demo.jurnal_counts().get("sales_invoices", 0), outlet["payments"]),
    )  # fmt: skip
    _echo_run(demo, done)

    echo("4. Fixing the failed sales and replaying them")
    errors = demo.api("GET", f"/settings/{demo.setting_id}/errors")
    for group in errors.get("errors", errors) if isinstance(errors, dict) else errors:
        echo(f"   Open error: {group.get('cause') or group.get('message')}")
    _recreate_deleted_products(demo, outlet_id)
    demo.api("PATCH", f"/settings/{demo.setting_id}", json={"sync_by_product_name": True})
    run = demo.api("POST", f"/settings/{demo.setting_id}/replay", json={"only_failed": True})
    done = demo.run_to_end(run["run_id"], "   Replay      ", lambda: (0, 0))
    _echo_run(demo, done)

    echo("5. Live sales and a refund through Moka webhooks")
    demo.moka_control(
        "POST", "/subscriptions",
        json={"url": f"{demo.gateway_url}/webhooks/moka", "secret": WEBHOOK_SECRET},
    )  # fmt: skip
    _live_sales(demo, outlet_id)

    echo("6. Sync history (as the add-on shows it)")
    _echo_history(demo)
    echo("   Reconciliation of the month (Moka vs Jurnal)")
    explained = _refused_refunds(demo)
    problems = _reconcile(demo, first_day - timedelta(days=31), today, explained)
    problems += _check_exactly_once(demo, explained)
    if problems:
        for problem in problems:
            echo(f"   PROBLEM: {problem}")
    else:
        echo("   Every expected Jurnal document exists exactly once; no unexplained difference.")
    return problems


def _jurnal(demo: Demo) -> Any:
    """A Jurnal client as the accountant's own tools would use it, sharing Sambung's budget."""
    return demo.container.jurnal_client(JURNAL_CLIENT_ID, JURNAL_CLIENT_SECRET)


def _make_jurnal_references(demo: Demo) -> None:
    # The merchant's accountant made these in Jurnal beforehand: the setting picks them.
    client = _jurnal(demo)
    for tag in (TAG, "Tunai", "QRIS"):
        client.create("tags", {"name": tag})
    client.create("warehouses", {"name": WAREHOUSE})


def _connect_moka_by_oauth(demo: Demo, email: str, password: str) -> dict[str, Any]:
    start = requests.get(
        f"{demo.gateway_url}/api/v1/moka/authorize",
        params={"company_id": demo.company_id},
        headers={"Authorization": f"Bearer {demo.token}"},
        allow_redirects=False,
        timeout=30,
    )
    if start.status_code not in (302, 303):
        raise DemoFailed(f"the authorize step answered {start.status_code}: {start.text}")
    page = requests.get(start.headers["Location"], timeout=30)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    consent = requests.post(
        urlsplit(start.headers["Location"])._replace(query="").geturl(),
        data={**hidden, "email": email, "password": password, "decision": "allow"},
        allow_redirects=False,
        timeout=30,
    )
    if consent.status_code != 302:
        raise DemoFailed(f"Moka's consent page answered {consent.status_code}: {consent.text}")
    callback = consent.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    answer = requests.get(
        f"{demo.gateway_url}/api/v1/moka/callback", params=query, timeout=60,
        headers={"Authorization": f"Bearer {demo.token}"},
    )  # fmt: skip
    if answer.status_code >= 300:
        raise DemoFailed(f"the OAuth callback answered {answer.status_code}: {answer.text}")
    connected: dict[str, Any] = answer.json()
    return connected


def _setting_body(
    demo: Demo, connection: dict[str, Any], outlet_id: str, today: date
) -> dict[str, Any]:
    bank = {"account": "Rekening Bank", "tag": None}
    return {
        "company_id": demo.company_id,
        "moka_connection_id": connection["id"],
        "outlet_id": outlet_id,
        "name": "Kopi Sambung Jakarta Selatan",
        "start_date": today.isoformat(),
        "default_customer": "Pelanggan Umum",
        "name_prefix": PREFIX,
        "tag": TAG,
        "warehouse": WAREHOUSE,
        "sales_account": "Pendapatan",
        "purchase_account": "Beban Pokok Pendapatan",
        "payment_accounts": {
            "cash": {"account": "Kas", "tag": "Tunai"},
            "edc": bank,
            "gift_card": bank,
            "ovo": bank,
            "tcash": {"account": "Rekening Bank", "tag": "QRIS"},
            "other": bank,
        },
    }


def _recreate_deleted_products(demo: Demo, outlet_id: str) -> None:
    """What the add-on's documentation tells a merchant: create the deleted product in Jurnal
    under its synced name, and sync transactions by product name."""
    from domain.mapping.naming import product_label

    client = _jurnal(demo)
    deleted = [item for item in _moka_items(demo, outlet_id) if item.get("is_deleted")]
    for item in deleted:
        for variant in item["item_variants"]:
            name = f"{PREFIX} | {product_label(item['name'], variant.get('name'))}"
            client.create("products", {"name": name, "is_sold": True, "unit_name": "Pcs",
                                       "sell_price_per_unit": variant.get("price") or 0,
                                       "sell_account_name": "Pendapatan"})  # fmt: skip
            demo.echo(f"   Re-created in Jurnal: {name}")


def _moka_items(demo: Demo, outlet_id: str) -> list[dict[str, Any]]:
    """The outlet's library, deleted items included, read from Moka's API as a merchant's
    back office would."""
    answer = requests.get(
        f"{demo.moka.url}/v1/outlets/{outlet_id}/items",
        params={"include_deleted": "true", "per_page": 1000},
        headers={"Authorization": f"Bearer {demo.moka_token}"},
        timeout=60,
    )
    if answer.status_code != 200:
        raise DemoFailed(f"Moka's item list answered {answer.status_code}: {answer.text}")
    items: list[dict[str, Any]] = answer.json()["data"]["items"]
    return items


def _live_sales(demo: Demo, outlet_id: str) -> None:
    before = demo.jurnal_counts()
    items = [item for item in _moka_items(demo, outlet_id) if not item.get("is_deleted")]
    sales = []
    for number, payment_type in enumerate(("cash", "qris", "ovo")):
        started = time.monotonic()
        cart = {
            "payment_type": payment_type,
            "checkouts": [{"item_id": items[number]["id"], "quantity": number + 1}],
        }
        sale = demo.moka_control(
            "POST", "/payments", json={"outlet_id": int(outlet_id), "payment": cart}
        )["id"]  # fmt: skip
        sales.append(sale)
        expected = before.get("sales_invoices", 0) + len(sales)
        demo.wait(
            "a live sale in Jurnal",
            lambda expected=expected: demo.jurnal_counts().get("sales_invoices", 0) >= expected,
        )
        demo.echo(f"   Sale {sale[:8]} ({payment_type}) is a Jurnal invoice after "
                  f"{time.monotonic() - started:.2f}s")  # fmt: skip
    started = time.monotonic()
    demo.moka_control(
        "POST", "/payments",
        json={"outlet_id": int(outlet_id), "payment": {"parent_payment_uuid": sales[0]}},
    )  # fmt: skip
    returns = before.get("sales_returns", 0) + 1
    demo.wait(
        "a live refund in Jurnal",
        lambda: demo.jurnal_counts().get("sales_returns", 0) >= returns,
    )
    demo.echo(f"   Refund of {sales[0][:8]} is a Jurnal sales return after "
              f"{time.monotonic() - started:.2f}s")  # fmt: skip


def _echo_run(demo: Demo, run: dict[str, Any]) -> None:
    from projections.queries import format_summary

    lines = ", ".join(format_summary(run["summary"])) or "nothing to sync"
    demo.echo(f"   {run['status']} ({run['method']}): {lines}")


def _echo_history(demo: Demo) -> None:
    from projections.queries import format_summary

    def settled() -> bool:
        runs = demo.api("GET", f"/settings/{demo.setting_id}/runs")
        return all(r["finished_at"] for r in _rows(runs))

    demo.wait("the history to settle", settled)
    for run in reversed(_rows(demo.api("GET", f"/settings/{demo.setting_id}/runs"))):
        when = datetime.fromisoformat(run["started_at"]).astimezone(JAKARTA)
        lines = ", ".join(format_summary(run["summary"])) or "-"
        demo.echo(f"   {when:%d/%m/%Y %H:%M}  {run['status']:<8} {run['method']:<8} {lines}")


def _refused_refunds(demo: Demo) -> set[str]:
    """Moka sale ids whose refund Jurnal cannot express exactly (a documented limit): the
    mapping refused them with a message, so the books differ by exactly those refunds."""
    groups = _rows(demo.api("GET", f"/settings/{demo.setting_id}/errors"))
    return {
        _sale_id(item["moka_reference"])
        for group in groups
        if group["error_class"] == "RefundNotExpressible"
        for item in group["items"]
    }


def _sale_id(reference: str) -> str:
    """The payment id in a Moka reference such as "0P0P1LD (29c0be6a-…)"."""
    return reference.rsplit("(", 1)[-1].rstrip(")") if "(" in reference else reference


def _reconcile(demo: Demo, first: date, last: date, explained: set[str]) -> list[str]:
    """Days where Moka and Jurnal differ by a rupiah or more, other than by the refused refunds."""
    answer = demo.api(
        "GET", f"/settings/{demo.setting_id}/reconciliation",
        params={"from": first.isoformat(), "to": last.isoformat()},
    )  # fmt: skip
    days = _rows(answer)
    moka = sum(Decimal(day["moka"]["collected"]) for day in days)
    jurnal = sum(Decimal(day["jurnal"]["collected"]) for day in days)
    demo.echo(f"   {len(days)} days; collected in Moka Rp {moka:,.0f}, in Jurnal Rp {jurnal:,.0f}")
    problems = []
    for day in days:
        if not _differs(day["difference"]):
            continue
        unexplained = [
            sale["reference"]
            for sale in day.get("sales", [])
            if _differs(sale["difference"]) and _sale_id(sale["sale_id"]) not in explained
        ]
        if unexplained or not day.get("sales"):
            problems.append(f"{day['date']}: Moka and Jurnal differ by {day['difference']}")
        else:
            demo.echo(f"   {day['date']}: differs only by a refund Jurnal cannot express "
                      f"(open error): {day['difference']['returns']}")  # fmt: skip
    return problems


def _differs(difference: dict[str, str]) -> bool:
    # To the rupiah: Moka rows carry sen, and Jurnal rounds each line's tax to the sen.
    return any(abs(Decimal(value)) >= Decimal("0.5") for value in difference.values())


def _check_exactly_once(demo: Demo, explained: set[str]) -> list[str]:
    state = demo.jurnal_control("GET", "/state?custom_ids=1")
    company = state["companies"][demo.jurnal_company]
    problems = [
        f"{resource} {cid} exists {n} times"
        for resource, ids in company["custom_ids"].items()
        for cid, n in ids.items()
        if cid and n > 1
    ]
    moka = demo.moka_control("GET", "/state")["businesses"][0]["outlets"][0]
    invoices = company["counts"].get("sales_invoices", 0)
    if invoices != moka["payments"]:
        problems.append(f"Jurnal holds {invoices} invoices for {moka['payments']} Moka sales")
    returns = company["counts"].get("sales_returns", 0)
    if returns != moka["refunds"] - len(explained):
        problems.append(
            f"Jurnal holds {returns} returns for {moka['refunds']} Moka refunds, "
            f"{len(explained)} of which Jurnal cannot express"
        )
    # The demo's refunds are all of paid sales: each one's money left the till.
    paid_back = company["counts"].get("customer_credit_memo_refund", 0)
    if paid_back != returns:
        problems.append(f"Jurnal records money paid back for {paid_back} of {returns} returns")
    return problems


# -- plumbing ---------------------------------------------------------------------------------


def _rows(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, list):
        return answer
    for key in ("runs", "days", "errors", "items", "data"):
        if isinstance(answer.get(key), list):
            rows: list[dict[str, Any]] = answer[key]
            return rows
    raise DemoFailed(f"unexpected answer shape: {list(answer)}")


def _start_sandboxes() -> tuple[RunningServer, RunningServer]:
    from sandbox.jurnal import JurnalSandbox
    from sandbox.jurnal import create_app as jurnal_app
    from sandbox.moka import create_app as moka_app

    sandbox = JurnalSandbox(rate_window_seconds=DEMO_RATE_WINDOW_SECONDS)
    jurnal = serve_in_thread(jurnal_app(sandbox))
    moka = serve_in_thread(moka_app())
    return moka, jurnal


def _control(base: str, method: str, path: str, **kwargs: Any) -> Any:
    answer = requests.request(method, f"{base}/_sandbox{path}", timeout=120, **kwargs)
    if answer.status_code >= 300:
        raise DemoFailed(f"sandbox {method} {path} answered {answer.status_code}: {answer.text}")
    return answer.json()


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
