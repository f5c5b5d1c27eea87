"""The commands that change the source registry: remove-source, import-opml, export-opml, backfill; and the local
demo newsroom that the shipped sources.toml points at."""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

import click

from monitor import config as config_mod
from monitor import warehouse
from monitor.cli.common import Failure, fail_on_domain_errors, load_config
from monitor.cli.query import WAREHOUSE_OPTION

log = logging.getLogger(__name__)
err_console = Console(stderr=True)

# Where the shipped config/sources.toml expects the bundled demo newsroom: one port per outlet, so that the
# politeness pause between requests to one host (0.5 s, 43 pages) runs for the three outlets side by side; fixed
# ports, so the sources' URLs are the same from run to run. settings.toml allows exactly these loopback addresses.
LOCAL_NEWSROOM = {"ledger": 8642, "courier": 8643, "review": 8644}
LOCAL_HOST = "http://127.0.0.1"


@contextmanager
def local_newsroom(sources: list[config_mod.Source]) -> Iterator[list[str]]:
    """Serve the bundled demo newsroom while a run polls any of `sources` there (each outlet on its port of
    LOCAL_NEWSROOM); yields the base URLs served. An outlet whose port is taken (a `monitor run` next door serves
    it already) is left to whatever answers there."""
    wanted = {outlet: port for outlet, port in LOCAL_NEWSROOM.items()
              if any(s.url.startswith(f"{LOCAL_HOST}:{port}/") for s in sources)}
    if not wanted:
        yield []
        return
    from monitor.demo.server import serve_directory
    from monitor.demo.site import render_site

    with tempfile.TemporaryDirectory(prefix="monitor-newsroom-") as tmp, ExitStack() as servers:
        bases = []
        for outlet, port in wanted.items():
            root = Path(tmp) / outlet
            render_site(root, f"{LOCAL_HOST}:{port}")  # every outlet's pages, with links to this port
            try:
                bases.append(servers.enter_context(serve_directory(root, port)))
            except OSError as exc:
                log.warning("demo newsroom: port %d is taken (%s); polling whatever answers there", port, exc)
        yield bases


@click.command("remove-source")
@click.argument("name")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def remove_source(ctx: click.Context, name: str, warehouse_path: Path | None) -> None:
    """Retire a source: take it out of config/sources.toml (comments kept) so it is no longer polled, and mark it
    retired in the warehouse, where its articles and history stay. `monitor sources --all` still lists it.

    Example: monitor remove-source oc-media
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    config_mod.remove_source(cfg.root, name)
    kept = warehouse.retire_sources(path, [name]) if warehouse.exists(path) else {}
    history = f"; its {kept[name]} articles stay in {path}" if name in kept else ""
    click.echo(f"removed source {name!r} from {cfg.root / 'sources.toml'}{history}")


@click.command("import-opml")
@click.argument("location")
@click.option("--schedule", default="hourly", show_default=True, help="Schedule group for the imported sources.")
@click.pass_context
@fail_on_domain_errors
def import_opml(ctx: click.Context, location: str, schedule: str) -> None:
    """Add the feeds of an OPML file or URL (a news reader's export) to config/sources.toml.

    Folders become tags; feeds the file repeats or sources.toml already has are skipped and counted; every other
    feed is fetched and parsed as `add-source` does, and those that fail are listed. The file is written once, all
    the working feeds or nothing.

    Example: monitor import-opml ~/Downloads/feedly.opml --schedule daily
    """
    from monitor import fetch
    from monitor.discover import plan_import
    from monitor.opml import OpmlError, parse_opml

    cfg = load_config(ctx)
    if schedule not in cfg.sources.schedule:
        raise Failure(f"unknown schedule {schedule!r}; schedules in sources.toml: "
                      f"{', '.join(sorted(cfg.sources.schedule)) or '(none)'}")
    if location.startswith(("http://", "https://")):
        try:
            status, _, _, content = fetch.fetch_url(cfg.settings.http, location)
        except fetch.TransientFetchError as exc:
            raise Failure(f"cannot fetch the OPML list: {exc}") from None
        if status >= 400:
            raise Failure(f"{location} answered HTTP {status}; check the URL")
    else:
        try:
            content = Path(location).expanduser().read_bytes()
        except OSError as exc:
            raise Failure(f"cannot read {location}: {exc.strerror}") from None
    try:
        listed = parse_opml(content, location)
    except OpmlError as exc:
        raise Failure(str(exc)) from None
    plan = plan_import(cfg.settings.http, listed, list(cfg.sources.source), schedule)
    if plan.sources:
        config_mod.append_sources(cfg.root, list(plan.sources))
    click.echo(f"imported {len(plan.sources)} of {len(listed)} feeds into {cfg.root / 'sources.toml'}; skipped "
               f"{plan.duplicates} listed twice, {plan.known} already configured; {len(plan.failures)} failed"
               + (":" if plan.failures else ""))
    for url, why in plan.failures:
        click.echo(f"  {url}: {why}")
    if plan.failures:
        ctx.exit(1 if not plan.sources else 0)


@click.command("export-opml")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (default: standard output).")
@click.pass_context
@fail_on_domain_errors
def export_opml(ctx: click.Context, out: Path | None) -> None:
    """Write the configured sources as an OPML feed list (first tag as folder, the others as categories).

    Example: monitor export-opml --out sources.opml
    """
    from monitor.opml import OpmlFeed, to_opml

    cfg = load_config(ctx)
    document = to_opml([OpmlFeed(s.url, s.name, s.site, s.language_label, s.tags) for s in cfg.sources.source])
    if out is None:
        click.echo(document.decode("utf-8"), nl=False)
    else:
        out.write_bytes(document)
        click.echo(f"wrote {len(cfg.sources.source)} sources to {out}", err=True)


@click.command()
@click.option("--source", "name", required=True, help="The source to backfill.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="Articles dated on or after this day (YYYY-MM-DD).")
@click.option("--sitemap", "sitemap_url", default=None,
              help="The (archive) sitemap to walk (default: a sitemap source's own, else its site's robots.txt).")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def backfill(ctx: click.Context, name: str, since: datetime, sitemap_url: str | None,
             warehouse_path: Path | None) -> None:
    """Ingest a source's older articles: walk its sitemap (or archive sitemap) for URLs dated since --since, store
    them as the source's entries, and run the ingest flow, which fetches them politely like any other.

    Killed half-way, it is resumed by running it again: the URLs are stored before any is fetched, articles land in
    waves, and what is stored is never fetched or added twice.

    Example: monitor backfill --source oc-media --since 2026-01-01
    """
    from monitor.cli import _print_summary, _run_flow
    from monitor.models import LoadBatch
    from monitor.polling import backfill_entries
    from monitor.sitemap import SitemapError

    cfg = load_config(ctx)
    source = cfg.select_sources([name])[0]
    path = cfg.warehouse_path(warehouse_path)
    warehouse.init(path)
    started = time.monotonic()
    try:
        read, entries = backfill_entries(cfg.settings.http, source, since.replace(tzinfo=timezone.utc),
                                         cfg.settings.sitemaps, sitemap_url)
    except SitemapError as exc:
        raise Failure(str(exc)) from None
    _, rows = warehouse.query(path, "SELECT count(*) FROM entries WHERE list_contains(?, entry_id)",
                              [[e.entry_id for e in entries]])
    stored = rows[0][0]
    # the URLs first, in one transaction: a backfill killed later resumes from them (pending entries come first)
    warehouse.load(path, LoadBatch(run_id=f"backfill-{uuid.uuid4().hex[:8]}", entries=tuple((e, None) for e in entries)))
    err_console.print(f"backfill {name} since {since:%Y-%m-%d}: {len(entries)} URLs in {len(read)} sitemaps, "
                      f"{stored} stored before, {len(entries) - stored} new")
    result = _run_flow(cfg.root, (name,), warehouse_path, ctx.obj["verbose"], since=since.date().isoformat())
    _print_summary(result, time.monotonic() - started)


COMMANDS: list = [remove_source, import_opml, export_opml, backfill]
