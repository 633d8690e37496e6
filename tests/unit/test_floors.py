"""The floors hold, read from the import graph of the source tree (with `ast`, importing nothing).

Imports only go downwards along one ladder, top to bottom:

    sambung (the shell) > gateway > jobs > services > projections > infra > clients > domain

so each room may import the rooms below it and none above. `sambung/` is imported by no room
but `wsgi.py` and the tests. Beside the ladder, `sandbox/` imports only `domain`, and `bench/`
imports nothing above `jobs` (it runs syncs in its own process, as the CLI does, and the
sandbox), so neither the gateway nor the shell."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Top to bottom: a room may import only rooms after it.
LADDER = ("sambung", "gateway", "jobs", "services", "projections", "infra", "clients", "domain")
ROOMS = (*LADDER, "sandbox", "bench")
SKIPPED = {".venv", ".git", "tests", "build", "dist"}


def source_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every application module under `root` by dotted name (`infra.eventlog`), tests excluded."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED & set(relative.parts) or relative.parts[0].endswith(".egg-info"):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_modules(module: str, path: Path) -> set[str]:
    """The absolute names a module imports, at any depth (imports inside functions count)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def room_of(name: str) -> str:
    return name.split(".")[0]


def offences(importer_rooms: set[str], forbidden: set[str], root: Path = ROOT) -> list[str]:
    found = []
    for module, path in source_modules(root).items():
        if room_of(module) not in importer_rooms:
            continue
        for name in sorted(imported_modules(module, path)):
            if room_of(name) in forbidden and room_of(name) != room_of(module):
                found.append(f"{module} ({path.relative_to(root)}) imports {name}")
    return found


def test_the_tree_is_read() -> None:
    """The walk finds the modules the rules speak of, so an empty graph cannot pass."""
    modules = source_modules()
    assert {"wsgi", "sambung.cli", "infra.eventlog", "infra.bootstrap", "domain.settings"} <= set(
        modules
    )
    assert "infra.config" in imported_modules("infra.eventlog", modules["infra.eventlog"])
    assert {"gateway.app", "gateway.app.create_app"} <= imported_modules("wsgi", modules["wsgi"])


def above(room: str) -> set[str]:
    return set(LADDER[: LADDER.index(room)])


@pytest.mark.parametrize(
    ("importers", "forbidden"),
    [
        # The shell sits on top: below it, nothing imports it (wsgi.py and tests are the
        # entry points that may).
        (set(ROOMS) - {"sambung"}, {"sambung"}),
        *[({room}, above(room)) for room in LADDER[1:]],
        # The fakes stand in for the outside world: they share only the domain's arithmetic.
        ({"sandbox"}, set(ROOMS) - {"sandbox", "domain"}),
        ({"bench"}, above("jobs")),
    ],
    ids=[
        "nothing-below-imports-the-shell",
        *[f"{room}-imports-nothing-above-it" for room in LADDER[1:]],
        "sandbox-imports-only-domain",
        "bench-imports-nothing-above-jobs",
    ],
)
def test_floor_rule(importers: set[str], forbidden: set[str]) -> None:
    found = offences(importers, forbidden)
    assert not found, "imports that break the floors:\n" + "\n".join(found)


def test_the_ladder_names_every_room_of_the_tree() -> None:
    """A new top-level package must take a place in the rules, or it would escape them."""
    packages = {name for name in source_modules() if "." not in name} - {"wsgi"}
    assert packages <= set(ROOMS)


def test_a_breach_fails_naming_the_module(tmp_path: Path) -> None:
    """On a tree that breaks the rules, the check names each offending module and what it
    imports, including imports inside functions and relative ones."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "__init__.py").write_text("")
    (tmp_path / "infra" / "eventlog.py").write_text(
        "import domain.log\n\ndef f():\n    from ..jobs import sync\n"
    )
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "sync.py").write_text("from sambung import cli\nimport infra.eventlog\n")
    assert offences({"infra"}, {"jobs", "sambung"}, tmp_path) == [
        "infra.eventlog (infra/eventlog.py) imports jobs",
        "infra.eventlog (infra/eventlog.py) imports jobs.sync",
    ]
    assert offences({"jobs"}, {"sambung"}, tmp_path) == [
        "jobs.sync (jobs/sync.py) imports sambung",
        "jobs.sync (jobs/sync.py) imports sambung.cli",
    ]


def test_the_read_models_take_their_store_not_the_container() -> None:
    """Only the projections' runner is handed the container; the views and the queries are
    passed the store they read (`infra.readmodels`), so nothing else of the container leaks in."""
    found = [
        f"{module} imports {name}"
        for module, path in source_modules().items()
        if room_of(module) == "projections" and module != "projections.runner"
        for name in sorted(imported_modules(module, path))
        if name.startswith("infra.bootstrap")
    ]
    assert "infra.bootstrap" in imported_modules(
        "projections.runner", source_modules()["projections.runner"]
    )
    assert not found, "\n".join(found)


def test_only_infra_queues_names_the_job_functions() -> None:
    """Work is put on a queue by the job's dotted name, and those names are spelled in one
    place, so that renaming a job cannot leave a caller enqueueing a name that is gone."""
    spelled = {
        module
        for module, path in source_modules().items()
        if room_of(module) in set(LADDER) - {"jobs"} and '"jobs.' in path.read_text()
    }
    assert spelled == {"infra.queues"}
