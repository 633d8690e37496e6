"""`sambung chaos`, smaller: the embedded stack as separate processes (gateway, three workers,
scheduler) against both sandboxes, under every fault of the full run (Jurnal 5xx, timeouts,
committed-then-dropped writes and the duplicate-check race; duplicated and reordered Moka webhooks
with refunds before their sales and overlapping pulls; workers SIGKILLed every few seconds, Redis
restarted, the gateway SIGKILLed under load; in the PostgreSQL soak, the database server
restarted). Jurnal's books, counted against Moka's own data, must be exact: nothing missing,
nothing twice, every total to the rupiah, no accepted webhook lost. The full run
(`sambung chaos --sales 1000`, and `--store postgres`) is recorded in SECURITY.md.
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from bench.chaos import (
    MUST_BE_ZERO,
    RESULT_KEYS,
    MemorySampler,
    Options,
    _process_table,
    passed,
    run_chaos,
)

SALES = 200


def _assert_exact_books(result, lines):
    assert set(RESULT_KEYS) <= set(result), result
    zeros = {key: result[key] for key in MUST_BE_ZERO}
    assert zeros == dict.fromkeys(MUST_BE_ZERO, 0), (zeros, result["examples"], lines)
    assert result["found"] == result["expected_documents"], result
    # The attack happened: every fault fired, and the count had something to count.
    assert result["worker_kills"] >= 3, result
    assert result["redis_restarts"] == 1 and result["gateway_restarts"] == 1, result
    answers = result["jurnal_answers"]
    assert answers.get("503", 0) > 0 and answers.get("504", 0) > 0, answers


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_small_chaos_run_leaves_jurnals_books_exact():
    lines: list[str] = []
    # A worker killed every 2.5-7.5 s (the CLI: 1.5-4.5 s), to keep `make test` within minutes.
    result = run_chaos(Options(sales=SALES, seed=7, kill_every=5.0), lines.append)
    _assert_exact_books(result, lines)
    assert passed(result)
    assert result["store_restarts"] == 0, result  # SQLite: no server to restart
    assert result["expected_documents"] >= 2 * SALES * 0.9, result
    assert result["amounts_checked"] >= SALES * 0.9, result
    assert result["webhooks_sent"] >= SALES * 0.6, result
    assert result["jurnal_answers"].get("dropped", 0) > 0, result["jurnal_answers"]


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(1200)
def test_a_short_soak_on_postgresql_survives_its_restart_with_flat_memory(postgres_server):
    # `postgres_server` only makes the test skip (or fail in CI) where PostgreSQL is missing:
    # the run starts a server of its own, which it restarts.
    lines: list[str] = []
    result = run_chaos(
        Options(store="postgres", soak_minutes=0.5, soak_rate=1.0, seed=3, kill_every=5.0),
        lines.append,
    )
    _assert_exact_books(result, lines)
    assert result["store_restarts"] == 1, result
    assert result["sales"] >= 30, result
    soak = result["soak"]
    for role in ("gateway", "workers", "scheduler", "redis", "postgres"):
        line = soak["rss_mb_per_tenth"][role]
        assert len(line) == 10 and all(peak > 1 for peak in line), (role, line)
    assert soak["memory_flat"], soak
    assert passed(result)


def test_a_result_with_anything_missing_fails():
    ok = dict.fromkeys(RESULT_KEYS, 0)
    assert passed(ok)
    for key in MUST_BE_ZERO:
        assert not passed({**ok, key: 1}), key
    assert json.loads(json.dumps(ok)) == ok


def test_a_soak_whose_memory_grows_fails():
    sampler = MemorySampler(run=SimpleNamespace(), seconds=60)
    flat = [80.0, 60.0, 61.0, 62.0, 60.5, 40.0, 55.0, 61.0, 65.0, 66.0]  # a restart at 5/10
    sampler.peaks = {role: list(flat) for role in ("gateway", "workers", "scheduler")}
    report = sampler.report()
    assert report["memory_flat"], report
    assert passed({**dict.fromkeys(RESULT_KEYS, 0), "soak": report})
    sampler.peaks["gateway"] = [60.0 + 2 * tenth for tenth in range(10)]  # a slow leak
    report = sampler.report()
    assert not report["memory_flat"] and report["growth"]["gateway"] > 1.1, report
    assert not passed({**dict.fromkeys(RESULT_KEYS, 0), "soak": report})


def test_the_process_table_reads_this_process_and_its_parent():
    table = _process_table()
    parent, group, rss = table[os.getpid()]
    assert parent == os.getppid() and group == os.getpgrp()
    assert 10 * 2**20 < rss < 10 * 2**30  # a Python process holds megabytes, not bytes
