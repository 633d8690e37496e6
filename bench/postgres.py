"""A throwaway PostgreSQL server for `--store postgres`: initdb and pg_ctl into the scratch dir,
on a free port, as `tests/postgres_server.py` starts one for the tests (the bench package cannot
import the tests). Unlike the tests' server, this one keeps fsync on: the bench measures a
durable store, as production runs it.

PostgreSQL refuses to run as root, so under root the server runs as the `postgres` system user
through `runuser`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.harness import free_port, wait_until


@dataclass(frozen=True)
class Postgres:
    port: int

    def env(self, dbname: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
        }

    def create_database(self, name: str) -> dict[str, str]:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:  # fmt: skip
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.env(name)


def _bin_dir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    raise RuntimeError("--store postgres needs PostgreSQL's server binaries (initdb, pg_ctl)")


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    bin_dir = _bin_dir()
    as_user: list[str] = []
    # Its own temp dir, not under `root`: the `postgres` user cannot enter root's private dirs.
    home = Path(tempfile.mkdtemp(prefix="sambung-bench-pg-"))
    if os.geteuid() == 0:
        pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8")  # fmt: skip
    except subprocess.CalledProcessError as failed:
        shutil.rmtree(home, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {failed.stderr}") from None
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c max_connections=200"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"),
        "-w", "-t", "60", "start")  # fmt: skip
    try:
        server = Postgres(port)
        wait_until("PostgreSQL", lambda: _answers(server), timeout=30, interval=0.2)
        yield server
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)


def _answers(server: Postgres) -> bool:
    import psycopg

    with contextlib.suppress(psycopg.Error):
        psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                        connect_timeout=2).close()  # fmt: skip
        return True
    return False


@contextlib.contextmanager
def running_postgres() -> Iterator[dict[str, str]]:
    """One database on a throwaway server; its environment."""
    with postgres_server() as server:
        yield server.create_database("bench")
