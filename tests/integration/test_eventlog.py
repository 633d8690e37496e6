"""The event log against a real store: every test body runs on SQLite and on PostgreSQL."""

import multiprocessing
import os
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4, uuid5

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.utils import get_topic

from domain.errors import (
    ImmutableField,
    MasterDataNotSynced,
    MokaRecordInvalid,
    QuotaExceeded,
    RunAlreadyFinished,
    SettingNotFound,
)
from domain.log import (
    DocumentPosted,
    PaymentReceived,
    PostingFailed,
    SettingChanged,
    SettingCreated,
    SettingDeleted,
    SyncFinished,
    SyncRequested,
)
from infra import bootstrap
from infra.bootstrap import Container
from infra.eventlog import EventLog, open_event_log
from infra.eventstore.streams import VersionRecorded
from infra.secrets import SecretBox
from sambung.cli import main
from services.secrets import rotate_secrets
from tests.eventlog_racer import append_payments

WIB = timezone(timedelta(hours=7))
JURNAL_SECRET = "jurnal-client-secret-PLAINTEXT-1"
ACCESS_TOKEN = "moka-access-token-PLAINTEXT-2"
REFRESH_TOKEN = "moka-refresh-token-PLAINTEXT-3"


@pytest.fixture
def log(container) -> EventLog:
    return container.log


def company(log, *, quota=1, package="Enterprise", name="PT Prima FnB"):
    return log.register_company(
        name=name,
        jurnal_client_id="client-id",
        jurnal_client_secret=JURNAL_SECRET,
        package=package,
        quota=quota,
    )


def setting(log, company_id=None, outlet_id="4522", **fields):
    company_id = company_id or company(log)
    connection_id = log.connect_moka(
        company_id=company_id,
        email="owner@example.com",
        business_id=9,
        outlets={4522: "Jakarta Selatan", 4523: "Bandung"},
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
    )
    values = {
        "name": f"Outlet {outlet_id}",
        "start_date": date(2024, 5, 1),
        "default_customer": "Pelanggan Umum",
        "sales_account": "4-40000",
        "purchase_account": "5-50000",
        **fields,
    }
    return log.create_setting(
        company_id=company_id, moka_connection_id=connection_id, outlet_id=outlet_id, **values
    )


def payment(number, minute=0, **fields):
    return {
        "id": f"pay-{number}",
        "payment_no": f"P{number:06d}",
        "updated_at": datetime(2024, 5, 2, 10, minute, tzinfo=WIB).isoformat(),
        "total_collected": 92000.0,
        "checkouts": [{"item_name": "Ice Cappucino", "quantity": 1, "net_sales": 52600.0}],
        **fields,
    }


def payments_in(log, setting_id):
    return [e for e in log.read(setting_id, limit=10_000) if isinstance(e, PaymentReceived)]


# -- deduplication ----------------------------------------------------------------------------


def test_a_payment_by_webhook_and_again_by_pull_is_stored_once(log):
    setting_id = setting(log)
    first = log.receive(setting_id, "payment", payment(1), "webhook")
    again = log.receive(setting_id, "payment", payment(1), "pull")
    assert (first.stored, again.stored) == (True, False)
    assert again.outcome == "duplicate"
    assert again.position == first.position
    [stored] = payments_in(log, setting_id)
    assert stored.source == "webhook"
    assert stored.payment == payment(1)


def test_a_newer_version_is_a_revision_and_an_older_one_arriving_late_is_stale(log):
    setting_id = setting(log)
    log.receive(setting_id, "payment", payment(1, minute=0), "webhook")
    newer = log.receive(setting_id, "payment", payment(1, minute=5, total_collected=1.0), "pull")
    late = log.receive(setting_id, "payment", payment(1, minute=3), "webhook")
    assert (newer.outcome, newer.revision) == ("stored", 2)
    assert (late.outcome, late.revision, late.position) == ("stale", 2, newer.position)
    revisions = payments_in(log, setting_id)
    assert [(e.revision, e.payment["total_collected"]) for e in revisions] == [
        (1, 92000.0),
        (2, 1.0),
    ]


def test_a_refund_that_did_not_move_the_sales_updated_at_is_still_a_new_revision(log):
    setting_id = setting(log)
    log.receive(setting_id, "payment", payment(1), "webhook")
    refund = {"uuid": "r-1", "refund_amount": 92000.0}
    refunded = log.receive(setting_id, "payment", payment(1, payment_refunds=[refund]), "webhook")
    assert (refunded.outcome, refunded.revision) == ("stored", 2)
    again = log.receive(setting_id, "payment", payment(1, payment_refunds=[refund]), "pull")
    assert again.outcome == "duplicate"
    before_refund = log.receive(setting_id, "payment", payment(1), "pull")
    assert before_refund.outcome == "stale"


def test_the_same_instant_sent_with_another_offset_is_a_duplicate(log):
    setting_id = setting(log)
    log.receive(setting_id, "payment", payment(1), "webhook")
    utc = datetime.fromisoformat(payment(1)["updated_at"]).astimezone(UTC).isoformat()
    assert log.receive(
        setting_id, "payment", {**payment(1), "updated_at": utc}, "pull"
    ).outcome == ("duplicate")


def test_a_page_received_with_repeats_stores_each_version_once(log):
    setting_id = setting(log)
    log.receive(setting_id, "payment", payment(2), "webhook")
    page = [payment(1), payment(2), payment(3), payment(1), payment(3, minute=9)]
    outcomes = [a.outcome for a in log.receive_many(setting_id, "payment", page, "pull")]
    assert outcomes == ["stored", "duplicate", "stored", "duplicate", "stored"]
    assert [(e.moka_id, e.revision) for e in payments_in(log, setting_id)] == [
        ("pay-2", 1),
        ("pay-1", 1),
        ("pay-3", 1),
        ("pay-3", 2),
    ]


def test_items_and_customers_deduplicate_like_payments(log):
    setting_id = setting(log)
    item = {"id": 77, "name": "Jus Jeruk", "updated_at": "2024-05-02T10:00:00.000+07:00"}
    customer = {"id": 1950404, "name": "San", "updated_at": "2024-05-02T10:15:29.789+07:00"}
    assert log.receive(setting_id, "item", item, "pull").stored
    assert not log.receive(setting_id, "item", item, "webhook").stored
    assert log.receive(setting_id, "customer", customer, "webhook").stored
    assert log.receive(setting_id, "customer", {**customer, "id": 2}, "webhook").stored
    kinds = [type(e).__name__ for e in log.read(setting_id)]
    assert kinds == ["SettingCreated", "ItemReceived", "CustomerReceived", "CustomerReceived"]


def test_a_record_the_log_cannot_identify_is_refused_and_nothing_is_appended(log):
    setting_id = setting(log)
    with pytest.raises(MokaRecordInvalid):
        log.receive(setting_id, "payment", {"id": "x", "updated_at": "yesterday"}, "webhook")
    with pytest.raises(MokaRecordInvalid):
        log.receive(setting_id, "invoice", payment(1), "webhook")
    assert log.head(setting_id) == 1


def test_two_processes_appending_the_same_payments_store_each_once(container, log):
    setting_id = setting(log)
    payments = [payment(n) for n in range(150)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    # Opposite orders: each racer stores some payments first, then both meet in the middle.
    racers = [
        context.Process(
            target=append_payments,
            args=(container.config, setting_id, order, source, start, results),
        )
        for source, order in (("webhook", payments), ("pull", payments[::-1]))
    ]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    stored = payments_in(log, setting_id)
    assert sorted(e.moka_id for e in stored) == sorted(p["id"] for p in payments)
    assert [e.position for e in log.read(setting_id, limit=1000)] == list(range(1, 152))
    assert sum(o == "stored" for run in outcomes for o in run) == len(payments)
    assert all(o in ("stored", "duplicate") for run in outcomes for o in run)
    assert all("stored" in run for run in outcomes)  # they did run side by side


def test_one_payment_for_an_outlet_with_two_settings_lands_in_both_logs(log):
    first = setting(log, company(log, name="PT Satu"))
    second = setting(log, company(log, name="PT Dua"))
    elsewhere = setting(log, company(log, name="PT Tiga"), outlet_id="4523")
    assert sorted(log.settings_for_outlet(4522)) == sorted([first, second])
    appended = log.receive_for_outlet("4522", "payment", payment(1), "webhook")
    assert {a.setting_id for a in appended} == {first, second}
    assert all(a.stored for a in appended)
    again = log.receive_for_outlet(4522, "payment", payment(1), "pull")
    assert [a.outcome for a in again] == ["duplicate", "duplicate"]
    assert [len(payments_in(log, s)) for s in (first, second, elsewhere)] == [1, 1, 0]


def test_appending_never_reads_more_than_the_last_event_of_a_stream(log, monkeypatch):
    setting_id = setting(log)
    for n in range(20):
        log.receive(setting_id, "payment", payment(n), "webhook")
    reads = []
    select = log.recorder.select_events

    def counting_select(originator_id, **kwargs):
        reads.append(kwargs)
        return select(originator_id, **kwargs)

    monkeypatch.setattr(log.recorder, "select_events", counting_select)
    log.receive(setting_id, "payment", payment(99), "webhook")
    log.receive(setting_id, "payment", payment(99), "pull")
    assert reads and all(r.get("limit") == 1 and r.get("desc") for r in reads)


# -- settings, companies, connections -----------------------------------------------------------


def test_a_setting_round_trips_through_the_store(log):
    setting_id = setting(
        log,
        name_prefix="Outlet Jakarta Selatan",
        sync_time="21:30",
        tag="Jaksel",
        warehouse="Gudang",
        payment_accounts={"ovo": {"account": "1-10002", "tag": "OVO"}},
    )
    stored = log.get_setting(setting_id)
    assert stored.start_date == date(2024, 5, 1)
    assert stored.sync_time.isoformat() == "21:30:00"
    assert stored.apply_naming("Jus Jeruk") == "Outlet Jakarta Selatan | Jus Jeruk"
    assert stored.payment_accounts["ovo"].tag == "OVO"
    [created] = log.read(setting_id)
    assert isinstance(created, SettingCreated)
    assert created.values == stored.values()


def test_changes_are_logged_and_immutable_fields_refused(log):
    setting_id = setting(log)
    log.update_setting(setting_id, {"auto_sync": False, "start_date": "2024-05-01"})
    with pytest.raises(ImmutableField, match="default_customer cannot change"):
        log.update_setting(setting_id, {"default_customer": "Walk-in"})
    assert log.get_setting(setting_id).auto_sync is False
    changes = [e.changes for e in log.read(setting_id) if isinstance(e, SettingChanged)]
    assert changes == [{"auto_sync": False}]


def test_the_quota_is_enforced_and_freed_by_deletion(log):
    company_id = company(log, quota=1)
    first = setting(log, company_id)
    with pytest.raises(QuotaExceeded):
        setting(log, company_id, outlet_id="4523")
    log.delete_setting(first)
    second = setting(log, company_id, outlet_id="4523")
    log.set_quota(company_id, 2)
    third = setting(log, company_id)
    assert [s.id for s in log.list_settings(company_id)] == [second, third]


def test_two_settings_created_at_once_cannot_both_take_the_last_place(log):
    company_id = company(log, quota=1)
    connection_id = log.connect_moka(
        company_id=company_id,
        email="o@example.com",
        business_id=9,
        outlets={1: "A", 2: "B"},
        access_token="a",
        refresh_token="r",
    )
    start, outcomes = threading.Barrier(2), []

    def create(outlet_id):
        start.wait()
        try:
            log.create_setting(
                company_id=company_id,
                moka_connection_id=connection_id,
                outlet_id=outlet_id,
                name=f"Outlet {outlet_id}",
                start_date="2024-05-01",
                default_customer="Umum",
                sales_account="4",
                purchase_account="5",
            )
            outcomes.append("created")
        except QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(o,)) for o in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused"]
    assert len(log.get_company(company_id).setting_ids) == 1


def test_a_deleted_setting_is_gone_but_its_log_stays(log):
    setting_id = setting(log)
    log.receive(setting_id, "payment", payment(1), "webhook")
    log.delete_setting(setting_id)
    with pytest.raises(SettingNotFound, match="was deleted"):
        log.get_setting(setting_id)
    assert log.get_setting(setting_id, include_deleted=True).deleted
    assert log.settings_for_outlet("4522") == []
    assert isinstance(log.read(setting_id)[-1], SettingDeleted)
    assert log.receive_for_outlet("4522", "payment", payment(2), "webhook") == []


def test_companies_are_listed_with_their_package(log):
    first = company(log, package="Pro")
    second = company(log, package="Basic", name="PT Dua")
    log.record_package(second, "Enterprise")
    listed = {c.id: c.package for c in log.list_companies()}
    assert listed == {first: "Pro", second: "Enterprise"}


def test_connecting_the_same_moka_business_again_updates_the_connection(log):
    company_id = company(log)
    first = log.connect_moka(
        company_id=company_id,
        email="a@example.com",
        business_id="9",
        outlets={"4522": "A"},
        access_token="old-access",
        refresh_token="old-refresh",
    )
    again = log.connect_moka(
        company_id=company_id,
        email="a@example.com",
        business_id=9,
        outlets={4522: "A", 4530: "C"},
        access_token="new-access",
        refresh_token="new-refresh",
    )
    assert first == again
    assert [c.id for c in log.list_moka_connections(company_id)] == [first]
    assert log.get_moka_connection(first).outlet_ids == ["4522", "4530"]
    assert log.moka_tokens(first).access_token == "new-access"
    expires = datetime(2025, 1, 1, tzinfo=UTC)
    log.store_moka_tokens(first, access_token="a3", refresh_token="r3", token_expires_at=expires)
    tokens = log.moka_tokens(first)
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_at) == ("a3", "r3", expires)


# -- secrets ------------------------------------------------------------------------------------


def stored_bytes(config, table):
    if config.uses_postgres:
        env = config.postgres
        with psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            dbname=env["POSTGRES_DBNAME"],
        ) as connection:
            rows = connection.execute(f"SELECT state FROM {table}").fetchall()
        return b"".join(bytes(row[0]) for row in rows)
    files = [config.sqlite_path, config.sqlite_path.with_name("events.sqlite-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_secrets_are_never_stored_or_shown_in_plaintext(container, log):
    setting(log)
    raw = stored_bytes(container.config, log.recorder.events_table_name)
    assert b"PT Prima FnB" in raw  # the dump does hold the store's data
    for secret in (JURNAL_SECRET, ACCESS_TOKEN, REFRESH_TOKEN):
        assert secret.encode() not in raw
    [listed] = log.list_companies()
    connection = log.list_moka_connections(listed.id)[0]
    credentials = log.jurnal_credentials(listed.id)
    assert credentials.client_secret == JURNAL_SECRET
    for shown in (listed, connection, credentials, log.moka_tokens(connection.id)):
        for secret in (JURNAL_SECRET, ACCESS_TOKEN, REFRESH_TOKEN):
            assert secret not in repr(shown)


def test_rotating_the_key_reseals_every_secret(container, log):
    company_id = company(log)
    setting(log, company_id)
    old_key = container.config.secret_key
    new_key = "a-brand-new-secret-key-for-rotation"
    rotating = EventLog(container.config.event_store_env(), SecretBox(new_key, [old_key]))
    try:
        assert rotate_secrets(rotating) == 2  # the company and its Moka connection
        assert rotate_secrets(rotating) == 0
    finally:
        rotating.close()
    rotated = EventLog(container.config.event_store_env(), SecretBox(new_key))
    try:
        assert rotated.jurnal_credentials(company_id).client_secret == JURNAL_SECRET
        [connection] = rotated.list_moka_connections(company_id)
        assert rotated.moka_tokens(connection.id).refresh_token == REFRESH_TOKEN
    finally:
        rotated.close()


# -- runs and outcomes ---------------------------------------------------------------------------


def test_transactions_wait_until_a_master_data_run_completes(log):
    setting_id = setting(log)
    with pytest.raises(MasterDataNotSynced):
        log.request_run(setting_id, "transactions", "Manual")
    failed = log.request_run(setting_id, "master_data", "Manual").run_id
    log.finish_run(failed, status="Gagal", error="Moka answered 503")
    with pytest.raises(MasterDataNotSynced):
        log.request_run(setting_id, "transactions", "Manual")
    done = log.request_run(setting_id, "master_data", "Manual").run_id
    log.finish_run(done, status="Sebagian", counts={"products": {"synced": 426, "total": 427}})
    assert log.get_setting(setting_id).master_data_synced
    assert log.request_run(setting_id, "transactions", "Manual").created


def test_a_run_is_requested_once_per_id_and_finished_once(log):
    setting_id = setting(log)
    run_id = uuid5(setting_id, "nightly:2024-05-02")
    assert log.request_run(setting_id, "master_data", "Otomatis", run_id=run_id).created
    assert not log.request_run(setting_id, "master_data", "Otomatis", run_id=run_id).created
    log.finish_run(run_id, status="Sukses", counts={"customers": {"synced": 130, "total": 130}})
    with pytest.raises(RunAlreadyFinished):
        log.finish_run(run_id, status="Sukses")
    requested, finished = [e for e in log.read(setting_id) if e.position > 1]
    assert isinstance(requested, SyncRequested) and isinstance(finished, SyncFinished)
    assert (finished.run_id, finished.method, finished.status) == (run_id, "Otomatis", "Sukses")
    assert finished.counts == {"customers": {"synced": 130, "total": 130}}
    run = log.get_run(run_id)
    assert run.finished_at is not None and run.requested_at <= run.finished_at


def test_the_transactions_checkpoint_only_moves_forward(log):
    setting_id = setting(log)
    log.finish_run(log.request_run(setting_id, "master_data", "Manual").run_id, status="Sukses")
    assert log.transactions_checkpoint(setting_id) is None
    later, earlier = datetime(2024, 5, 3, 22, tzinfo=WIB), datetime(2024, 5, 2, 22, tzinfo=WIB)
    for until in (later, earlier):
        run_id = log.request_run(setting_id, "transactions", "Otomatis").run_id
        log.finish_run(run_id, status="Sukses", checkpoint=until)
    assert log.transactions_checkpoint(setting_id) == later


def test_outcomes_name_what_they_resolve_and_a_repeat_posting_is_stored_once(log):
    setting_id = setting(log)
    sale = log.receive(setting_id, "payment", payment(1), "webhook")
    failed = log.record_failed(
        setting_id,
        kind="sales_invoice",
        custom_id="moka-pay-1",
        error_class="MappingError",
        message="no deposit account mapped for OVO",
        retryable=False,
        moka_reference="P000001",
        resolves=sale.position,
    )
    assert isinstance(log.last_outcome(setting_id, "moka-pay-1"), PostingFailed)
    posted = log.record_posted(
        setting_id,
        kind="sales_invoice",
        custom_id="moka-pay-1",
        jurnal_id=4711,
        moka_reference="P000001",
        resolves=sale.position,
    )
    again = log.record_posted(
        setting_id,
        kind="sales_invoice",
        custom_id="moka-pay-1",
        jurnal_id="4711",
        moka_reference="P000001",
        resolves=sale.position,
    )
    assert again == posted > failed
    outcome = log.last_outcome(setting_id, "moka-pay-1")
    assert isinstance(outcome, DocumentPosted)
    assert (outcome.jurnal_id, outcome.resolves, outcome.position) == ("4711", 2, posted)
    assert log.last_outcome(setting_id, "moka-pay-2") is None
    assert log.head(setting_id) == posted


# -- reading ------------------------------------------------------------------------------------


def test_a_setting_log_is_read_in_pages_after_a_position(log):
    setting_id = setting(log)
    log.receive_many(setting_id, "payment", [payment(n) for n in range(25)], "pull")
    pages, after = [], 0
    while page := log.read(setting_id, after=after, limit=10):
        pages.append([e.position for e in page])
        after = page[-1].position
    assert pages == [list(range(1, 11)), list(range(11, 21)), list(range(21, 27))]
    assert log.read(setting_id, after=26) == []
    with pytest.raises(ValueError):
        log.read(setting_id, limit=0)


def test_projections_read_every_setting_in_global_order_from_their_position(log):
    first, second = setting(log, company(log)), setting(log, company(log, name="PT Dua"))
    for n in range(5):
        log.receive(first, "payment", payment(n), "webhook")
        log.receive(second, "payment", payment(n), "webhook")
    seen, after = [], 0
    while True:
        page = log.read_all(after=after, limit=7)
        seen += page.entries
        if page.last_position == after:
            break
        after = page.last_position
    assert after == log.last_global_position()
    positions = [entry.global_position for entry in seen]
    assert positions == sorted(positions)
    for setting_id in (first, second):
        mine = [(e.event.position, type(e.event)) for e in seen if e.event.setting_id == setting_id]
        assert mine == [(e.position, type(e)) for e in log.read(setting_id)]
    log.receive(second, "payment", payment(99), "pull")
    newer = log.read_all(after=after).entries
    assert [(e.event.setting_id, e.event.payment["id"]) for e in newer] == [(second, "pay-99")]


def test_the_container_opens_the_configured_store(container):
    assert isinstance(container.log, EventLog)
    expected = "PostgresFactory" if container.config.uses_postgres else "SQLiteFactory"
    assert type(container.log.factory).__name__ == expected
    other = open_event_log(container.config)
    try:
        assert other.head(uuid4()) == 0
    finally:
        other.close()


def test_the_rotate_command_reseals_with_the_new_key(container, log):
    company_id = company(log)
    setting(log, company_id)
    old_key = container.config.secret_key
    new_key = "the-next-secret-key-of-this-install"
    rotated = Container(
        container.config.with_changes(secret_key=new_key, old_secret_keys=(old_key,))
    )
    bootstrap.install(rotated)
    try:
        result = CliRunner().invoke(main, ["secrets", "rotate"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("2 companies and Moka connections re-sealed")
        sealed = rotated.log.get_company(company_id).jurnal_client_secret
        assert sealed.key_id == SecretBox(new_key).key_id
    finally:
        bootstrap.install(container)
        rotated.close()


def test_a_forked_child_opens_its_own_log_and_the_parent_carries_on(container, log):
    setting_id = setting(log)
    child = os.fork()
    if child == 0:  # an RQ work horse, say
        status = 1
        try:
            own = container.log
            stored = own.receive(setting_id, "payment", payment(1), "webhook").stored
            status = 0 if own is not log and stored else 1
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0
    assert log.receive(setting_id, "payment", payment(1), "pull").outcome == "duplicate"
    assert log.receive(setting_id, "payment", payment(2), "pull").stored
    assert container.log is log


def test_processes_starting_together_open_a_fresh_store_without_tripping_on_each_other(config):
    # The gateway and the workers start at once on a new install; each creates missing tables.
    start, opened, failures = threading.Barrier(4), [], []

    def open_store():
        start.wait()
        try:
            opened.append(open_event_log(config))
        except Exception as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    assert failures == []
    assert len(opened) == 4


# -- topics written before the move to infra/ ---------------------------------------------------


def rename_topics(config, table, old, new):
    """Rewrite the store's rows as an older release wrote them: topics under `old` become
    `new`. Returns the class names whose rows were rewritten."""
    update = (
        f"UPDATE {table} SET topic = replace(topic, '{old}', '{new}') WHERE topic LIKE '{old}%'"
    )
    select = f"SELECT DISTINCT topic FROM {table} WHERE topic LIKE '{new}%'"
    if config.uses_postgres:
        env = config.postgres
        with psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            dbname=env["POSTGRES_DBNAME"],
        ) as connection:
            connection.execute(update)
            rows = connection.execute(select).fetchall()
    else:
        connection = sqlite3.connect(config.sqlite_path)
        try:
            with connection:
                connection.execute(update)
            rows = connection.execute(select).fetchall()
        finally:
            connection.close()
    return {row[0].removeprefix(new) for row in rows}


@pytest.mark.parametrize("former_module", ["sambung.eventlog", "infra.eventlog"])
def test_a_store_written_before_the_moves_reads_and_appends_as_before(
    container, log, former_module
):
    """Stores written while the event log was `sambung/eventlog.py`, then `infra/eventlog.py`,
    hold its bookkeeping events under `sambung.eventlog:...` or `infra.eventlog:...` topics:
    indexes, dedup versions, outcomes, the checkpoint and the posting cursor read from them, and
    new events follow them in the same streams."""
    setting_id = setting(log)
    sale = log.receive(setting_id, "payment", payment(1), "webhook")
    log.record_posted(
        setting_id,
        kind="sales_invoice",
        custom_id="moka-pay-1",
        jurnal_id=4711,
        moka_reference="P000001",
        resolves=sale.position,
    )
    log.finish_run(log.request_run(setting_id, "master_data", "Manual").run_id, status="Sukses")
    until = datetime(2024, 5, 3, 22, tzinfo=WIB)
    run_id = log.request_run(setting_id, "transactions", "Otomatis").run_id
    log.finish_run(run_id, status="Sukses", checkpoint=until)
    log.advance_posting_cursor(setting_id, sale.position)
    [company_id] = [c.id for c in log.list_companies()]

    current_module = get_topic(VersionRecorded).partition(":")[0]
    assert current_module == "infra.eventstore.streams"
    renamed = rename_topics(
        container.config,
        log.recorder.events_table_name,
        f"{current_module}:",
        f"{former_module}:",
    )
    assert renamed == {
        "VersionRecorded",
        "OutcomeRecorded",
        "CheckpointAdvanced",
        "PostingCursorAdvanced",
        "IndexChanged",
    }

    before_the_move = open_event_log(container.config)
    try:
        assert [c.id for c in before_the_move.list_companies()] == [company_id]
        assert before_the_move.settings_for_outlet("4522") == [setting_id]
        assert not before_the_move.receive(setting_id, "payment", payment(1), "pull").stored
        newer = payment(1, minute=5, total_collected=1.0)
        assert before_the_move.receive(setting_id, "payment", newer, "pull").stored
        outcome = before_the_move.last_outcome(setting_id, "moka-pay-1")
        assert isinstance(outcome, DocumentPosted) and outcome.jurnal_id == "4711"
        assert before_the_move.transactions_checkpoint(setting_id) == until
        assert before_the_move.posting_cursor(setting_id) == sale.position
        head = before_the_move.head(setting_id)
        assert head > sale.position and before_the_move.has_unprocessed(setting_id)
        before_the_move.advance_posting_cursor(setting_id, head)
        assert before_the_move.posting_cursor(setting_id) == head
        assert not before_the_move.has_unprocessed(setting_id)
    finally:
        before_the_move.close()
