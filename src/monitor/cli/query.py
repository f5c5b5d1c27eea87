"""The commands over the warehouse: `monitor sql`, `search`, `export`, `retag` and `report`. Each opens the
warehouse only for what it does (read-only except retag), so they run beside a flow."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from monitor import warehouse
from monitor.cli.common import WAREHOUSE_OPTION, Failure, QueryFailure, fail_on_domain_errors, jsonable, load_config
from monitor.warehouse import QueryError

FORMATS = ("table", "csv", "json", "parquet")
DATES = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])
# Articles re-tagged per transaction: big enough to amortise the write, small enough to keep memory flat.
RETAG_BATCH = 2_000


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """Rows as a text table, CSV or a JSON array."""
    if fmt == "json":
        return json.dumps([{c: jsonable(v) for c, v in zip(columns, row)} for row in rows], ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[jsonable(v) for v in row] for row in rows])
        return out.getvalue()
    table = Table(*columns, box=box.SIMPLE_HEAD)
    for row in rows:
        table.add_row(*["" if v is None else str(jsonable(v)) for v in row])
    capture = Console(width=200, record=True, file=io.StringIO())
    capture.print(table)
    return capture.export_text()


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value else None


def _existing(ctx: click.Context, warehouse_path: Path | None):
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    warehouse.require(path)
    return cfg, path


@click.command()
@click.argument("query")
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="parquet needs --out.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of the terminal.")
@click.pass_context
@fail_on_domain_errors
def sql(ctx: click.Context, query: str, warehouse_path: Path | None, fmt: str, out: Path | None) -> None:
    """Run SQL against the warehouse, read-only (waits briefly while a flow is loading).

    Example: monitor sql "SELECT * FROM daily_volume WHERE dimension = 'country'" --format csv --out volume.csv
    """
    if fmt == "parquet" and out is None:
        raise Failure("--format parquet writes a file: add --out FILE.parquet")
    if out is not None and not out.parent.is_dir():
        raise Failure(f"--out {out}: the folder {out.parent} does not exist; create it or choose another path")
    path = load_config(ctx).warehouse_path(warehouse_path)
    try:
        if fmt == "parquet":
            rows = warehouse.query_to_parquet(path, query, out)
            click.echo(f"wrote {rows} rows to {out}", err=True)
            return
        columns, rows = warehouse.query(path, query)
    except QueryError as exc:
        raise QueryFailure(str(exc)) from None
    text = render(columns, rows, fmt)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(rows)} rows to {out}", err=True)


@click.command()
@click.argument("query")
@click.option("--since", type=DATES, default=None, help="Only articles published on or after this date.")
@click.option("--country", default=None, help="Only articles that mention this ISO 3166 alpha-2 country.")
@click.option("--topic", default=None, help="Only articles with this IPTC topic (label or medtop: code).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(FORMATS[:3]), default="table", show_default=True)
@click.pass_context
@fail_on_domain_errors
def search(ctx: click.Context, query: str, since: datetime | None, country: str | None, topic: str | None,
           limit: int, warehouse_path: Path | None, fmt: str) -> None:
    """Search titles, captions and bodies: every word must occur (plurals count); "quoted phrases" are exact;
    word* matches any ending. Best matches first.

    Example: monitor search "ceasefire Karabakh" --since 2026-11-01 --country AZ
    """
    from monitor.warehouse.search import search as run_search

    _, path = _existing(ctx, warehouse_path)
    try:
        hits = run_search(path, query, _utc(since), country.upper() if country else None, topic, limit)
    except QueryError as exc:
        raise Failure(str(exc)) from None
    columns = ["score", "published", "source", "title", "snippet", "article_id"]
    rows = [(h.score, h.published, h.source, h.title, h.snippet, h.article_id) for h in hits]
    click.echo(render(columns, rows, fmt), nl=False)


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write day=YYYY-MM-DD/part-0.<format> files into.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--since", type=DATES, default=None, help="Only articles published on or after this date.")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def export(ctx: click.Context, out: Path, fmt: str, since: datetime | None, warehouse_path: Path | None) -> None:
    """Export articles with their countries, regions, topics, captions and story, one folder per day.

    Example: monitor export --out exports/ --format parquet --since 2026-11-01
    """
    from monitor.warehouse.export import export as run_export

    _, path = _existing(ctx, warehouse_path)
    try:
        written = run_export(path, out, fmt, _utc(since))
    except QueryError as exc:
        raise QueryFailure(str(exc)) from None
    click.echo(f"exported {written['rows']} articles over {written['days']} days to {out} ({fmt})")


@click.command()
@click.option("--since", type=DATES, default=None,
              help="Only articles published (or, undated, first seen) on or after this date. Default: all.")
@click.option("--older", is_flag=True,
              help="Only articles whose tags another tagger version wrote (or an unrecorded one): what a rule, "
                   "model or release change left behind. Default: every article.")
@click.option("--tagger-version", "written_by", default=None,
              help="Only articles this tagger version tagged (see: SELECT DISTINCT tagger_version FROM "
                   "article_tagging).")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def retag(ctx: click.Context, since: datetime | None, older: bool, written_by: str | None,
          warehouse_path: Path | None) -> None:
    """Re-tag stored articles with the current rules, taxonomy and model, replacing their tag rows and tagging
    records.

    Example: monitor retag --older --since 2026-11-01
    """
    from monitor.tagging import Tagger, tag_articles

    cfg, path = _existing(ctx, warehouse_path)
    tagger = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)
    totals = {"articles": 0, "countries_changed": 0, "topics_changed": 0, "unsupported_language": 0}
    batches = warehouse.articles_for_tagging(path, _utc(since), RETAG_BATCH,
                                             not_version=tagger.version if older else None, version=written_by)
    for batch in batches:  # tagged as the ingest flow tags: the same stage function, each article in its language
        tags = tag_articles(batch, cfg.regions, cfg.topics, cfg.settings.tagging)
        for key, value in warehouse.replace_tags(path, tags, cfg.topics.taxonomy, cfg.topics.version).items():
            totals[key] += value
    unsupported = totals["unsupported_language"]
    click.echo(f"re-tagged {totals['articles']} articles with {tagger.version}: countries changed in "
               f"{totals['countries_changed']}, top topic changed in {totals['topics_changed']}"
               + (f", {unsupported} in an unsupported language" if unsupported else ""))


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
@click.option("--days", type=click.IntRange(min=1, max=366), default=28, show_default=True,
              help="Days covered, ending with the newest article's day (or --until).")
@click.option("--until", type=DATES, default=None, help="Last day covered (default: the newest article's day).")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def report(ctx: click.Context, out: Path, days: int, until: datetime | None, warehouse_path: Path | None) -> None:
    """Write the visual report: one self-contained HTML page (no network needed to view it) with volume by
    region and topic, countries, top stories, spikes and source health.

    Example: monitor report --out report.html --days 14
    """
    from monitor import report as report_page
    from monitor.warehouse.report import report_data

    _, path = _existing(ctx, warehouse_path)
    data = report_data(path, days, until.date() if until else None)
    try:
        written = report_page.save(report_page.render(data, datetime.now(timezone.utc)), out)
    except OSError as exc:
        raise Failure(f"cannot write {out}: {exc.strerror}; choose another --out") from None
    period = f"{data.first_day} to {data.last_day}" if data.first_day else "no articles yet"
    click.echo(f"wrote {written}: {data.totals.get('articles', 0)} articles, {period}")


COMMANDS = (sql, search, export, retag, report)
