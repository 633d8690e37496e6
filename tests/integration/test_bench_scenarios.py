"""Smoke tests of `sambung bench`: each scenario runs end to end at tiny sizes (`--tiny`) and
prints one JSON object with its keys, written with the machine's details where `--out` says.
The figures at these sizes mean nothing, and no test asserts a time: only that the harness
measured what it says, from work that was done."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import runner
from sambung.cli import BENCH_SCENARIOS, main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def bench(tmp_path: Path, *args: str) -> dict:
    result = CliRunner().invoke(
        main, ["bench", *args, "--quick", "--tiny", "--json", "--out", str(tmp_path)],
        env={"SAMBUNG_DATA_DIR": str(tmp_path / "var")},
    )  # fmt: skip
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    printed = json.loads(result.stdout)
    written = json.loads((tmp_path / "latest.json").read_text())
    assert written == printed
    assert written["machine"]["cores"] >= 1 and written["machine"]["date"]
    assert written["quick"] and written["tiny"] and written["store"] == "sqlite"
    return printed


def test_the_cli_offers_every_scenario_of_the_runner():
    assert tuple(runner.SCENARIOS) == BENCH_SCENARIOS


def test_ingest_counts_only_stored_webhooks_against_a_bare_flask_endpoint(tmp_path):
    figures = bench(tmp_path, "ingest")
    ingest = figures["details"]["ingest"]
    assert ingest["load_generator"] in ("wrk", "python-asyncio")
    assert ingest["gateway_per_second"] > 0 and ingest["bare_flask_per_second"] > 0
    assert figures["ingest_ratio"] == pytest.approx(
        ingest["gateway_per_second"] / ingest["bare_flask_per_second"], rel=0.01
    )
    assert ingest["gateway_errors"] == 0
    assert ingest["stored_events"] > 0
    assert figures["ingest_p99_ms"] > 0


def test_sync_counts_jurnal_calls_per_document_and_the_first_sync_in_hours(tmp_path):
    figures = bench(tmp_path, "sync")
    sync = figures["details"]["sync"]
    assert sync["day_documents"] > 0
    assert figures["calls_per_document"] == pytest.approx(
        sync["day_calls"] / sync["day_documents"], abs=0.001
    )
    assert figures["first_sync_hours"] == pytest.approx(
        sync["first_sync_calls"] / sync["binding_limit_per_hour"], abs=0.01
    )


def test_freshness_times_sales_from_the_till_to_jurnal(tmp_path):
    figures = bench(tmp_path, "freshness")
    assert figures["details"]["freshness"]["samples"] == 3
    assert figures["freshness_p95_ms"] >= figures["details"]["freshness"]["p50_ms"] > 0


def test_catchup_reads_the_peak_rss_of_two_catch_ups(tmp_path):
    figures = bench(tmp_path, "catchup")
    small, large = figures["details"]["catchup"]["peak_rss_mb"]
    assert figures["catchup_peak_rss_mb"] == pytest.approx(large, abs=0.1)
    assert figures["catchup_rss_growth"] == pytest.approx(large / small, abs=0.01)


def test_append_compares_the_end_of_a_long_log_with_a_fresh_one(tmp_path):
    figures = bench(tmp_path, "append")
    append = figures["details"]["append"]
    assert append["events"] == 2001
    assert figures["append_ratio"] == pytest.approx(
        append["rate_last_1000"] / append["rate_first_1000"], rel=0.01
    )


def test_read_models_are_timed_over_http(tmp_path):
    figures = bench(tmp_path, "read-models")
    assert figures["history_p95_ms"] > 0 and figures["reconciliation_p95_ms"] > 0
    assert figures["details"]["read_models"]["events"] >= 2000
    assert (tmp_path / "var" / "bench").is_dir()  # the store is kept for the next run


def test_goals_are_judged_from_the_figures(tmp_path):
    record = runner.run([], quick=True, store="sqlite", data_dir=tmp_path, say=print, tiny=True,
                        out=tmp_path)  # fmt: skip
    assert record["goals"] == {}
    assert runner._verdict("ingest_ratio", 0.4) == "missed (>= 0.5)"
    assert runner._verdict("ingest_p99_ms", 12.0) == "met (<= 50)"
    assert runner._verdict("first_sync_hours", 3.0) is None


def test_an_unknown_scenario_is_refused():
    result = CliRunner().invoke(main, ["bench", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_drain_posts_three_backlogs_on_one_credential_at_the_limit_shape(tmp_path):
    figures = bench(tmp_path, "drain")
    drain = figures["details"]["drain"]
    assert drain["calls"] > 0 and drain["sales"] > 0
    assert figures["drain_efficiency"] == pytest.approx(
        drain["floor_seconds"] / drain["seconds"], abs=0.01
    )
    assert drain["floor_seconds"] == pytest.approx(
        drain["calls"] / 30 * drain["window_seconds"], abs=0.01
    )


def test_summary_counts_jurnal_calls_per_day_in_both_modes_for_one_month(tmp_path):
    figures = bench(tmp_path, "summary")
    summary = figures["details"]["summary"]
    days = summary["days"]
    for mode, key in (("daily_summary", "summary_calls_per_day"),
                      ("per_sale", "per_sale_calls_per_day")):  # fmt: skip
        assert summary[mode]["calls"] > 0
        assert figures[key] == pytest.approx(summary[mode]["calls"] / days, abs=0.01)
        assert summary[mode]["days_equal_to_the_rupiah"] == days
    assert summary["daily_summary"]["days_equal_to_the_sen"] == days
    assert summary["daily_summary"]["documents"] < summary["per_sale"]["documents"]
