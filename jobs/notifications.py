"""Notification jobs on the `notifications` queue: one email, one digest, one webhook call.

Each raises when it cannot deliver, so that RQ's `Retry` (set when `services.notify` queued it)
tries again; none of them touches a setting's log, so a notification never fails a sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra import bootstrap
from services import notify


def send_email(company_id: str, email: str, lang: str, notice: Mapping[str, Any]) -> None:
    notify.send_email(bootstrap.current(), company_id, email, lang, notice)


def send_digest(company_id: str, email: str, lang: str, notices: list[Mapping[str, Any]]) -> None:
    notify.send_digest(bootstrap.current(), company_id, email, lang, notices)


def call_webhook(company_id: str, notice: Mapping[str, Any]) -> None:
    notify.call_webhook(bootstrap.current(), company_id, notice)
