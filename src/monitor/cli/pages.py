"""The commands over the page store: `monitor reextract` runs the re-extraction flow over stored pages with the
current extraction code and prints what changed; `monitor import-warc` loads web archives as articles of a source;
`monitor export-warc` writes the stored pages of a period as one WARC file."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from monitor.cli.common import Failure, fail_on_domain_errors, load_config
from monitor.cli.common import WAREHOUSE_OPTION
from monitor.cli.query import DATES


class _ProgressLines(logging.Handler):
    """The flow's progress records as "reextract: done/total" lines on stderr (a script or a test can follow them)."""

    def emit(self, record: logging.LogRecord) -> None:
        stage, done, total = getattr(record, "progress", (None, 0, 0))
        if stage:
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)


@click.command()
@click.option("--since", type=DATES, default=None,
              help="Only articles published (or, undated, first seen) on or after this date. Default: all.")
@click.option("--source", default=None, help="Only this source's articles. Default: all.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Articles per batch, each swapped into the warehouse in one transaction (default 200).")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def reextract(ctx: click.Context, since: datetime | None, source: str | None, batch_size: int | None,
              warehouse_path: Path | None) -> None:
    """Extract stored pages again with the current code: articles an older extractor made get new bodies, titles,
    dates and captions, changed bodies are compared for duplicates again, and all are re-tagged. Killed, it
    continues where it stopped when run again; run twice, the second run has nothing to do.

    Example: monitor reextract --since 2026-11-01 --source bbc-world
    """
    from monitor import warehouse
    from monitor.warehouse.pages import article_sources

    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    if not warehouse.exists(path):
        raise Failure(f"no warehouse at {path}; run `monitor run` first, or pass --warehouse")
    if source and source not in (known := article_sources(path)):  # fails here, before Prefect starts
        raise Failure(f"no articles of source {source!r} in {path}; sources with articles: "
                      f"{', '.join(sorted(known)) or '(none)'}")
    result = _run(ctx, "reextract", warehouse_path=str(path), config_dir=str(cfg.root),
                  since=since.date().isoformat() if since else None, source=source, batch_size=batch_size)
    click.echo(result["summary"])


def _run(ctx: click.Context, name: str, **parameters) -> dict:
    """Run one flow of flows/reextract.py in process, its progress as lines on stderr; page-store trouble is one
    line."""
    from monitor.cli.serve import prefect_api
    from monitor.pagestore import PageStoreError

    flow_log = logging.getLogger("monitor.flows.reextract")
    handler = _ProgressLines()
    with prefect_api(ctx.obj["verbose"], parameters["config_dir"] and Path(parameters["config_dir"])):
        from flows import reextract as flows

        if parameters.get("batch_size") is None:
            parameters["batch_size"] = flows.BATCH_SIZE
        flow_log.addHandler(handler)
        flow_log.setLevel(logging.INFO)  # progress records are INFO; without -v they feed only these lines
        flow_log.propagate = ctx.obj["verbose"] > 0
        try:
            return getattr(flows, name.replace("-", "_"))(**parameters)
        except PageStoreError as exc:
            raise Failure(str(exc)) from None
        finally:
            flow_log.removeHandler(handler)
            flow_log.propagate = True


@click.command("import-warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="The source name the imported articles carry (any name).")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def import_warc(ctx: click.Context, files: tuple[Path, ...], source: str, warehouse_path: Path | None) -> None:
    """Load the HTML responses of WARC files (for example Common Crawl News) as articles of SOURCE: kept in the
    page store, extracted with their archive's fetch dates, deduplicated and tagged. Other records (requests,
    images, redirects) are counted and skipped.

    Example: monitor import-warc CC-NEWS-20261101.warc.gz --source cc-news
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    result = _run(ctx, "import-warc", files=[str(f) for f in files], source=source, warehouse_path=str(path),
                  config_dir=str(cfg.root), batch_size=None)
    click.echo(result["summary"])


@click.command("export-warc")
@click.option("--since", type=DATES, default=None, help="Articles published on or after this date.")
@click.option("--until", type=DATES, default=None, help="Articles published before this date.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The WARC file to write (gzipped records; name it .warc.gz).")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def export_warc(ctx: click.Context, since: datetime | None, until: datetime | None, out: Path,
                warehouse_path: Path | None) -> None:
    """Write the stored pages of the articles of a period into one WARC file, each dated when it was fetched.

    Example: monitor export-warc --since 2026-11-01 --until 2026-12-01 --out november.warc.gz
    """
    from monitor import pagestore, warehouse
    from monitor.warehouse.pages import page_shas

    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    if not warehouse.exists(path):
        raise Failure(f"no warehouse at {path}; run `monitor run` first, or pass --warehouse")
    root = cfg.settings.pages.store_dir(path)
    shas = page_shas(path, since, until)
    stored = pagestore.index(root)
    found = [stored[sha] for sha in shas if sha in stored]
    try:
        written = pagestore.write_warc(out, pagestore.read_pages(root, found))
    except pagestore.PageStoreError as exc:
        raise Failure(str(exc)) from None
    missing = len(shas) - len(found)
    click.echo(f"wrote {written} pages to {out}" + (f"; {missing} articles' pages are not in the page store "
                                                    f"{root}" if missing else ""))


COMMANDS = (reextract, import_warc, export_warc)
