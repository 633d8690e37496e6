"""The `sambung` console script. Each command builds the container, then calls one use case."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from infra import bootstrap

# The scenarios of `sambung bench`, in the order `all` runs them (bench/runner.py).
BENCH_SCENARIOS = (
    "ingest",
    "sync",
    "drain",
    "freshness",
    "catchup",
    "append",
    "read-models",
    "summary",
)


@click.group()
def main() -> None:
    """Sambung keeps Jurnal's books in step with MokaPOS."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="gunicorn worker processes.")  # fmt: skip
@click.option("--access-log", is_flag=True, help="Log each request to stderr.")
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Run the gateway under gunicorn (as `gunicorn wsgi:app` does in production)."""
    from sambung.gateway_server import serve_gateway

    click.echo(f"gateway: http://{host}:{port}")
    serve_gateway(host, port, workers, access_log)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None, help="Worker name (defaults to RQ's).")
def worker(burst: bool, name: str | None) -> None:
    """Run one RQ worker on Sambung's queues; it also keeps the read models current."""
    from infra.jsonlog import configure_logging
    from sambung.worker import run_worker

    configure_logging()
    run_worker(bootstrap.current(), burst=burst, name=name)


@main.command()
def scheduler() -> None:
    """Run the scheduler: daily syncs at each setting's time, and the sweeper."""
    import signal
    import threading

    from infra.jsonlog import configure_logging
    from jobs.scheduler import run_forever

    configure_logging()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_forever(bootstrap.current(), stop)


@main.command()
@click.option("--sandbox", "with_sandbox", is_flag=True, help="Also run the Moka and Jurnal fakes.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--gateway-workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="gunicorn worker processes of the gateway.")  # fmt: skip
@click.option("--moka-port", default=8101, show_default=True, type=int)
@click.option("--jurnal-port", default=8102, show_default=True, type=int)
def up(
    with_sandbox: bool,
    host: str,
    port: int,
    workers: int,
    gateway_workers: int,
    moka_port: int,
    jurnal_port: int,
) -> None:
    """Run the gateway, workers and scheduler as one process tree on the embedded default.

    Ctrl-C or SIGTERM stops every process of the tree, and the embedded Redis too unless another
    process on the same data dir still uses it. So does this process's death without clean-up
    (SIGKILL): see `sambung/supervisor.py`."""
    import os

    from infra.embedded import release_redis
    from sambung.supervisor import Child, ProcessTree, child_env

    container = bootstrap.current()
    embedded = container.config.redis_url is None
    overrides = {
        "REDIS_URL": container.redis_url,
        "SAMBUNG_DATA_DIR": str(container.config.data_dir),
    }
    children = [
        Child(
            "gateway",
            ["serve", "--host", host, "--port", str(port), "--workers", str(gateway_workers)],
        )
    ]
    children += [Child(f"worker-{i + 1}", ["worker"]) for i in range(workers)]
    children.append(Child("scheduler", ["scheduler"]))
    urls = [f"gateway: http://{host}:{port}"]
    if with_sandbox:
        moka_url, jurnal_url = f"http://{host}:{moka_port}", f"http://{host}:{jurnal_port}"
        children.append(
            Child(
                "sandbox",
                ["sandbox", "--host", host, "--moka-port", str(moka_port),
                 "--jurnal-port", str(jurnal_port)],
            )
        )  # fmt: skip
        overrides.setdefault("MOKA_BASE_URL", os.environ.get("MOKA_BASE_URL") or moka_url)
        overrides.setdefault("JURNAL_BASE_URL", os.environ.get("JURNAL_BASE_URL") or jurnal_url)
        urls += [f"moka: {overrides['MOKA_BASE_URL']}", f"jurnal: {overrides['JURNAL_BASE_URL']}"]
    tree = ProcessTree(
        children,
        child_env(overrides),
        redis_data_dir=container.config.data_dir if embedded else None,
    )

    def announce() -> None:
        for line in urls:
            click.echo(line)
        click.echo("Press Ctrl-C to stop.")

    status = 1
    try:
        status = tree.run(ready=announce)
    finally:
        container.close()
        if embedded and not release_redis(container.config.data_dir):
            click.echo("embedded Redis left running: another process still uses it", err=True)
        tree.close()
    raise SystemExit(status)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--moka-port", default=8101, show_default=True, type=int)
@click.option("--jurnal-port", default=8102, show_default=True, type=int)
def sandbox(host: str, moka_port: int, jurnal_port: int) -> None:
    """Run the Moka and Jurnal fakes until Ctrl-C (credentials from SANDBOX_* variables)."""
    from sandbox.server import run_sandboxes

    run_sandboxes(host, moka_port, jurnal_port, announce=lambda line: click.echo(line))


@main.group()
def token() -> None:
    """Bearer tokens of the JSON API."""


@token.command("create")
@click.option("--company", "company_id", type=click.UUID, help="A token for this company only.")
@click.option("--admin", is_flag=True, help="An operator's token (every company).")
def token_create(company_id: UUID | None, admin: bool) -> None:
    """Print a new token. Only its hash is stored: copy it now, it cannot be shown again."""
    from domain.errors import NotFound
    from infra.api_tokens import issue_token

    if admin == (company_id is not None):
        raise click.UsageError("give exactly one of --company ID or --admin")
    try:
        issued = issue_token(bootstrap.current().log, company_id=company_id, admin=admin)
    except NotFound as missing:
        raise click.ClickException(missing.message) from None
    scope = "operator" if admin else f"company {company_id}"
    click.echo(f"token {issued.id} for {scope}", err=True)
    click.echo(issued.token)


@token.command("revoke")
@click.argument("token_id", type=click.UUID)
def token_revoke(token_id: UUID) -> None:
    """Stop a token from working, by the id printed when it was made."""
    from domain.errors import NotFound
    from infra.api_tokens import revoke_token

    try:
        revoke_token(bootstrap.current().log, token_id)
    except NotFound as missing:
        raise click.ClickException(missing.message) from None
    click.echo(f"token {token_id} revoked")


@main.group()
def user() -> None:
    """Users of the admin UI."""


@user.command("add")
@click.argument("email")
@click.option("--company", "company_id", type=click.UUID, help="A user of this company only.")
@click.option("--admin", is_flag=True, help="An operator (every company).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
def user_add(email: str, company_id: UUID | None, admin: bool, password_stdin: bool) -> None:
    """Make a user who signs in to the admin UI with EMAIL and a password."""
    import sys

    from domain.errors import DomainError
    from services import audit
    from services.users import add_person

    if admin == (company_id is not None):
        raise click.UsageError("give exactly one of --admin and --company ID")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with audit.acting_as(audit.cli_actor()):
            made = add_person(
                bootstrap.current(), email, password, company_id=company_id, admin=admin
            )
    except DomainError as refused:
        raise click.ClickException(refused.message) from None
    scope = "an operator" if admin else f"company {company_id}"
    click.echo(f"user {made.email} ({made.user_id}) added for {scope}")


@main.command()
@click.argument("setting_id", type=click.UUID)
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
def history(setting_id: UUID, lang: str, limit: int) -> None:
    """Print a setting's sync history as the admin shows it."""
    from projections.history_text import history_lines
    from projections.runner import catch_up

    container = bootstrap.current()
    catch_up(container)
    for line in history_lines(container.views, setting_id, lang, limit):
        click.echo(line)


@main.command("rebuild-projections")
def rebuild_projections() -> None:
    """Drop the read models and rebuild them from the whole event log."""
    from projections.runner import rebuild

    container = bootstrap.current()
    end = container.log.last_global_position()
    with click.progressbar(length=end, label="Rebuilding read models", show_pos=True) as bar:
        events = rebuild(container, progress=lambda position, _end: bar.update(position - bar.pos))
    click.echo(f"{events} log events projected")


@main.command()
@click.argument("scenario", type=click.Choice(["all", *BENCH_SCENARIOS]))
@click.option("--quick", is_flag=True, help="Smaller sizes; `all --quick` takes minutes.")
@click.option("--json", "as_json", is_flag=True, help="Print only the figures, as JSON.")
@click.option("--store", type=click.Choice(["sqlite", "postgres"]), default="sqlite",
              show_default=True, help="postgres: a throwaway PostgreSQL server.")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where latest.json goes (default bench/results).")  # fmt: skip
@click.option("--tiny", is_flag=True, hidden=True, help="Seconds-long sizes for smoke tests.")
def bench(scenario: str, quick: bool, as_json: bool, store: str, out: Path | None,
          tiny: bool) -> None:  # fmt: skip
    """Run a benchmark scenario (or all) on a throwaway stack; print its figures and write them,
    with the machine's details, to bench/results/latest.json."""
    import json
    import logging

    from bench import runner
    from infra.config import Config

    # The scenarios' by-design failures (deleted products...) would drown the figures.
    logging.basicConfig(level=logging.ERROR)
    say = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    names = list(BENCH_SCENARIOS) if scenario == "all" else [scenario]
    record = runner.run(names, quick=quick, store=store, data_dir=Config.from_env().data_dir,
                        say=say, tiny=tiny, out=out)  # fmt: skip
    if as_json:
        click.echo(json.dumps(record))
        return
    for key, value in record.items():
        if key not in ("details", "machine"):
            click.echo(f"{key}: {value}")


@main.command("bench-bare", hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", required=True, type=int)
@click.option("--workers", default=2, type=click.IntRange(min=1))
def bench_bare(host: str, port: int, workers: int) -> None:
    """The bare Flask endpoint of `bench ingest`, served as `serve` serves the gateway."""

    from bench.bare import create_bare_app
    from sambung.gateway_server import GatewayServer

    class BareServer(GatewayServer):
        def load(self) -> Any:
            return create_bare_app()

    BareServer(host, port, workers).run()


@main.command()
@click.option("--sales", default=1000, show_default=True, type=click.IntRange(min=20))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print only the result, as JSON.")
@click.option("--store", type=click.Choice(["sqlite", "postgres"]), default="sqlite")
@click.option(
    "--soak",
    "soak_minutes",
    default=0.0,
    type=click.FloatRange(min=0),
    help="Instead of N sales at once, a steady trickle for this many minutes, with the peak RSS "
    "of every process at each tenth; memory must stay flat.",
)
@click.option(
    "--rate",
    "soak_rate",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05, max=20),
    help="Sales a second during a soak.",
)
@click.option("--keep", is_flag=True, help="Keep the run's data dir and process logs.")
def chaos(
    sales: int,
    seed: int,
    as_json: bool,
    store: str,
    soak_minutes: float,
    soak_rate: float,
    keep: bool,
) -> None:
    """Run the stack under Jurnal, Moka and process faults, then count Jurnal's books against
    Moka's; exit 1 unless nothing is missing, duplicated, mis-totalled or lost (and, in a soak,
    unless memory stayed flat); 2 if the run could not be carried out."""
    from bench.chaos import ChaosFailed, Options, passed, run_chaos, stop_on_sigterm
    from bench.chaos import as_json as to_json

    say = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    stop_on_sigterm()
    options = Options(sales=sales, seed=seed, store=store, keep=keep,
                      soak_minutes=soak_minutes, soak_rate=soak_rate)  # fmt: skip
    try:
        result = run_chaos(options, say)
    except ChaosFailed as failure:
        click.echo(f"chaos run failed: {failure}", err=True)
        raise SystemExit(2) from None
    click.echo(to_json(result))
    if not passed(result):
        raise SystemExit(1)


@main.group()
def secrets() -> None:
    """Secrets at rest (Moka tokens, Jurnal client secrets)."""


@secrets.command("rotate")
def secrets_rotate() -> None:
    """Re-seal every stored secret with SAMBUNG_SECRET_KEY (old keys in SAMBUNG_OLD_SECRET_KEYS)."""
    from services.secrets import rotate_secrets

    resealed = rotate_secrets(bootstrap.current().log)
    click.echo(f"{resealed} companies and Moka connections re-sealed with the current key")


@main.command("map")
@click.argument("payment_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--setting",
    "setting_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A setting as JSON, with the setting's field names. Without it: no naming, default "
    "customer 'Pelanggan Umum', the company's default accounts, cash to account 1-10001, other "
    "buckets to 1-10002.",
)
def map_payment(payment_file: str, setting_file: str | None) -> None:
    """Print the Jurnal documents the sync would send for one Moka payment.

    PAYMENT_FILE holds a v3 payment, a webhook, or a latest-transactions page with one payment.
    Prints {"documents": [{"kind", "custom_id", "body"}]}; the invoice's Jurnal id and numbers,
    known only once it is posted, appear as placeholders (id 1, number DRY-RUN, line ids 1, 2…).
    Exits 1 when the payment cannot be posted, with the reason under "error".
    """
    import json
    from decimal import Decimal
    from pathlib import Path

    from domain.mapping.errors import MappingError
    from domain.mapping.preview import payment_of, preview
    from domain.mapping.setting import default_setting, setting_from_json

    try:
        raw = json.loads(Path(payment_file).read_text(encoding="utf-8"), parse_float=Decimal)
        payment = payment_of(raw)
        outlet_id = str(payment.get("outlet_id") or "")
        setting = (
            setting_from_json(json.loads(Path(setting_file).read_text(encoding="utf-8")), outlet_id)
            if setting_file is not None
            else default_setting(outlet_id)
        )
    except json.JSONDecodeError as bad:
        raise click.ClickException(f"not JSON: {bad}") from None
    except MappingError as error:
        raise click.ClickException(error.message) from None
    result = preview(payment, setting)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    if "error" in result:
        raise SystemExit(1)


@main.command("sync")
@click.argument("what", type=click.Choice(["master-data", "transactions"]))
@click.argument("setting_id", type=click.UUID)
def sync_command(what: str, setting_id: UUID) -> None:
    """Sync a setting now, in this process, with progress (method Manual)."""
    from domain.log import RunKind, RunMethod
    from infra import queues
    from jobs import sync
    from services import syncing

    container = bootstrap.current()
    with _refused_cleanly():
        if what == "master-data":
            run_id = syncing.record_run(
                container, setting_id, RunKind.MASTER_DATA, RunMethod.MANUAL
            )
            job = sync.run_master_data_sync
        else:
            run_id = syncing.record_run(
                container, setting_id, RunKind.TRANSACTIONS, RunMethod.MANUAL
            )
            job = sync.run_transactions_sync
    with click.progressbar(length=1, label=f"Syncing {what}") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        counts = job(container, setting_id, run_id, progress=progress)
    _print_run(container, run_id, counts)
    queues.wake_poster(container, setting_id)


@main.command("sync-all")
def sync_all() -> None:
    """Ask the workers to sync transactions of every setting whose master data has synced."""
    from services import syncing

    container = bootstrap.current()
    settings = [s for s in container.log.list_settings() if s.master_data_synced]
    run_ids = syncing.request_all_transactions_syncs(container, [s.id for s in settings])
    for setting, run_id in zip(settings, run_ids, strict=True):
        click.echo(f"{setting.name}: run {run_id} queued")


@main.command()
@click.argument("setting_id", type=click.UUID)
@click.option("--failed", "only_failed", is_flag=True, help="Only sales not fully in Jurnal.")
@click.option("--since", default=None, help="Sales made on or after this date (YYYY-MM-DD).")
@click.option("--until", default=None, help="Sales made on or before this date (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Print the documents; send nothing.")
def replay(
    setting_id: UUID, only_failed: bool, since: str | None, until: str | None, dry_run: bool
) -> None:
    """Post a setting's logged sales again, after fixing what made them fail."""
    import json

    from domain.log import RunKind, RunMethod
    from jobs import replay as replaying
    from services import syncing

    container = bootstrap.current()
    params = {"only_failed": only_failed, "since": since, "until": until}
    with _refused_cleanly():
        if dry_run:
            documents = replaying.dry_run(container, setting_id, params)
            click.echo(json.dumps({"documents": documents}, indent=2, default=str))
            return
        run_id = syncing.record_run(
            container, setting_id, RunKind.REPLAY, RunMethod.REPLAY, params=params
        )
    counts = replaying.replay(str(setting_id), str(run_id))
    _print_run(container, run_id, counts)


@main.group()
def setting() -> None:
    """Settings: one Moka outlet into one Jurnal company."""


@setting.command("create")
@click.argument("setting_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--posting-mode",
    type=click.Choice(["per_sale", "daily_summary"]),
    default=None,
    help="per_sale (default): each sale its invoice and payment, keeping each customer and "
    "receipt. daily_summary: a day in a handful of documents, keeping Jurnal's call budget.",
)
def setting_create(setting_file: str, posting_mode: str | None) -> None:
    """Create a setting from SETTING_FILE, a JSON object with the API's setting fields, checked
    as the API checks them (accounts against the company's chart)."""
    import json
    from pathlib import Path

    from marshmallow import ValidationError

    from gateway.schemas import SettingCreateSchema
    from services import audit
    from services.settings import create_setting

    given = json.loads(Path(setting_file).read_text(encoding="utf-8"))
    if posting_mode is not None:
        given["posting_mode"] = posting_mode
    try:
        body = SettingCreateSchema().load(given)
    except ValidationError as invalid:
        raise click.ClickException(json.dumps(invalid.messages)) from None
    with _refused_cleanly(), audit.acting_as(audit.cli_actor()):
        made = create_setting(bootstrap.current(), body)
    click.echo(f"setting {made.id} ({made.name}) created, posting mode {made.posting_mode}")


def _print_run(container: Any, run_id: UUID, counts: dict[str, dict[str, int]]) -> None:
    from projections.queries import format_summary

    run = container.log.get_run(run_id)
    click.echo(f"{run.status.value if run.status else '?'} ({run.method.value}), run {run_id}")
    for line in format_summary(counts):
        click.echo(f"  {line}")
    if run.error:
        click.echo(f"  {run.error}")


@contextlib.contextmanager
def _refused_cleanly() -> Iterator[None]:
    """Domain refusals (unknown setting, master data not synced...) as a message, exit 1."""
    from domain.errors import DomainError

    try:
        yield
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.option("--exit", "exit_after", is_flag=True, help="Stop after printing; status 0 if exact.")
def demo(exit_after: bool) -> None:
    """Seed both sandboxes, sync a month of a café into Jurnal, and show it (see README)."""
    from infra.config import Config
    from sambung.demo import run_demo

    raise SystemExit(run_demo(Config.from_env(), exit_after=exit_after))
