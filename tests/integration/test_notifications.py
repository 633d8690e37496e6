"""Notifications end to end: runs recorded in the log as the engine records them, the follower
turning them into notices, and RQ jobs delivering them to a real SMTP server (aiosmtpd) and a
real HTTP receiver, both on loopback ports."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import UUID

import pytest
from rq.registry import FailedJobRegistry

from domain.log import RunKind, RunMethod, RunStatus
from gateway.app import create_app
from infra import bootstrap
from infra.bootstrap import Container
from services import notify
from tests.gateway_support import make_tenant
from tests.notify_support import (
    SMTP_USER,
    burst,
    recording,
    running_smtp,
    self_signed_certificate,
)

PEOPLE = [
    {"email": "ani@kafe.id", "lang": "id"},
    {"email": "owner@cafe.example", "lang": "en"},
]


@pytest.fixture
def notified(gateway_config, smtp_server, receiver):
    # The receiver listens on loopback, which a company's webhook may only reach when allowed.
    config = gateway_config.with_changes(
        smtp_url=smtp_server.url, notify_retry_seconds=(0, 0, 0), notify_private_hosts=True
    )
    container = Container(config)
    bootstrap.install(container)
    container.redis.delete("sambung:notify:position", "sambung:notify:digest-people")
    yield container
    bootstrap.install(None)
    container.close()


@pytest.fixture
def api(notified):
    return create_app(container=notified, test_config={"TESTING": True}).test_client()


@pytest.fixture
def tenant(notified, api, receiver):
    made = make_tenant(notified)
    answer = api.put(
        f"/api/v1/companies/{made.company_id}/notifications",
        json={"notify_url": receiver.url, "recipients": PEOPLE},
        headers=made.headers,
    )
    assert answer.status_code == 200, answer.json
    made.webhook_secret = answer.json["webhook_secret"]  # type: ignore[attr-defined]
    assert notify.follow(notified) == 0  # the follower starts at the end of the log
    return made


def finished_run(container: Container, setting_id: UUID, status: RunStatus, synced: int,
                 total: int, error: str | None = None) -> UUID:  # fmt: skip
    run = container.log.request_run(setting_id, RunKind.MASTER_DATA, RunMethod.MANUAL).run_id
    container.log.finish_run(
        run, status=status, counts={"products": {"synced": synced, "total": total}}, error=error
    )
    return run


def deliver(container: Container) -> None:
    burst(container, notify.QUEUE)


def test_a_partial_run_emails_each_person_in_their_language(notified, tenant, smtp_server):
    finished_run(notified, tenant.setting_id, RunStatus.PARTIAL, 7, 10)
    assert notify.follow(notified) == 3  # two people and the webhook
    deliver(notified)
    (indonesian,) = smtp_server.mailbox.to("ani@kafe.id")
    (english,) = smtp_server.mailbox.to("owner@cafe.example")
    assert indonesian["Subject"] == "[Sambung] Sinkronisasi Sebagian: Jakarta Selatan"
    text = indonesian.get_content()
    assert "3 dari 10 item tidak masuk ke Jurnal" in text
    assert "Penyebab: 3 item(s) were refused" in text
    link = f"http://sambung.test/settings/{tenant.setting_id}/errors"
    assert f"Lihat daftar kesalahan: {link}" in text
    assert english["Subject"] == "[Sambung] Sync partly failed: Jakarta Selatan"
    assert "3 of 10 items did not reach Jurnal" in english.get_content()
    assert f"See the errors: {link}" in english.get_content()
    assert smtp_server.mailbox.logins == [SMTP_USER] * 2  # with the URL's user and password


def test_a_failed_run_says_why(notified, tenant, smtp_server):
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 4, "Moka: Moka answered 500")
    notify.follow(notified)
    deliver(notified)
    (mail,) = smtp_server.mailbox.to("owner@cafe.example")
    assert mail["Subject"] == "[Sambung] Sync failed: Jakarta Selatan"
    assert "Cause: Moka: Moka answered 500" in mail.get_content()
    assert "4 of 4 items did not reach Jurnal" in mail.get_content()


def test_a_successful_run_tells_nobody(notified, tenant, smtp_server, receiver):
    finished_run(notified, tenant.setting_id, RunStatus.SUCCEEDED, 5, 5)
    assert notify.follow(notified) == 0
    assert notified.queue(notify.QUEUE).count == 0
    assert smtp_server.mailbox.messages == [] and receiver.calls == []


def test_the_webhook_is_slack_shaped_and_signed(notified, tenant, receiver):
    run = finished_run(notified, tenant.setting_id, RunStatus.PARTIAL, 1, 2)
    notify.follow(notified)
    deliver(notified)
    (call,) = receiver.calls
    body = call["body"]
    expected = hmac.new(tenant.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert call["headers"]["X-Sambung-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert "Sinkronisasi Sebagian" in payload["text"] and "Sync partly failed" in payload["text"]
    assert "1 dari 2 item" in payload["text"] and "1 of 2 items" in payload["text"]
    assert payload["sambung"]["kind"] == "run_partial"
    assert payload["sambung"]["run_id"] == str(run)
    assert (payload["sambung"]["failed"], payload["sambung"]["total"]) == (1, 2)
    assert call["headers"]["X-Sambung-Event"] == payload["sambung"]["id"]


def test_a_failing_receiver_and_smtp_server_are_tried_again(
    notified, tenant, receiver, smtp_server, caplog
):
    receiver.fail_next = 2
    smtp_server.mailbox.refuse_next = 1
    caplog.set_level(logging.WARNING, logger="services.notify")
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 1)
    notify.follow(notified)
    deliver(notified)
    assert receiver.failed == 2 and len(receiver.calls) == 1
    assert smtp_server.mailbox.refused == 1
    assert len(smtp_server.mailbox.messages) == 2  # each person once, after the retry
    undelivered = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(undelivered) == 3
    assert FailedJobRegistry(notify.QUEUE, connection=notified.redis).count == 0


def test_a_receiver_that_never_answers_ends_in_the_failed_registry_not_in_the_run(
    notified, tenant, receiver
):
    receiver.fail_next = 100
    run = finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 1)
    notify.follow(notified)
    deliver(notified)
    assert receiver.failed == 4  # the first try and three retries
    assert FailedJobRegistry(notify.QUEUE, connection=notified.redis).count == 1
    assert notified.log.get_run(run).status is RunStatus.FAILED  # the run is as it was


def test_each_notice_is_queued_once_even_with_two_followers(notified, tenant, smtp_server):
    finished_run(notified, tenant.setting_id, RunStatus.PARTIAL, 1, 2)
    queued = notify.follow(notified) + notify.follow(notified)
    assert queued == 3
    deliver(notified)
    assert len(smtp_server.mailbox.messages) == 2


def test_a_digest_replaces_the_immediate_emails(notified, api, tenant, smtp_server):
    people = [PEOPLE[0], {**PEOPLE[1], "digest": True}]
    answer = api.put(
        f"/api/v1/companies/{tenant.company_id}/notifications",
        json={"recipients": people},
        headers=tenant.headers,
    )
    assert answer.status_code == 200 and answer.json["notify_url"] is None
    finished_run(notified, tenant.setting_id, RunStatus.PARTIAL, 1, 2)
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 3)
    notify.follow(notified)
    deliver(notified)
    assert len(smtp_server.mailbox.to("ani@kafe.id")) == 2
    assert smtp_server.mailbox.to("owner@cafe.example") == []
    # 06:59 in Jakarta is before the digest hour; 07:00 sends; later the same day sends nothing.
    assert notify.send_due_digests(notified, datetime(2026, 12, 6, 23, 59, tzinfo=UTC)) == 0
    assert notify.send_due_digests(notified, datetime(2026, 12, 7, 0, 0, tzinfo=UTC)) == 1
    assert notify.send_due_digests(notified, datetime(2026, 12, 7, 5, 0, tzinfo=UTC)) == 0
    deliver(notified)
    (digest,) = smtp_server.mailbox.to("owner@cafe.example")
    assert digest["Subject"] == "[Sambung] Sambung daily digest: 2 notices"
    text = digest.get_content()
    assert "1 of 2 items did not reach Jurnal" in text and "3 of 3 items" in text


def test_a_refused_credential_is_told_once_a_day_while_blocked(notified, tenant, smtp_server):
    blocked = "Jurnal refused the company's API credential; update it, then replay"
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 2, blocked)
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 2, blocked)
    assert notify.follow(notified) == 3  # the second refusal is no news the same day
    deliver(notified)
    (mail,) = smtp_server.mailbox.to("ani@kafe.id")
    assert mail["Subject"] == (
        "[Sambung] Sinkronisasi terhenti: Jurnal menolak kredensial API: Jakarta Selatan"
    )
    assert "Ganti kredensial API Jurnal" in mail.get_content()
    notify.unblock(notified, tenant.setting_id)  # what replacing the credential does
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 2, blocked)
    assert notify.follow(notified) == 3


def test_moka_asking_to_connect_again_is_a_blocked_setting(notified, tenant, smtp_server):
    error = "Moka: Moka refused the grant: the merchant must connect Moka again"
    finished_run(notified, tenant.setting_id, RunStatus.FAILED, 0, 0, error)
    notify.follow(notified)
    deliver(notified)
    (mail,) = smtp_server.mailbox.to("owner@cafe.example")
    assert mail["Subject"] == "[Sambung] Sync stopped: connect Moka again: Jakarta Selatan"
    assert "Connect Moka again from the company's page." in mail.get_content()


def test_notifications_are_the_companys_own(api, notified, tenant):
    stranger = make_tenant(notified, "PT Stranger")
    url = f"/api/v1/companies/{tenant.company_id}/notifications"
    assert api.get(url, headers=stranger.headers).status_code == 404
    assert api.put(url, json={}, headers=stranger.headers).status_code == 404
    shown = api.get(url, headers=tenant.headers).json
    assert [p["email"] for p in shown["recipients"]] == ["ani@kafe.id", "owner@cafe.example"]
    bad = api.put(url, json={"notify_url": "ftp://x", "recipients": [{"email": "a@b.c",
                  "lang": "fr"}]}, headers=tenant.headers)  # fmt: skip
    assert bad.status_code == 422
    assert {"notify_url", "recipients.0.lang"} <= set(bad.json["error"]["fields"])
    rotated = api.put(url, json={"rotate_secret": True}, headers=tenant.headers).json
    assert rotated["webhook_secret"] != shown["webhook_secret"]


def test_without_smtp_configured_only_the_webhook_goes_out(gateway_config, receiver, caplog):
    container = Container(
        gateway_config.with_changes(notify_retry_seconds=(0,), notify_private_hosts=True)
    )
    bootstrap.install(container)
    try:
        container.redis.delete("sambung:notify:position")
        made = make_tenant(container)
        api = create_app(container=container, test_config={"TESTING": True}).test_client()
        api.put(f"/api/v1/companies/{made.company_id}/notifications",
                json={"notify_url": receiver.url, "recipients": PEOPLE},
                headers=made.headers)  # fmt: skip
        notify.follow(container)
        finished_run(container, made.setting_id, RunStatus.FAILED, 0, 1)
        caplog.set_level(logging.WARNING, logger="services.notify")
        notify.follow(container)
        deliver(container)
        assert len(receiver.calls) == 1
        assert sum("SAMBUNG_SMTP_URL is not set" in r.getMessage() for r in caplog.records) == 2
    finally:
        bootstrap.install(None)
        container.close()


def test_the_email_goes_over_starttls_when_the_server_offers_it(gateway_config, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    cert, key = self_signed_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this server's certificate
    with running_smtp(server_tls) as server:
        container = Container(gateway_config.with_changes(smtp_url=server.url))
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@b.c", "ani@kafe.id", "halo"
        message.set_content("isi")
        notify.smtp_send(container.config.smtp_url or "", message)
        container.close()
    (received,) = server.mailbox.messages
    assert received["Subject"] == "halo"
    # The server refuses AUTH and mail before STARTTLS: the login proves the channel was TLS.
    assert server.mailbox.logins == [SMTP_USER]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://[::1]:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/hook",
        "http://localhost:5000/hook",
        "http://metrics.localhost/",
    ],
)
def test_a_company_cannot_point_its_webhook_at_a_private_address(gateway_config, url):
    container = Container(gateway_config)
    try:
        made = make_tenant(container)
        api = create_app(container=container, test_config={"TESTING": True}).test_client()
        answer = api.put(
            f"/api/v1/companies/{made.company_id}/notifications",
            json={"notify_url": url, "recipients": PEOPLE},
            headers=made.headers,
        )
        assert answer.status_code == 422, answer.json
        assert "private" in answer.json["error"]["fields"]["notify_url"]
        assert notify.notification_settings(container, made.company_id)["notify_url"] is None
    finally:
        container.close()


def test_a_webhook_that_resolves_to_a_private_address_is_not_called(
    gateway_config, notified, tenant, receiver, caplog
):
    """Saved while loopback was allowed (or under a name that now resolves to it): before each
    call the name is resolved again, and a non-public address is refused without a retry."""
    strict = Container(gateway_config)
    notice = {"id": "n-1", "kind": "run_failed", "company_id": str(tenant.company_id),
              "setting_id": str(tenant.setting_id), "setting_name": "Kafe", "cause": "Gagal",
              "at": datetime.now(UTC).isoformat(), "failed": 1, "total": 1}  # fmt: skip
    try:
        caplog.set_level(logging.WARNING, logger="services.notify")
        notify.call_webhook(strict, str(tenant.company_id), notice)
        assert receiver.calls == []
        assert any("non-public address" in r.getMessage() for r in caplog.records)
        notify.call_webhook(notified, str(tenant.company_id), notice)
        assert len(receiver.calls) == 1, "the same notice goes out where loopback is allowed"
    finally:
        strict.close()


def _run_failed(tenant) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"id": "n-2", "kind": "run_failed", "company_id": str(tenant.company_id),
            "setting_id": str(tenant.setting_id), "setting_name": "Kafe", "cause": "Gagal",
            "at": datetime.now(UTC).isoformat(), "failed": 1, "total": 1}  # fmt: skip


def _point_webhook_at(api, tenant, url: str) -> None:  # type: ignore[no-untyped-def]
    answer = api.put(f"/api/v1/companies/{tenant.company_id}/notifications",
                     json={"notify_url": url}, headers=tenant.headers)  # fmt: skip
    assert answer.status_code == 200, answer.json


def test_the_webhook_is_called_at_the_address_its_name_had_when_checked(
    gateway_config, notified, api, tenant, receiver
):
    """DNS rebinding: the name answers the receiver's address to the one lookup of the call and
    another loopback address (where a second server listens) to any later one. The call goes to
    the first; nothing resolves the name a second time."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    with recording("127.0.0.2", port) as inside:
        _point_webhook_at(api, tenant, f"http://hooks.example:{port}/hook")
        answers = [["127.0.0.1"], ["127.0.0.2"]]
        lookups: list[str] = []

        def resolve(host: str, port: int) -> list[str]:
            lookups.append(host)
            return answers.pop(0) if len(answers) > 1 else answers[0]

        notify.call_webhook(notified, str(tenant.company_id), _run_failed(tenant), resolve=resolve)
        assert lookups == ["hooks.example"]
        assert len(receiver.calls) == 1 and inside.calls == []
        assert receiver.calls[0]["headers"]["Host"] == f"hooks.example:{port}"
        # Where non-public addresses are refused, a name with one among its answers is not called
        # (and the global one is never dialled: every address is checked before any call).
        strict = Container(gateway_config)
        try:
            answers[:] = [["8.8.8.8", "127.0.0.1"]]
            notify.call_webhook(strict, str(tenant.company_id), _run_failed(tenant),
                                resolve=resolve)  # fmt: skip
        finally:
            strict.close()
        assert len(receiver.calls) == 1 and inside.calls == []


def test_a_redirect_is_not_taken_for_a_delivery(notified, api, tenant, caplog):
    """A 302 used to count as delivered (only 4xx/5xx raised): the notice was lost. Now any answer
    but a 2xx is a failed try, logged with where it pointed, and RQ tries again."""
    with recording("127.0.0.1") as moved:
        moved.status, moved.location = 302, "http://127.0.0.1:6379/"
        _point_webhook_at(api, tenant, f"http://127.0.0.1:{moved.port}/hook")
        caplog.set_level(logging.WARNING, logger="services.notify")
        with pytest.raises(notify.WebhookNotDelivered, match="302"):
            notify.call_webhook(notified, str(tenant.company_id), _run_failed(tenant))
        assert len(moved.calls) == 1
        assert any("not followed" in r.getMessage() for r in caplog.records)
