"""The schema lock of a SQLite install is never carried away by a forked process.

RQ's worker forks (its scheduler, work horses) while another of its threads may hold the lock
that queues the openers of the store. With `flock` the child shared the lock and never released
it, and every later `sambung` command hung. These tests fork exactly then.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 20.0

TAKE_THE_LOCK = """
import sys
from infra.config import Config
from infra.eventlog import schema_lock
with schema_lock(Config.from_env({"SAMBUNG_DATA_DIR": sys.argv[1]})):
    print("locked")
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_child_forked_while_a_thread_holds_the_lock_neither_keeps_it_nor_waits_forever(
    tmp_path,
):
    data_dir = tmp_path / "var"
    lines: list[str] = []
    forker = subprocess.Popen(
        [sys.executable, "-m", "tests.lock_forker", str(data_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    threading.Thread(target=lambda: lines.extend(line.strip() for line in forker.stdout)).start()
    try:
        # The child forked while the lock was held gets it once the parent lets go: it did not
        # inherit a lock it cannot release, nor a thread lock nobody will ever unlock.
        wait_until(lambda: "parent released" in lines, DEADLINE, lambda: f"the parent: {lines}")
        wait_until(lambda: "child released" in lines, DEADLINE, lambda: f"the child: {lines}")
        child = int(next(line.split()[1] for line in lines if line.startswith("forked ")))
        assert _alive(child), "the child must still be running while the lock is taken again"

        # A third process, as the next `sambung` command, takes it while both still run.
        third = subprocess.run(
            [sys.executable, "-c", TAKE_THE_LOCK, str(data_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        assert third.stdout.strip() == "locked", third.stderr
        assert _alive(child) and forker.poll() is None
    finally:
        forker.stdin.close()
        forker.wait(DEADLINE)
        forker.stdout.close()
    assert forker.returncode == 0
