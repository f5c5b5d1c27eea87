"""The commands that change the source registry: remove-source, import-opml, export-opml, backfill; and the local
demo newsroom that the shipped sources.toml points at."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from monitor import config as config_mod
from monitor import warehouse
from monitor.cli.common import fail_on_domain_errors, load_config
from monitor.cli.query import WAREHOUSE_OPTION

log = logging.getLogger(__name__)

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


COMMANDS: list = [remove_source]
