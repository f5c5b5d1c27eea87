"""The commands over the warehouse: `monitor sql`, `search`, `export`, `retag` and `report` (`show` is in show.py). Each opens the
warehouse only for what it does (read-only except retag), so they run beside a flow."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from monitor import warehouse
from monitor.cli.common import (
    WAREHOUSE_OPTION, Failure, QueryFailure, existing_warehouse, fail_on_domain_errors, jsonable, load_config)
from monitor.models import Filters, SearchFilters
from monitor.warehouse import QueryError, WarehouseError

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


def _until(value: datetime | None) -> datetime | None:
    """--until as given, or to the end of that day when only a date was given (the whole day counts)."""
    if value is None:
        return None
    value = _utc(value)
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        value = value + timedelta(days=1) - timedelta(microseconds=1)
    return value


def _story_rows(hits) -> list[dict]:
    """Each hit story as a dict, its pickups folded under it."""
    return [{"score": h.score, "published": jsonable(h.published), "source": h.source, "title": h.title,
             "url": h.url, "article_id": h.article_id, "story_id": h.story_id, "snippet": h.snippet,
             "pickups": [{"source": p.source, "url": p.url, "published": jsonable(p.published), "match": p.match,
                          "similarity": p.similarity, "article_id": p.article_id} for p in h.pickups]}
            for h in hits]


def render_stories(stories: list[dict], fmt: str) -> str:
    """Stories as JSON, JSON Lines, CSV (pickups folded into one column) or a table (pickups on lines under their
    story, marked with an arrow)."""
    if fmt == "json":
        return json.dumps(stories, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in stories)
    if fmt == "csv":
        columns = ["score", "published", "source", "title", "url", "article_id", "story_id", "pickups"]
        rows = [tuple(s[c] for c in columns[:-1]) + (" | ".join(f"{p['source']} {p['url']}" for p in s["pickups"]),)
                for s in stories]
        return render(columns, rows, "csv")
    rows = []
    for s in stories:
        rows.append((s["score"], (s["published"] or "")[:16], s["source"], s["title"], s["url"]))
        for p in s["pickups"]:
            how = f"{p['match'] or 'first report'}" + (f" {p['similarity']:.2f}" if p["similarity"] is not None else "")
            rows.append(("", (p["published"] or "")[:16], f"  \u21b3 {p['source']}", f"  pickup ({how})", p["url"]))
    return render(["score", "published", "source", "title", "url"], rows, "table")


def _filter_options(func):
    """The filters `search` (and `watch add`) take; each may be given more than once (any of them matches)."""
    options = [
        click.option("--source", "sources", multiple=True, help="Only this source (its name in sources.toml)."),
        click.option("--language", "languages", multiple=True, help="Only this language: code (de) or name (German)."),
        click.option("--country", "countries", multiple=True,
                     help="Only articles that mention this country: ISO code (DE) or name (Germany)."),
        click.option("--about", "about", multiple=True, help="Only articles about this country (their focus)."),
        click.option("--region", "regions", multiple=True, help="Only articles that mention this region (Europe)."),
        click.option("--topic", "topics", multiple=True,
                     help="Only this IPTC topic: code (medtop:02000000) or label (crime), any case."),
        click.option("--since", type=DATES, default=None, help="Only articles published on or after this date."),
        click.option("--until", type=DATES, default=None, help="Only articles published on or before this date."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def search_filters(since: datetime | None = None, until: datetime | None = None, **values) -> SearchFilters:
    """The command line's filters (--source ... --topic, named as models.Filters' fields) as a search takes them:
    dates in UTC, --until to the end of its day."""
    return Filters(**{k: tuple(v) for k, v in values.items()}).within(_utc(since), _until(until))


@click.command()
@click.argument("query")
@_filter_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Stories shown.")
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "jsonl"]), default="table",
              show_default=True)
@click.pass_context
@fail_on_domain_errors
def search(ctx: click.Context, query: str, limit: int, warehouse_path: Path | None, fmt: str, **filters) -> None:
    """Search titles, captions and bodies, best matches first, one line per story with its pickups under it.

    \b
    Query language (README, "Everyday use"):
      ceasefire talks          both words (any form: "talks" finds "talk")
      "peace talks"            the exact phrase
      elect*                   words that begin so
      -Trump  or  NOT Trump    without the word
      Trump OR Biden           either; AND binds first: a b OR c = (a b) OR c
      (Gaza OR Rafah) -truce   grouping
      source:reuters topic:crime   filters inside the query (as the options below)

    Example: monitor search '(ceasefire OR truce) Karabakh -football' --country Armenia --since 2026-11-01
    """
    from monitor.warehouse.search import find_stories

    _, path = existing_warehouse(ctx, warehouse_path)
    if not query.strip() and not any(filters.values()):
        raise QueryFailure(f"nothing to search for in {query!r}: give words, a \"quoted phrase\" or a filter "
                           "(--country Germany)")
    with warehouse.read_only(path) as con:
        try:
            hits = find_stories(con, query, search_filters(**filters), limit=limit)
        except QueryError as exc:
            raise QueryFailure(str(exc)) from None
    click.echo(render_stories(_story_rows(hits), fmt), nl=False)


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write into (or, unpartitioned, the file: exports/articles.csv).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--partition", type=click.Choice(["day", "none"]), default=None,
              help="day: day=YYYY-MM-DD/part-0.<format> folders; none: one file. Default: day for parquet, none "
                   "for csv.")
@click.option("--since", type=DATES, default=None, help="Only articles published on or after this date.")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def export(ctx: click.Context, out: Path, fmt: str, partition: str | None, since: datetime | None,
           warehouse_path: Path | None) -> None:
    """Export articles with their countries, regions, topics, captions and story: CSV as one file, Parquet as one
    folder per day (either way with --partition).

    Example: monitor export --out exports/ --format parquet --since 2026-11-01
    """
    from monitor.warehouse.export import export as run_export
    from monitor.warehouse.export import written_to

    _, path = existing_warehouse(ctx, warehouse_path)
    try:
        written = run_export(path, out, fmt, _utc(since), partition)
    except QueryError as exc:
        raise QueryFailure(str(exc)) from None
    click.echo(f"exported {written['rows']} articles over {written['days']} days to {written_to(out, fmt, partition)} "
               f"({fmt})")


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

    cfg, path = existing_warehouse(ctx, warehouse_path)
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
@click.option("--digest", is_flag=True, help="The compact variant for an e-mail body: headlines only, no charts.")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def report(ctx: click.Context, out: Path, days: int, until: datetime | None, digest: bool,
           warehouse_path: Path | None) -> None:
    """Write the visual report: one self-contained HTML page (no network needed to view it) with volume by
    region and topic, countries, top stories (linked), headlines per watch, country and topic, what is new since
    the previous report, spikes and source health. --digest writes the compact e-mail variant.

    Example: monitor report --out report.html --days 14
    """
    from monitor import report_page
    from monitor.warehouse.report import record_report, report_data

    cfg, path = existing_warehouse(ctx, warehouse_path)
    kind = "digest" if digest else "report"
    data = report_data(path, days, until.date() if until else None, cfg.watches.watch, kind)
    generated = datetime.now(timezone.utc)
    page = report_page.render_digest(data, generated) if digest else report_page.render(data, generated)
    try:
        written = report_page.save(page, out)
    except OSError as exc:
        raise Failure(f"cannot write {out}: {exc.strerror}; choose another --out") from None
    try:
        record_report(path, kind, data, written, generated)
    except WarehouseError as exc:  # the page is written; only the next one's "new" marks are at stake
        click.echo(f"warning: this {kind} was not recorded, so the next marks as new what this one showed ({exc})",
                   err=True)
    period = f"{data.first_day} to {data.last_day}" if data.first_day else "no articles yet"
    click.echo(f"wrote {written}: {data.totals.get('articles', 0)} articles, {period}")


COMMANDS = (sql, search, export, retag, report)
