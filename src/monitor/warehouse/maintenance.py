"""Upkeep of a DuckLake warehouse (issue 23): every commit is a snapshot and small loads make small files, so a
lake that is never tended grows in files and catalog rows with every run. Four steps, each its own transaction and
each serialised with the loads like any write (warehouse.connection.transaction; compaction is retried on a
conflict instead), so it can run while ingests do:

- flush inlined data: small inserts live in the catalog itself until written out as Parquet;
- merge adjacent files: many small Parquet files of a table become a few larger ones (compaction);
- expire snapshots older than a horizon: time travel before it is given up, and the files only it used are freed;
- clean up old files: freed files are deleted once no reader can still be reading them.

A DuckDB file has none of this (one file, rewritten in place); each step then does nothing and says so.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from monitor.warehouse.connection import _connect, is_lake, retry_conflicts, transaction

log = logging.getLogger(__name__)

CATALOG = "warehouse"  # the name the lake is attached under (connection._open)
LIVE_FILES = f"SELECT count(*) FROM __ducklake_metadata_{CATALOG}.ducklake_data_file WHERE end_snapshot IS NULL"


def _step(path: Path, what: str, sql: str, params: list | None = None) -> list[tuple]:
    if not is_lake(path):
        log.info("%s: not a DuckLake warehouse; nothing to %s", path, what)
        return []
    with _connect(path, read_only=False) as con:
        return transaction(con, path, lambda c: c.execute(sql, params or []).fetchall())


def flush_inlined_data(path: Path) -> int:
    """Write rows kept inline in the catalog out to Parquet files; returns how many rows."""
    return sum(row[2] for row in _step(path, "flush", f"CALL ducklake_flush_inlined_data('{CATALOG}')"))


def merge_adjacent_files(path: Path) -> tuple[int, int]:
    """Compact each table's small Parquet files into larger ones; returns the live data files (before, after)."""
    if not is_lake(path):
        return 0, 0
    with _connect(path, read_only=False) as con:
        before = con.execute(LIVE_FILES).fetchone()[0]
        # alone in its transaction ("Transactions can either make changes OR perform compaction - not both"), so
        # without the lake_writes claim; a load that commits meanwhile makes it conflict, and it is run again
        retry_conflicts(path, lambda: con.execute(f"CALL ducklake_merge_adjacent_files('{CATALOG}')").fetchall())
        return before, con.execute(LIVE_FILES).fetchone()[0]


def expire_snapshots(path: Path, older_than: timedelta) -> int:
    """Forget snapshots older than `older_than` (the newest is always kept); returns how many were expired."""
    cutoff = datetime.now(timezone.utc) - older_than
    return len(_step(path, "expire", f"CALL ducklake_expire_snapshots('{CATALOG}', older_than => ?)", [cutoff]))


def cleanup_old_files(path: Path, older_than: timedelta) -> int:
    """Delete the files no live snapshot uses, once they have been unused for `older_than`; returns how many."""
    cutoff = datetime.now(timezone.utc) - older_than
    return len(_step(path, "clean up", f"CALL ducklake_cleanup_old_files('{CATALOG}', older_than => ?)", [cutoff]))
