"""`sambung up`: one process tree of gateway, workers, scheduler and optionally both sandboxes.

Children are ordinary `sambung` subcommands. A child that dies is reported by name and exit code,
and the whole tree stops with a non-zero status, so that a service manager restarts it rather than
a half-working tree carrying on. Ctrl-C or SIGTERM stops every child cleanly.

No process of the tree outlives it. Each child leads its own process group, which holds whatever
it forks (gunicorn workers, RQ's scheduler process and work horses). Ctrl-C at a terminal reaches
only the supervisor, which then stops the children one way: SIGTERM to each child, a grace period
for it to stop its own processes, SIGKILL if it does not, and finally SIGTERM then SIGKILL to
anything left in its group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
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
    ) -> None:
        self.children = list(children)
        self.env = dict(env)
        self.report = report
        self.output = output  # where the children write; None: this process's own streams
        self._stopping = False

    def start(self) -> None:
        for child in self.children:
            child.process = subprocess.Popen(
                [sys.executable, "-m", "sambung", *child.argv],
                env=self.env,
                stdout=self.output,
                stderr=self.output,
                process_group=0,
            )
            self.report(f"started {child.name} (pid {child.process.pid})")

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
                _end_group(child.process.pid)
        self.report("all processes stopped")

    def _first_dead_child(self) -> Child | None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None


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
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _end_group(pgid: int) -> None:
    """Stop what a stopped child left in its process group: SIGTERM, a short grace, SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group_members(pgid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + STRAGGLER_GRACE_SECONDS
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
