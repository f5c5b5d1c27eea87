"""Ingest by process workers of a Prefect work pool (issue 23), as docs/scaling.md prescribes it: `prefect deploy
--all` from this checkout's prefect.yaml, two `prefect worker start --pool monitor-pool` processes, a Prefect server
whose database is in Postgres (tests/pg.py), and overlapping ingest runs triggered at once, all writing one DuckLake
warehouse whose catalog is in Postgres. Nothing may be lost or doubled, and every process ends with the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.cli.serve import LocalServer
from tests.test_postgres import SAME, child_env, newsroom, pg, rows, use_lake, wait_for  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]
POOL = "monitor-pool"  # the pool prefect.yaml names
WORKERS = 2
TRIGGERED = 3  # ingest runs started at once: more than the workers, so each worker takes at least one
RUNS_TIMEOUT = 600  # seconds for the runs to finish: each is a new process that imports everything, on 2 shared cores


def _run(args: list[str], env: dict, timeout: float = 240) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def _stop(process: subprocess.Popen) -> None:
    """End a worker and everything it started (its flow-run processes are in its process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # flow-run processes left behind by the worker's exit
    except ProcessLookupError:
        pass


@pytest.mark.heavy  # minutes: a server, two workers and three flow-run processes on a 2-core machine
@pytest.mark.timeout(RUNS_TIMEOUT + 420)
def test_process_workers_of_a_work_pool_ingest_overlapping_runs_into_one_lake(pg, newsroom, tmp_path,
                                                                               monkeypatch):
    plain = tmp_path / "one-run.duckdb"
    assert CliRunner().invoke(cli, ["--config", str(newsroom), "run", "--warehouse", str(plain)]).exit_code == 0
    lake_dsn = pg.create_database("lake_pool")
    use_lake(newsroom, f"postgres:{lake_dsn}", tmp_path / "shared")
    lake = Path(f"ducklake:postgres:{lake_dsn}")
    pg.create_database("prefect_pool")
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", pg.sqlalchemy_url("prefect_pool"))
    server = LocalServer(tmp_path / "prefect-server").start(advertise=False)
    env = child_env(tmp_path / "prefect-client", PREFECT_API_URL=server.url, MONITOR_HOME=str(ROOT),
                    MONITOR_CONFIG_DIR=str(newsroom), PREFECT_WORKER_QUERY_SECONDS="2",
                    PREFECT_WORKER_PREFETCH_SECONDS="0")
    workers: list[subprocess.Popen] = []
    try:
        _run([*PREFECT, "work-pool", "create", POOL, "--type", "process"], env)
        _run([*PREFECT, "--no-prompt", "deploy", "--all"], env)
        logs = [open(tmp_path / f"worker-{n}.log", "w") for n in range(WORKERS)]  # noqa: SIM115 - closed below
        workers = [subprocess.Popen([*PREFECT, "worker", "start", "--pool", POOL, "--name", f"worker-{n}",
                                     "--limit", "1"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
                   for n, log in enumerate(logs)]
        for log in logs:
            log.close()
        triggered = [_run([sys.executable, "-m", "monitor.cli", "--config", str(newsroom), "trigger",
                           "ingest/ingest-hourly", "--param", "force=true"], env).split()[2]
                     for _ in range(TRIGGERED)]
        states = wait_for(lambda: _finished(pg, triggered), RUNS_TIMEOUT, "the triggered runs to finish")
    finally:
        for worker in workers:
            _stop(worker)
        server.stop()
    worker_logs = "\n".join((tmp_path / f"worker-{n}.log").read_text()[-3000:] for n in range(WORKERS))
    assert states == {run: "COMPLETED" for run in triggered}, worker_logs
    assert all(w.poll() is not None for w in workers)
    took = {n: taken((tmp_path / f"worker-{n}.log").read_text(), triggered) for n in range(WORKERS)}
    assert all(took.values()) and sorted(sum(took.values(), [])) == sorted(triggered), (took, worker_logs)
    for name, sql in SAME.items():
        got, want = rows(lake, sql), rows(plain, sql)
        assert not [row for row, n in Counter(got).items() if n > 1], f"{name}: rows doubled"
        assert sorted(got, key=repr) == sorted(want, key=repr), name
    assert rows(lake, f"SELECT count(*) FROM runs WHERE flow_run_id IN ({_quoted(triggered)})") == [(TRIGGERED,)]


def _quoted(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids if all(c in "0123456789abcdef-" for c in i))


def _finished(pg, runs: list[str]) -> dict[str, str] | None:
    """Each run's state type once none is scheduled, pending or running any more (from the server's Postgres)."""
    found = dict(line.split("|") for line in pg.sql(
        "prefect_pool", f"SELECT id, state_type FROM flow_run WHERE id IN ({_quoted(runs)})").splitlines() if line)
    if len(found) < len(runs) or any(s in ("SCHEDULED", "PENDING", "RUNNING") for s in found.values()):
        return None
    return found


def taken(log: str, runs: list[str]) -> list[str]:
    """The runs a worker's log shows it ran. Both workers can pick up one scheduled run; the one whose Pending
    proposal the server refuses logs "Aborted submission of flow run '<id>'" and leaves the run to the other."""
    return [r for r in runs if r in log and f"Aborted submission of flow run '{r}'" not in log]
