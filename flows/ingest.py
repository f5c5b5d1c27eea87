"""The ingest flow: feeds -> entries -> pages -> articles -> clusters -> tags -> one load into DuckDB.

Each task (flows/tasks.py) is one call into `monitor`; tasks work on a feed or a chunk of pages, never one article
each. The loop that submits them as work finishes is flows/_ingest_run.py; where CPU-bound stages run is
flows/_execution.py.
Network I/O is separate from parsing, so each can be retried on its own. Only feed fetches retry:
expected failures are values, and a feed that still fails after its retries is recorded, not raised.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from prefect import flow

from flows._execution import runner_named
from flows._ingest_run import IngestRun
from flows.tasks import SUMMARY_ARTIFACT, publish_summary
from monitor import config, planning, warehouse
from monitor.models import RunOptions

__all__ = ["SUMMARY_ARTIFACT", "ingest"]

# Prefect gives the `monitor.*` loggers its run-log handler (extra_loggers) but no level, so they would inherit the
# root's WARNING and the library's INFO lines would never reach the run's log in the UI. An entry point that set
# a level (the CLI, from -v) keeps it.
if logging.getLogger("monitor").level == logging.NOTSET:
    logging.getLogger("monitor").setLevel(logging.INFO)


@flow(name="ingest", log_prints=False)
def ingest(sources: list[str] | None = None, warehouse_path: str | None = None, config_dir: str | None = None,
           force: bool = False, limit: int | None = None, since: str | None = None, dry_run: bool = False,
           schedule: str | None = None, cpu_runner: str | None = "auto") -> dict:
    """Fetch the sources' feeds that are due, extract new articles, deduplicate, tag and load them.

    `force` fetches every chosen feed now, even dead or not yet due ones; `limit` caps the pages fetched in
    this run (the rest stay pending for the next); `since` (an ISO date) leaves entries published before it for a
    later run; `dry_run` does everything but write to the warehouse; `schedule` takes the sources of that
    schedule group of sources.toml (read at run time, so edits need no redeploy); `cpu_runner` says where
    extraction and tagging run: "auto" (worker processes for big runs), "processes", "dask", a Dask scheduler
    address, or "threads" / None (this process's threads). Returns the run's summary.
    """
    started = datetime.now(timezone.utc)
    options = RunOptions(sources=sources, force=force, limit=limit, since=since, dry_run=dry_run, schedule=schedule,
                         cpu_runner=cpu_runner)
    runner_named(cpu_runner)  # an unknown runner fails here, before any work
    planning.parse_since(since)  # and so does a `since` that is not a date
    cfg = config.load(config_dir)
    names = (sources or []) + (cfg.schedule_sources(schedule) if schedule else [])
    chosen = cfg.select_sources(names) if names or not schedule else []  # an empty group runs nothing
    path = cfg.warehouse_path(warehouse_path)
    if dry_run:
        return publish_summary(IngestRun(cfg, chosen, path, started, options).go())
    with warehouse.run_lock(path):  # overlapping runs take turns: the second plans against the first's results
        return publish_summary(IngestRun(cfg, chosen, path, started, options).go())


if __name__ == "__main__":
    print(ingest())
