"""The files in `deploy/` stay in step with the code: the commands they run exist in the CLI with
the options they pass, the environment they set is read by the code, the compose file parses,
the Docker image holds every package, and gunicorn's `wsgi:app` loads."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from eventsourcing.postgres import PostgresFactory

from infra.config import Config
from sambung.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# Where the code reads its environment: the application, not the tests.
SOURCES = (
    "sambung",
    "infra",
    "services",
    "gateway",
    "jobs",
    "projections",
    "clients",
    "domain",
    "wsgi.py",
)
# An environment variable's name as the code spells it: a string literal.
NAME = re.compile(r"[\"']([A-Z][A-Z0-9]*_[A-Z0-9_]+)[\"']")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def sambung_services() -> dict[str, dict[str, Any]]:
    """The services that run Sambung's image (not PostgreSQL, Redis or the proxy)."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("sambung")
    }


def commands() -> list[tuple[str, list[str]]]:
    """Every command line the deploy files run: (where, argv)."""
    found = [(f"compose {name}", list(s["command"])) for name, s in sambung_services().items()]
    for unit in UNITS:
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                found.append((unit.name, shlex.split(line.removeprefix("ExecStart="))))
    return found


def program(argv: list[str]) -> str:
    return Path(argv[0]).name


def resolve(argv: list[str]) -> click.Command:
    """Walk the click groups as `sambung ARGV` would, and parse the command's options."""
    command: click.Command = cli
    args = list(argv)
    while isinstance(command, click.Group):
        assert args, f"`sambung {shlex.join(argv)}` names no command"
        name, args = args[0], args[1:]
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"`sambung {shlex.join(argv)}`: no command {name!r}"
        command = found
    command.make_context(command.name, args)  # raises on an unknown option or a bad value
    return command


def environment_names() -> dict[str, set[str]]:
    """The variables each file sets for Sambung's processes."""
    example = set()
    for line in (DEPLOY / "sambung.env.example").read_text().splitlines():
        assignment = re.match(r"#?\s*([A-Z][A-Z0-9_]*)=", line.strip())
        if assignment:
            example.add(assignment[1])
    in_compose = {name for s in sambung_services().values() for name in s.get("environment", {})}
    return {"sambung.env.example": example, "compose.yaml": in_compose}


def names_in_code() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else path.rglob("*.py"):
            found |= set(NAME.findall(file.read_text()))
    return found


def names_eventsourcing_reads() -> set[str]:
    """PostgreSQL settings the `eventsourcing` library reads from the environment itself, less
    the ones Sambung sets explicitly (which would override the environment's)."""
    library = {
        getattr(PostgresFactory, attribute)
        for attribute in dir(PostgresFactory)
        if attribute.startswith("POSTGRES_")
    }
    assert "POSTGRES_CONNECT_TIMEOUT" in library
    postgres = {"POSTGRES_DBNAME": "db", "POSTGRES_HOST": "host"}
    fixed = Config.from_env({"PERSISTENCE_MODULE": "eventsourcing.postgres", **postgres})
    return library - set(fixed.event_store_env())


@pytest.mark.parametrize(
    "where, argv",
    [c for c in commands() if program(c[1]) == "sambung"],
    ids=lambda value: value if isinstance(value, str) else shlex.join(value),
)
def test_each_sambung_command_exists_with_the_options_given(where: str, argv: list[str]) -> None:
    resolve(argv[1:])


def test_the_deploy_files_run_every_part_and_only_known_programs() -> None:
    run = commands()
    assert {program(argv) for _, argv in run} == {"sambung", "gunicorn"}, run
    parts = {argv[1] for _, argv in run if program(argv) == "sambung"}
    assert parts == {"worker", "scheduler"}
    assert {where.split()[0] for where, _ in run} == {"compose"} | {u.name for u in UNITS}


def test_the_systemd_units_share_the_environment_file() -> None:
    for unit in UNITS:
        assert "EnvironmentFile=/etc/sambung/sambung.env" in unit.read_text(), unit.name


def test_gunicorn_serves_the_wsgi_app_target() -> None:
    targets = [argv[-1] for _, argv in commands() if program(argv) == "gunicorn"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    targets += re.findall(r'"(\w+:\w+)"\]\s*$', dockerfile, re.MULTILINE)
    assert targets and set(targets) == {"wsgi:app"}, targets


def test_gunicorn_loads_wsgi_app() -> None:
    """As gunicorn does, in a fresh process with nothing configured: importing the target builds
    the app without touching any service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBUNG_", "REDIS_"))}
    env["SAMBUNG_DATA_DIR"] = "/nonexistent/sambung"  # nothing may be written at import
    loaded = subprocess.run(
        [sys.executable, "-c",
         "from gunicorn.util import import_app; print(type(import_app('wsgi:app')).__name__)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "Flask"


@pytest.mark.parametrize("where", ["sambung.env.example", "compose.yaml"])
def test_every_variable_set_is_one_the_code_reads(where: str) -> None:
    names = environment_names()[where]
    assert names, where
    unread = names - names_in_code() - names_eventsourcing_reads()
    assert not unread, f"{where} sets variables nothing reads: {sorted(unread)}"


def test_the_example_names_every_variable_the_configuration_reads() -> None:
    config_source = (ROOT / "infra" / "config.py").read_text()
    read = set(re.findall(r'env(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', config_source))
    read |= set(
        re.findall(r'_(?:positive_\w+|whole_number)\(\s*env, "([A-Z][A-Z0-9_]+)"', config_source)
    )
    assert {
        "SAMBUNG_SECRET_KEY",
        "REDIS_URL",
        "JURNAL_SETTLE_MS",
        "JURNAL_RATE_WINDOW_SECONDS",
        "JURNAL_IP_RATE_LIMIT_PER_MINUTE",
        "SAMBUNG_LIVE_PULL_SECONDS",
    } <= read  # the regexes work
    read.discard("POSTGRES_SCHEMA")  # optional: the default schema serves
    missing = read - environment_names()["sambung.env.example"]
    assert not missing, f"sambung.env.example lacks {sorted(missing)}"


def test_the_compose_file_parses_and_wires_the_parts() -> None:
    document = compose()
    services = document["services"]
    assert {"postgres", "redis", "gateway", "worker", "scheduler", "proxy"} <= set(services)
    assert services["scheduler"]["deploy"]["replicas"] == 1
    for name, service in sambung_services().items():
        environment = service["environment"]
        assert environment["PERSISTENCE_MODULE"] == "eventsourcing.postgres", name
        assert environment["POSTGRES_HOST"] == "postgres", name
        assert environment["REDIS_URL"].startswith("redis://redis:"), name
        assert service["env_file"] == "sambung.env", name
    assert (DEPLOY / "sambung.env.example").exists()
    # The database the postgres service creates is the one Sambung opens.
    postgres = services["postgres"]["environment"]
    sambung = services["gateway"]["environment"]
    assert postgres["POSTGRES_DB"] == sambung["POSTGRES_DBNAME"]
    assert postgres["POSTGRES_USER"] == sambung["POSTGRES_USER"]
    assert postgres["POSTGRES_PASSWORD"] == sambung["POSTGRES_PASSWORD"]


def test_the_image_holds_every_package_the_project_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\S+) ", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied, packages - copied
    assert "wsgi.py" in copied


def test_secrets_written_from_the_examples_are_not_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "deploy/sambung.env", "deploy/.env"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ignored.stdout.split() == ["deploy/sambung.env", "deploy/.env"], ignored
