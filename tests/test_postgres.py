"""Past one machine with real parts (issue 23): a PostgreSQL server (Debian's, in a temporary folder, tests/pg.py)
behind the DuckLake warehouse's catalog and behind Prefect's server; ingest runs writing to one lake at once while
the readers' commands read it. Skipped, saying why, where PostgreSQL is not installed (.ci/run installs it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import demo, warehouse
from monitor.cli import cli
from monitor.config import ENV_LAKE_DATA
from monitor.demo.server import serve_directory
from tests.pg import postgres
from tests.test_lake_clusters import PICKUPS, Writer, article, pickup, stories, words

MONITOR = [sys.executable, "-m", "monitor.cli"]
WRITERS_TIMEOUT = 480  # seconds for serve's start and three overlapping runs on a 2-core machine shared six ways
SERVE_EVERY = 30  # seconds between the served deployment's runs: one more writer, not a queue of them
READ_EVERY = 1.0  # seconds between rounds of readers: they check reading works during writes, not load the machine
# What must come out the same however many runs wrote at once: each table's rows, keyed as the warehouse keys them.
SAME = {
    "articles": "SELECT article_id, url, title, body FROM articles",
    "entries": "SELECT entry_id, source, link, article_id FROM entries",
    "countries": "SELECT article_id, country, is_about FROM article_countries",
    "regions": "SELECT article_id, region FROM article_regions",
    "topics": "SELECT article_id, code FROM article_topics",
    "tagging": "SELECT article_id, status FROM article_tagging",
    # Each story once, with the same articles: which article names it, and what each copy duplicates, depends on
    # which copies each run had seen; loads settle the stories against each other's commits (warehouse/clusters.py)
    "clusters": "SELECT string_agg(article_id, ' ' ORDER BY article_id) FROM article_clusters GROUP BY cluster_id",
    "captions": "SELECT article_id, position, text FROM captions",
}


@pytest.fixture(scope="module")
def pg():
    with postgres() as server:
        yield server


@pytest.fixture()
def newsroom(tmp_path, monkeypatch):
    """The demo newsroom on 127.0.0.1 and its config; yields (config_dir, source names)."""
    monkeypatch.delenv(ENV_LAKE_DATA, raising=False)  # set from settings by the code under test; not to leak on
    with serve_directory(tmp_path / "site") as base:
        config_dir = demo.prepare(tmp_path, base)
        yield config_dir


def use_lake(config_dir: Path, catalog: str, data: Path) -> None:
    """Point the config's settings at a DuckLake warehouse with this catalog and data folder."""
    settings = config_dir / "settings.toml"
    text = re.sub(r'^path = .*$', f'path = "ducklake:{catalog}"\nlake_data_path = "{data}"',
                  settings.read_text(encoding="utf-8"), count=1, flags=re.M)
    settings.write_text(text.replace('lake_data_path = ""\n', ""), encoding="utf-8")


def rows(path, sql: str) -> list[tuple]:
    return warehouse.query(path, sql)[1]


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """A `monitor` subprocess's environment: the user's shell, without this process's Prefect settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != ENV_LAKE_DATA}
    return {**env, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
            **extra}


def test_ducklake_with_a_postgres_catalog_from_settings_ingests_and_reads(pg, newsroom, tmp_path, prefect_harness):
    dsn = pg.create_database("lake_one")
    use_lake(newsroom, f"postgres:{dsn}", tmp_path / "shared" / "lake")
    runner = CliRunner()
    ran = runner.invoke(cli, ["--config", str(newsroom), "run"])
    assert ran.exit_code == 0, ran.output
    lake = Path(f"ducklake:postgres:{dsn}")
    (articles,) = rows(lake, "SELECT count(*) FROM articles")[0]
    assert articles >= 30
    parquet = list((tmp_path / "shared" / "lake").rglob("*.parquet"))
    assert parquet, "the data went to the shared data path named in settings"
    # the catalog is in Postgres: DuckLake's tables there name the snapshots this run committed
    assert int(pg.sql("lake_one", "SELECT count(*) FROM ducklake_snapshot")) > 1
    listed = runner.invoke(cli, ["--config", str(newsroom), "sql", "SELECT count(*) AS n FROM articles",
                                 "--format", "csv"])
    assert listed.exit_code == 0 and listed.output == f"n\n{articles}\n", listed.output
    found = runner.invoke(cli, ["--config", str(newsroom), "search", "ceasefire", "--format", "json"])
    assert found.exit_code == 0 and '"title"' in found.output, found.output
    page = tmp_path / "report.html"
    assert runner.invoke(cli, ["--config", str(newsroom), "report", "--out", str(page)]).exit_code == 0
    assert "<svg id=" in page.read_text()


WAVES = 2  # loads per writer, each started together with the other's: DuckLake refuses some commits, the loser retries


def test_two_writers_at_once_on_a_postgres_lake_store_each_row_once_and_each_story_once(pg, tmp_path, caplog):
    """The cheap form of the writers-at-once test below (seconds, not minutes): two writers in threads, each with
    its own connections to one Postgres-catalog lake, loading waves at the same moment. Every wave of both holds
    the same six articles, and the pickups of one story are split between them, each writer having read the lake
    before the other committed. Overlapping commits conflict and are retried; each row lands once, the story in
    one cluster."""
    lake = Path(f"ducklake:postgres:{pg.create_database('lake_two')}")
    os.environ[ENV_LAKE_DATA] = str(tmp_path / "data") + "/"
    try:
        warehouse.init(lake)
        writers = [Writer(lake, "run-a"), Writer(lake, "run-b")]  # both read the lake before either loads
        shared = [article(f"s{i}", "wire", words(100 + i, 120), 6) for i in range(6)]
        own = {"run-a": [pickup("a1")], "run-b": [pickup("b1", 11), pickup("b2", 12)]}
        together, failures = threading.Barrier(2), []

        def write(writer: Writer) -> None:
            try:
                for wave in range(WAVES):
                    together.wait(timeout=120)
                    writer.wave(shared + own[writer.run_id][wave:wave + 1])
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)
                together.abort()

        with caplog.at_level("INFO", logger="monitor.warehouse"):
            threads = [threading.Thread(target=write, args=(w,)) for w in writers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
    finally:
        os.environ.pop(ENV_LAKE_DATA, None)
    assert not failures, failures
    retried = [r for r in caplog.records if "another writer committed first" in r.getMessage()]
    assert retried, "no commit was refused: the writers never overlapped"
    assert rows(lake, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(6 + len(PICKUPS),) * 2]
    assert rows(lake, "SELECT count(*), count(DISTINCT article_id) FROM article_clusters") == [(6 + len(PICKUPS),) * 2]
    assert [s for s in stories(lake) if len(s) > 1] == [["a1", "b1", "b2"]]


@pytest.mark.heavy  # about 2.5 minutes of a 2-core machine: `make test-heavy`, not CI's 10 minutes
@pytest.mark.timeout(WRITERS_TIMEOUT + 180)
def test_overlapping_runs_write_one_lake_at_once_and_nothing_is_lost_or_doubled(pg, newsroom, tmp_path,
                                                                                 prefect_harness):
    """`monitor serve` with its Prefect server's database in Postgres, its schedule every few seconds; three more
    ingest runs over overlapping sources started together, reporting to it; all of them writing to one lake whose
    catalog is in Postgres, with no concurrency limit, while readers read. The lake then holds exactly what one
    run over all the sources puts into a DuckDB file, and the server's Postgres database has the served runs."""
    names = re.findall(r'^name = "([^"]+)"', (newsroom / "sources.toml").read_text(), flags=re.M)
    assert len(names) == 3
    plain = tmp_path / "one-run.duckdb"
    assert CliRunner().invoke(cli, ["--config", str(newsroom), "run", "--warehouse", str(plain)]).exit_code == 0

    dsn = pg.create_database("lake_many")
    use_lake(newsroom, f"postgres:{dsn}", tmp_path / "shared")
    sources = newsroom / "sources.toml"
    sources.write_text(sources.read_text().replace("interval_minutes = 60", f"interval_seconds = {SERVE_EVERY}"))
    lake = Path(f"ducklake:postgres:{dsn}")
    pg.create_database("prefect")
    env = child_env(tmp_path / "prefect-client")
    on_postgres = {"PREFECT_API_DATABASE_CONNECTION_URL": pg.sqlalchemy_url("prefect"),
                   "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    served = subprocess.Popen([*MONITOR, "--config", str(newsroom), "serve", "--report-out",
                               str(tmp_path / "report.html")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**env, **on_postgres})
    picks = [names[:2], names[1:], names]  # every source in two or three runs at once, besides the served ones
    runs, readers, outputs = [], Counter(), []
    try:
        wait_for(lambda: (newsroom.parent / ".monitor" / "prefect" / "server.json").exists() or served.poll(),
                 WRITERS_TIMEOUT, "monitor serve's server")
        assert served.poll() is None, served.communicate()[0]
        runs = [subprocess.Popen([*MONITOR, "--config", str(newsroom), "run",
                                  *[a for n in pick for a in ("--source", n)]],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for pick in picks]
        deadline = time.monotonic() + WRITERS_TIMEOUT
        runner = CliRunner()
        while any(r.poll() is None for r in runs) and time.monotonic() < deadline:
            if not _migrated(lake):
                time.sleep(0.5)
                continue
            for command in (["sql", "SELECT count(*) FROM articles"], ["search", "talks"],
                            ["report", "--out", str(tmp_path / "during.html")]):
                result = runner.invoke(cli, ["--config", str(newsroom), *command])
                assert result.exit_code == 0, (command, result.output)
                readers[command[0]] += 1
            time.sleep(READ_EVERY)
        outputs = [r.communicate(timeout=max(1, deadline - time.monotonic()))[0] for r in runs]
        wait_for(lambda: _served_runs(pg) >= 1, WRITERS_TIMEOUT, "a served run completed")
    finally:
        for r in runs:
            if r.poll() is None:
                r.kill()
                r.wait()
        served.send_signal(signal.SIGINT)
        try:
            stopped = served.communicate(timeout=90)[0]
        except subprocess.TimeoutExpired:
            served.kill()
            stopped = served.communicate()[0]
    assert [r.returncode for r in runs] == [0, 0, 0], "\n---\n".join(o[-4000:] for o in outputs)
    assert served.returncode == 0 and "stopped the Prefect server" in stopped, stopped[-3000:]
    assert min(readers.values(), default=0) >= 1, readers
    for name, sql in SAME.items():
        got, want = rows(lake, sql), rows(plain, sql)
        assert not [row for row, n in Counter(got).items() if n > 1], f"{name}: rows doubled"
        assert sorted(got, key=repr) == sorted(want, key=repr), name
    assert rows(lake, "SELECT count(*) FROM article_clusters c JOIN article_clusters d ON c.duplicate_of = "
                      "d.article_id WHERE c.cluster_id <> d.cluster_id") == [(0,)]
    (stored_runs,) = rows(lake, "SELECT count(*) FROM runs WHERE flow_run_id IS NOT NULL")[0]
    assert stored_runs >= 4  # the three, and at least one scheduled by the Postgres-backed server, into the lake


def _served_runs(pg) -> int:
    """Completed runs of the served deployment, as the Prefect server's Postgres database records them."""
    return int(pg.sql("prefect", "SELECT count(*) FROM flow_run r JOIN deployment d ON r.deployment_id = d.id "
                                 "WHERE r.state_type = 'COMPLETED'"))


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _migrated(lake: Path) -> bool:
    try:
        return warehouse.schema_version(lake) == max(v for v, _, _ in warehouse.migrations())
    except warehouse.WarehouseError:
        return False
