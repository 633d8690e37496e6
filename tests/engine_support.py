"""The whole sync stack for engine tests: both sandboxes on real ports, a container on a real
Redis and event store, and a company, Moka connection and setting made through the real use cases
(the Jurnal credential checked with `companies/active`, Moka connected with the seeded tokens).

Jurnal's limits are the documented ones, in Sambung's budget and in the sandbox alike (30 and
1,800 per credential, 40 and 2,500 per IP); only time is compressed: Jurnal's minute lasts
`RATE_WINDOW_SECONDS`.

Loaded as a pytest plugin by `tests/conftest.py`."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import requests

from infra import bootstrap
from infra.bootstrap import Container
from infra.config import Config
from jobs.setting_lock import acquire
from sandbox.jurnal import JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.moka import Settings
from sandbox.serving import RunningServer, serve_in_thread
from services.companies import register_company
from services.moka import connect_moka_with_tokens
from tests import waiting
from tests.moka_support import SMALL_OUTLET, WEBHOOK_SECRET, Moka, running_moka

# Short enough that the small fixtures rarely wait for budget, long enough that the limits keep
# their shape (the jitter margin is its floor, 100 ms).
RATE_WINDOW_SECONDS = 1.0

PAYMENT_ACCOUNTS = {
    "cash": {"account": "Kas", "tag": "Tunai"},
    "edc": {"account": "Rekening Bank", "tag": None},
    "gift_card": {"account": "Rekening Bank", "tag": None},
    "ovo": {"account": "Rekening Bank", "tag": None},
    "tcash": {"account": "Rekening Bank", "tag": None},
    "other": {"account": "Rekening Bank", "tag": None},
}
# The English-chart company (the sandbox's `"chart": "en"`) names its Cash & Bank accounts in
# English; its setting leaves the sales, purchase and tax accounts to the company's defaults.
PAYMENT_ACCOUNTS_EN = {
    bucket: {**entry, "account": "Cash" if bucket == "cash" else "Bank Account"}
    for bucket, entry in PAYMENT_ACCOUNTS.items()
}


@dataclass
class Stack:
    container: Container
    moka: Moka
    jurnal_sandbox: JurnalSandbox
    jurnal_server: RunningServer
    seeded: dict[str, Any]
    company_id: UUID
    connection_id: UUID
    env: dict[str, str]
    chart: str = "id"

    @property
    def outlet_id(self) -> str:
        return str(self.seeded["outlet_ids"][0])

    @property
    def jurnal_url(self) -> str:
        return self.jurnal_server.url

    def jurnal_control(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(method, f"{self.jurnal_url}/_sandbox{path}", timeout=10, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def jurnal_state(self) -> dict[str, Any]:
        return self.jurnal_control("GET", "/state?custom_ids=1")

    def jurnal_documents(self) -> dict[str, Any]:
        """What Jurnal holds, per company: counts and how often each custom id occurs."""
        return self.jurnal_state()["companies"]

    def duplicates(self) -> dict[str, dict[str, int]]:
        """Custom ids held by more than one document, per resource (empty when exactly once)."""
        found: dict[str, dict[str, int]] = {}
        for company in self.jurnal_documents().values():
            for resource, ids in company["custom_ids"].items():
                twice = {cid: n for cid, n in ids.items() if cid and n > 1}
                if twice:
                    found[resource] = twice
        return found

    def counts(self) -> dict[str, int]:
        state = self.jurnal_state()["counts"]
        return {
            kind: state.get(kind, 0)
            for kind in ("sales_invoices", "receive_payments", "sales_returns", "products",
                         "customers", "taxes")
        }  # fmt: skip

    def create_setting(self, **fields: Any) -> UUID:
        values: dict[str, Any] = {
            "company_id": self.company_id,
            "moka_connection_id": self.connection_id,
            "outlet_id": self.outlet_id,
            "name": "Kafe Sandbox",
            "start_date": date.fromisoformat(SMALL_OUTLET["start_date"]),
            "default_customer": "Pelanggan Umum",
            "sales_account": "Pendapatan",
            "purchase_account": "Beban Pokok Pendapatan",
            "name_prefix": "Jaksel",
            "tag": "Outlet Jaksel",
            "payment_accounts": PAYMENT_ACCOUNTS,
        }
        if self.chart == "en":
            del values["sales_account"], values["purchase_account"]
            values["payment_accounts"] = PAYMENT_ACCOUNTS_EN
        values.update(fields)
        return self.container.log.create_setting(**values)

    def sell(self, **payment: Any) -> str:
        """Ring up a sale of two of the first live item at the till; Moka sends its webhook."""
        _, outlet = self.moka.sandbox.outlet(int(self.outlet_id))
        item = next(i for i in outlet.items.values() if not i["is_deleted"])
        body = {"checkouts": [{"item_id": item["id"], "quantity": 2}], **payment}
        return self.moka.control(
            "POST", "/payments", json={"outlet_id": int(self.outlet_id), "payment": body}
        )["id"]

    def refund(self, sale_id: str) -> str:
        return self.moka.control(
            "POST", "/payments",
            json={"outlet_id": int(self.outlet_id), "payment": {"parent_payment_uuid": sale_id}},
        )["id"]  # fmt: skip

    def drain_webhooks(self) -> None:
        assert self.moka.control("POST", "/webhooks/drain", json={"timeout": 10})["drained"]

    def synced_setting(self, **fields: Any) -> UUID:
        """A setting whose master data has synced (so that its sales can post)."""
        from jobs import sync

        setting_id = self.create_setting(**fields)
        run = self.container.log.request_run(setting_id, "master_data", "Manual").run_id
        sync.run_master_data_sync(self.container, setting_id, run)
        return setting_id

    def held_by(self, custom_id: str) -> int:
        """How many Jurnal documents carry this custom id."""
        total = 0
        for company in self.jurnal_documents().values():
            for ids in company["custom_ids"].values():
                total += ids.get(custom_id, 0)
        return total

    def add_company(self, name: str, client_id: str, client_secret: str) -> tuple[UUID, UUID]:
        """A Jurnal company (made in the sandbox unless it is the default one), registered
        through the real use case with its tags, and connected to the seeded Moka business.
        Answers the company's and the Moka connection's ids."""
        if self.jurnal_sandbox.company_by_client_id(client_id) is None:
            self.jurnal_sandbox.add_company(
                name, "Enterprise", client_id, client_secret, chart=self.chart
            )
        company = register_company(
            self.container,
            name=name,
            jurnal_client_id=client_id,
            jurnal_client_secret=client_secret,
        )
        connection = connect_moka_with_tokens(
            self.container,
            company_id=company.id,
            access_token=self.seeded["access_token"],
            refresh_token=self.seeded["refresh_token"],
        )
        make_tags(self, company.id, "Outlet Jaksel", "Tunai")
        return company.id, connection.id

    def lock(self, setting_id: UUID):  # type: ignore[no-untyped-def]
        lock = acquire(self.container.redis, str(setting_id), wait_seconds=10)
        assert lock is not None
        return lock


@contextmanager
def worker_processes(stack: Stack, count: int = 1) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Real `sambung worker` processes on the stack's Redis and event store."""
    env = {**os.environ, **stack.env, "PYTHONUNBUFFERED": "1"}
    # Each worker leads its own process group: RQ's scheduler runs in a child process of the
    # worker, and a killed worker must not leave it behind.
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "sambung", "worker"], env=env, start_new_session=True
        )
        for _ in range(count)
    ]
    try:
        yield workers
    finally:
        for process in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group's stragglers


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    waiting.wait_until(condition, timeout, what or str(condition), interval=0.1)


def work(container: Container) -> None:
    """Run the queued jobs to the end in this process, as a worker would (without RQ's command
    channel, whose listener can take a minute to stop: see `notify_support.BurstWorker`)."""
    from tests.notify_support import burst

    burst(container)


@contextmanager
def gateway_for(stack: Stack) -> Iterator[str]:
    """The gateway on a real port, subscribed to the Moka sandbox's webhooks."""
    from gateway.app import create_app

    server = serve_in_thread(create_app(container=stack.container))
    try:
        stack.moka.control(
            "POST", "/subscriptions",
            json={"url": f"{server.url}/webhooks/moka", "secret": WEBHOOK_SECRET},
        )  # fmt: skip
        yield server.url
    finally:
        server.stop()


def make_tags(stack: Stack, company_id: UUID, *names: str) -> None:
    credentials = stack.container.log.jurnal_credentials(company_id)
    client = stack.container.jurnal_client(credentials.client_id, credentials.client_secret)
    for name in names:
        client.create("tags", {"name": name})


@pytest.fixture(params=["id", "en"])
def chart(request: pytest.FixtureRequest) -> str:
    """The Jurnal company's chart: Indonesian, or English like the documented example."""
    return str(request.param)


@pytest.fixture
def stack(store_env: dict[str, str], redis_url: str, chart: str) -> Iterator[Stack]:
    """The stack on each event store, with each chart."""
    with built_stack(store_env, redis_url, chart) as made:
        yield made


@pytest.fixture
def sqlite_stack(tmp_path: Path, redis_url: str) -> Iterator[Stack]:
    """The stack on SQLite only, for behaviour the store does not change."""
    with built_stack({"SAMBUNG_DATA_DIR": str(tmp_path / "var")}, redis_url) as made:
        yield made


@contextmanager
def built_stack(
    store_env: dict[str, str],
    redis_url: str,
    chart: str = "id",
    *,
    rate_window_seconds: float | None = RATE_WINDOW_SECONDS,
    outlet: dict[str, Any] | None = None,
    settings: dict[str, str] | None = None,
    moka_settings: Settings | None = None,
) -> Iterator[Stack]:
    """The stack, its Jurnal company on `chart`, its Moka outlet generated with `outlet`'s options
    over `SMALL_OUTLET`, with
    Jurnal's minute `rate_window_seconds` long for the sandbox and Sambung alike. With None,
    nothing is set but addresses and secrets: Jurnal's real 60 s minute and every other default
    (lease, settle time) as a merchant's install has them. `settings` adds to the environment;
    `moka_settings` is the Moka sandbox's reading of the unknowns (its defaults when None)."""
    if rate_window_seconds is None:
        jurnal_sandbox = JurnalSandbox.from_env({"SANDBOX_JURNAL_CHART": chart})
        timing: dict[str, str] = {}
    else:
        jurnal_sandbox = JurnalSandbox(rate_window_seconds=rate_window_seconds, chart=chart)
        timing = {
            "JURNAL_RATE_WINDOW_SECONDS": str(rate_window_seconds),
            "SAMBUNG_POSTING_LOCK_TTL_MS": "3000",
            "JURNAL_SETTLE_MS": "50",
        }
    jurnal_server = serve_in_thread(jurnal_app(jurnal_sandbox))
    with running_moka(moka_settings) as moka:
        seeded = moka.seed(7, **(outlet or {}))
        env = {
            **store_env,
            "REDIS_URL": redis_url,
            "SAMBUNG_SECRET_KEY": "engine-test-secret-key",
            "MOKA_BASE_URL": moka.url,
            "MOKA_CLIENT_ID": "sandbox-moka-client",
            "MOKA_CLIENT_SECRET": "sandbox-moka-secret",
            "JURNAL_BASE_URL": jurnal_server.url,
            "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
            **timing,
            **(settings or {}),
        }
        config = Config.from_env(env)
        container = Container(config)
        bootstrap.install(container)
        try:
            built = Stack(
                container, moka, jurnal_sandbox, jurnal_server, seeded, UUID(int=0), UUID(int=0),
                env, chart,
            )  # fmt: skip
            built.company_id, built.connection_id = built.add_company(
                "Kafe Sandbox PT", "sandbox-jurnal-client", "sandbox-jurnal-secret"
            )
            yield built
        finally:
            bootstrap.install(None)
            container.close()
            jurnal_server.stop()
