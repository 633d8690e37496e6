"""Group commit (`infra/group_commit.py`): the webhooks that one process takes at once are
appended in one transaction, on SQLite and on PostgreSQL. Every record is stored once, at
positions one after another, whichever thread or process brought it; a batch whose transaction
fails fails every request in it, stores nothing, and answers no 202.

To put several requests in one batch for certain, a test holds the store's write lock (as another
writer would), lets the requests queue behind the leader that waits for it, and lets go.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from domain.log import MokaKind, PaymentReceived, Source
from gateway import intake
from gateway.app import create_app
from infra.bootstrap import Container
from infra.eventlog import Appended, EventLog
from infra.group_commit import Append, BatchFailed, GroupCommit
from tests.gateway_support import OUTLET, WEBHOOK_SECRET, envelope, make_tenant, signed
from tests.group_commit_racer import append_payments
from tests.waiting import wait_until

POISON = "poisoned-by-the-test"


def payment(number: int, updated_at: str = "2024-05-02T10:20:00+07:00", **extra: Any) -> dict:
    return {
        "id": str(UUID(int=number + 1)),
        "payment_no": f"P{number:05d}",
        "outlet_id": int(OUTLET),
        "total_collected": 92000,
        "updated_at": updated_at,
        **extra,
    }


def payments_in(log: EventLog, setting_id: UUID) -> list[PaymentReceived]:
    return [e for e in log.read(setting_id, limit=10_000) if isinstance(e, PaymentReceived)]


@contextlib.contextmanager
def write_lock_held(container: Container) -> Iterator[None]:
    """Hold the event store's write lock from a connection of the test's own."""
    log = container.log
    if container.config.uses_postgres:
        env = container.config.event_store_env()
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"] or None,
        ) as connection:  # fmt: skip
            connection.execute(f"LOCK TABLE {log.recorder.events_table_name} IN EXCLUSIVE MODE")
            yield
            connection.rollback()
        return
    connection = sqlite3.connect(container.config.sqlite_path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def poison_the_store(container: Container) -> None:
    """Make the store refuse any transaction that writes a record naming `POISON`: on SQLite at
    its insert, on PostgreSQL at its commit (a deferred constraint trigger)."""
    table = container.log.recorder.events_table_name
    if container.config.uses_postgres:
        env = container.config.event_store_env()
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"] or None, autocommit=True,
        ) as connection:  # fmt: skip
            connection.execute(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF position('{POISON}'::bytea IN NEW.state) > 0 THEN "
                "RAISE EXCEPTION 'poisoned'; END IF; RETURN NULL; END $$"
            )
            connection.execute(
                f"CREATE CONSTRAINT TRIGGER refuse_poison AFTER INSERT ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
        return
    connection = sqlite3.connect(container.config.sqlite_path)
    try:
        connection.execute(
            f"CREATE TRIGGER refuse_poison BEFORE INSERT ON {table} "
            f"WHEN instr(CAST(NEW.state AS TEXT), '{POISON}') > 0 "
            "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )
        connection.commit()
    finally:
        connection.close()


class Requests:
    """Requests sent from threads, each with what it got back: its results or its error."""

    def __init__(self, group: GroupCommit) -> None:
        self.group = group
        self.threads: list[threading.Thread] = []
        self.answers: dict[str, list[Appended] | BaseException] = {}

    def send(self, name: str, record: dict) -> None:
        def request() -> None:
            try:
                self.answers[name] = self.group.receive_for_outlet(
                    OUTLET, MokaKind.PAYMENT, record, Source.WEBHOOK
                )
            except BaseException as error:
                self.answers[name] = error

        thread = threading.Thread(target=request)
        thread.start()
        self.threads.append(thread)

    def wait(self) -> dict[str, list[Appended] | BaseException]:
        for thread in self.threads:
            thread.join(timeout=60)
            assert not thread.is_alive()
        return self.answers


def queued(group: GroupCommit, count: int) -> None:
    """Wait until `count` requests wait behind the leader (who waits for the write lock)."""
    wait_until(lambda: group.waiting() == count, message=f"{count} queued requests")


@pytest.fixture
def tenant(container):
    return make_tenant(container)


def test_requests_queued_during_a_commit_are_stored_in_one_batch(container, tenant):
    batches: list[int] = []
    group = GroupCommit(container.log, lambda batch: batches.append(len(batch)))
    sent = Requests(group)
    with write_lock_held(container):
        for number in range(6):
            sent.send(f"p{number}", payment(number))
        queued(group, 6)
    answers = sent.wait()
    assert batches == [6]
    positions = sorted(answer[0].position for answer in answers.values())
    assert positions == [2, 3, 4, 5, 6, 7]  # after the setting's creation, one after another
    stored = payments_in(container.log, tenant.setting_id)
    assert sorted(e.moka_id for e in stored) == sorted(payment(n)["id"] for n in range(6))
    for name, answer in answers.items():
        (appended,) = answer
        assert appended.outcome == "stored"
        event = container.log.read(tenant.setting_id, after=appended.position - 1, limit=1)[0]
        assert event.moka_id == payment(int(name[1:]))["id"]


def test_a_record_repeated_in_one_batch_is_stored_once_and_a_newer_version_after_it(
    container, tenant
):
    group = GroupCommit(container.log)
    sent = Requests(group)
    newer = "2024-05-02T10:30:00+07:00"
    with write_lock_held(container):
        for copy in range(3):
            sent.send(f"same{copy}", payment(1))
        sent.send("newer", payment(1, updated_at=newer))
        sent.send("older", payment(1, updated_at="2024-05-02T10:10:00+07:00"))
        queued(group, 5)
    answers = {name: answer[0] for name, answer in sent.wait().items()}
    copies = [answers[f"same{copy}"] for copy in range(3)]
    assert sorted(a.outcome for a in copies) == ["duplicate", "duplicate", "stored"]
    assert {a.position for a in copies} == {2}
    assert (answers["newer"].outcome, answers["newer"].revision) == ("stored", 2)
    assert answers["older"].outcome == "stale"
    stored = payments_in(container.log, tenant.setting_id)
    assert [(e.revision, e.record["updated_at"]) for e in stored] == [
        (1, "2024-05-02T10:20:00+07:00"),
        (2, newer),
    ]
    # Later requests read the versions this batch stored.
    again = group.receive_for_outlet(OUTLET, MokaKind.PAYMENT, payment(1, updated_at=newer),
                                     Source.WEBHOOK)  # fmt: skip
    assert [(a.outcome, a.position) for a in again] == [("duplicate", 3)]


def test_a_failed_commit_fails_every_request_of_its_batch_and_stores_none(container, tenant):
    poison_the_store(container)
    settled: list[list[Append]] = []
    group = GroupCommit(container.log, lambda batch: settled.append(list(batch)))
    sent = Requests(group)
    with write_lock_held(container):
        for number in range(3):
            sent.send(f"p{number}", payment(number))
        sent.send("poison", payment(9, note=POISON))
        queued(group, 4)
    answers = sent.wait()
    assert set(answers) == {"p0", "p1", "p2", "poison"}
    for answer in answers.values():
        assert isinstance(answer, BatchFailed), answer
        assert "poisoned" in str(answer.__cause__)
    assert settled == []  # nothing was woken or counted
    assert payments_in(container.log, tenant.setting_id) == []
    # The same requests in a batch of their own are stored: nothing of them was before.
    for number in range(3):
        (appended,) = group.receive_for_outlet(OUTLET, MokaKind.PAYMENT, payment(number),
                                               Source.WEBHOOK)  # fmt: skip
        assert appended.outcome == "stored"
    assert len(payments_in(container.log, tenant.setting_id)) == 3


def test_a_failure_after_the_commit_fails_every_request_of_the_batch(container, tenant):
    def lose_redis(batch: Any) -> None:
        raise ConnectionError("the wake-ups could not be sent")

    group = GroupCommit(container.log, lose_redis)
    sent = Requests(group)
    with write_lock_held(container):
        sent.send("a", payment(1))
        sent.send("b", payment(2))
        queued(group, 2)
    for answer in sent.wait().values():
        assert isinstance(answer, BatchFailed)
        assert isinstance(answer.__cause__, ConnectionError)


def test_the_outlets_settings_are_read_again_when_a_setting_joins_or_leaves(container, tenant):
    group = GroupCommit(container.log)
    first = group.receive_for_outlet(OUTLET, MokaKind.PAYMENT, payment(1), Source.WEBHOOK)
    assert [a.setting_id for a in first] == [tenant.setting_id]
    other = make_tenant(container, name="PT Kedua")
    second = group.receive_for_outlet(OUTLET, MokaKind.PAYMENT, payment(2), Source.WEBHOOK)
    assert sorted(a.setting_id for a in second) == sorted([tenant.setting_id, other.setting_id])
    assert all(a.stored for a in second)
    container.log.delete_setting(tenant.setting_id)
    third = group.receive_for_outlet(OUTLET, MokaKind.PAYMENT, payment(3), Source.WEBHOOK)
    assert [a.setting_id for a in third] == [other.setting_id]


def test_two_processes_of_threads_store_each_payment_once(container, tenant):
    payments = [payment(n) for n in range(120)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    # Both send every payment, in opposite orders, from four threads each.
    racers = [
        context.Process(
            target=append_payments,
            args=(container.config, OUTLET, order, 4, start, results),
        )
        for order in (payments, payments[::-1])
    ]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    stored = payments_in(container.log, tenant.setting_id)
    assert sorted(e.moka_id for e in stored) == sorted(p["id"] for p in payments)
    positions = [e.position for e in container.log.read(tenant.setting_id, limit=1000)]
    assert positions == list(range(1, len(payments) + 2))
    answers = [answer for run in outcomes for answer in run]
    assert len(answers) == 2 * len(payments)
    stored_answers = {(moka_id, position) for moka_id, outcome, position in answers
                      if outcome == "stored"}  # fmt: skip
    assert stored_answers == {(e.moka_id, e.position) for e in stored}
    assert all(outcome in ("stored", "duplicate") for _, outcome, _ in answers)
    assert all(any(o == "stored" for _, o, _ in run) for run in outcomes)  # side by side


def test_a_webhook_whose_batch_fails_answers_500_and_is_not_stored(container, tenant):
    config = container.config.with_changes(moka_webhook_secret=WEBHOOK_SECRET)
    served = Container(config)
    try:
        client = create_app(container=served, test_config={"TESTING": True}).test_client()
        poison_the_store(served)
        answers: dict[str, int] = {}

        def deliver(name: str, record: dict) -> None:
            raw = json.dumps(envelope(record, "moka.transaction.created", event_id=str(uuid4())))
            answer = client.post("/webhooks/moka", data=raw, headers=signed(raw.encode()))
            answers[name] = answer.status_code

        deliveries = {"a": payment(1), "b": payment(2), "poison": payment(3, note=POISON)}
        threads = [threading.Thread(target=deliver, args=item) for item in deliveries.items()]
        with write_lock_held(served):
            for thread in threads:
                thread.start()
            wait_until(lambda: intake._appends(served).waiting() == 3, message="3 queued")
        for thread in threads:
            thread.join(timeout=60)
        assert answers == {"a": 500, "b": 500, "poison": 500}
        assert payments_in(served.log, tenant.setting_id) == []
        metrics = client.get("/metrics").text
        refused = 'sambung_http_requests_total{route="/webhooks/moka",method="POST",status="500"}'
        assert f"{refused} 3" in metrics
        assert 'status="202"' not in metrics
    finally:
        served.close()
