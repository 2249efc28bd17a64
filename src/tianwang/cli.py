"""The one entry point: `tianwang serve | demo | replay | policy … | lists … | tenants …`."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from tianwang.config import Settings, settings_help
from tianwang.errors import TianwangError

console = Console(stderr=True, soft_wrap=True)


def _settings(data_dir: Path | None, db: str | None, state: str | None = None, stream: str | None = None) -> Settings:
    return Settings.from_env(data_dir=data_dir, db=db, state=state, stream=stream)


def _platform(data_dir: Path | None, db: str | None, state: str | None = None, stream: str | None = None, **kw):
    from tianwang.errors import TianwangError
    from tianwang.app import boot

    try:
        rt = boot.open(_settings(data_dir, db, state, stream), **kw)
    except TianwangError as exc:
        raise click.ClickException(str(exc)) from None
    if rt.demo_key:
        click.echo(f"Created tenant `demo`; its API key (shown once): {rt.demo_key}", err=True)
    return rt


data_dir_opt = click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder (TIANWANG_DATA_DIR).")
db_opt = click.option("--db", help="Records database URL, e.g. postgresql://… (TIANWANG_DB); default SQLite.")
tenant_opt = click.option("--tenant", default="demo", show_default=True, help="Tenant id.")
state_opt = click.option("--state", help="Shared window state and change log, redis://host:port/db (TIANWANG_STATE): "
                         "server mode, for several replicas; default: in process.")
stream_opt = click.option("--stream", help="Server mode: the Redis of the decided stream, which carries every stored "
                          "decision to the workers' monitoring cube (TIANWANG_STREAM); default: the --state Redis.")


@click.group(epilog="Settings (environment): " + "; ".join(f"{n} — {h}" for n, _, h in settings_help()))
def main() -> None:
    """tianwang: real-time anti-fraud decisions for consumer-credit lenders."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.umask(0o077)  # the records, checkpoints and keys hold personal data: this user's alone


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@data_dir_opt
@db_opt
@state_opt
@stream_opt
def serve(host: str, port: int, data_dir: Path | None, db: str | None, state: str | None, stream: str | None) -> None:
    """Run the HTTP API on the embedded default, or as one replica of a cluster (--db postgresql://…
    --state redis://… [--stream redis://…]; start `tianwang worker network` beside the replicas)."""
    import uvicorn

    from tianwang.api.app import create_app

    settings = _settings(data_dir, db, state, stream)
    if settings.stream and not settings.state:
        raise click.ClickException("--stream is for server mode: give --state redis://… too (or TIANWANG_STATE)")
    # One process per deployment delivers webhooks and interventions and sweeps ended delays: the
    # embedded server itself, or in server mode the worker.
    rt = _platform(data_dir, db, state, stream, deliver=not settings.state)
    mode = f"replica of {_redacted(settings.state)}" if settings.state else f"data: {rt.settings.data_dir}"
    console.print(f"tianwang listening on http://{host}:{port}  ({mode}, API docs at /docs)")
    uvicorn.run(create_app(platform=rt, owns_platform=True), host=host, port=port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=30)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url.replace("redis://", "redis+x://", 1)).render_as_string(hide_password=True).replace("redis+x://", "redis://", 1)
    except Exception:  # noqa: BLE001
        return url.split("@")[-1]


@main.group()
def worker() -> None:
    """Background workers of server mode."""


@worker.command(name="network")
@data_dir_opt
@db_opt
@state_opt
@stream_opt
def worker_network(data_dir: Path | None, db: str | None, state: str | None, stream: str | None) -> None:
    """Follow the change log and do what the workers of a cluster do: deliver webhooks and
    interventions, release ended delays, keep a copy of every tenant's network, count the decided
    stream into the monitoring cube. Run one, or more: they take turns delivering and share the stream."""
    import signal
    import threading

    settings = _settings(data_dir, db, state, stream)
    if not settings.state:
        raise click.ClickException("the worker is for server mode: give --state redis://… (or TIANWANG_STATE)")
    rt = _platform(data_dir, db, state, stream, deliver=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    stream = f", decided stream on {_redacted(settings.stream)}" if settings.stream else ""
    console.print(f"tianwang worker following {_redacted(settings.state)}{stream}")
    try:
        while not done.wait(5.0):
            pass
    finally:
        rt.close()


@main.command()
@click.option("--customers", default=3000, show_default=True, type=click.IntRange(min=1),
              help="Simulated population.")
@click.option("--seed", default=7, show_default=True, type=int, help="Simulator seed (same seed, same traffic).")
@click.option("--speed", default=1440.0, show_default=True, type=click.FloatRange(min=0),
              help="Simulated seconds per wall-clock second (1440: a day in a minute; 0: as fast as possible).")
@click.option("--forever", is_flag=True, help="Keep streaming further simulated days until Ctrl-C.")
@click.option("--port", default=8765, show_default=True, type=int)
@data_dir_opt
def demo(customers: int, seed: int, speed: float, forever: bool, port: int, data_dir: Path | None) -> None:
    """Start a server on a fresh data folder, stream a simulated day through it live, show what was caught."""
    from tianwang.demo import run_demo

    sys.exit(run_demo(port=port, data_dir=data_dir, customers=customers, seed=seed, speed=speed, forever=forever))


@main.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="Send over HTTP to this server instead of deciding in process.")
@click.option("--api-key", envvar="TIANWANG_API_KEY", help="API key for --url.")
@click.option("--stop-on-error", is_flag=True, help="Stop at the first bad line instead of reporting and skipping it.")
@tenant_opt
@data_dir_opt
@db_opt
def replay(log: Path, url: str | None, api_key: str | None, stop_on_error: bool, tenant: str, data_dir, db) -> None:
    """Send a JSONL event log through the pipeline, with a progress bar and a final table."""
    from tianwang.replay import replay_http, replay_local

    if url:
        if not api_key:
            raise click.UsageError("--url needs --api-key (or TIANWANG_API_KEY)")
        summary = replay_http(log, url=url, api_key=api_key, stop_on_error=stop_on_error, console=console)
    else:
        rt = _platform(data_dir, db, background=False, clock="event")  # a replay ends delays by event time
        try:
            summary = replay_local(rt, log, tenant=tenant, stop_on_error=stop_on_error, console=console)
        finally:
            rt.close()
    summary.print(console)
    sys.exit(1 if summary.bad_lines and stop_on_error else 0)


def _rate(ctx, param, value: str | None) -> float | None:
    from tianwang.sim.feed import parse_rate

    try:
        return None if value is None else parse_rate(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(min=1), help="Honest customers.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(min=1), help="Days simulated.")
@click.option("--seed", default=0, show_default=True, type=int, help="The same seed gives the same file.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (+08:00); default 2026-11-01.")
@click.option("--volume", default=1.0, show_default=True, type=click.FloatRange(min=0), help="Scale every attack's volume.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The event log to write.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]),
              help="The log's format; default by --out's suffix (.parquet: Parquet, else JSONL).")
@click.option("--url", help="Feed the events to this running server (POST /v1/events), with or without --out.")
@click.option("--api-key", envvar="TIANWANG_API_KEY", help="API key for --url.")
@click.option("--rate", callback=_rate, help="Events sent per second or minute with --url: 500/s, 500, 30000/min "
              "(default: as fast as the server answers).")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True),
              help="With --url: also send no event before its simulated time, sped up this many times.")
@click.option("--connections", default=16, show_default=True, type=click.IntRange(min=1),
              help="Concurrent connections with --url.")
def simulate(customers: int, days: int, seed: int, start, volume: float, out: Path | None, fmt: str | None,
             url: str | None, api_key: str | None, rate: float | None, speed: float | None, connections: int) -> None:
    """Write a synthetic lender's events (JSONL or Parquet, each with its ground-truth label), or feed them to a server."""
    from contextlib import ExitStack

    from tianwang.sim import feed as feeding
    from tianwang.sim.run import log_format, open_log, passing, write_events
    from tianwang.sim.run import simulate as generate

    if out is None and url is None:
        raise click.UsageError("give --out (a log to write), --url (a server to feed), or both")
    if fmt and out is None:
        raise click.UsageError("--format is the format of --out: give --out too")
    if url and not api_key:
        raise click.UsageError("--url needs --api-key (or TIANWANG_API_KEY)")
    if not url and (rate or speed):
        raise click.UsageError("--rate and --speed pace the feed to a server: they need --url")
    if url:
        try:
            feeding.check(url.rstrip("/"), api_key)
        except feeding.FeedError as exc:
            raise click.ClickException(str(exc)) from None
    feedback = feeding.LiveFeedback() if url else None
    events = generate(customers, days, seed, start.date() if start else None, volume=volume, feedback=feedback)
    where = [f"{out} ({log_format(out, fmt)})"] if out else []
    if url:
        where.append(f"{url} at " + (f"{rate:,.0f} events/s" if rate else "the server's pace"))
    console.print(f"simulating {customers:,} customers for {days} days (seed {seed}) → {' and '.join(where)}")
    with ExitStack() as stack:
        write = stack.enter_context(open_log(out, fmt)) if out else None
        if not url:
            counts = write_events(events, write)
            Console(soft_wrap=True, width=200).print(_counts_table(counts, out))
            return
        try:
            result = feeding.feed(passing(events, write) if write else events, url=url, api_key=api_key, rate=rate,
                                  speed=speed, connections=connections, feedback=feedback)
        except feeding.FeedError as exc:
            raise click.ClickException(str(exc)) from None
    _print_feed(result)
    sys.exit(1 if result.stopped or result.errors else 0)


def _print_feed(result) -> None:

    show = Console(soft_wrap=True, width=200)
    show.print(result.line())
    show.print(result.table())
    for example in result.examples:
        show.print(f"[red]error[/] {escape(example)}", highlight=False)
    if result.stopped:
        console.print(f"[bold red]stopped[/]: {escape(result.stopped)}")


def _counts_table(counts, out: Path):
    from rich.table import Table

    scenes = sorted({s for s, _ in counts})
    labels = sorted({lb for _, lb in counts}, key=lambda lb: (lb != "normal", lb))
    table = Table(title=f"events by label and scene ({sum(counts.values()):,} in {out})")
    table.add_column("label")
    for s in scenes:
        table.add_column(s, justify="right")
    table.add_column("total", justify="right")
    for lb in labels + ["total"]:
        row = [counts[s, lb] if lb != "total" else sum(v for (s2, _), v in counts.items() if s2 == s) for s in scenes]
        table.add_row(lb, *(f"{v:,}" for v in row), f"{sum(row):,}")
    return table


@main.command()
@click.option("--policy", "policy_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The policy bundle (folder) to evaluate.")
@click.option("--events", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The history: a JSONL event log with ground-truth labels (e.g. from `tianwang simulate`).")
@click.option("--against", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A second bundle, shown beside the first.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
@click.option("--stop-on-error", is_flag=True, help="Stop at the first bad line instead of reporting and skipping it.")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(1, 2),
              help="Policies replayed at once, each in a process of its own (a core and a window state each).")
def backtest(policy_dir: Path, events: Path, against: Path | None, json_out: Path | None, stop_on_error: bool,
             jobs: int) -> None:
    """Evaluate one or two policies point-in-time on a labelled log: catches, false positives, review load, money."""
    from tianwang.backtest import backtest as run_backtest
    from tianwang.backtest_report import print_report

    result = _or_exit(lambda: run_backtest(policy_dir, events, against=against, console=console,
                                           stop_on_error=stop_on_error, jobs=jobs))
    print_report(result, Console(soft_wrap=True, width=max(Console().width, 140)))
    if json_out:
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        console.print(f"figures written to {json_out}")
    sys.exit(1 if result["bad_lines"] and stop_on_error else 0)


@main.group()
def policy() -> None:
    """Validate, publish, diff and roll back policy bundles."""


@policy.command()
@click.argument("folder", type=click.Path(path_type=Path))
def validate(folder: Path) -> None:
    """Parse and compile a bundle; print its summary (exit 1 with the reason if it is invalid)."""
    from tianwang.policy.bundle import load_bundle

    bundle = _or_exit(lambda: load_bundle(folder))
    _print_summary(bundle.summary())


@policy.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--note", default="", help="Why this version (kept in the audit log).")
@click.option("--actor", default="cli", show_default=True)
@tenant_opt
@data_dir_opt
@db_opt
def publish(folder: Path, note: str, actor: str, tenant: str, data_dir, db) -> None:
    """Store a bundle as the tenant's next version and make it live (servers reload it)."""
    from tianwang.policy import versions

    engine = _engine(data_dir, db)
    with engine.begin() as conn:
        version, bundle = _or_exit(lambda: versions.publish_folder(conn, tenant=tenant, folder=folder, actor=actor, note=note))
    console.print(f"[green]published[/] {escape(bundle.name)} as version {version} for tenant {tenant}")
    _print_summary(bundle.summary())
    _print_collect_matches(engine, tenant, bundle)


def _print_collect_matches(engine, tenant: str, bundle) -> None:
    """What each collection rule would have matched among the tenant's stored captured events."""
    from tianwang.collect.preview import count_matches

    if not bundle.collect_rules:
        return
    counts, scanned = count_matches(engine, tenant, list(bundle.collect_rules))
    console.print(f"collection rules against the {scanned:,} captured events stored in the last 7 days:")
    for rule, count in zip(bundle.collect_rules, counts):
        shown = f"{count['matched']:,}" if count["matched"] else "[yellow]none[/]"
        console.print(f"  {rule.name:28} {shown}")


@policy.command()
@click.argument("folder", type=click.Path(path_type=Path))
@tenant_opt
@data_dir_opt
@db_opt
def diff(folder: Path, tenant: str, data_dir, db) -> None:
    """What a bundle changes against the tenant's live version."""
    from tianwang.policy import versions
    from tianwang.policy.bundle import read_files

    engine = _engine(data_dir, db)
    with engine.connect() as conn:
        head = versions.live(conn, tenant=tenant)
    new = _or_exit(lambda: read_files(folder))
    click.echo(versions.diff(head["files"] if head else {}, new), nl=False)


@policy.command()
@click.option("--to", "to", type=int, help="The version to make live again (default: the previous one).")
@click.option("--actor", default="cli", show_default=True)
@tenant_opt
@data_dir_opt
@db_opt
def rollback(to: int | None, actor: str, tenant: str, data_dir, db) -> None:
    """Make an earlier version live again (published as a new version)."""
    from tianwang.policy import versions

    engine = _engine(data_dir, db)
    with engine.begin() as conn:
        new, source = _or_exit(lambda: versions.rollback(conn, tenant=tenant, actor=actor, to=to))
    console.print(f"[green]rolled back[/]: version {new} is version {source}'s policy")


@policy.command(name="versions")
@tenant_opt
@data_dir_opt
@db_opt
def list_versions(tenant: str, data_dir, db) -> None:
    """The tenant's versions, newest first."""
    from tianwang.store import policies as policy_repo

    engine = _engine(data_dir, db)
    with engine.connect() as conn:
        rows = policy_repo.list_versions(conn, tenant=tenant)
    click.echo("version  name  checksum  published  by  note")
    for r in sorted(rows, key=lambda r: -r["version"]):
        click.echo(f"{r['version']}  {r['name']}  {r['checksum'][:12]}  {str(r['published_at'])[:19]}  {r['published_by']}  {r['note'] or ''}")


@main.group(name="lists")
def lists_group() -> None:
    """Black, grey and white lists."""


@lists_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli", show_default=True)
@tenant_opt
@data_dir_opt
@db_opt
def import_lists(file: Path, actor: str, tenant: str, data_dir, db) -> None:
    """Import a CSV (list_type,entity,value,reason[,source][,expires_at]); all lines or none."""
    from tianwang.lists import service

    rt = _platform(data_dir, db, background=False)
    try:
        n = _or_exit(lambda: service.import_csv(live=rt.live, hasher=rt.hasher, tenant=tenant, path=file, actor=actor))
    finally:
        rt.close()
    console.print(f"[green]imported[/] {n} entries for tenant {tenant}")


@main.group()
def tenants() -> None:
    """Tenants (one per lender), their API keys and webhooks."""


@tenants.command(name="create")
@click.argument("tenant_id")
@click.option("--name", required=True)
@data_dir_opt
@db_opt
def create_tenant(tenant_id: str, name: str, data_dir, db) -> None:
    """Create a tenant and print its API key (shown once)."""
    from tianwang.tenants.service import TENANT_ID, create

    if not TENANT_ID.match(tenant_id):
        raise click.BadParameter("lower-case letters, digits, - and _, starting with a letter", param_hint="TENANT_ID")
    engine = _engine(data_dir, db)
    try:
        key = create(db=engine, tenant_id=tenant_id, name=name, actor="cli")
    except TianwangError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(key)


@main.group()
def users() -> None:
    """People who use the console, each with a role (analyst, investigator, admin)."""


@users.command(name="create")
@click.argument("username")
@click.option("--role", type=click.Choice(["analyst", "investigator", "admin"]), required=True)
@click.option("--tenant", default="demo", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@data_dir_opt
@db_opt
def create_user(username: str, role: str, tenant: str, password_stdin: bool, data_dir, db) -> None:
    """Add a console user (the password is asked for, never printed or stored in clear)."""
    import re
    import sys

    from tianwang.console.auth import hash_password, password_problem
    from tianwang.errors import NotFound
    from tianwang.tenants.service import add_user

    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", username):
        raise click.BadParameter("letters, digits and . _ -", param_hint="USERNAME")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    if (problem := password_problem(password)) is not None:
        raise click.BadParameter(problem, param_hint="password")
    engine = _engine(data_dir, db)

    def create() -> None:
        try:
            add_user(db=engine, tenant=tenant, username=username, password_hash=hash_password(password), role=role,
                     actor="cli")
        except NotFound as exc:  # no such tenant: a usage error, not a refused user
            raise click.ClickException(str(exc)) from None

    _or_exit(create)
    click.echo(f"user {username} ({role}) added to tenant {tenant}", err=True)


@tenants.command(name="webhook")
@click.argument("tenant_id")
@click.argument("url", required=False)
@click.option("--secret", help="Signing secret (16 to 128 characters); generated and printed once when not given.")
@click.option("--remove", is_flag=True, help="Remove the tenant's webhook (notifications then wait to be pulled).")
@data_dir_opt
@db_opt
def tenant_webhook(tenant_id: str, url: str | None, secret: str | None, remove: bool, data_dir, db) -> None:
    """Set the URL the tenant's notifications are posted to (signed with a secret), or --remove it."""
    import secrets

    from tianwang.delivery.webhooks import url_problem
    from tianwang.tenants.service import set_webhook

    if remove and (url or secret):
        raise click.UsageError("--remove takes no URL and no --secret")
    if not remove:
        if url is None:
            raise click.UsageError("give the webhook URL, or --remove")
        if (problem := url_problem(url)) is not None:
            raise click.BadParameter(problem, param_hint="URL")
        if secret is not None and not 16 <= len(secret) <= 128:
            raise click.BadParameter("16 to 128 characters", param_hint="--secret")
    new_secret = None if remove else secret or secrets.token_urlsafe(32)
    engine = _engine(data_dir, db)
    _or_exit(lambda: set_webhook(db=engine, tenant_id=tenant_id, url=None if remove else url, secret=new_secret,
                                 actor="cli"))
    if remove:
        click.echo(f"webhook of tenant {tenant_id} removed", err=True)
    elif secret is None:
        click.echo(f"webhook of tenant {tenant_id} set to {url}; its signing secret (shown once):", err=True)
        click.echo(new_secret)
    else:
        click.echo(f"webhook of tenant {tenant_id} set to {url}", err=True)


def _engine(data_dir, db):
    from tianwang.store.db import make_engine, migrate

    settings = _settings(data_dir, db)
    engine = make_engine(settings.db, settings.data_dir)
    migrate(engine)
    return engine


def _or_exit(fn):
    try:
        return fn()
    except (TianwangError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(1)


def _print_summary(summary: dict) -> None:
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
