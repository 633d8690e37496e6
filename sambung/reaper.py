"""The reaper: stops a process tree whose supervisor (`sambung up`, `sambung demo`) died without
stopping it, SIGKILL or the OOM killer being the usual reasons (`sambung/supervisor.py`).

`python -m sambung.reaper --owner PID [--grace S] [--signal-children] [--redis-data-dir DIR]`

The supervisor starts it first and writes the pid of each child it starts to the reaper's stdin,
one a line; the supervisor is the only writer of that pipe. `done` means the supervisor stopped
everything itself: the reaper exits. The end of the pipe without `done` means the supervisor
is gone. The reaper then does what the supervisor's stop would have done:

1. the children already got SIGTERM from the kernel (their parent-death signal); where they
   could not (`--signal-children`: not Linux, or a tree started off the main thread) the reaper
   sends it;
2. it waits up to the grace period for each child to end, then SIGKILLs the ones still running;
3. it ends whatever is left in each child's process group (SIGTERM, then SIGKILL): processes
   the children forked, like RQ's scheduler process, which no parent-death signal reaches;
4. with `--redis-data-dir`, it releases the embedded Redis on the supervisor's behalf: stopped
   unless another process still uses it (`infra.embedded.release_redis`).

It ignores SIGINT, SIGTERM and SIGHUP: a service manager stopping the whole group, or a closed
terminal, must not cut the clean-up short. It ends on its own once that is done.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sambung.supervisor import end_group, live_stat


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sambung.reaper")
    parser.add_argument("--owner", type=int, required=True, help="the supervisor's pid")
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--signal-children", action="store_true")
    parser.add_argument("--redis-data-dir", type=Path)
    options = parser.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)

    children: list[int] = []
    for line in sys.stdin.buffer:
        word = line.strip()
        if word == b"done":
            return 0
        if word.isdigit():
            children.append(int(word))
    say(f"sambung (pid {options.owner}) ended without stopping its processes; stopping them")
    stop_children(children, options.grace, send_term=options.signal_children)
    if options.redis_data_dir is not None:
        from infra.embedded import release_redis

        if not release_redis(options.redis_data_dir):
            say("embedded Redis left running: another process still uses it")
    say("all processes stopped")
    return 0


def stop_children(children: Sequence[int], grace: float, *, send_term: bool) -> None:
    """Each child leads its own process group, whose id is its pid."""
    if send_term:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_leading(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in children:
        if _leading(pid):
            say(f"pid {pid} did not stop in {grace:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for pid in children:
        end_group(pid)


def _leading(pid: int) -> bool:
    """Whether the child `pid` still runs: alive and leading its group (a process that took the
    number after the child ended would not be leading a group of that id)."""
    fields = live_stat(pid)
    return fields is not None and int(fields[2]) == pid


def say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # the terminal may be gone with the owner
        print(f"reaper: {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
