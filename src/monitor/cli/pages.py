"""The commands over the page store: `monitor reextract` runs the re-extraction flow over stored pages with the
current extraction code and prints what changed."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from monitor.cli.common import Failure, fail_on_domain_errors, load_config
from monitor.cli.query import DATES, WAREHOUSE_OPTION


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
    from monitor.cli.serve import prefect_api
    from monitor.pagestore import PageStoreError

    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    if not warehouse.exists(path):
        raise Failure(f"no warehouse at {path}; run `monitor run` first, or pass --warehouse")
    if source:
        cfg.select_sources([source])  # an unknown name fails here, before Prefect starts
    flow_log = logging.getLogger("monitor.flows.reextract")
    handler = _ProgressLines()
    with prefect_api(ctx.obj["verbose"], cfg.root):
        from flows.reextract import BATCH_SIZE, reextract as reextract_flow

        flow_log.addHandler(handler)
        flow_log.setLevel(logging.INFO)  # progress records are INFO; without -v they feed only these lines
        flow_log.propagate = ctx.obj["verbose"] > 0
        try:
            result = reextract_flow(warehouse_path=str(path), config_dir=str(cfg.root),
                                    since=since.date().isoformat() if since else None, source=source,
                                    batch_size=batch_size or BATCH_SIZE)
        except PageStoreError as exc:
            raise Failure(str(exc)) from None
        finally:
            flow_log.removeHandler(handler)
            flow_log.propagate = True
    click.echo(result["summary"])


COMMANDS = (reextract,)
