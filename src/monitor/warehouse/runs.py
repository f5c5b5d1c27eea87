"""A run's own rows: `runs` (when, status, parameters, seconds per stage), its counted outcomes in `run_outcomes` and
each source's figures in `run_sources` (migration 012), written in the run's last transaction and read back as the
typed records they were made from (counts.RunCounts)."""

from __future__ import annotations

import json
from dataclasses import astuple, fields
from pathlib import Path

import duckdb

from monitor.counts import Outcome, RunCounts, SourceCounts
from monitor.models import RunRecord
from monitor.warehouse.connection import exists, read_only

# run_sources' columns after run_id: SourceCounts' fields, in order (the migration creates them so)
_SOURCE_FIELDS = [f.name for f in fields(SourceCounts)]


def write_run(con: duckdb.DuckDBPyConnection, run: RunRecord, stage_seconds: dict[str, float]) -> None:
    """The run's row and its counts, once: a run recorded already (a retried last batch) keeps its first rows."""
    if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run.run_id]).fetchone():
        return
    con.execute(
        """INSERT INTO runs (run_id, flow_run_id, started_at, finished_at, status, sources, stage_seconds, parameters)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [run.run_id, run.flow_run_id, run.started_at, run.finished_at, run.status, list(run.sources),
         json.dumps(stage_seconds), json.dumps(run.parameters, sort_keys=True, default=str)])
    if run.counts.outcomes:
        con.executemany("INSERT INTO run_outcomes (run_id, stage, kind, reason, n) VALUES (?, ?, ?, ?, ?)",
                        [[run.run_id, o.stage, o.kind, o.reason, o.n] for o in run.counts.outcomes])
    if run.counts.sources:
        con.executemany(f"INSERT INTO run_sources (run_id, {', '.join(_SOURCE_FIELDS)}) "
                        f"VALUES (?, {', '.join('?' * len(_SOURCE_FIELDS))})",
                        [[run.run_id, *astuple(s)] for s in run.counts.sources])


def stored_runs(path: Path, flow_run_ids: list[str]) -> dict[str, tuple[RunCounts, dict[str, float]]]:
    """(counts, seconds per stage) of the runs these flow runs recorded, by flow run id; {} without a warehouse."""
    if not flow_run_ids or not exists(path):
        return {}
    with read_only(path) as con:
        rows = con.execute("SELECT run_id, flow_run_id, stage_seconds FROM runs WHERE list_contains(?, flow_run_id)",
                           [flow_run_ids]).fetchall()
        counts = run_counts(con, [run_id for run_id, _, _ in rows])
    return {flow_run_id: (counts[run_id], json.loads(stages or "{}")) for run_id, flow_run_id, stages in rows}


def run_counts(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> dict[str, RunCounts]:
    """The counts of these runs, by run id (empty counts for a run that counted nothing)."""
    outcomes: dict[str, list[Outcome]] = {run_id: [] for run_id in run_ids}
    sources: dict[str, list[SourceCounts]] = {run_id: [] for run_id in run_ids}
    for run_id, stage, kind, reason, n in con.execute(
            "SELECT run_id, stage, kind, reason, n FROM run_outcomes WHERE list_contains(?, run_id) ORDER BY ALL",
            [run_ids]).fetchall():
        outcomes[run_id].append(Outcome(stage, kind, n, reason))
    for run_id, *figures in con.execute(
            f"SELECT run_id, {', '.join(_SOURCE_FIELDS)} FROM run_sources WHERE list_contains(?, run_id) "
            "ORDER BY run_id, source", [run_ids]).fetchall():
        sources[run_id].append(SourceCounts(*figures))
    return {run_id: RunCounts(tuple(outcomes[run_id]), tuple(sources[run_id])) for run_id in run_ids}
