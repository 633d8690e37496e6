"""Telling a company's people that something needs them: which log events are news, what each
notice says in Bahasa Indonesia and in English, and who gets it how.

A *notice* comes from one log event:

- a run that ends Gagal or Sebagian (`SyncFinished`), with the cause and how many items failed;
- a setting that is blocked until a person acts: Jurnal refused the company's credential (a
  run's error, or a `PostingFailed` of class `JurnalAuthError` while posting webhooks), or Moka
  wants the connection authorised again (a run's error).

`CompanyNotifications` holds a company's choices: the people to email, each with a language
and whether a daily digest replaces the immediate emails, and the outgoing webhook (`notify_url`,
signed with a per-company secret, sealed at rest).

Event topics embed this module's path and the class names: renaming either is a data migration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.errors import Invalid
from domain.log import LogEvent, PostingFailed, RunStatus, SyncFinished
from domain.sealed import Sealed

LANGUAGES = ("id", "en")
MAX_RECIPIENTS = 200
# How the engine words a blocked setting in a run's error (jobs.engine.Blocked, the Moka client).
CREDENTIAL_REFUSED_MARK = "refused the company's API credential"
MOKA_REAUTHORIZATION_MARK = "connect Moka again"
JURNAL_AUTH_ERROR = "JurnalAuthError"


class NotificationsInvalid(Invalid):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields, "notifications")


class NoticeKind(StrEnum):
    RUN_FAILED = "run_failed"
    RUN_PARTIAL = "run_partial"
    CREDENTIAL_REFUSED = "credential_refused"
    MOKA_REAUTHORIZATION = "moka_reauthorization"

    @property
    def blocks(self) -> bool:
        """The setting stays stopped until a person acts."""
        return self in (NoticeKind.CREDENTIAL_REFUSED, NoticeKind.MOKA_REAUTHORIZATION)


@dataclass(frozen=True)
class Notice:
    """`id` is unique per event (its global position), so a notice is delivered once per
    recipient however often it is seen. `failed` of `total` items did not reach Jurnal."""

    id: str
    kind: NoticeKind
    company_id: UUID
    setting_id: UUID
    setting_name: str
    at: datetime
    cause: str
    failed: int
    total: int
    run_id: UUID | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "company_id": str(self.company_id),
            "setting_id": str(self.setting_id),
            "setting_name": self.setting_name,
            "at": self.at.isoformat(),
            "cause": self.cause,
            "failed": self.failed,
            "total": self.total,
            "run_id": str(self.run_id) if self.run_id else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            id=str(data["id"]),
            kind=NoticeKind(data["kind"]),
            company_id=UUID(str(data["company_id"])),
            setting_id=UUID(str(data["setting_id"])),
            setting_name=str(data["setting_name"]),
            at=datetime.fromisoformat(str(data["at"])),
            cause=str(data["cause"]),
            failed=int(data["failed"]),
            total=int(data["total"]),
            run_id=UUID(str(data["run_id"])) if data.get("run_id") else None,
        )


def notice_for(
    event: LogEvent, *, notice_id: str, company_id: UUID, setting_name: str
) -> Notice | None:
    """The notice a log event makes, or None when it is no news."""
    if isinstance(event, SyncFinished):
        if event.status not in (RunStatus.FAILED, RunStatus.PARTIAL):
            return None
        total = sum(count["total"] for count in event.counts.values())
        failed = total - sum(count["synced"] for count in event.counts.values())
        error = event.error or ""
        if CREDENTIAL_REFUSED_MARK in error:
            kind = NoticeKind.CREDENTIAL_REFUSED
        elif MOKA_REAUTHORIZATION_MARK in error:
            kind = NoticeKind.MOKA_REAUTHORIZATION
        elif event.status == RunStatus.FAILED:
            kind = NoticeKind.RUN_FAILED
        else:
            kind = NoticeKind.RUN_PARTIAL
        cause = error or f"{failed} item(s) were refused; the errors page lists each with why"
        run_id: UUID | None = event.run_id
    elif isinstance(event, PostingFailed) and event.error_class == JURNAL_AUTH_ERROR:
        if event.run_id is not None:
            return None  # the run's end says it, with the run's counts
        kind, cause, failed, total, run_id = (
            NoticeKind.CREDENTIAL_REFUSED,
            event.message,
            1,
            1,
            None,
        )
    else:
        return None
    return Notice(
        id=notice_id,
        kind=kind,
        company_id=company_id,
        setting_id=event.setting_id,
        setting_name=setting_name,
        at=event.timestamp,
        cause=cause,
        failed=failed,
        total=total,
        run_id=run_id,
    )


# -- who gets it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    lang: str = "id"
    digest: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"email": self.email, "lang": self.lang, "digest": self.digest}


def check_recipients(recipients: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per email address (case-insensitive), each with a known language."""
    errors: dict[str, str] = {}
    checked: dict[str, dict[str, Any]] = {}
    for index, given in enumerate(recipients):
        email = str(given.get("email", "")).strip().lower()
        if "@" not in email:
            errors[f"recipients.{index}.email"] = "must be an email address"
        lang = given.get("lang", "id")
        if lang not in LANGUAGES:
            errors[f"recipients.{index}.lang"] = f"must be one of {', '.join(LANGUAGES)}"
        checked[email] = {"email": email, "lang": lang, "digest": bool(given.get("digest"))}
    if len(checked) > MAX_RECIPIENTS:
        errors["recipients"] = f"may hold at most {MAX_RECIPIENTS} people"
    if errors:
        raise NotificationsInvalid(errors)
    return list(checked.values())


class CompanyNotifications(Aggregate):
    """A company's notification choices. One per company, by a derived id."""

    @staticmethod
    def create_id(company_id: UUID) -> UUID:
        return uuid5(company_id, "notifications")

    @classmethod
    def start(cls, *, company_id: UUID, webhook_secret: Sealed) -> CompanyNotifications:
        made: CompanyNotifications = cls(company_id=company_id, webhook_secret=webhook_secret)
        return made

    @event("Started")
    def __init__(self, company_id: UUID, webhook_secret: Sealed) -> None:
        self.company_id = company_id
        self.webhook_secret = webhook_secret
        self.notify_url: str | None = None
        self.recipients: list[dict[str, Any]] = []

    def configure(self, notify_url: str | None, recipients: Iterable[Mapping[str, Any]]) -> None:
        checked = check_recipients(recipients)
        if notify_url is not None and not notify_url.startswith(("http://", "https://")):
            raise NotificationsInvalid({"notify_url": "must be an http or https URL"})
        if notify_url != self.notify_url or checked != self.recipients:
            self._configured(notify_url=notify_url, recipients=checked)

    @event("Configured")
    def _configured(self, notify_url: str | None, recipients: list[dict[str, Any]]) -> None:
        self.notify_url = notify_url
        self.recipients = recipients

    @event("SecretRotated")
    def rotate_secret(self, webhook_secret: Sealed) -> None:
        self.webhook_secret = webhook_secret

    def people(self) -> list[Recipient]:
        return [Recipient(**r) for r in self.recipients]


# -- what it says -----------------------------------------------------------------------------

_TEXT: dict[str, dict[str, str]] = {
    "id": {
        NoticeKind.RUN_FAILED: "Sinkronisasi Gagal",
        NoticeKind.RUN_PARTIAL: "Sinkronisasi Sebagian",
        NoticeKind.CREDENTIAL_REFUSED: "Sinkronisasi terhenti: Jurnal menolak kredensial API",
        NoticeKind.MOKA_REAUTHORIZATION: "Sinkronisasi terhenti: sambungkan Moka kembali",
        "setting": "Pengaturan",
        "when": "Waktu",
        "cause": "Penyebab",
        "count": "{failed} dari {total} item tidak masuk ke Jurnal",
        "count_blocked": "Belum ada yang diposting ke Jurnal sampai Anda bertindak",
        "link": "Lihat daftar kesalahan",
        "do_credential": "Ganti kredensial API Jurnal perusahaan; pengaturan akan berjalan lagi.",
        "do_moka": "Sambungkan Moka kembali dari halaman perusahaan.",
        "do_errors": "Perbaiki penyebabnya, lalu jalankan replay untuk item yang gagal.",
        "digest": "Ringkasan harian Sambung: {count} pemberitahuan",
        "footer": "Email ini dikirim oleh Sambung.",
    },
    "en": {
        NoticeKind.RUN_FAILED: "Sync failed",
        NoticeKind.RUN_PARTIAL: "Sync partly failed",
        NoticeKind.CREDENTIAL_REFUSED: "Sync stopped: Jurnal refused the API credential",
        NoticeKind.MOKA_REAUTHORIZATION: "Sync stopped: connect Moka again",
        "setting": "Setting",
        "when": "When",
        "cause": "Cause",
        "count": "{failed} of {total} items did not reach Jurnal",
        "count_blocked": "Nothing more is posted to Jurnal until you act",
        "link": "See the errors",
        "do_credential": "Replace the company's Jurnal API credential; the setting resumes.",
        "do_moka": "Connect Moka again from the company's page.",
        "do_errors": "Fix the cause, then replay the failed items.",
        "digest": "Sambung daily digest: {count} notices",
        "footer": "This email was sent by Sambung.",
    },
}


def _words(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}")
    return _TEXT[lang]


def errors_path(setting_id: UUID) -> str:
    """The admin's errors page of a setting, under SAMBUNG_PUBLIC_URL."""
    return f"/settings/{setting_id}/errors"


def subject(notice: Notice, lang: str) -> str:
    return f"[Sambung] {_words(lang)[notice.kind]}: {notice.setting_name}"


def notice_lines(notice: Notice, lang: str, public_url: str, timezone: ZoneInfo) -> list[str]:
    words = _words(lang)
    local = notice.at.astimezone(timezone)
    if notice.kind.blocks:
        count = words["count_blocked"]
        todo = words["do_credential" if notice.kind is NoticeKind.CREDENTIAL_REFUSED else "do_moka"]
    else:
        count = words["count"].format(failed=notice.failed, total=notice.total)
        todo = words["do_errors"]
    return [
        f"{words[notice.kind]}",
        f"{words['setting']}: {notice.setting_name}",
        f"{words['when']}: {local:%Y-%m-%d %H:%M} ({timezone.key})",
        f"{words['cause']}: {notice.cause}",
        count,
        todo,
        f"{words['link']}: {public_url}{errors_path(notice.setting_id)}",
    ]


def email_body(notice: Notice, lang: str, public_url: str, timezone: ZoneInfo) -> str:
    lines = notice_lines(notice, lang, public_url, timezone)
    return "\n".join([*lines, "", _words(lang)["footer"], ""])


def digest_subject(notices: Sequence[Notice], lang: str) -> str:
    return f"[Sambung] {_words(lang)['digest'].format(count=len(notices))}"


def digest_body(notices: Sequence[Notice], lang: str, public_url: str, timezone: ZoneInfo) -> str:
    blocks = ["\n".join(notice_lines(n, lang, public_url, timezone)) for n in notices]
    return "\n\n".join([*blocks, _words(lang)["footer"]]) + "\n"


def webhook_text(notice: Notice, public_url: str, timezone: ZoneInfo) -> str:
    """One message for a channel: Bahasa Indonesia, then English (a company's channel has no
    single reader's language)."""
    indonesian = notice_lines(notice, "id", public_url, timezone)
    english = notice_lines(notice, "en", public_url, timezone)
    return "\n".join([f"*{indonesian[0]}* / *{english[0]}*", *indonesian[1:], "", *english[1:]])
