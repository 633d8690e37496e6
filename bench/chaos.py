"""`sambung chaos`: the whole stack under attack, then an exact count of Jurnal's books.

The embedded stack runs as separate processes on a fresh data dir: one gateway (`sambung serve`),
three `sambung worker` processes and the scheduler, on a Redis of its own and the SQLite event
store (or, with `--store postgres`, a throwaway PostgreSQL server). Both sandboxes run in this
process, the Jurnal one at its documented limit shape (30 a minute and 1,800 an hour per
credential, 40 and 2,500 per IP) with the minute compressed to `window_seconds` for the sandbox
and the client alike (`JURNAL_RATE_WINDOW_SECONDS`).

Faults, while the sales arrive:
- Jurnal: 10% 5xx, 5% timeouts (the request hangs, then Jurnal's gateway answers 504), 3% of
  writes committed and then dropped, and the non-atomic duplicate check's race window;
- Moka: 20% of webhooks delivered twice and 10% held back so that a later one overtakes them
  (a refund is rung up right after its sale, so it often arrives first), and two transaction
  pulls (the nightly job's) overlapping the webhooks;
- processes: a random worker killed with SIGKILL every few seconds and started again; Redis
  restarted once; the gateway killed once with SIGKILL under load and started again; PostgreSQL
  restarted once (in the PostgreSQL run).

Then the faults stop, Moka's retries drain, and the run waits until the stack is quiet. The
expected books are computed from the Moka sandbox's own data (every sale an invoice, every paid
sale a payment, every refund a return; the custom ids by the documented derivation), never from
Sambung's log; the sales of products deleted in Moka are the one exception by design (Sambung
refuses them with a message). The result counts missing and duplicated documents, invoices whose
total differs from what Moka collected, and webhooks that were answered 202 but are not in the
log.

A soak (`--soak MINUTES`) rings the sales up at a steady pace (`--rate` a second) for that long
instead of all at once, under the same faults, with a pull at every tenth; a sampler reads the
resident memory of every process from /proc twice a second and keeps each role's peak per tenth.
Sambung's own processes must not grow: no tenth after the first three may peak more than 10%
above the second and third (the first is warm-up). Then the same count.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis
import requests

from bench.harness import free_port, machine

JAKARTA = ZoneInfo("Asia/Jakarta")
WEBHOOK_SECRET = "chaos-webhook-secret"
SECRET_KEY = "chaos-secret-key-not-for-production"
PAYMENT_TYPES = ("cash", "ovo", "gopay", "qris", "cash", "cash")
JURNAL_FAULTS = {
    "error_rate": 0.10,
    "timeout_rate": 0.05,
    "timeout_seconds": 2.0,
    "drop_after_commit_rate": 0.03,
    "race_window_ms": 50,
}
RUPIAH = Decimal("0.5")
RESULT_KEYS = (
    "expected_documents", "found", "missing", "duplicates", "amount_mismatches",
    "webhooks_sent", "webhooks_lost", "worker_kills", "redis_restarts", "gateway_restarts",
    "store_restarts",
)  # fmt: skip
MAX_REVIVALS = 20
MAX_QUIET_WAIT = 4 * 3600.0
MUST_BE_ZERO = ("missing", "duplicates", "amount_mismatches", "webhooks_lost")


class ChaosFailed(Exception):
    """The run could not be carried out (a step failed, or the stack never went quiet)."""


@dataclass(frozen=True)
class Options:
    sales: int = 1000
    seed: int = 1
    store: str = "sqlite"
    workers: int = 3
    kill_every: float = 3.0
    window_seconds: float = 1.0
    quiet_timeout: float = 600.0  # without progress
    keep: bool = False
    # A soak: sales at `soak_rate` a second for `soak_minutes` instead of `sales` at once.
    soak_minutes: float = 0.0
    soak_rate: float = 1.0


# -- processes --------------------------------------------------------------------------------


@dataclass
class Processes:
    """The stack's child processes, each a `sambung` subcommand with its output in a log file."""

    env: dict[str, str]
    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    argv: dict[str, list[str]] = field(default_factory=dict)
    # The killer thread restarts while the main thread checks: a restart is one step for both.
    lock: threading.RLock = field(default_factory=threading.RLock)
    revived: Counter[str] = field(default_factory=Counter)

    def start(self, name: str, argv: list[str]) -> None:
        self.argv[name] = argv
        with (self.logs / f"{name}.log").open("ab") as out:
            # Each child leads its own process group: gunicorn's workers die with its master.
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "sambung", *argv],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, name: str) -> None:
        """SIGKILL to the child's whole process group: no clean-up of any kind, as when a
        machine loses power."""
        process = self.running[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def restart(self, name: str) -> None:
        with self.lock:
            self.kill(name)
            self.start(name, self.argv[name])

    def check(self) -> None:
        """Act as the service manager: start again any child that exited by itself (an RQ
        worker gives up when Redis stays away), and count it; give up on a child that keeps
        dying."""
        with self.lock:
            for name, process in list(self.running.items()):
                if process.poll() is None:
                    continue
                self.revived[name] += 1
                if self.revived[name] > MAX_REVIVALS:
                    raise ChaosFailed(
                        f"{name} exited {self.revived[name]} times, last with status "
                        f"{process.returncode}: {self.tail(name)}"
                    )
                self.start(name, self.argv[name])

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.running.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Run:
    options: Options
    echo: Callable[[str], None]
    root: Path
    processes: Processes
    gateway_url: str
    redis_dir: Path
    moka: Any  # MokaSandbox
    moka_url: str
    jurnal: Any  # JurnalSandbox
    jurnal_url: str
    container: Any  # infra.bootstrap.Container
    postgres: Any = None  # bench.postgres.Postgres
    token: str = ""
    setting: dict[str, Any] = field(default_factory=dict)
    outlet_id: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    published: dict[str, tuple[str, str]] = field(default_factory=dict)  # event → (id, version)
    rng: random.Random = field(default_factory=random.Random)

    def api(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.request(
                    method, f"{self.gateway_url}/api/v1{path}", timeout=60,
                    headers={"Authorization": f"Bearer {self.token}"}, **kwargs,
                )  # fmt: skip
            except requests.ConnectionError:
                # The gateway may be down for a moment: it is one of the things killed.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
            if answer.status_code != expect:
                raise ChaosFailed(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
            return answer.json() if answer.content else None

    def control(self, url: str, method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(method, f"{url}/_sandbox{path}", timeout=120, **kwargs)
        if answer.status_code >= 300:
            raise ChaosFailed(f"sandbox {method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def wait(self, what: str, done: Callable[[], Any], timeout: float = 300.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.processes.check()
            result = done()
            if result:
                return result
            if time.monotonic() > deadline:
                raise ChaosFailed(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.5)

    def finished_run(self, run_id: str, timeout: float = 600.0) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            answer = requests.get(
                f"{self.gateway_url}/api/v1/runs/{run_id}", timeout=30,
                headers={"Authorization": f"Bearer {self.token}"},
            )  # fmt: skip
            if answer.status_code != 200:
                return None
            run: dict[str, Any] = answer.json()
            return run if run["finished_at"] else None

        return self.wait(f"run {run_id}", lambda: _suppress(done), timeout)

    # -- faults -----------------------------------------------------------------------------

    def restart_redis(self) -> None:
        from infra.embedded import ensure_redis, stop_redis

        stop_redis(self.redis_dir)
        ensure_redis(self.redis_dir)
        self.counts["redis_restarts"] += 1
        self.echo("  chaos: Redis restarted")

    def kill_gateway(self) -> None:
        self.processes.restart("gateway")
        self.counts["gateway_restarts"] += 1
        self.echo("  chaos: gateway killed (SIGKILL) and started again")

    def restart_store(self) -> None:
        if self.postgres is None:
            return
        self.postgres.restart()
        self.counts["store_restarts"] += 1
        self.echo("  chaos: PostgreSQL restarted")

    def killing_workers(self) -> contextlib.AbstractContextManager[None]:
        names = [n for n in self.processes.running if n.startswith("worker-")]

        def kill_one() -> None:
            self.processes.restart(self.rng.choice(names))
            self.counts["worker_kills"] += 1

        def pause() -> float:
            return self.options.kill_every * (0.5 + self.rng.random())

        return _every(pause, kill_one, "chaos-killer")


@contextlib.contextmanager
def _every(pause: Callable[[], float], step: Callable[[], None], name: str) -> Iterator[None]:
    """Run `step` in a thread, `pause()` seconds apart, for as long as the block runs."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(pause()):
            step()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _suppress(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except requests.RequestException:
        return None


def run_chaos(options: Options, echo: Callable[[str], None]) -> dict[str, Any]:
    """Run the stack under the faults and return the result (RESULT_KEYS and some context)."""
    from infra.bootstrap import Container
    from infra.config import Config
    from infra.embedded import ensure_redis, stop_redis
    from sandbox.jurnal import JurnalSandbox
    from sandbox.jurnal import create_app as jurnal_app
    from sandbox.moka import WebhookPolicy
    from sandbox.moka import create_app as moka_app
    from sandbox.moka.state import MokaSandbox
    from sandbox.serving import serve_in_thread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandboxes' request lines
    with contextlib.ExitStack() as stack:  # undone in reverse: processes first, the root last
        root = Path(tempfile.mkdtemp(prefix="sambung-chaos-"))
        if not options.keep:
            stack.callback(shutil.rmtree, root, ignore_errors=True)
        postgres = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIGURATION)}
        if options.store == "postgres":
            from bench.postgres import postgres_server

            postgres = stack.enter_context(postgres_server())
            env.update(postgres.create_database("sambung_chaos"), POSTGRES_CONNECT_TIMEOUT="5")
        redis_dir = root / "redis"
        redis_url = ensure_redis(redis_dir)
        stack.callback(stop_redis, redis_dir)
        # Jurnal's documented limits (its defaults), with the minute compressed.
        jurnal = JurnalSandbox(rate_window_seconds=options.window_seconds, seed=options.seed)
        limits = f"documented, {options.window_seconds:g}s minute"
        jurnal_server = serve_in_thread(jurnal_app(jurnal))
        stack.callback(jurnal_server.stop)
        policy = WebhookPolicy(
            retry_delays=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0),
            timeout=10.0,
            duplicate_rate=0.2,
            reorder_rate=0.1,
            reorder_hold=1.0,
        )
        moka = MokaSandbox(webhook_secret=WEBHOOK_SECRET, webhook_policy=policy, seed=options.seed)
        moka_server = serve_in_thread(moka_app(moka))
        stack.callback(moka_server.stop)
        gateway_port = free_port()
        env.update({
            "SAMBUNG_DATA_DIR": str(root / "var"),
            "REDIS_URL": redis_url,
            "SAMBUNG_SECRET_KEY": SECRET_KEY,
            "SAMBUNG_PUBLIC_URL": f"http://127.0.0.1:{gateway_port}",
            "MOKA_BASE_URL": moka_server.url,
            "MOKA_CLIENT_ID": "sandbox-moka-client",
            "MOKA_CLIENT_SECRET": "sandbox-moka-secret",
            "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "JURNAL_BASE_URL": jurnal_server.url,
            # Jurnal's documented limits are the client's defaults too; only the minute shrinks.
            "JURNAL_RATE_WINDOW_SECONDS": f"{options.window_seconds:g}",
            "JURNAL_SETTLE_MS": "300",
            "SAMBUNG_POSTING_LOCK_TTL_MS": "5000",
            # A killed worker's sync run is taken up again after three missed beats (9 s).
            "SAMBUNG_WORKER_HEARTBEAT_SECONDS": "3",
            "PYTHONUNBUFFERED": "1",
        })  # fmt: skip
        container = Container(Config.from_env(env))
        stack.callback(container.close)
        logs = root / "logs"
        logs.mkdir()
        processes = Processes(env, logs)
        stack.callback(processes.stop)
        run = Run(
            options, echo, root, processes, f"http://127.0.0.1:{gateway_port}", redis_dir,
            moka, moka_server.url, jurnal, jurnal_server.url, container, postgres,
            rng=random.Random(options.seed),
        )  # fmt: skip
        _record_publications(run)
        result = _attack(run, limits)
        result["logs"] = str(logs) if options.keep else None
        return result


_CONFIGURATION = ("SAMBUNG_", "MOKA_", "JURNAL_", "POSTGRES_", "REDIS_", "PERSISTENCE_", "SQLITE_")


def _record_publications(run: Run) -> None:
    """Remember which payment version each webhook carried, to find any 202 not in the log."""
    dispatcher = run.moka.webhooks
    publish = dispatcher.publish

    def recording(
        event_name: str, outlet_id: int, body: dict[str, Any], **options: Any
    ) -> list[str]:
        ids: list[str] = publish(event_name, outlet_id, body, **options)
        if event_name.startswith("moka.transaction."):
            for event_id in ids:
                run.published[event_id] = (str(body["id"]), str(body["updated_at"]))
        return ids

    dispatcher.publish = recording


def _attack(run: Run, limits: str) -> dict[str, Any]:
    from infra.api_tokens import issue_token
    from sandbox.jurnal.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    echo, options = run.echo, run.options
    processes = run.processes
    started = time.monotonic()
    processes.start("gateway", ["serve", "--port", run.gateway_url.rsplit(":", 1)[1]])
    for number in range(1, options.workers + 1):
        # RQ's own unique names: a killed worker's registration outlives it for a while.
        processes.start(f"worker-{number}", ["worker"])
    processes.start("scheduler", ["scheduler"])
    run.token = issue_token(run.container.log, admin=True).token
    run.wait("the gateway", lambda: _suppress(lambda: requests.get(
        f"{run.gateway_url}/readyz", timeout=5).status_code == 200), 60)  # fmt: skip

    # A small library and a day or two of history: most sales arrive live, under the faults.
    history = 10 if options.soak_minutes else max(4, options.sales // 5)
    today = datetime.now(JAKARTA).date()
    seeded = run.moka.seed(
        options.seed, products=40, customers=20, days=2,
        transactions_per_day=max(2, history // 2), start_date=today - timedelta(days=2),
    )  # fmt: skip
    run.outlet_id = int(seeded["outlet_ids"][0])
    company = run.api("POST", "/companies", 201, json={
        "name": "PT Kopi Chaos", "jurnal_client_id": DEFAULT_CLIENT_ID,
        "jurnal_client_secret": DEFAULT_CLIENT_SECRET})  # fmt: skip
    connection = run.api("POST", "/moka/connections", 201, json={
        "company_id": company["id"], "access_token": seeded["access_token"],
        "refresh_token": seeded["refresh_token"]})  # fmt: skip
    bank = {"account": "Rekening Bank", "tag": None}
    run.setting = run.api("POST", "/settings", 201, json={
        "company_id": company["id"], "moka_connection_id": connection["id"],
        "outlet_id": str(run.outlet_id), "name": "Kopi Chaos",
        "start_date": (today - timedelta(days=2)).isoformat(),
        "default_customer": "Pelanggan Umum", "name_prefix": "Chaos",
        "sales_account": "Pendapatan", "purchase_account": "Beban Pokok Pendapatan",
        "auto_sync": False,
        "payment_accounts": {"cash": {"account": "Kas", "tag": None}, "edc": bank,
                             "gift_card": bank, "ovo": bank, "tcash": bank, "other": bank},
    })  # fmt: skip
    setting_id = run.setting["id"]
    run.wait("3 workers", lambda: _workers(run) >= options.workers, 120)
    master = run.finished_run(
        run.api("POST", f"/settings/{setting_id}/sync/master-data", 202)["run_id"]
    )
    if master["status"] != "Sukses":
        raise ChaosFailed(f"the master-data sync did not succeed: {master}")
    echo(f"master data synced after {time.monotonic() - started:.0f}s; the attack starts")

    subscription = {"url": f"{run.gateway_url}/webhooks/moka", "secret": WEBHOOK_SECRET}
    run.control(run.moka_url, "POST", "/subscriptions", json=subscription)
    run.control(run.jurnal_url, "POST", "/faults", json={**JURNAL_FAULTS, "seed": options.seed})
    live = options.sales - _moka_sales(run)
    if options.soak_minutes:
        live = max(10, round(options.soak_minutes * 60 * options.soak_rate))
    pulls = []
    memory = None
    with run.killing_workers():
        pulls.append(run.api("POST", f"/settings/{setting_id}/sync/transactions", 202)["run_id"])
        if options.soak_minutes:
            seconds = options.soak_minutes * 60
            memory = MemorySampler(run, seconds)
            with memory.sampling():
                _sell(run, live, pulls, setting_id, pace=1 / options.soak_rate)
        else:
            _sell(run, live, pulls, setting_id)
        echo(f"{live} live sales sent after {time.monotonic() - started:.0f}s; the faults go on")
        drained = run.control(run.moka_url, "POST", "/webhooks/drain", json={"timeout": 600})
        if not drained["drained"]:
            raise ChaosFailed("Moka's webhook deliveries did not drain")
        _wait_until_quiet(run, setting_id)
    run.control(run.jurnal_url, "POST", "/faults", json={
        "error_rate": 0, "timeout_rate": 0, "drop_after_commit_rate": 0})  # fmt: skip
    echo(f"quiet under the faults after {time.monotonic() - started:.0f}s; the faults stop")
    # The next night's catch-up, as the scheduler would start it: it finds whatever a pull
    # killed mid-way (and not yet retried) had not appended yet.
    final = run.api("POST", f"/settings/{setting_id}/sync/transactions", 202)["run_id"]
    run.finished_run(final, run.options.quiet_timeout)
    _wait_until_quiet(run, setting_id)
    pulls_ended = Counter(_run_status(run, r) for r in pulls)
    result = _count(run, setting_id)
    result.update(
        seconds=round(time.monotonic() - started, 1),
        store=options.store,
        sales=_moka_sales(run),
        seed=options.seed,
        jurnal_limits=limits,
        # How the pulls under the faults ended (a killed one is retried by RQ; "open": a retry
        # still waits); nothing depends on them, since the final pull above finds what they lost.
        pulls_under_faults=dict(pulls_ended),
        exited_and_restarted=dict(processes.revived),
        machine=machine(),
    )
    if memory is not None:
        result["soak"] = {"minutes": options.soak_minutes, "sales_per_second": options.soak_rate,
                          **memory.report()}  # fmt: skip
    return result


def _run_status(run: Run, run_id: str) -> str:
    answer = requests.get(
        f"{run.gateway_url}/api/v1/runs/{run_id}", timeout=30,
        headers={"Authorization": f"Bearer {run.token}"},
    )  # fmt: skip
    answer.raise_for_status()
    found = answer.json()
    return str(found["status"]) if found["finished_at"] else "open"


def _workers(run: Run) -> int:
    from rq import Worker

    return int(Worker.count(connection=run.container.redis))


def _moka_sales(run: Run) -> int:
    with run.moka.lock:
        _, outlet = run.moka.outlet(run.outlet_id)
        return len(outlet.payments)


def _sell(run: Run, live: int, pulls: list[str], setting_id: str, pace: float = 0.01) -> None:
    """Ring up `live` sales at the till, one every `pace` seconds (and refund one in ten at
    once), with the one-off process faults at fixed points of the way: Redis at 3/10, the
    gateway at 5/10, the store at 7/10. A second pull starts at 6/10; a soak (a steady pace)
    starts one at every tenth instead, so that each tenth carries the same load."""
    with run.moka.lock:
        _, outlet = run.moka.outlet(run.outlet_id)
        items = [i["id"] for i in outlet.items.values() if not i["is_deleted"]]

    def pull() -> None:
        pulls.append(run.api("POST", f"/settings/{setting_id}/sync/transactions", 202)["run_id"])

    one_offs: dict[int, list[Callable[[], None]]] = {}
    for tenth, fault in ((3, run.restart_redis), (5, run.kill_gateway), (7, run.restart_store)):
        one_offs.setdefault(live * tenth // 10, []).append(fault)
    for tenth in range(1, 10) if run.options.soak_minutes else (6,):
        one_offs.setdefault(live * tenth // 10, []).append(pull)
    sold: list[str] = []
    started = time.monotonic()
    for number in range(live):
        for fault in one_offs.get(number, ()):
            fault()
        cart = {
            "payment_type": PAYMENT_TYPES[number % len(PAYMENT_TYPES)],
            "checkouts": [
                {"item_id": run.rng.choice(items), "quantity": run.rng.randint(1, 3)}
                for _ in range(run.rng.randint(1, 3))
            ],
        }
        sale = run.control(run.moka_url, "POST", "/payments",
                           json={"outlet_id": run.outlet_id, "payment": cart})["id"]  # fmt: skip
        sold.append(sale)
        if number % 10 == 9:
            refunded = sold.pop(run.rng.randrange(len(sold)))
            refund = {"outlet_id": run.outlet_id, "payment": {"parent_payment_uuid": refunded}}
            run.control(run.moka_url, "POST", "/payments", json=refund)
        if number % 100 == 99:
            run.echo(f"  {number + 1}/{live} live sales")
        # Keep the pace even when a sale took long (the faults above take seconds).
        time.sleep(max(0.0, started + (number + 1) * pace - time.monotonic()))


# -- the soak's memory ------------------------------------------------------------------------

# Sambung's own processes: their memory must not grow. The servers' is reported too, but they
# hold what grows by design (the log's rows and pages; RQ's job records until their TTLs).
CHECKED_ROLES = ("gateway", "workers", "scheduler")
MEMORY_TOLERANCE = 1.10


@dataclass
class MemorySampler:
    """Peak RSS of every process of the stack in each tenth of `seconds`, by role: the largest
    process of each child's process group (gunicorn's master and workers; an RQ worker and
    the work horse it forks; all three workers as one role, since any of them may carry the
    tenth's pull), the Redis server and the PostgreSQL server with its backends."""

    run: Run
    seconds: float
    interval: float = 0.5
    peaks: dict[str, list[float]] = field(default_factory=dict)  # role → MiB per tenth

    def sample(self, tenth: int) -> None:
        table = _process_table()
        with self.run.processes.lock:
            children = {name: p.pid for name, p in self.run.processes.running.items()}
        groups: dict[str, set[int]] = {}
        for name, leader in children.items():
            role = "workers" if name.startswith("worker-") else name
            groups.setdefault(role, set()).update(
                pid for pid, (_, group, _) in table.items() if group == leader
            )
        servers = {"redis": _pid_in(self.run.redis_dir / "redis.pid")}
        if self.run.postgres is not None:
            servers["postgres"] = _pid_in(self.run.postgres.home / "data" / "postmaster.pid")
        for role, server in servers.items():
            if server is not None:
                groups[role] = {server} | {
                    pid for pid, (parent, _, _) in table.items() if parent == server
                }
        for role, pids in groups.items():
            rss = max((table[pid][2] for pid in pids if pid in table), default=0)
            line = self.peaks.setdefault(role, [0.0] * 10)
            line[tenth] = max(line[tenth], round(rss / 2**20, 1))

    def sampling(self) -> contextlib.AbstractContextManager[None]:
        started = time.monotonic()

        def sample_now() -> None:
            self.sample(min(9, int((time.monotonic() - started) * 10 / self.seconds)))

        return _every(lambda: self.interval, sample_now, "chaos-memory")

    def report(self) -> dict[str, Any]:
        """Warm-up is the first tenth; the next two are the baseline, and no later tenth may
        peak more than MEMORY_TOLERANCE above it (a restarted process peaks lower, not
        higher, so restarts cannot hide growth)."""
        growth = {}
        for role in CHECKED_ROLES:
            line = self.peaks.get(role, [0.0] * 10)
            baseline = max(line[1:3])
            growth[role] = round(max(line[3:]) / baseline, 3) if baseline else None
        flat = all(g is not None and g <= MEMORY_TOLERANCE for g in growth.values())
        return {"rss_mb_per_tenth": self.peaks, "growth": growth, "memory_flat": flat}


def _process_table() -> dict[int, tuple[int, int, int]]:
    """Every process: pid → (parent pid, process group, resident bytes), from /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name is in parentheses and may hold spaces: split after the last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone between the listing and the read
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[21]) * page)
    return table


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_until_quiet(run: Run, setting_id: str) -> None:
    """Quiet: the log fully processed, no job queued, Jurnal's counts unchanged for ten seconds.
    (Started jobs are not asked about: a killed worker's job stays "started" until it misses
    its beats.) Under the faults, a thousand sales take many minutes to post, so the run gives
    up only when Jurnal's counts stop moving for `quiet_timeout` while work remains."""
    from uuid import UUID

    from infra.queues import QUEUE_NAMES

    last: list[Any] = [None, time.monotonic()]  # Jurnal's counts, and since when
    idle_since = [time.monotonic()]

    def quiet() -> bool:
        log, redis_connection = run.container.log, run.container.redis
        try:
            busy = log.has_unprocessed(UUID(setting_id)) or any(
                run.container.queue(name).count for name in QUEUE_NAMES
            )
            redis_connection.ping()
        except (redis.RedisError, OSError):
            return False
        with run.jurnal.lock:
            counts = {n: len(c) for co in run.jurnal.companies.values()
                      for n, c in co.collections.items()}  # fmt: skip
        now = time.monotonic()
        if counts != last[0]:
            last[0], last[1] = counts, now
        if busy:
            idle_since[0] = now
            if now - last[1] > run.options.quiet_timeout:
                raise ChaosFailed(f"no progress in Jurnal for {now - last[1]:.0f}s, work left")
        return now - max(last[1], idle_since[0]) > 10

    run.wait("the stack to be quiet", quiet, MAX_QUIET_WAIT)


# -- the count --------------------------------------------------------------------------------


def _count(run: Run, setting_id: str) -> dict[str, Any]:
    import copy

    from domain.log import PaymentReceived
    from domain.mapping import sale_invoice_custom_id
    from domain.mapping.document import RESOURCES
    from domain.mapping.follow_ups import follow_up_custom_ids
    from domain.mapping.moka import read_payment
    from domain.mapping.returns import return_custom_id
    from domain.mapping.sale import predicted_adjustments
    from domain.mapping.setting import setting_from_json
    from sandbox.jurnal.resources.invoices import totals_of

    setting = setting_from_json(run.setting, str(run.outlet_id))
    with run.moka.lock:
        _, outlet = run.moka.outlet(run.outlet_id)
        payments = copy.deepcopy(list(outlet.payments.values()))
        deleted = {item["id"] for item in outlet.items.values() if item["is_deleted"]}

    # What Moka's data calls for: custom id → the amount it must carry (None: not checked).
    # Each kind of document a Moka payment calls for (`follow_up_custom_ids`), by resource.
    kinds = ("sales_invoice", "receive_payment", "sales_return", "customer_credit_memo_refund",
             "journal_entry")  # fmt: skip
    expected: dict[str, dict[str, Decimal | None]] = {RESOURCES[k]: {} for k in kinds}
    for payment in payments:
        if any(line.get("item_id") in deleted for line in payment["checkouts"]):
            continue  # refused by design: a sale of a product deleted in Moka
        sale = read_payment(payment)
        expected["sales_invoices"][sale_invoice_custom_id(payment, setting)] = sale.totals.collected
        # A return that Jurnal rounds unlike Moka gets a rounding adjustment (a journal entry,
        # counted below) for the difference; only the other returns must match on their own.
        adjusted = predicted_adjustments(sale, setting)
        refunds = {
            return_custom_id(setting, r.uuid): r.totals.collected
            for r in sale.refunds
            if r.uuid not in adjusted
        }
        for kind, custom_id in follow_up_custom_ids(payment, setting):
            expected[RESOURCES[kind]][custom_id] = refunds.get(custom_id)

    with run.jurnal.lock:
        held: dict[str, dict[str, list[Decimal | None]]] = {r: {} for r in expected}
        for company in run.jurnal.companies.values():
            for resource in expected:
                for record in company.collections[resource]:
                    custom_id = record.get("custom_id")
                    if not custom_id:
                        continue
                    amount = _amount(resource, record, run.jurnal.context(company), totals_of)
                    held[resource].setdefault(custom_id, []).append(amount)

    missing = duplicates = mismatches = found = checked = 0
    examples: dict[str, list[str]] = {"missing": [], "duplicates": [], "amount_mismatches": []}
    for resource, wanted in expected.items():
        for custom_id, amount in wanted.items():
            copies = held[resource].get(custom_id, [])
            if not copies:
                missing += 1
                examples["missing"].append(custom_id)
                continue
            found += 1
            if len(copies) > 1:
                duplicates += len(copies) - 1
                examples["duplicates"].append(custom_id)
            got = copies[0]
            if amount is None or got is None:
                continue
            checked += 1
            if abs(abs(got) - abs(amount)) >= RUPIAH:
                mismatches += 1
                examples["amount_mismatches"].append(f"{custom_id}: {got} vs Moka {amount}")
        # Documents nobody asked for, twice or more, count as duplicates too.
        for custom_id, copies in held[resource].items():
            if custom_id not in wanted and len(copies) > 1:
                duplicates += len(copies) - 1
                examples["duplicates"].append(custom_id)

    # Webhooks answered 202 whose payment version (or a newer one) is not in the log.
    logged: dict[str, str] = {}
    after = 0
    from uuid import UUID

    while events := run.container.log.read(UUID(setting_id), after=after, limit=1000):
        for event in events:
            if isinstance(event, PaymentReceived):
                key = str(event.record["id"])
                logged[key] = max(logged.get(key, ""), _instant(event.record["updated_at"]))
        after = events[-1].position
    accepted = {a["event_id"] for a in run.moka.webhooks.attempts if a["outcome"] == 202}
    lost = [
        event_id
        for event_id in accepted
        if event_id in run.published
        and logged.get(run.published[event_id][0], "") < _instant(run.published[event_id][1])
    ]
    return {
        "expected_documents": sum(len(w) for w in expected.values()),
        "found": found,
        "missing": missing,
        "duplicates": duplicates,
        "amount_mismatches": mismatches,
        "webhooks_sent": len(run.published),
        "webhooks_lost": len(lost),
        "worker_kills": run.counts["worker_kills"],
        "redis_restarts": run.counts["redis_restarts"],
        "gateway_restarts": run.counts["gateway_restarts"],
        "store_restarts": run.counts["store_restarts"],
        "amounts_checked": checked,
        "jurnal_answers": _jurnal_answers(run),
        "examples": {k: v[:5] for k, v in examples.items() if v},
    }


def _jurnal_answers(run: Run) -> dict[str, Any]:
    """How Jurnal answered during the run, by status (`dropped`: committed, answer lost)."""
    state = run.control(run.jurnal_url, "GET", "/state")
    served: dict[str, Any] = state.get("requests") or state.get("served") or {}
    return served


def _instant(text: str) -> str:
    """A Moka timestamp as a sortable UTC string."""
    return datetime.fromisoformat(str(text)).astimezone(ZoneInfo("UTC")).isoformat()


def _amount(resource: str, record: dict[str, Any], context: Any, totals_of: Any) -> Decimal | None:
    """What Jurnal's own arithmetic says the document holds."""
    if resource == "sales_invoices":
        return Decimal(str(totals_of(context, record).original_amount))
    if resource == "sales_returns":
        return Decimal(str(record.get("return_amount")))
    return None


def passed(result: dict[str, Any]) -> bool:
    """All zeros; and for a soak, memory that did not grow."""
    soak = result.get("soak")
    return all(result[key] == 0 for key in MUST_BE_ZERO) and (soak is None or soak["memory_flat"])


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, default=str)


def stop_on_sigterm() -> None:
    """SIGTERM ends the run through its clean-up, as Ctrl-C does."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
