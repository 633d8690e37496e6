"""The two guards that end `sambung up`'s children when it dies without cleaning up
(`sambung/supervisor.py`): the parent-death signal armed in each child, and the reaper. Real
processes; `tests/e2e/test_up.py` kills a whole `sambung up` with SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sambung.supervisor import alive, parent_death_signal
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(120)

DEADLINE = 30.0
# Writes its pid, then waits; on SIGTERM notes it in the file named by argv[1] and exits.
CHILD = textwrap.dedent("""
    import os, signal, sys
    def stopped(*_):
        with open(sys.argv[1], "w") as note:
            note.write("SIGTERM")
        os._exit(0)
    signal.signal(signal.SIGTERM, stopped)
    print(os.getpid(), flush=True)
    while True:
        signal.pause()
""")
# Starts CHILD the way the supervisor does, prints the child's pid, then waits to be killed.
PARENT = textwrap.dedent("""
    import os, signal, subprocess, sys
    from sambung.supervisor import parent_death_signal
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                             stdout=subprocess.PIPE, process_group=0,
                             preexec_fn=parent_death_signal(os.getpid()))
    print(child.stdout.readline().decode().strip(), flush=True)
    while True:
        signal.pause()
""")
# Ignores SIGTERM, forks a grandchild that does too (same process group), prints both pids.
STUBBORN = textwrap.dedent("""
    import os, signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pid = os.fork()
    if pid == 0:
        while True:
            signal.pause()
    print(os.getpid(), pid, flush=True)
    while True:
        signal.pause()
""")


Started = list[int | subprocess.Popen[bytes]]


@pytest.fixture
def started() -> Iterator[Started]:
    """What a test starts: SIGKILLed at the end (and reaped, with its pipes closed), whatever
    the test's outcome."""
    processes: Started = []
    yield processes
    for process in processes:
        pid = process if isinstance(process, int) else process.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if isinstance(process, subprocess.Popen):
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def test_a_child_gets_sigterm_when_its_parent_is_killed(tmp_path: Path, started: Started):
    note = tmp_path / "note"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, str(note)],
                              stdout=subprocess.PIPE)  # fmt: skip
    started.append(parent)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    started.append(child)
    assert alive(child)
    parent.kill()
    parent.wait()
    wait_until(lambda: not alive(child), DEADLINE, "the orphaned child to end")
    assert note.read_text() == "SIGTERM", "ended by its parent-death signal"


def test_a_child_whose_parent_died_before_it_armed_the_signal_exits_at_once(
    started: Started,
):
    command = [sys.executable, "-c", "import signal; print('up', flush=True); signal.pause()"]
    # Armed for the right parent: it runs.
    running = subprocess.Popen(
        command, stdout=subprocess.PIPE, preexec_fn=parent_death_signal(os.getpid())
    )
    started.append(running)
    assert running.stdout is not None and running.stdout.readline() == b"up\n"
    # The parent it was started for is not the one it has (that one died and it was adopted):
    # it exits before it runs anything.
    orphan = subprocess.Popen(
        command, stdout=subprocess.PIPE, preexec_fn=parent_death_signal(os.getpid() + 1)
    )
    started.append(orphan)
    assert orphan.wait(DEADLINE) == 128 + signal.SIGTERM
    assert orphan.stdout is not None and orphan.stdout.read() == b""
    assert running.poll() is None


def _reaper(*options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sambung.reaper", "--owner", "1", *options],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _stubborn(started: Started) -> tuple[int, int]:
    """A child that ignores SIGTERM, leading its own group, and a grandchild in that group."""
    child = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE,
                             process_group=0)  # fmt: skip
    started.append(child)
    assert child.stdout is not None
    leader, grandchild = (int(pid) for pid in child.stdout.readline().split())
    started.append(grandchild)
    return leader, grandchild


def test_the_reaper_ends_the_children_and_their_groups_when_the_owner_is_gone(
    started: Started,
):
    leader, grandchild = _stubborn(started)
    reaper = _reaper("--grace", "0.5", "--signal-children")
    started.append(reaper)
    assert reaper.stdin is not None
    reaper.stdin.write(f"{leader}\n".encode())
    reaper.stdin.close()  # the owner's end of the pipe closes without "done": it died
    assert reaper.wait(DEADLINE) == 0
    assert not alive(leader) and not alive(grandchild)
    assert reaper.stderr is not None
    said = reaper.stderr.read().decode()
    assert "ended without stopping its processes" in said
    assert f"pid {leader} did not stop" in said, "SIGTERM was ignored: it was SIGKILLed"


def test_the_reaper_leaves_everything_alone_once_the_owner_says_done(started: Started):
    leader, grandchild = _stubborn(started)
    reaper = _reaper("--grace", "0.5", "--signal-children")
    started.append(reaper)
    assert reaper.stdin is not None
    reaper.stdin.write(f"{leader}\ndone\n".encode())
    reaper.stdin.close()
    assert reaper.wait(DEADLINE) == 0
    assert alive(leader) and alive(grandchild)
