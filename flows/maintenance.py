"""Lake maintenance as a scheduled flow (issue 23): flush, compact, expire snapshots, delete freed files, on a
DuckLake warehouse, with the horizons in settings' [lake]. Served by `monitor serve` when the warehouse is a lake.
Each task calls one function of monitor.warehouse.maintenance."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from monitor import config
from monitor.warehouse import maintenance as lake

task = partial(task, cache_policy=NO_CACHE)  # the lake changes under the same parameters


@task(name="flush-inlined-data")
def flush(path: Path) -> int:
    return lake.flush_inlined_data(path)


@task(name="merge-adjacent-files")
def merge(path: Path) -> tuple[int, int]:
    return lake.merge_adjacent_files(path)


@task(name="expire-snapshots")
def expire(path: Path, days: float) -> int:
    return lake.expire_snapshots(path, timedelta(days=days))


@task(name="cleanup-old-files")
def cleanup(path: Path, days: float) -> int:
    return lake.cleanup_old_files(path, timedelta(days=days))


@flow(name="lake-maintenance", log_prints=False)
def maintenance(warehouse_path: str | None = None, config_dir: str | None = None) -> dict:
    """Tend the lake; returns what each step did."""
    cfg = config.load(config_dir)
    path = cfg.warehouse_path(Path(warehouse_path) if warehouse_path else None)
    settings = cfg.settings.lake
    flushed = flush(path)
    files_before, files_after = merge(path)
    expired = expire(path, settings.expire_snapshots_days)  # after the merge: the files it replaced are freed
    removed = cleanup(path, settings.cleanup_files_days)
    return {"rows_flushed": flushed, "files_before": files_before, "files_after": files_after,
            "snapshots_expired": expired, "files_deleted": removed}

