"""What every scenario shares: a scratch stack on a throwaway data dir (its own embedded Redis,
an SQLite or a throwaway PostgreSQL event store), child processes started as production starts
them (`sambung serve` under gunicorn, `sambung worker`) and always stopped, percentiles, and the
machine's details that go with every result.

Nothing here touches a configured data dir or database: a bench only ever writes to its scratch.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from infra.bootstrap import Container
from infra.config import Config
from infra.embedded import ensure_redis, stop_redis

Say = Callable[[str], None]
BIN = Path(sys.executable).parent
SECRET_KEY = "bench-scratch-secret-key"
WEBHOOK_SECRET = "bench-webhook-secret"
# A scenario's services take their configuration from the scratch only, never from the caller's.
_CONFIGURATION = ("SAMBUNG_", "MOKA_", "JURNAL_", "POSTGRES_", "REDIS_", "PERSISTENCE_", "SQLITE_")
STOP_GRACE = 15.0


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..100) of `values`."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, round(share / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def machine() -> dict[str, Any]:
    """Where and when the figures were taken; the load average says how shared the machine was."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_mb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        memory_mb = int(first.split()[1]) // 1024
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_mb": memory_mb,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
    }


@contextlib.contextmanager
def store_env(store: str) -> Iterator[dict[str, str]]:
    """The event store's environment: SQLite under the scratch, or a throwaway PostgreSQL."""
    if store == "sqlite":
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite"}
        return
    if store != "postgres":
        raise ValueError(f"unknown store {store!r}")
    from bench.postgres import running_postgres

    with running_postgres() as env:
        yield env


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Scratch:
    """A throwaway stack: data dir, embedded Redis, event store, and the children it started."""

    root: Path
    env: dict[str, str]
    container: Container
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], **extra_env: str) -> Child:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIGURATION)}
        env |= self.env | extra_env | {"PYTHONUNBUFFERED": "1"}
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            # Each child leads its own group, so that its own children (gunicorn's workers, RQ's
            # scheduler) are stopped with it.
            process = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def check(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with {child.process.returncode}:\n{child.tail()}"
                )

    def serve(self, name: str, argv: list[str], workers: int = 2) -> str:
        """A gunicorn server (`argv` takes --port and --workers); its URL once it answers."""
        port = free_port()
        self.spawn(name, [*argv, "--port", str(port), "--workers", str(workers)])
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            self.check()
            with contextlib.suppress(requests.RequestException):
                return requests.get(f"{url}/healthz", timeout=2).status_code < 500
            return False

        wait_until(f"{name} at {url}", answers, timeout=90, interval=0.2)
        return url

    def gateway(self, workers: int = 2) -> str:
        return self.serve("gateway", [str(BIN / "sambung"), "serve"], workers)

    def workers(self, count: int) -> list[Child]:
        return [
            self.spawn(f"worker-{n}", [str(BIN / "sambung"), "worker", "--name", f"bench-{n}"])
            for n in range(1, count + 1)
        ]

    def stop(self, child: Child) -> None:
        _stop([child])
        self.children.remove(child)

    def close(self) -> None:
        _stop(self.children)
        self.children.clear()


def _stop(children: list[Child]) -> None:
    """SIGTERM to each child's group (gunicorn and RQ stop gracefully on it), SIGKILL after the
    grace period to whatever is left."""
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def scratch(store: str = "sqlite", **extra_env: str) -> Iterator[Scratch]:
    root = Path(tempfile.mkdtemp(prefix="sambung-bench-"))
    redis_dir = root / "redis"
    container: Container | None = None
    made: Scratch | None = None
    try:
        with store_env(store) as stored:
            env = {
                "SAMBUNG_DATA_DIR": str(root / "var"),
                "REDIS_URL": ensure_redis(redis_dir),
                "SAMBUNG_SECRET_KEY": SECRET_KEY,
                "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "MOKA_CLIENT_ID": "sandbox-moka-client",
                "MOKA_CLIENT_SECRET": "sandbox-moka-secret",
                **stored,
                **extra_env,
            }
            container = Container(Config.from_env(env))
            made = Scratch(root, env, container)
            try:
                yield made
            finally:
                made.close()
                container.close()
    finally:
        with contextlib.suppress(Exception):
            stop_redis(redis_dir)
        shutil.rmtree(root, ignore_errors=True)
