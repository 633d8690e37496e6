"""`sambung up` as an operator runs it: a real server (gunicorn), and nothing left behind.

Each test starts `sambung up` (and once `sambung demo`) as a subprocess on its own data dir, with
the embedded Redis, and looks at the processes it made through /proc:

- CLI commands run while the stack starts, again and again, and each finishes within a deadline
  (RQ's forks once carried the store's schema lock away and every later command hung);
- SIGTERM or Ctrl-C (SIGINT) ends every process of the tree and the Redis it started;
- so does SIGKILL, which leaves `sambung up` no clean-up of its own (parent-death signals and
  the reaper do it), and Redis still stays for another process that uses it;
- a second Sambung process on the same data dir keeps that Redis running until it stops too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from infra.embedded import socket_path
from tests.postgres_server import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BIN = Path(sys.executable).parent
# The services take their configuration from here only, not from the caller's environment.
CONFIGURATION = ("SAMBUNG_", "MOKA_", "JURNAL_", "POSTGRES_", "REDIS_", "PERSISTENCE_", "SQLITE_")
START = 120.0  # a loaded 2-core machine starts a tree of Python processes slowly
STOP = 30.0
COMMAND = 30.0  # a CLI command takes about a second; a hang never ends


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    data_dir: Path
    gateway: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def ready(self) -> requests.Response | None:
        if self.process.poll() is not None:
            raise AssertionError(f"sambung up exited with {self.process.returncode}:\n"
                                 f"{self.output()}")  # fmt: skip
        try:
            answer = requests.get(f"{self.gateway}/readyz", timeout=2)
        except requests.RequestException:
            return None
        return answer if answer.status_code == 200 else None

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(STOP)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"sambung up did not stop in {STOP}s:\n{self.output()}") from None


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIGURATION)}
    env["SAMBUNG_DATA_DIR"] = str(data_dir)
    return env


def start_up(data_dir: Path, *args: str, sandbox: bool = True) -> Stack:
    port = free_port()
    argv = [str(BIN / "sambung"), "up", "--port", str(port), *args]
    if sandbox:
        argv += ["--sandbox", "--moka-port", str(free_port()), "--jurnal-port", str(free_port())]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"up-{port}.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            argv, env=environment(data_dir), stdout=output, stderr=subprocess.STDOUT
        )
    return Stack(process, data_dir, f"http://127.0.0.1:{port}", log)


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    """Every stack a test starts; whatever is still running at the end is stopped, with its
    whole tree, so that a failing test leaves nothing behind either."""
    started: list[Stack] = []
    yield started
    for stack in started:
        pids = descendants(stack.process.pid)
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()
        for pid in pids:
            _kill(pid)
        redis_pid = redis_server_pid(stack.data_dir)
        if redis_pid is not None:
            _kill(redis_pid)


# -- processes --------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid for pid in found if alive(pid)}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def redis_server_pid(data_dir: Path) -> int | None:
    try:
        pid = int((data_dir / "redis.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) and "redis-server" in command_line(pid) else None


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def at_least(root: int, count: int) -> set[int] | None:
    """The processes under `root`, once there are `count` of them."""
    pids = descendants(root)
    return pids if len(pids) >= count else None


def whole_tree(stack: Stack, expected: int) -> set[int]:
    """Wait until the tree has at least `expected` processes (children fork theirs a little
    after they start), and return them."""
    return wait_until(
        lambda: at_least(stack.process.pid, expected),
        START,
        lambda: f"{expected} processes under sambung up: {descendants(stack.process.pid)}",
    )


def redis_answers(data_dir: Path) -> bool:
    client = redis.Redis(unix_socket_path=str(socket_path(data_dir)), socket_timeout=1)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def sambung(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A CLI command as an operator runs it beside the stack; it must end within the deadline."""
    try:
        return subprocess.run(
            [str(BIN / "sambung"), *args],
            env=environment(data_dir),
            capture_output=True,
            text=True,
            timeout=COMMAND,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"`sambung {' '.join(args)}` hung for {COMMAND:.0f}s beside a starting stack; "
            f"/proc/locks:\n{Path('/proc/locks').read_text()}"
        ) from None


# -- the tests --------------------------------------------------------------------------------


def tree_size(workers: int, sandbox: bool = True) -> int:
    """gunicorn's master and 2 workers, the RQ workers, the one scheduler process that the worker
    holding RQ's scheduler lock forks, `sambung scheduler`, the sandboxes, and the reaper."""
    return 3 + workers + 1 + 1 + (1 if sandbox else 0) + 1


STARTS = 5
WORKERS = 2  # the bug showed with two workers on fresh installs (verified against flock)


def test_cli_commands_never_hang_while_the_stack_starts_again_and_again(tmp_path, stacks):
    for start in range(STARTS):
        # A fresh install each time: creating the store's tables holds its lock longest.
        data_dir = tmp_path / f"var-{start}"
        stack = start_up(data_dir, "--workers", str(WORKERS))
        stacks.append(stack)
        deadline = time.monotonic() + START
        # From the first moment on, while the workers start and fork, until RQ's scheduler has
        # forked and the gateway answers, and once more after that.
        while True:
            forked = len(descendants(stack.process.pid)) >= tree_size(WORKERS)
            made = sambung(data_dir, "token", "create", "--admin")
            assert made.returncode == 0, made.stderr
            assert made.stdout.startswith("sbg_"), made.stdout
            if forked and stack.ready():
                break
            assert time.monotonic() < deadline, f"the stack did not start:\n{stack.output()}"
        listed = sambung(data_dir, "sync-all")  # the store and Redis, beside the workers
        assert listed.returncode == 0, listed.stderr
        # Stopped as an operator would, by Ctrl-C at the terminal or by the service manager.
        stops_cleanly(stack, signal.SIGINT if start % 2 else signal.SIGTERM, WORKERS)


def test_up_serves_with_gunicorn_and_leaves_no_process_behind(tmp_path, stacks):
    data_dir = tmp_path / "var"
    stack = start_up(data_dir)
    stacks.append(stack)
    answer = wait_until(stack.ready, START, lambda: f"/readyz of the gateway:\n{stack.output()}")
    assert answer.headers["Server"].startswith("gunicorn"), answer.headers
    tree = whole_tree(stack, tree_size(1))
    gateway = [pid for pid in tree if "sambung serve" in command_line(pid)]
    assert len(gateway) == 3, "a gunicorn master and its two workers"
    stops_cleanly(stack, signal.SIGTERM)


def stops_cleanly(stack: Stack, sig: signal.Signals, workers: int = 1) -> None:
    """Stop `stack` with `sig`; every process of its tree and its Redis must end."""
    tree = whole_tree(stack, tree_size(workers))
    redis_pid = redis_server_pid(stack.data_dir)
    assert redis_pid is not None and redis_answers(stack.data_dir)
    assert stack.stop(sig) == 0, stack.output()
    wait_all_ended(tree | {redis_pid}, f"the tree after {sig.name}")
    assert not socket_path(stack.data_dir).exists()
    assert not list((stack.data_dir / "redis.users").iterdir())


def wait_all_ended(pids: set[int], what: str) -> None:
    wait_until(
        lambda: not any(alive(pid) for pid in pids),
        STOP,
        lambda: (
            f"{what} to end; still running: "
            + "; ".join(f"{pid} {command_line(pid)}" for pid in pids if alive(pid))
        ),
    )


def test_up_killed_with_sigkill_leaves_no_process_behind(tmp_path, stacks):
    """No clean-up runs in a SIGKILLed `sambung up`: its children stop on their parent-death
    signal, the reaper ends what they forked (RQ's scheduler process) and stops the embedded
    Redis, which runs daemonized outside the tree."""
    data_dir = tmp_path / "var"
    stack = start_up(data_dir)
    stacks.append(stack)
    wait_until(stack.ready, START, lambda: f"/readyz of the gateway:\n{stack.output()}")
    tree = whole_tree(stack, tree_size(1)) | descendants(stack.process.pid)
    redis_pid = redis_server_pid(data_dir)
    assert redis_pid is not None and redis_answers(data_dir)
    stack.process.kill()
    assert stack.process.wait(STOP) == -signal.SIGKILL
    wait_all_ended(tree | {redis_pid}, "the tree of a SIGKILLed sambung up")
    assert not socket_path(data_dir).exists()
    assert "ended without stopping its processes" in stack.output()


def test_a_sigkilled_up_leaves_redis_to_the_other_process_that_uses_it(tmp_path, stacks):
    data_dir = tmp_path / "var"
    first = start_up(data_dir, sandbox=False)
    stacks.append(first)
    wait_until(first.ready, START, lambda: f"the first stack:\n{first.output()}")
    second = start_up(data_dir, sandbox=False)
    stacks.append(second)
    wait_until(second.ready, START, lambda: f"the second stack:\n{second.output()}")
    redis_pid = redis_server_pid(data_dir)
    assert redis_pid is not None
    first_tree = whole_tree(first, tree_size(1, sandbox=False)) | descendants(first.process.pid)

    first.process.kill()
    first.process.wait(STOP)
    wait_until(lambda: not any(alive(pid) for pid in first_tree), STOP, "the first tree to end")
    assert "another process still uses it" in first.output(), "said by the first one's reaper"
    assert alive(redis_pid) and redis_answers(data_dir)
    assert second.ready(), "the second stack still serves on the same Redis"

    # RQ's scheduler process runs under the first stack's worker, which took its lock first.
    second_tree = whole_tree(second, tree_size(1, sandbox=False) - 1)
    second_tree |= descendants(second.process.pid)
    second.process.kill()
    second.process.wait(STOP)
    wait_all_ended(second_tree | {redis_pid}, "the second tree and Redis")
    assert not socket_path(data_dir).exists()


def test_a_second_process_on_the_same_data_dir_keeps_redis_running_until_it_stops(tmp_path, stacks):
    data_dir = tmp_path / "var"
    first = start_up(data_dir, sandbox=False)
    stacks.append(first)
    wait_until(first.ready, START, lambda: f"the first stack:\n{first.output()}")
    redis_pid = redis_server_pid(data_dir)
    second = start_up(data_dir, sandbox=False)
    stacks.append(second)
    wait_until(second.ready, START, lambda: f"the second stack:\n{second.output()}")
    assert redis_server_pid(data_dir) == redis_pid, "both use the one embedded Redis"
    first_tree = whole_tree(first, tree_size(1, sandbox=False))

    assert first.stop() == 0, first.output()
    wait_until(lambda: not any(alive(pid) for pid in first_tree), STOP, "the first tree to end")
    assert "another process still uses it" in first.output()
    assert alive(redis_pid) and redis_answers(data_dir)
    assert second.ready(), "the second stack still serves on the same Redis"

    assert second.stop() == 0, second.output()
    wait_until(lambda: not alive(redis_pid), STOP, "Redis to stop with its last user")
    assert not socket_path(data_dir).exists()


def test_demo_stopped_mid_story_leaves_no_process_behind(tmp_path):
    data_dir = tmp_path / "var"
    log = tmp_path / "demo.log"
    with open(log, "ab") as output:
        demo = subprocess.Popen(
            [str(BIN / "sambung"), "demo"],
            env=environment(data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    tree: set[int] = set()
    try:
        # gunicorn's master and workers, two RQ workers, RQ's scheduler fork, the scheduler,
        # the reaper
        tree = wait_until(
            lambda: at_least(demo.pid, 3 + 2 + 1 + 1 + 1),
            START,
            lambda: f"the demo's processes:\n{log.read_text(errors='replace')[-3000:]}",
        )
        redis_pid = redis_server_pid(data_dir / "demo")
        assert redis_pid is not None
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(STOP) != 0, "stopped before the story ended"
        left = tree | {redis_pid}
        wait_until(
            lambda: not any(alive(pid) for pid in left),
            STOP,
            lambda: (
                "the demo's processes to end; still running: "
                + "; ".join(f"{pid} {command_line(pid)}" for pid in left if alive(pid))
            ),
        )
        assert not socket_path(data_dir / "demo").exists()
    finally:
        tree |= descendants(demo.pid)
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for pid in tree:
            _kill(pid)
        redis_pid = redis_server_pid(data_dir / "demo")
        if redis_pid is not None:
            _kill(redis_pid)
