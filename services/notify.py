"""Notifications: a company's people and its webhook hear when a run fails or a setting is
blocked (`domain.notifications`).

**Where notices come from.** A follower reads the log in global order, like a projection, and
turns each event that is news into a notice; the sync path does not know it exists, so nothing
about notifying can slow down or fail a sync. The scheduler calls `tick` every few seconds. The
follower's position is in Redis and is claimed with a compare-and-set, so two schedulers never
send the same notice; when the position is missing (a new install, a lost Redis) it starts from
the end of the log, so a restart never mails the past again (what happened while Redis was lost
is not announced).

**Delivery** is a job per email and per webhook call on the `notifications` queue. A job that
cannot deliver (SMTP refuses, the receiver answers 5xx or cannot be reached) raises, is logged,
and RQ tries it again after `SAMBUNG_NOTIFY_RETRY_SECONDS`; its id is derived from the notice
and the recipient, so a notice is queued once per recipient. A blocked setting is announced once
a day while it stays blocked, and at once again after its credential is replaced.

**Digests.** A person who chose the daily digest gets no immediate email: the notice waits in a
Redis list for that person, and at `SAMBUNG_DIGEST_HOUR` (local time) one email lists them all.

**Webhooks.** `notify_url` receives `POST {"text": ..., "sambung": {...notice}}` (Slack's
incoming-webhook shape plus the notice's fields), with `X-Sambung-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body under the company's webhook secret, and `X-Sambung-Event` (the
notice id, the same on every try). The URL is someone else's choice, so the call goes through
`infra.pinned_http`: resolved once, every address checked (no loopback, private or link-local
address unless `SAMBUNG_NOTIFY_PRIVATE_HOSTS`), and connected to the checked address, so that a
name cannot answer one address to the check and another to the call. Only a 2xx answer counts
as delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from rq import Retry

from domain import notifications as texts
from domain.audit import Action
from domain.log import PostingFailed, SyncFinished
from domain.notifications import (
    CompanyNotifications,
    Notice,
    NoticeKind,
    NotificationsInvalid,
    notice_for,
)
from infra import pinned_http, queues
from infra.bootstrap import Container
from services import audit

log = logging.getLogger(__name__)

QUEUE = queues.NOTIFICATIONS
EMAIL_JOB = queues.SEND_EMAIL
DIGEST_JOB = queues.SEND_DIGEST
WEBHOOK_JOB = queues.CALL_WEBHOOK
SIGNATURE_HEADER = "X-Sambung-Signature"
EVENT_HEADER = "X-Sambung-Event"
WEBHOOK_TIMEOUT = 10
SMTP_TIMEOUT = 30
FOLLOW_BATCH = 500
BLOCKED_REMINDER_SECONDS = 24 * 3600
JOB_TTL = 7 * 24 * 3600

_POSITION = "sambung:notify:position"
_DIGEST_PEOPLE = "sambung:notify:digest-people"
# Move the position from ARGV[1] to ARGV[2] only if no one else moved it.
_CLAIM = """
local now = redis.call('GET', KEYS[1])
if (now or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


# -- the company's choices --------------------------------------------------------------------


def notification_settings(container: Container, company_id: UUID) -> dict[str, Any]:
    return _view(container, _choices(container, company_id))


def configure_notifications(
    container: Container, company_id: UUID, body: Mapping[str, Any]
) -> dict[str, Any]:
    choices = _choices(container, company_id)
    before = (choices.notify_url, list(choices.recipients))
    if body.get("notify_url") and not container.config.notify_private_hosts:
        _refuse_a_literal_private_host(body["notify_url"])
    choices.configure(body.get("notify_url"), body.get("recipients", []))
    if body.get("rotate_secret"):
        choices.rotate_secret(container.log.secrets.seal(_new_secret()))
    container.log.save(choices)
    if (choices.notify_url, choices.recipients) != before or body.get("rotate_secret"):
        audit.record(
            container, company_id, Action.NOTIFICATIONS_CHANGED,
            notify_url=choices.notify_url,
            recipients=[r["email"] for r in choices.recipients],
            secret_rotated=bool(body.get("rotate_secret")),
        )  # fmt: skip
    return _view(container, choices)


def subscribe(container: Container, company_id: UUID, email: str, lang: str = "id") -> None:
    """Add a person to the company's notifications, unless they are there already."""
    choices = stored_choices(container, company_id) or _started(container, company_id)
    if any(r["email"] == email.strip().lower() for r in choices.recipients):
        return
    recipients = [*choices.recipients, {"email": email, "lang": lang, "digest": False}]
    choices.configure(choices.notify_url, recipients)
    container.log.save(choices)


def my_choice(container: Container, company_id: UUID, email: str) -> dict[str, Any] | None:
    """How `email` hears from the company: {email, lang, digest}, or None when not at all."""
    choices = _choices(container, company_id)
    wanted = email.strip().lower()
    return next((dict(r) for r in choices.recipients if r["email"] == wanted), None)


def choose_for_myself(
    container: Container,
    company_id: UUID,
    email: str,
    choice: Mapping[str, Any] | None,
) -> None:
    """The signed-in person's own choice: a language and digest, or no emails (None)."""
    choices = _choices(container, company_id)
    wanted = email.strip().lower()
    others = [r for r in choices.recipients if r["email"] != wanted]
    mine = [] if choice is None else [{**choice, "email": wanted}]
    body = {"notify_url": choices.notify_url, "recipients": [*others, *mine]}
    configure_notifications(container, company_id, body)


def _choices(container: Container, company_id: UUID) -> CompanyNotifications:
    container.log.get_company(company_id)
    return stored_choices(container, company_id) or _started(container, company_id)


def _started(container: Container, company_id: UUID) -> CompanyNotifications:
    return CompanyNotifications.start(
        company_id=company_id, webhook_secret=container.log.secrets.seal(_new_secret())
    )


def stored_choices(container: Container, company_id: UUID) -> CompanyNotifications | None:
    try:
        found = container.log.repository.get(CompanyNotifications.create_id(company_id))
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, CompanyNotifications) else None


def _view(container: Container, choices: CompanyNotifications) -> dict[str, Any]:
    return {
        "company_id": choices.company_id,
        "notify_url": choices.notify_url,
        "webhook_secret": container.log.secrets.unseal(choices.webhook_secret),
        "recipients": choices.recipients,
    }


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# -- following the log ------------------------------------------------------------------------


def tick(container: Container, now: datetime | None = None) -> int:
    """The scheduler's call: follow the log, then send the digests that are due. Never raises:
    notifying must not stop the scheduler's other work."""
    try:
        sent = follow(container)
        send_due_digests(container, now or datetime.now(UTC))
        return sent
    except Exception:
        log.exception("notifications: the follower failed; it tries again at the next tick")
        return 0


def follow(container: Container, limit: int = FOLLOW_BATCH) -> int:
    """Read the log on from the follower's position and queue a delivery per notice; returns
    how many notices were queued. A second follower that read the same page claims nothing."""
    redis = container.redis
    raw = redis.get(_POSITION)
    if raw is None:
        redis.set(_POSITION, str(container.log.last_global_position()), nx=True)
        return 0
    position = int(raw)
    queued = 0
    while True:
        page = container.log.read_all(after=position, limit=limit)
        if page.last_position == position:
            return queued
        if not redis.eval(_CLAIM, 1, _POSITION, str(position), str(page.last_position)):
            return queued  # another follower took this page
        for entry in page.entries:
            notice = _notice(container, entry.event, entry.global_position)
            if notice is not None:
                queued += announce(container, notice)
        position = page.last_position


def _notice(container: Container, event: Any, global_position: int) -> Notice | None:
    if not isinstance(event, SyncFinished | PostingFailed):
        return None
    setting = container.log.get_setting(event.setting_id, include_deleted=True)
    return notice_for(
        event,
        notice_id=f"n{global_position}",
        company_id=setting.company_id,
        setting_name=setting.name,
    )


def announce(container: Container, notice: Notice) -> int:
    """Queue the notice for each person (or their digest) and the webhook; how many
    deliveries were queued."""
    choices = stored_choices(container, notice.company_id)
    if choices is None:
        log.info("notice %s for company %s: nobody to tell", notice.id, notice.company_id)
        return 0
    if notice.kind.blocks and not container.redis.set(
        _blocked_key(notice.setting_id, notice.kind), notice.id, nx=True,
        ex=BLOCKED_REMINDER_SECONDS,
    ):  # fmt: skip
        return 0  # told already today
    data = notice.as_dict()
    queued = 0
    for person in choices.people():
        if person.digest:
            key = _digest_key(notice.company_id, person.email)
            container.redis.rpush(key, json.dumps({"lang": person.lang, "notice": data}))
            container.redis.sadd(_DIGEST_PEOPLE, key)
            continue
        _enqueue(container, EMAIL_JOB, f"{notice.id}-{_short(person.email)}",
                 str(notice.company_id), person.email, person.lang, data)  # fmt: skip
        queued += 1
    if choices.notify_url:
        _enqueue(container, WEBHOOK_JOB, f"{notice.id}-webhook", str(notice.company_id), data)
        queued += 1
    return queued


def unblock(container: Container, setting_id: UUID) -> None:
    """The person acted (a new credential): a new refusal is news again at once."""
    for kind in NoticeKind:
        if kind.blocks:
            container.redis.delete(_blocked_key(setting_id, kind))


def _enqueue(container: Container, function: str, key: str, *args: Any) -> None:
    waits = list(container.config.notify_retry_seconds)
    container.queue(QUEUE).enqueue(
        function,
        *args,
        job_id=f"notify-{key}",
        retry=Retry(max=len(waits), interval=waits) if waits else None,
        result_ttl=JOB_TTL,
        failure_ttl=JOB_TTL,
    )


def _blocked_key(setting_id: UUID, kind: NoticeKind) -> str:
    return f"sambung:notify:blocked:{setting_id}:{kind.value}"


def _digest_key(company_id: UUID, email: str) -> str:
    return f"sambung:notify:digest:{company_id}:{email}"


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- digests ----------------------------------------------------------------------------------


def send_due_digests(container: Container, now: datetime) -> int:
    """Once a local day, from `digest_hour` on: queue one digest per person with waiting
    notices. Returns how many were queued."""
    timezone = ZoneInfo(container.config.timezone)
    local = now.astimezone(timezone)
    if local.hour < container.config.digest_hour:
        return 0
    marker = f"sambung:notify:digest-day:{local.date().isoformat()}"
    if not container.redis.set(marker, "1", nx=True, ex=3 * 24 * 3600):
        return 0
    queued = 0
    for raw_key in sorted(container.redis.smembers(_DIGEST_PEOPLE)):
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        with container.redis.pipeline() as pipe:  # take the list and empty it in one step
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            pipe.srem(_DIGEST_PEOPLE, key)
            items, _, _ = pipe.execute()
        if not items:
            continue
        entries = [json.loads(item) for item in items]
        company_id, email = key.split(":", 4)[3:]
        lang = entries[-1]["lang"]
        notices = [entry["notice"] for entry in entries]
        _enqueue(container, DIGEST_JOB, f"digest-{local.date()}-{_short(key)}",
                 company_id, email, lang, notices)  # fmt: skip
        queued += 1
    return queued


# -- delivering -------------------------------------------------------------------------------


def send_email(
    container: Container, company_id: str, email: str, lang: str, notice: Mapping[str, Any]
) -> None:
    found = Notice.from_dict(notice)
    timezone = ZoneInfo(container.config.timezone)
    body = texts.email_body(found, lang, container.config.public_url, timezone)
    _deliver_mail(container, email, texts.subject(found, lang), body, found.id)


def send_digest(
    container: Container,
    company_id: str,
    email: str,
    lang: str,
    notices: list[Mapping[str, Any]],
) -> None:
    found = [Notice.from_dict(n) for n in notices]
    timezone = ZoneInfo(container.config.timezone)
    body = texts.digest_body(found, lang, container.config.public_url, timezone)
    _deliver_mail(container, email, texts.digest_subject(found, lang), body, "digest")


def _deliver_mail(container: Container, to: str, subject: str, body: str, about: str) -> None:
    url = container.config.smtp_url
    if url is None:
        log.warning("notification %s to %s not sent: SAMBUNG_SMTP_URL is not set", about, to)
        return
    message = EmailMessage()
    message["From"] = container.config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="sambung")
    message.set_content(body)
    try:
        smtp_send(url, message)
    except (smtplib.SMTPException, OSError) as error:
        log.warning("notification %s to %s not delivered (RQ tries again): %s", about, to, error)
        raise
    log.info("notification %s emailed to %s", about, to)


def smtp_send(url: str, message: EmailMessage) -> None:
    """Send through `smtp://user:pass@host:port` (STARTTLS whenever the server offers it) or
    `smtps://` (TLS from the start)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
    with server:
        server.ehlo()
        if parts.scheme == "smtp" and server.has_extn("starttls"):
            server.starttls(context=context)
            server.ehlo()
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


class WebhookNotDelivered(RuntimeError):
    """The receiver did not take the notice (no 2xx answer, or it could not be reached); RQ
    tries the job again."""


def call_webhook(
    container: Container,
    company_id: str,
    notice: Mapping[str, Any],
    *,
    resolve: pinned_http.Resolver = pinned_http.system_resolver,
    tls: ssl.SSLContext | None = None,
) -> None:
    """POST the notice to the company's webhook. The name is resolved once, here, and the call
    goes to the address that was checked (`infra.pinned_http`): unless
    `SAMBUNG_NOTIFY_PRIVATE_HOSTS` allows it, a name with any non-public address is not called.
    `resolve` and `tls` are the resolver and trust to use (tests give their own)."""
    choices = stored_choices(container, UUID(company_id))
    if choices is None or not choices.notify_url:
        return  # the webhook was removed since: nothing to call
    found = Notice.from_dict(notice)
    timezone = ZoneInfo(container.config.timezone)
    text = texts.webhook_text(found, container.config.public_url, timezone)
    body = json.dumps({"text": text, "sambung": found.as_dict()}, ensure_ascii=False).encode()
    secret = container.log.secrets.unseal(choices.webhook_secret)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: signature(secret, body),
        EVENT_HEADER: found.id,
        "User-Agent": "Sambung-Notifier/1",
    }
    permitted = (
        pinned_http.anywhere if container.config.notify_private_hosts else pinned_http.public_only
    )
    url = choices.notify_url
    try:
        answer = pinned_http.post(url, body, headers, timeout=WEBHOOK_TIMEOUT, resolve=resolve,
                                  permitted=permitted, tls=tls)  # fmt: skip
    except pinned_http.RefusedAddress as refused:
        # Permanent: trying again would meet the same address.
        log.warning("notification %s not sent: the company's webhook %s resolves to %s, "
                    "a non-public address", found.id, refused.url, refused.address)  # fmt: skip
        return
    except pinned_http.Unreachable as error:
        log.warning("notification %s to %s not delivered (RQ tries again): %s",
                    found.id, url, error)  # fmt: skip
        raise WebhookNotDelivered(str(error)) from error
    if not answer.ok:
        moved = f" (a redirect to {answer.location}, not followed)" if answer.location else ""
        log.warning("notification %s to %s not delivered (RQ tries again): answered %s%s",
                    found.id, answer.url, answer.status, moved)  # fmt: skip
        raise WebhookNotDelivered(f"{answer.url} answered {answer.status}{moved}")
    log.info("notification %s posted to the company's webhook", found.id)


def _refuse_a_literal_private_host(url: str) -> None:
    """The address is checked again, resolved, at each call (`call_webhook`); here only what
    needs no name lookup, so that saving the form never waits on DNS."""
    host = (urlsplit(url).hostname or "").lower()
    literal = pinned_http.literal_address(host)
    private = literal is not None and not pinned_http.public_only(literal)
    if host == "localhost" or host.endswith(".localhost") or private:
        raise NotificationsInvalid(
            {"notify_url": "must not point at a loopback, private or link-local address"}
        )


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
