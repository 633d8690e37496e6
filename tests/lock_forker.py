"""A child program for tests/integration/test_schema_lock.py: forks while a thread holds the
install's schema lock, as RQ's worker forks its scheduler while its projector opens the store.

`python -m tests.lock_forker DATA_DIR`: a thread takes the lock; the main thread forks; the child
waits for the lock, takes and releases it; the parent's thread releases it. Each step is printed
as a line; both processes then live until their stdin closes, so that the test can try the lock
from a third process while they run.
"""

from __future__ import annotations

import os
import sys
import threading

from infra.config import Config
from infra.eventlog import schema_lock


def _say(line: str) -> None:
    # One write per line: both processes share the pipe, and `print` may split a line in two.
    os.write(1, f"{line}\n".encode())


def main(data_dir: str) -> None:
    config = Config.from_env({"SAMBUNG_DATA_DIR": data_dir})
    config.data_dir.mkdir(parents=True, exist_ok=True)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with schema_lock(config):
            held.set()
            release.wait()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait()
    child = os.fork()
    if child == 0:
        with schema_lock(config):
            _say("child locked")
        _say("child released")
        sys.stdin.read()
        os._exit(0)
    _say(f"forked {child}")
    release.set()
    thread.join()
    _say("parent released")
    sys.stdin.read()
    os.waitpid(child, 0)


if __name__ == "__main__":
    main(sys.argv[1])
