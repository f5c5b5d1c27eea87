"""The report flow: read the warehouse's views, render one self-contained HTML page, write it. Scheduled daily by
its deployment in flows/deployments.py; `monitor report` calls the same three functions without Prefect.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from monitor import config, report as report_page
from monitor.warehouse import report as report_queries

task = partial(task, cache_policy=NO_CACHE)  # the warehouse changes under the same parameters
DAILY_CRON = "0 6 * * *"  # 06:00 every day, in the timezone below: the morning's reading
DAILY_TIMEZONE = "UTC"
DEFAULT_DAYS = 28  # four weeks: the spike baseline, and enough days to see a trend


@task(name="read-report-data")
def read_report_data(path: Path, days: int):
    return report_queries.report_data(path, days)


@task(name="render-report")
def render_report(data) -> str:
    return report_page.render(data, datetime.now(timezone.utc))


@task(name="write-report")
def write_report(html: str, out: str) -> str:
    return report_page.save(html, out)


@flow(name="report", log_prints=False)
def report(out: str = "reports/report.html", days: int = DEFAULT_DAYS, warehouse_path: str | None = None,
           config_dir: str | None = None) -> str:
    """Render the report of the last `days` days of the warehouse to `out`; returns the path written."""
    cfg = config.load(config_dir)
    path = cfg.warehouse_path(Path(warehouse_path) if warehouse_path else None)
    return write_report(render_report(read_report_data(path, days)), out)
