"""Structured logs: one JSON object per line, through the standard `logging` module.

Each line carries the time, level, logger and message, the fields bound to the current context
(`bind(setting_id=..., run_id=...)` around a request or a job) and those passed as `extra=`.
Identifiers belong there (setting, company, run, Moka outlet/event/record, Jurnal document ids);
secrets never do. As a second line of defence the formatter replaces the value of any field whose
name says it holds a secret (`SECRET_FIELDS`) with "[redacted]".
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"
SECRET_FIELDS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "client_secret",
        "jurnal_client_secret",
        "moka_client_secret",
        "webhook_secret",
        "password",
        "authorization",
        "signature",
        "code",
    }
)
_CONTEXT_ATTRIBUTE = "sambung_context"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    _CONTEXT_ATTRIBUTE,
}
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "sambung_log_context", default=None
)


@contextlib.contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line written inside the block (per thread and task)."""
    token = push(**fields)
    try:
        yield
    finally:
        pop(token)


def push(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """`bind` for callers that enter and leave in separate hooks (a request's before/teardown);
    give the token back to `pop`."""
    return _context.set({**bound(), **fields})


def pop(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


def bound() -> dict[str, Any]:
    """The fields bound to the current context."""
    return dict(_context.get() or {})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = dict(getattr(record, _CONTEXT_ATTRIBUTE, None) or bound())
        fields.update((k, v) for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES)
        for name, value in fields.items():
            line[name] = REDACTED if name.lower() in SECRET_FIELDS else value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def capture_context() -> None:
    """Make each record keep the fields bound when it was made, for handlers that format it
    later (queued handlers, pytest's capture). Calling it again changes nothing."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _CONTEXT_ATTRIBUTE, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        setattr(record, _CONTEXT_ATTRIBUTE, bound())
        return record

    setattr(factory, _CONTEXT_ATTRIBUTE, True)
    logging.setLogRecordFactory(factory)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the process's logs to stderr as JSON lines. Calling it again changes nothing."""
    capture_context()
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
