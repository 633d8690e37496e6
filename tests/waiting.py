"""Waiting in tests: on a condition, with a deadline, never on a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    message: str | Callable[[], str] = "the condition",
    interval: float = 0.02,
) -> T:
    """Poll `predicate` until it returns something truthy, and return that.

    Fails with `message` (or what it returns, called at the deadline) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:g}s waiting for {said}")
        time.sleep(interval)
