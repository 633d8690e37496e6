"""`sambung up`: one process tree of gateway, workers, scheduler and optionally both sandboxes.

Children are ordinary `sambung` subcommands. A child that dies is reported by name and exit code,
and the whole tree stops with a non-zero status, so that a service manager restarts it rather than
a half-working tree carrying on. Ctrl-C or SIGTERM stops every child cleanly.

No process of the tree outlives it. Each child leads its own process group, which holds whatever
it forks (gunicorn workers, RQ's scheduler process and work horses). Ctrl-C at a terminal reaches
only the supervisor, which then stops the children one way: SIGTERM to each child, a grace period
for it to stop its own processes, SIGKILL if it does not, and finally SIGTERM then SIGKILL to
anything left in its group.

Not even when the supervisor dies without cleaning up (SIGKILL, the OOM killer). Two guards:

- on Linux each child is started with a parent-death signal (`prctl(PR_SET_PDEATHSIG, SIGTERM)`
  in `preexec_fn`), so the kernel sends it the same SIGTERM as a graceful stop the moment the
  supervisor dies. The signal follows the *thread* that forked the child, so children are forked
  from the main thread only; and a supervisor that died before the child armed it is caught by
  checking `getppid()` after arming;
- a reaper (`sambung/reaper.py`), started first, in its own process group, with no such signal,
  reads the children's pids from a pipe whose only writer is the supervisor. When the pipe
  closes without the word that all is done, the supervisor died: the reaper does what `stop`
  would have (waits for the children, SIGKILL after the grace period, ends what is left in their
  groups, such as RQ's scheduler process that no parent-death signal reaches) and releases the
  embedded Redis on the supervisor's behalf (`redis_data_dir`): Redis runs daemonized, outside
  the tree, and stops when no other process uses it, exactly as after `release_redis`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GRACE_SECONDS = 10.0
STRAGGLER_GRACE_SECONDS = 2.0


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None


class ProcessTree:
    def __init__(
        self,
        children: Sequence[Child],
        env: Mapping[str, str],
        report: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
        output: IO[bytes] | None = None,
        redis_data_dir: Path | None = None,
    ) -> None:
        self.children = list(children)
        self.env = dict(env)
        self.report = report
        self.output = output  # where the children write; None: this process's own streams
        # The data dir of the embedded Redis this process uses, for the reaper to release.
        self.redis_data_dir = redis_data_dir
        self._stopping = False
        self._reaper: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Forked from another thread, a child would get its parent-death signal when that thread
        # ends; the reaper alone guards such a tree.
        arm = (
            parent_death_signal(os.getpid())
            if threading.current_thread() is threading.main_thread()
            else None
        )
        self._start_reaper(children_signalled=arm is not None)
        for child in self.children:
            child.process = subprocess.Popen(
                [sys.executable, "-m", "sambung", *child.argv],
                env=self.env,
                stdout=self.output,
                stderr=self.output,
                process_group=0,
                preexec_fn=arm,  # only a C call: nothing that waits on a lock (see the function)
            )
            self._tell_reaper(f"{child.process.pid}\n")
            self.report(f"started {child.name} (pid {child.process.pid})")

    def close(self) -> None:
        """Dismiss the reaper. Call it last: after `stop`, and after whatever the caller itself
        releases then (the embedded Redis), so that a death in between is still cleaned up.
        (Never called, the reaper takes this process's exit for a death, finds nothing left to
        stop, and releases the embedded Redis a second time, which does no harm.)"""
        reaper, self._reaper = self._reaper, None
        if reaper is None:
            return
        with contextlib.suppress(OSError):
            assert reaper.stdin is not None
            reaper.stdin.write(b"done\n")
            reaper.stdin.close()
        try:
            reaper.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            reaper.kill()
            reaper.wait()

    def _start_reaper(self, children_signalled: bool) -> None:
        argv = [sys.executable, "-m", "sambung.reaper", "--owner", str(os.getpid()),
                "--grace", str(GRACE_SECONDS)]  # fmt: skip
        if not children_signalled:
            argv.append("--signal-children")
        if self.redis_data_dir is not None:
            argv += ["--redis-data-dir", str(self.redis_data_dir)]
        self._reaper = subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=self.output,
            stderr=self.output,
            process_group=0,  # a Ctrl-C at the terminal is for the supervisor, not for it
        )

    def _tell_reaper(self, line: str) -> None:
        if self._reaper is None or self._reaper.stdin is None:
            return
        with contextlib.suppress(OSError):  # a reaper gone early: the death signal still guards
            self._reaper.stdin.write(line.encode())
            self._reaper.stdin.flush()

    def request_stop(self, *_: object) -> None:
        self._stopping = True

    def run(self, ready: Callable[[], None] | None = None) -> int:
        """Start the children and supervise them until a signal arrives or one of them dies."""
        previous = {
            sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.start()
            if ready is not None:
                ready()
            status = 0
            while not self._stopping:
                dead = self._first_dead_child()
                if dead is not None:
                    self.report(
                        f"{dead.name} exited unexpectedly with status {dead.process.returncode}; "
                        "stopping the tree"
                    )
                    status = 1
                    break
                time.sleep(0.2)
            self.stop()
            return status
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        alive = [c for c in self.children if c.process and c.process.poll() is None]
        for child in alive:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in alive:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                self.report(f"{child.name} did not stop in {GRACE_SECONDS:.0f}s; killing it")
                child.process.kill()
                child.process.wait()
        for child in self.children:
            if child.process is not None:
                end_group(child.process.pid)
        self.report("all processes stopped")

    def _first_dead_child(self) -> Child | None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def parent_death_signal(
    parent: int, sig: signal.Signals = signal.SIGTERM
) -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel send `sig` to the child when `parent` (the thread that
    forks it) dies; None where the kernel has no such thing (the reaper still guards).

    It runs between fork and exec, so it only calls a C function looked up here, beforehand:
    nothing that could wait on a lock another thread of the parent held at the fork. If the
    parent died before the signal was armed, the child was already adopted by another process
    and no signal will come: it exits at once instead."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    number = int(sig)

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, number, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(128 + number)  # the parent's Python signal handlers are still installed here

    return arm


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is dead: only not yet reaped)."""
    return live_stat(pid) is not None


def live_stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...) of a live
    process; None for no process or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields if fields[0] not in ("Z", "X") else None


def child_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def group_members(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (zombies are dead: only not yet reaped)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = live_stat(entry.name)
        if fields is not None and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def end_group(pgid: int) -> None:
    """Stop what a stopped child left in its process group: SIGTERM, a short grace, SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group_members(pgid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + STRAGGLER_GRACE_SECONDS
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
