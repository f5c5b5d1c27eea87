"""The deployments, defined once: the ingest flow once per schedule group of config/sources.toml (its interval or
cron), and the daily report. `monitor serve` serves them (`deployments`); prefect.yaml, for work pools and workers,
is generated from the same definitions (`prefect_yaml`, written by scripts/write_prefect_yaml.py; tests check the
file agrees)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from prefect.schedules import Cron, Interval

from flows.ingest import ingest
from flows.maintenance import maintenance
from flows.report import DAILY_CRON, DAILY_TIMEZONE, report
from monitor import config

# A scheduled ingest that fails is tried again once, a little later: a flaky network at 06:00 should not cost the
# morning's articles. Feed fetches inside it already retry on their own.
INGEST_RETRIES, INGEST_RETRY_DELAY_SECONDS = 1, 120
# Where the daily report is written, relative to the checkout (prefect.yaml) or to config/'s parent (serve).
REPORT_OUT = "reports/report.html"
WORK_POOL = "monitor-pool"  # the pool prefect.yaml's deployments run on (docs/scaling.md)


@dataclass(frozen=True)
class Definition:
    """One deployment: which flow, when, and the parameters the deployment itself fixes."""

    name: str
    entrypoint: str  # file:function, as prefect.yaml names the flow
    description: str
    tags: tuple[str, ...]
    parameters: dict = field(default_factory=dict)
    interval_seconds: int | None = None
    cron: str | None = None  # in DAILY_TIMEZONE


def ingest_name(group: str) -> str:
    return f"ingest-{group}"


def definitions(cfg: config.Config, lake: bool | None = None) -> list[Definition]:
    """One ingest deployment per schedule group that has sources, the daily report, and the lake's maintenance
    when the warehouse is a DuckLake (`lake`; by default, when settings' warehouse is one)."""
    if lake is None:
        lake = str(cfg.warehouse_path()).startswith(config.LAKE_PREFIX)
    out = []
    for group, schedule in cfg.sources.schedule.items():
        if not any(s.schedule == group for s in cfg.sources.source):
            continue
        out.append(Definition(
            name=ingest_name(group), entrypoint="flows/ingest.py:ingest", tags=("monitor", "ingest"),
            # no count of sources: prefect.yaml would go stale with every source added
            description=f"Ingest the sources of schedule group {group!r}", parameters={"schedule": group},
            interval_seconds=schedule.seconds, cron=schedule.cron if schedule.seconds is None else None))
    out.append(Definition(
        name="daily-report", entrypoint="flows/report.py:report", tags=("monitor", "report"),
        description="The visual report of the last 28 days", parameters={"out": REPORT_OUT}, cron=DAILY_CRON))
    if lake:  # a DuckDB file needs no upkeep
        out.append(Definition(
            name="lake-maintenance", entrypoint="flows/maintenance.py:maintenance", tags=("monitor", "maintenance"),
            description="Compact the DuckLake warehouse, expire old snapshots, delete freed files",
            cron=cfg.settings.lake.maintenance_cron))
    return out


def deployments(cfg: config.Config, config_dir: str | None = None, warehouse_path: str | None = None,
                report_out: str | None = None) -> list:
    """The definitions as Prefect deployments for `monitor serve`, with this invocation's paths."""
    flows = {"flows/ingest.py:ingest": ingest.with_options(retries=INGEST_RETRIES,
                                                           retry_delay_seconds=INGEST_RETRY_DELAY_SECONDS),
             "flows/report.py:report": report, "flows/maintenance.py:maintenance": maintenance}
    out = []
    for d in definitions(cfg, lake=str(warehouse_path or cfg.warehouse_path()).startswith(config.LAKE_PREFIX)):
        parameters = {**d.parameters, "config_dir": config_dir, "warehouse_path": warehouse_path}
        if "out" in parameters:
            parameters["out"] = report_out or str(cfg.root.parent / Path(d.parameters["out"]))
        when = (Interval(timedelta(seconds=d.interval_seconds)) if d.interval_seconds is not None
                else Cron(d.cron, timezone=DAILY_TIMEZONE))
        out.append(flows[d.entrypoint].to_deployment(name=d.name, schedule=when, tags=list(d.tags),
                                                     parameters=parameters, description=d.description))
    return out


YAML_HEADER = """\
# Generated from flows/deployments.py by scripts/write_prefect_yaml.py: edit those, not this file (a test checks
# they agree). The deployments `monitor serve` runs, declared for Prefect work pools and workers (docs/scaling.md):
#   prefect work-pool create monitor-pool --type process
#   prefect deploy --all                 # from this folder, with PREFECT_API_URL set
#   prefect worker start --pool monitor-pool   (as many as you like, on any machine with this checkout)
name: monitor
prefect-version: 3.1.0

pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ $MONITOR_HOME }}"  # the checkout on the worker's machine; set MONITOR_HOME there

deployments:
"""


def prefect_yaml(cfg: config.Config) -> str:
    """prefect.yaml's text for the definitions (the paths come from the worker's environment)."""
    blocks = []
    for d in definitions(cfg):
        lines = [f"  - name: {d.name}", f"    entrypoint: {d.entrypoint}", f"    description: {d.description}",
                 f"    tags: [{', '.join(d.tags)}]", "    parameters:"]
        lines += [f"      {key}: {value}" for key, value in d.parameters.items()]
        lines.append("    schedules:")
        if d.interval_seconds is not None:
            lines.append(f"      - interval: {d.interval_seconds}")
        else:
            lines += [f'      - cron: "{d.cron}"', f"        timezone: {DAILY_TIMEZONE}"]
        lines += ["    work_pool:", f"      name: {WORK_POOL}"]
        blocks.append("\n".join(lines) + "\n")
    return YAML_HEADER + "\n".join(blocks)
