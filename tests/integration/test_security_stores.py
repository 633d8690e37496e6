"""Known secrets at rest: after a company is registered, Moka connected, master data and a month
of sales synced through both sandboxes, and the read models brought up to date, none of the Moka
tokens, the Jurnal client secret, the Moka client and webhook secrets or `SAMBUNG_SECRET_KEY`
appears in the bytes of the event store (every SQLite file under the data dir; for PostgreSQL,
every table's rows and the server's data and WAL files), in Redis, or in the log lines.

The answers of the API are checked in `test_gateway_errors`; this covers what is written down,
and every admin page an operator can open (the HTML).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from jobs import sync
from projections.runner import catch_up
from tests.gateway_support import json_lines
from tests.moka_support import WEBHOOK_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def known_secrets(stack) -> dict[str, str]:
    config = stack.container.config
    found = {
        "moka access token": stack.seeded["access_token"],
        "moka refresh token": stack.seeded["refresh_token"],
        "jurnal client secret": "sandbox-jurnal-secret",
        "moka client secret": config.moka_client_secret,
        "moka webhook secret": WEBHOOK_SECRET,
        "SAMBUNG_SECRET_KEY": config.secret_key,
    }
    # The tokens Moka rotated to during the run, if it did.
    with stack.moka.sandbox.lock:
        issued = [*stack.moka.sandbox.tokens, *stack.moka.sandbox.refresh_tokens]
    found.update({f"moka token {n}": token for n, token in enumerate(issued)})
    assert all(found.values()), found
    return found


def forms(secret: str) -> list[bytes]:
    """The secret as bytes a store might hold it in: raw, UTF-16 (SQLite may), base64."""
    raw = secret.encode()
    return [raw, secret.encode("utf-16-le"), base64.b64encode(raw).rstrip(b"=")]


def leaks(haystack: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name, secret in secrets.items() if any(f in haystack for f in forms(secret))]


def files_under(*roots: Path) -> bytes:
    return b"".join(
        p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file()
    )


def redis_contents(connection) -> bytes:
    dump = []
    for key in connection.scan_iter(count=1000):
        dump.append(key)
        kind = connection.type(key)
        if kind == b"string":
            dump.append(connection.get(key) or b"")
        elif kind == b"hash":
            dump += [b for pair in connection.hgetall(key).items() for b in pair]
        elif kind == b"list":
            dump += connection.lrange(key, 0, -1)
        elif kind == b"set":
            dump += list(connection.smembers(key))
        elif kind == b"zset":
            dump += [m for m, _ in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == b"stream":
            dump += [repr(e).encode() for e in connection.xrange(key)]
    return b"\n".join(dump)


def postgres_contents(config) -> tuple[bytes, list[Path]]:
    """Every row of every table, as text, and the server's files for this database and WAL."""
    env = config.postgres
    with psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=int(env.get("POSTGRES_PORT", 5432)),
        user=env.get("POSTGRES_USER") or None,
        dbname=env["POSTGRES_DBNAME"],
        autocommit=True,
    ) as connection:
        tables = connection.execute(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
            "FROM information_schema.tables WHERE table_schema NOT IN "
            "('pg_catalog', 'information_schema')"
        ).fetchall()
        rows = []
        for (table,) in tables:
            rows += [r[0] for r in connection.execute(f"SELECT t::text FROM {table} t")]
        connection.execute("CHECKPOINT")
        data_dir = Path(connection.execute("SHOW data_directory").fetchone()[0])
        oid = connection.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
    assert len(tables) >= 3, tables
    return "\n".join(rows).encode(), [data_dir / "base" / str(oid), data_dir / "pg_wal"]


@pytest.mark.parametrize("chart", ["id"], indirect=True)
def test_no_known_secret_is_written_to_the_stores_or_the_logs(stack, caplog):
    caplog.set_level(logging.DEBUG)
    setting_id: UUID = stack.synced_setting()
    stack.sell(payment_type="cash")
    run = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    counts = sync.run_transactions_sync(stack.container, setting_id, run)
    assert counts["sales"]["synced"] > 0, counts
    catch_up(stack.container)
    secrets = known_secrets(stack)
    config = stack.container.config

    written = files_under(config.data_dir) if config.data_dir.exists() else b""
    if config.uses_postgres:
        rows, server_files = postgres_contents(config)
        assert b"PaymentReceived" in rows or b"payment" in rows.lower()
        assert leaks(rows, secrets) == []
        assert leaks(files_under(*server_files), secrets) == []
    else:
        assert config.sqlite_path.stat().st_size > 10_000
    assert leaks(written, secrets) == []
    assert leaks(redis_contents(stack.container.redis), secrets) == []
    lines = "\n".join(json_lines(caplog.records)).encode()
    assert lines, "the run logged nothing"
    assert leaks(lines, secrets) == []


def test_the_scan_finds_a_secret_that_is_there(tmp_path):
    """The detector itself: a secret written in any of its forms is found."""
    secrets = {"s": "moka-access-Zx81"}
    for n, form in enumerate(forms("moka-access-Zx81")):
        (tmp_path / f"f{n}").write_bytes(b"noise" + form + b"noise")
        assert leaks(files_under(tmp_path), secrets) == ["s"]
        (tmp_path / f"f{n}").unlink()
    assert leaks(files_under(tmp_path), secrets) == []


def test_no_known_secret_appears_in_any_admin_page(sqlite_stack):
    """Every page of the URL map an operator can GET (each language, each CSV export), after a
    real sync, holds none of the known secrets: the forms never echo a stored secret back."""
    import re

    from flask import url_for

    from gateway.app import create_app
    from infra.users import add_user

    stack = sqlite_stack
    setting_id = stack.synced_setting()
    stack.sell(payment_type="cash")
    run_id = stack.container.log.request_run(setting_id, "transactions", "Manual").run_id
    sync.run_transactions_sync(stack.container, setting_id, run_id)
    catch_up(stack.container)
    app = create_app(container=stack.container)
    add_user(stack.container.log, "ops@sambung.test", "kata-sandi-rahasia", admin=True)
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    signed_in = client.post("/login", data={"email": "ops@sambung.test",
                            "password": "kata-sandi-rahasia", "csrf_token": csrf})  # fmt: skip
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
    values = {
        "company_id": [stack.company_id], "connection_id": [stack.connection_id],
        "setting_id": [setting_id], "run_id": [run_id], "outlet_id": [stack.outlet_id],
        "code": ["id", "en"], "what": ["runs", "errors", "reconciliation"], "file_format": ["csv"],
    }  # fmt: skip
    secrets = known_secrets(stack)
    pages = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or "static" in rule.endpoint:
            continue
        urls = [{}]
        for name in rule.arguments:
            urls = [{**u, name: v} for u in urls for v in values[name]]
        for arguments in urls:
            with app.test_request_context():
                url = url_for(rule.endpoint, **arguments)
            answer = client.get(url)
            assert answer.status_code < 500, (url, answer.status_code)
            assert leaks(answer.get_data(), secrets) == [], url
            pages += answer.status_code == 200
    assert pages >= 20, pages  # signed in: the pages themselves, not the sign-in form
