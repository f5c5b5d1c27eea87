"""The report flow: read the warehouse's views, render one self-contained HTML page (or its e-mail digest), write
it, and note the report run so the next one marks what is new. Scheduled daily by its deployment in
flows/deployments.py; `monitor report` calls the same functions without Prefect.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from monitor import config, report_page
from monitor.warehouse.report import record_report, report_data

task = partial(task, cache_policy=NO_CACHE)  # the warehouse changes under the same parameters
DAILY_CRON = "0 6 * * *"  # 06:00 every day, in the timezone below: the morning's reading
DAILY_TIMEZONE = "UTC"
DEFAULT_DAYS = 28  # four weeks: the spike baseline, and enough days to see a trend


@task(name="read-report-data")
def read_report_data(path: Path, days: int, watches: dict, kind: str):
    return report_data(path, days, watches=watches, kind=kind)


@task(name="render-report")
def render_report(data, digest: bool) -> str:
    return (report_page.render_digest if digest else report_page.render)(data, datetime.now(timezone.utc))


@task(name="write-report")
def write_report(html: str, out: str) -> str:
    return report_page.save(html, out)


@task(name="record-report")
def note_report_run(path: Path, kind: str, data, out: str) -> None:
    record_report(path, kind, data, out, datetime.now(timezone.utc))


@flow(name="report", log_prints=False)
def report(out: str = "reports/report.html", days: int = DEFAULT_DAYS, warehouse_path: str | None = None,
           config_dir: str | None = None, digest: bool = False) -> str:
    """Render the report of the last `days` days of the warehouse to `out` (`digest`: the compact e-mail variant);
    returns the path written."""
    cfg = config.load(config_dir)
    path = cfg.warehouse_path(Path(warehouse_path) if warehouse_path else None)
    kind = "digest" if digest else "report"
    data = read_report_data(path, days, cfg.watches.watch, kind)
    written = write_report(render_report(data, digest), out)
    note_report_run(path, kind, data, written)
    return written

