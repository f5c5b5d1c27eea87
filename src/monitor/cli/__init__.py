"""`monitor`: a thin shell over the library. Parse, call one function, map named errors to exit codes.

The commands live by what they touch: here the runs and sources, `batch` the JSON Lines stage commands, `query`
the commands over the warehouse, `serve` the scheduled side; `common` what they share."""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from monitor import config as config_mod
from monitor import warehouse
from monitor.cli.batch import COMMANDS as BATCH_COMMANDS
from monitor.cli.common import WAREHOUSE_OPTION, Failure, fail_on_domain_errors, load_config, warehouse_option
from monitor.cli.pages import COMMANDS as PAGE_COMMANDS
from monitor.cli.query import COMMANDS as WAREHOUSE_COMMANDS
from monitor.cli.query import render as _render
from monitor.cli.query import report as report_command
from monitor.cli.runs import COMMANDS as RUNS_COMMANDS
from monitor.cli.serve import COMMANDS as SERVE_COMMANDS
from monitor.cli.serve import prefect_api
from monitor.cli.show import COMMANDS as SHOW_COMMANDS
from monitor.cli.sources import COMMANDS as SOURCES_COMMANDS
from monitor.cli.sources import local_newsroom
from monitor.cli.watch import COMMANDS as WATCH_COMMANDS
from monitor.counts import RunCounts
from monitor.warehouse import UNSUPPORTED_LANGUAGE

log = logging.getLogger(__name__)
console = Console()
err_console = Console(stderr=True)

DEMO_QUERIES = [
    ("Countries the demo articles mention most",
     "SELECT country, count(*) AS articles, count(*) FILTER (WHERE is_about) AS about\n"
     "FROM article_countries GROUP BY country ORDER BY articles DESC, country LIMIT 8"),
    ("Stories carried by more than one outlet",
     "SELECT cluster_id, articles, outlets, title FROM story_clusters\n"
     "WHERE articles > 1 ORDER BY articles DESC"),
]


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar=config_mod.ENV_CONFIG_DIR, help="Config directory (default ./config, else the bundled one).")
@click.version_option(package_name="monitor")
@click.pass_context
def cli(ctx: click.Context, verbose: int, config_dir: Path | None) -> None:
    """Media monitoring: feeds -> clean articles and captions -> dedup -> countries, regions, topics -> DuckDB."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("monitor").setLevel(level)  # the flows default it to INFO for their run logs; -v decides here
    ctx.obj = {"config_dir": config_dir, "verbose": verbose}


@cli.command("check-config")
@click.pass_context
@fail_on_domain_errors
def check_config(ctx: click.Context) -> None:
    """Validate config/ and print a summary.

    Example: monitor check-config
    """
    cfg = load_config(ctx)
    console.print(f"config: {cfg.root}")
    console.print(f"sources: {len(cfg.sources.source)} in {len(cfg.sources.schedule)} schedule groups "
                  f"({', '.join(sorted(cfg.sources.schedule))})")
    console.print(f"regions: {len(cfg.regions.m49)} UN M49 regions, {len(cfg.regions.group)} groups")
    console.print(f"topics: {len(cfg.topics.topic)} ({cfg.topics.taxonomy} {cfg.topics.version})")
    console.print(f"warehouse: {cfg.warehouse_path()}")
    console.print("config OK")


def _run_flow(config_dir: Path | None, sources: tuple[str, ...], warehouse_path: Path | None, verbose: int,
              force: bool = False, limit: int | None = None, since: str | None = None, dry_run: bool = False,
              task_runner: str | None = "auto") -> dict:
    """Run the ingest flow in process with a progress bar; returns its summary."""
    with prefect_api(verbose, config_dir):
        from flows.ingest import ingest  # Prefect is imported only by the commands that start flows

        parameters = dict(sources=list(sources) or None, warehouse_path=str(warehouse_path) if warehouse_path else None,
                          config_dir=str(config_dir) if config_dir else None, force=force, limit=limit, since=since,
                          dry_run=dry_run, cpu_runner=task_runner)
        return _with_progress(ingest, parameters, verbose)


def _with_progress(ingest, parameters: dict, verbose: int) -> dict:
    """Call the flow with a progress bar fed by its progress log records."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:>6}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        class _ProgressHandler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                stage, done, total = getattr(record, "progress", (None, 0, 0))
                if stage:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total)
                    bar.update(tasks[stage], completed=done, total=total)

        flow_log = logging.getLogger("monitor.flows.ingest")
        handler = _ProgressHandler()
        flow_log.addHandler(handler)
        flow_log.setLevel(logging.INFO)
        flow_log.propagate = verbose > 0  # progress records feed the bar; print them only with -v
        # A task that fails is either retried or turned into a recorded value (a feed that stays down); an
        # unexpected error still fails the flow and reaches the user. Its traceback is for -v only.
        # The flow's own failure is the one line `fail_on_domain_errors` prints (a full disk printed 50 lines of
        # Prefect's log before it).
        prefect_logs = [logging.getLogger(name) for name in ("prefect.task_runs", "prefect.flow_runs")]
        quiet = _DropBelow(logging.CRITICAL)
        if not verbose:
            for task_log in prefect_logs:
                task_log.addFilter(quiet)
        try:
            return ingest(**parameters)
        finally:
            flow_log.removeHandler(handler)
            flow_log.propagate = True
            for task_log in prefect_logs:
                task_log.removeFilter(quiet)


class _DropBelow(logging.Filter):
    """Drop records below a level, whatever level the logger is later set to."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def _print_summary(result: dict, seconds: float) -> None:
    counts: RunCounts = result["counts"]
    table = Table(title=f"run {result['run_id']} in {seconds:.1f}s -> {result['warehouse']}")
    untagged = counts.count("articles", "untagged", UNSUPPORTED_LANGUAGE)
    keys = ["entries", "new_articles", "duplicates", "pickups", "deferred", "errors"]
    if untagged:  # new articles stored untagged: their language is not covered
        keys.append("untagged")
    # short labels: eight columns fit an 80-column terminal without cutting a header
    labels = {"new_articles": "new", "duplicates": "dupes"}
    for column in ["source", *(labels.get(k, k) for k in keys)]:
        table.add_column(column, justify="left" if column == "source" else "right")
    totals = [0] * len(keys)
    for name in result["sources"]:
        figures = counts.of(name)
        row = [getattr(figures, k) for k in keys]
        totals = [a + b for a, b in zip(totals, row)]
        table.add_row(name, *map(str, row))
    table.add_row("total", *map(str, totals), style="bold")
    console.print(table)
    if untagged:
        console.print(f"untagged: {untagged} new articles are in a language the tagger "
                      "does not read; they are stored with it (SELECT * FROM tagging_coverage)")
    skipped = result.get("skipped") or {}
    if skipped:
        by_reason: dict[str, list[str]] = {}
        for name, reason in sorted(skipped.items()):
            by_reason.setdefault(reason, []).append(name)
        parts = [f"{len(names)} {reason} ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
                 for reason, names in sorted(by_reason.items())]
        console.print(f"skipped feeds: {'; '.join(parts)}; `monitor run --force` fetches them anyway")


@cli.command()
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable). Default: all.")
@WAREHOUSE_OPTION
@click.option("--force", is_flag=True, help="Fetch every chosen feed now, even dead or not yet due ones.")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="Fetch at most this many pages; the rest wait for the next run.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
              default=None, help="Leave entries published before this date (or time, UTC) for a later run.")
@click.option("--dry-run", is_flag=True, help="Fetch, extract, deduplicate and tag, but write nothing.")
@click.option("--retry-rejected", is_flag=True, help="Fetch the chosen sources' rejected pages again now (a 404, a "
              "410, a timeout), instead of when their next attempt is due.")
@click.option("--task-runner", type=str, default=None,
              help="Where extraction and tagging run: 'auto' (default: worker processes from 200 pages), "
                   "'processes', 'threads', 'dask' (a local cluster) or a Dask scheduler address (tcp://host:8786).")
@click.pass_context
@fail_on_domain_errors
def run(ctx: click.Context, sources: tuple[str, ...], warehouse_path: Path | None, force: bool,
        limit: int | None, since: datetime | None, dry_run: bool, retry_rejected: bool, task_runner: str | None) -> None:
    """Run the ingest flow now, in process, and print a summary.

    Feeds that are not due yet (their next check is later) or dead are skipped unless --force.

    Example: monitor run --source bbc-world --warehouse warehouse/monitor.duckdb
    """
    cfg = load_config(ctx)
    chosen = cfg.select_sources(sources)  # fail fast on an unknown name or an unusable warehouse, before Prefect starts
    if task_runner and task_runner not in ("dask", "processes", "auto", "threads") and "://" not in task_runner:
        raise Failure(f"unknown --task-runner {task_runner!r}: use 'processes', 'dask' or a scheduler address such "
                      "as tcp://10.0.0.5:8786")
    task_runner = None if task_runner == "threads" else task_runner or "auto"
    if task_runner and task_runner not in ("processes", "auto"):
        try:
            import prefect_dask  # noqa: F401 - only checking it is installed
        except ImportError:
            raise Failure("--task-runner needs prefect-dask: pip install 'monitor[dask]'") from None
    if retry_rejected and dry_run:
        raise Failure("--retry-rejected marks pages in the warehouse, which --dry-run never writes: drop one of them")
    if not dry_run:
        warehouse.init(cfg.warehouse_path(warehouse_path))
    if retry_rejected:
        due = warehouse.retry_rejected(cfg.warehouse_path(warehouse_path), [s.name for s in chosen])
        err_console.print(f"{due} rejected pages are due again")
    started = time.monotonic()
    with local_newsroom(chosen):  # the shipped sources.toml polls the bundled demo newsroom on 127.0.0.1
        result = _run_flow(cfg.root, sources, warehouse_path, ctx.obj["verbose"], force, limit,
                           since.isoformat() if since else None, dry_run, task_runner)
    _print_summary(result, time.monotonic() - started)
    if dry_run:
        console.print("dry run: nothing was written to the warehouse")


@cli.command()
@warehouse_option(Path("warehouse/demo.duckdb"), "Warehouse file for the demo.", show_default=True)
@click.pass_context
@fail_on_domain_errors
def demo(ctx: click.Context, warehouse_path: Path) -> None:
    """Serve the bundled demo newsroom on 127.0.0.1, ingest it, and show what landed.

    Example: monitor demo --warehouse /tmp/demo.duckdb
    """
    from monitor.demo import prepare
    from monitor.demo.server import serve_directory

    started = time.monotonic()
    warehouse.init(warehouse_path.resolve())  # fail fast, before Prefect starts
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        with serve_directory(site) as base:
            config_dir = prepare(Path(tmp), base)
            console.print(f"demo newsroom serving on {base}")
            # Each demo serves the newsroom afresh, so every feed is fetched: the point is to show the pipeline.
            result = _run_flow(config_dir, (), warehouse_path.resolve(), ctx.obj["verbose"], force=True)
    _print_summary(result, time.monotonic() - started)
    for title, sql in DEMO_QUERIES:
        click.echo(f"\n{title}:\n$ monitor sql \"{' '.join(sql.split())}\" --warehouse {warehouse_path}")
        columns, rows = warehouse.query(warehouse_path.resolve(), sql)
        click.echo(_render(columns, rows, "table"), nl=False)
    page = warehouse_path.with_suffix(".html")
    ctx.invoke(report_command, out=page, days=14, until=None, warehouse_path=warehouse_path)
    click.echo(f"open {page} in a browser for the charts; more queries: docs/queries.md")


SOURCE_COLUMNS = ("source", "health", "last_status", "last_success", "items_per_day", "next_check", "last_error")


@cli.command()
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list retired sources (removed, history kept).")
@click.pass_context
@fail_on_domain_errors
def sources(ctx: click.Context, warehouse_path: Path | None, fmt: str, show_all: bool) -> None:
    """List every configured source with its health: last status, last success, items per day, last error.

    Example: monitor sources --format csv
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    health = warehouse.feed_health(path) if warehouse.exists(path) else {}
    rows = []
    for source in cfg.sources.source:
        row = health.get(source.name) or {"health": "never fetched"}
        rows.append(tuple(source.name if c == "source" else _short(row.get(c)) for c in SOURCE_COLUMNS))
    if show_all and warehouse.exists(path):
        configured = {s.name for s in cfg.sources.source}
        for name, retired_at in sorted(warehouse.retired_sources(path).items()):
            if name not in configured:
                rows.append(tuple(name if c == "source" else f"retired {_short(retired_at)}" if c == "health"
                                  else None for c in SOURCE_COLUMNS))
    click.echo(_render(list(SOURCE_COLUMNS), rows, fmt), nl=False)


def _short(value):
    """Timestamps to the minute in UTC, for a table people read."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return value


@cli.command("add-source")
@click.argument("url")
@click.option("--name", default=None, help="Source name (default: from the site's host).")
@click.option("--schedule", default="hourly", show_default=True, help="Schedule group from sources.toml.")
@click.option("--language", default=None, help="ISO 639-1 code, several (en,fr) or 'multi' (default: the feed's "
              "own, else en).")
@click.option("--country", default=None, help="The outlet's ISO 3166-1 alpha-2 country.")
@click.pass_context
@fail_on_domain_errors
def add_source(ctx: click.Context, url: str, name: str | None, schedule: str, language: str | None,
               country: str | None) -> None:
    """Find the feed of a homepage (or check a feed URL) and append it to config/sources.toml.

    Example: monitor add-source https://oc-media.org --schedule hourly --country GE
    """
    from monitor.discover import DiscoveryError, discover, suggest_name

    cfg = load_config(ctx)
    try:
        found = discover(cfg.settings.http, url, cfg.settings.sitemaps)
    except DiscoveryError as exc:
        raise Failure(str(exc)) from None
    taken = {s.name for s in cfg.sources.source}
    for existing in cfg.sources.source:
        if existing.url == found.url:
            raise Failure(f"{found.url} is already configured as source {existing.name!r}")
    fields = {"name": name or suggest_name(found.url, found.parse.title, taken), "url": found.url, "kind": found.kind,
              "site": found.site, "language": config_mod.parse_languages(language or found.parse.language or "en"),
              "country": country, "schedule": schedule}
    try:
        source = config_mod.Source(**{k: v for k, v in fields.items() if v is not None})
    except ValueError as exc:  # pydantic's ValidationError: a bad --name, --language or --country
        raise Failure(config_mod.format_error(f"cannot add {found.url}", config_mod.Source, exc)) from None
    config_mod.append_source(cfg.root, source)
    click.echo(f"added source {source.name!r}: {source.url} ({len(found.parse.entries)} entries"
               f"{', ' + repr(found.parse.title) if found.parse.title else ''}) to {cfg.root / 'sources.toml'}")


for _command in (*BATCH_COMMANDS, *WAREHOUSE_COMMANDS, *SHOW_COMMANDS, *SERVE_COMMANDS, *RUNS_COMMANDS,
                 *SOURCES_COMMANDS, *WATCH_COMMANDS, *PAGE_COMMANDS):
    cli.add_command(_command)


def main() -> None:
    """Console entry point."""
    cli(prog_name="monitor")


if __name__ == "__main__":
    main()
