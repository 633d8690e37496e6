"""`sambung chaos`, smaller: the embedded stack as separate processes (gateway, three workers,
scheduler) against both sandboxes, under every fault of the full run (Jurnal 5xx, timeouts,
committed-then-dropped writes and the duplicate-check race; duplicated and reordered Moka webhooks
with refunds before their sales and overlapping pulls; workers SIGKILLed every few seconds, Redis
restarted, the gateway SIGKILLed under load). Jurnal's books, counted against Moka's own data,
must be exact: nothing missing, nothing twice, every total to the rupiah, no accepted webhook
lost. The full run (`sambung chaos --sales 1000`, and `--store postgres`) is documented in
SECURITY.md.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bench.chaos import MUST_BE_ZERO, RESULT_KEYS, Options, passed, run_chaos
from sambung.cli import main

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1200)]

SALES = 100


def test_a_small_chaos_run_leaves_jurnals_books_exact():
    lines: list[str] = []
    # A worker killed every 2.5-7.5 s (the CLI: 1.5-4.5 s), to keep `make test` within minutes.
    result = run_chaos(Options(sales=SALES, seed=7, kill_every=5.0), lines.append)
    assert set(RESULT_KEYS) <= set(result), result
    zeros = {key: result[key] for key in MUST_BE_ZERO}
    assert zeros == dict.fromkeys(MUST_BE_ZERO, 0), (zeros, result["examples"], lines)
    assert passed(result)
    # The attack happened: every fault fired, and the count had something to count.
    assert result["worker_kills"] >= 3, result
    assert result["redis_restarts"] == 1 and result["gateway_restarts"] == 1, result
    assert result["store_restarts"] == 0, result  # SQLite: no server to restart
    assert result["expected_documents"] >= 2 * SALES * 0.9, result
    assert result["found"] == result["expected_documents"], result
    assert result["amounts_checked"] >= SALES * 0.9, result
    assert result["webhooks_sent"] >= SALES * 0.6, result
    answers = result["jurnal_answers"]
    assert answers.get("503", 0) > 0 and answers.get("504", 0) > 0, answers
    assert answers.get("dropped", 0) > 0, answers


def test_the_command_refuses_a_soak_it_cannot_run_yet():
    result = CliRunner().invoke(main, ["chaos", "--soak", "5"])
    assert result.exit_code == 2 and "--soak is not implemented yet" in result.output


def test_a_result_with_anything_missing_fails():
    ok = dict.fromkeys(RESULT_KEYS, 0)
    assert passed(ok)
    for key in MUST_BE_ZERO:
        assert not passed({**ok, key: 1}), key
    assert json.loads(json.dumps(ok)) == ok
