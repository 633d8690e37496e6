"""The projection runner against a real store (SQLite and PostgreSQL): each event counts once,
through crashes, concurrent runners and rebuilds; the views keep up within a second."""

import threading

import pytest
from click.testing import CliRunner

from infra.bootstrap import Container
from projections.queries import open_errors, reconciliation, sync_history
from projections.runner import VIEWS, Projector, catch_up, projector, rebuild, run_forever
from sambung.cli import main
from tests.projection_support import (
    DAY,
    OVO,
    EngineRun,
    canonical_dump,
    invoice_amounts,
    refund,
    return_amounts,
    sale,
    synced_setting,
)
from tests.waiting import wait_until


@pytest.fixture
def log(container):
    return container.log


def busy_setting(log, *, sales=12, outlet_id="4522", name="Outlet Jakarta Selatan"):
    """A setting with a few runs: posted and failed sales, a refund, a replay, a revision."""
    setting_id = synced_setting(log, outlet_id=outlet_id, name=name)
    payments = [sale(n, hour=8 + n % 12) for n in range(1, sales + 1)]
    payments[0]["payment_refunds"] = [refund(1, total="46000", tax="4600")]
    positions = [a.position for a in log.receive_many(setting_id, "payment", payments, "pull")]
    night = EngineRun(log, setting_id, method="Otomatis")
    for payment, position in zip(payments, positions, strict=True):
        if payment["id"] in ("pay-3", "pay-4"):
            night.failed("sales_invoice", payment["payment_no"], position, OVO)
        else:
            amounts = invoice_amounts(payment)
            night.posted("sales_invoice", payment["payment_no"], position, amounts=amounts)
    night.posted(
        "sales_return",
        "P00001",
        positions[0],
        custom_id="moka-return-refund-1",
        amounts=return_amounts(payments[0]["payment_refunds"][0]),
    )
    night.finish()
    replay = EngineRun(log, setting_id, kind="replay", method="Replay")
    replay.posted("sales_invoice", "P00003", positions[2], amounts=invoice_amounts(payments[2]))
    replay.finish()
    log.receive(setting_id, "payment", sale(5, total="50000", tax="5000", updated_minute=9), "pull")
    return setting_id


class CrashingView:
    """Applies like the real views until it has seen `after` events, then fails."""

    def __init__(self, after):
        self.events = VIEWS[0].events + VIEWS[1].events + VIEWS[2].events + VIEWS[3].events
        self.left = after

    def apply(self, db, entry, context):
        self.left -= 1
        if self.left < 0:
            raise RuntimeError("worker killed mid-batch")


def test_catch_up_applies_new_events_once_and_then_nothing(container, log):
    busy_setting(log)
    assert catch_up(container) > 0
    assert catch_up(container) == 0
    assert container.views.position() == log.last_global_position()


def test_a_crash_mid_batch_counts_nothing_twice(container, log):
    setting_id = busy_setting(log)
    crashing = Projector(
        container.views,
        log,
        projector(container).context.timezone,
        views=(*VIEWS, CrashingView(after=30)),
    )
    with pytest.raises(RuntimeError, match="killed"):
        crashing.catch_up(limit=1000)
    assert container.views.position() == 0  # the whole batch rolled back
    crashing.views = (*VIEWS, CrashingView(after=log.head(setting_id) // 2))
    with pytest.raises(RuntimeError, match="killed"):
        crashing.catch_up(limit=5)  # the first pages commit, the one with the crash does not
    assert 0 < container.views.position() < log.last_global_position()

    catch_up(container)
    survived = canonical_dump(container)
    night = sync_history(container.views, setting_id)[1]
    assert night["summary"]["sales"] == {"synced": 10, "total": 12}
    assert night["summary"]["sales_returns"] == {"synced": 1, "total": 1}
    assert [g["count"] for g in open_errors(container.views, setting_id)] == [1]
    rebuild(container)
    assert canonical_dump(container) == survived


def test_two_runners_at_once_apply_every_event_exactly_once(container, config, log):
    setting_id = synced_setting(log)
    payments = [sale(n) for n in range(1, 41)]
    runners = [Container(config) for _ in range(2)]
    stop = threading.Event()
    failures = []

    def follow(other: Container) -> None:
        try:
            while not stop.is_set():
                projector(other).catch_up(limit=7)
        except Exception as exc:  # reported to the test below
            failures.append(exc)

    threads = [threading.Thread(target=follow, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    try:
        run = EngineRun(log, setting_id)
        for payment in payments:
            [position] = [
                a.position for a in log.receive_many(setting_id, "payment", [payment], "pull")
            ]
            run.posted(
                "sales_invoice", payment["payment_no"], position, amounts=invoice_amounts(payment)
            )
        run.finish()
        # The followers, not the catch-up below, apply what was appended.
        wait_until(
            lambda: projector(container).store.position() == log.last_global_position(),
            60,
            "the two runners to reach the end of the log",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        for other in runners:
            other.close()
    assert failures == []
    catch_up(container)
    [day] = reconciliation(container.views, setting_id, DAY, DAY)
    assert day["moka"]["sales"] == day["jurnal"]["sales"] == str(92000 * 40)
    assert sync_history(container.views, setting_id)[0]["summary"]["sales"] == {
        "synced": 40,
        "total": 40,
    }
    concurrent = canonical_dump(container)
    rebuild(container)
    assert canonical_dump(container) == concurrent


def test_a_rebuild_reproduces_every_view_byte_for_byte(container, log):
    busy_setting(log)
    catch_up(container, limit=3)  # small pages: incremental state must not depend on them
    busy_setting(log, outlet_id="4523", name="Outlet Bandung")
    catch_up(container)
    incremental = canonical_dump(container)
    assert '"proj_recon_sales"' in incremental

    seen = []
    assert rebuild(container, progress=lambda position, end: seen.append((position, end))) > 0
    assert seen[-1][0] == seen[-1][1] == log.last_global_position()
    assert canonical_dump(container) == incremental


def test_an_event_is_in_the_history_within_a_second(container, log):
    setting_id = synced_setting(log)
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(container, stop), daemon=True)
    thread.start()
    try:
        wait_until(  # idle: the runner has caught up and is polling
            lambda: projector(container).store.position() == log.last_global_position(),
            10,
            "the runner to catch up",
        )
        run = EngineRun(log, setting_id)
        wait_until(
            lambda: any(
                r["id"] == str(run.run_id) for r in sync_history(container.views, setting_id)
            ),
            1.0,
            "the run in the history",
        )
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_commands_rebuild_with_progress_and_print_the_history(container, log):
    setting_id = busy_setting(log)
    cli = CliRunner()
    rebuilt = cli.invoke(main, ["rebuild-projections"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Rebuilding read models" in rebuilt.output
    assert "log events projected" in rebuilt.output

    printed = cli.invoke(main, ["history", str(setting_id)])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert lines[0] == "Riwayat sinkronisasi: Outlet Jakarta Selatan"
    assert any("Sebagian" in line and "Penjualan: 10 dari 12" in line for line in lines)
    assert any("Retur Penjualan: 1 dari 1" in line for line in lines)
    assert any("Replay" in line and "Penjualan: 1 dari 1" in line for line in lines)
    assert sum(f"P00004 (sales_invoice): {OVO}" in line for line in lines) == 1
    english = cli.invoke(main, ["history", str(setting_id), "--lang", "en"])
    assert "Sales: 10 of 12" in english.output


def test_views_of_an_older_layout_are_rebuilt_from_the_log(container, config, log):
    setting_id = busy_setting(log)
    catch_up(container)
    current = canonical_dump(container)
    container.views.db().execute("UPDATE proj_tracking SET version = 0")
    container.views.db().execute("DELETE FROM proj_runs")

    upgraded = Container(config)  # a process started with the new code
    try:
        assert upgraded.views.position() == 0
        catch_up(upgraded)
        assert canonical_dump(upgraded) == current
        assert sync_history(upgraded.views, setting_id)
    finally:
        upgraded.close()


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_replaced_by_the_next_request(postgres_env, tmp_path):
    import psycopg

    from infra.config import Config
    from infra.readmodels import ViewStore

    config = Config.from_env({**postgres_env, "SAMBUNG_DATA_DIR": str(tmp_path)})
    views = ViewStore(config)
    try:
        first = views.db()
        pid = first.one("SELECT pg_backend_pid()")[0]
        killer = ViewStore(config)
        killer.db().one("SELECT pg_terminate_backend(?)", (pid,))
        killer.close()
        with pytest.raises(psycopg.OperationalError):
            first.one("SELECT 1")
        assert views.db().one("SELECT 1") == (1,)
    finally:
        views.close()
