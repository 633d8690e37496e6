"""An exclusive lock on a file that a forked process never carries away.

`flock` locks belong to the open file description, which `fork` shares: a child forked while a
thread of its parent holds one (RQ forks its scheduler and work horses from a worker whose
projector thread may be opening the store) keeps the lock for its whole life, since the thread
that would release it does not exist in the child. Every other process then waits forever.

`held_lock` uses POSIX record locks (`fcntl.lockf`, F_SETLKW) instead. They belong to the process,
and the kernel never gives them to a fork child, so a child cannot hold what it never got; they
go away when the process exits, however it exits. Two habits of POSIX locks need care:

- they do not exclude threads of the same process, so a per-process `threading.Lock` queues the
  threads first;
- closing *any* descriptor of the file drops the process's locks on it, so the file is opened only
  by the thread holding that threading lock, and closed only after unlocking.

A child forked while the threading lock is held would inherit it locked with no thread to release
it, so `os.register_at_fork` gives every child fresh threading locks. The file is opened
close-on-exec (Python's default), so a program exec'd from here does not get the descriptor.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_guard = threading.Lock()  # protects _thread_locks
_thread_locks: dict[str, threading.Lock] = {}


def _forget_locks_in_child() -> None:
    global _guard, _thread_locks
    _guard = threading.Lock()
    _thread_locks = {}


os.register_at_fork(after_in_child=_forget_locks_in_child)


def _thread_lock(path: Path) -> threading.Lock:
    key = os.path.abspath(path)
    with _guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) against every other thread and
    process, waiting as long as it takes."""
    with _thread_lock(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
