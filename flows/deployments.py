"""The deployments `monitor serve` runs: the ingest flow once per schedule group of config/sources.toml (its
interval or cron), and the daily report. prefect.yaml declares the same for work pools and workers."""

from __future__ import annotations

from datetime import timedelta

from prefect.schedules import Cron, Interval

from flows.ingest import ingest
from flows.maintenance import maintenance_deployment
from flows.report import DAILY_CRON, DAILY_TIMEZONE, report
from monitor import config

# A scheduled ingest that fails is tried again once, a little later: a flaky network at 06:00 should not cost the
# morning's articles. Feed fetches inside it already retry on their own.
INGEST_RETRIES, INGEST_RETRY_DELAY_SECONDS = 1, 120


def ingest_name(group: str) -> str:
    return f"ingest-{group}"


def deployments(cfg: config.Config, config_dir: str | None = None, warehouse_path: str | None = None,
                report_out: str | None = None) -> list:
    """One ingest deployment per schedule group that has sources, plus the daily report."""
    out = []
    flow = ingest.with_options(retries=INGEST_RETRIES, retry_delay_seconds=INGEST_RETRY_DELAY_SECONDS)
    for group, schedule in cfg.sources.schedule.items():
        names = [s.name for s in cfg.sources.source if s.schedule == group]
        if not names:
            continue
        when = (Interval(timedelta(seconds=schedule.seconds)) if schedule.seconds is not None
                else Cron(schedule.cron, timezone=DAILY_TIMEZONE))
        out.append(flow.to_deployment(
            name=ingest_name(group), schedule=when, tags=["monitor", "ingest"],
            parameters={"schedule": group, "config_dir": config_dir, "warehouse_path": warehouse_path},
            description=f"Ingest the {len(names)} sources of schedule group {group!r}"))
    out.append(report.to_deployment(
        name="daily-report", schedule=Cron(DAILY_CRON, timezone=DAILY_TIMEZONE), tags=["monitor", "report"],
        parameters={"out": report_out or str(cfg.root.parent / "reports" / "report.html"),
                    "config_dir": config_dir, "warehouse_path": warehouse_path},
        description="The visual report of the last 28 days"))
    if str(warehouse_path or cfg.warehouse_path()).startswith(config.LAKE_PREFIX):  # a DuckDB file needs no upkeep
        out.append(maintenance_deployment(cfg, config_dir, warehouse_path))
    return out
