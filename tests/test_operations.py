"""Operations on real parts: run parameters (since, limit, dry-run), the runs table, `monitor status`, and two
overlapping runs on one warehouse, over the seed newsroom served on 127.0.0.1 under a real Prefect harness."""

import json
import threading
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from monitor import warehouse
from monitor.cli import cli
from tests.conftest import serve_seed, write_config

DATA_TABLES = ("articles", "entries", "captions", "article_clusters", "article_countries", "article_topics")


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_run_records_its_flow_run_stage_times_and_parameters(tmp_path, prefect_harness):
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        path = tmp_path / "w.duckdb"
        result = ingest(warehouse_path=str(path), config_dir=str(config_dir), limit=2)
    (flow_run_id, stages, parameters, requested), = rows(
        path, "SELECT flow_run_id, stage_seconds, parameters, n FROM runs JOIN run_outcomes USING (run_id) "
              "WHERE (stage, kind) = ('pages', 'requested')")
    assert flow_run_id and len(flow_run_id) == 36
    assert set(json.loads(stages)) == {"prepare", "feeds", "pages", "dedup", "tag", "load"}
    assert json.loads(parameters)["limit"] == 2 and requested == 2
    assert result["stage_seconds"].keys() <= json.loads(stages).keys()
    status = CliRunner().invoke(cli, ["status", "--warehouse", str(path), "--format", "json", "--last", "1"])
    (last,) = json.loads(status.output)
    assert last["flow_run"] == flow_run_id and last["state"] == "Completed" and last["new"] == 2
    assert set(last["slowest stages"].replace(",", "").split()[::2]) <= set(json.loads(stages))


def test_a_dry_run_writes_nothing_and_since_leaves_older_entries(tmp_path, prefect_harness):
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        path = tmp_path / "w.duckdb"
        dry = ingest(warehouse_path=str(path), config_dir=str(config_dir), dry_run=True)
        assert not path.exists() and dry["dry_run"] and dry["counts"].count("articles", "new") == 3
        later = ingest(warehouse_path=str(path), config_dir=str(config_dir), since="2099-01-01")
    assert later["counts"].count("pages", "requested") == 0  # every seed entry is dated before 2099
    assert rows(path, "SELECT count(*) FROM entries WHERE article_id IS NULL") == [(4,)]  # left for a later run


def test_two_overlapping_runs_take_turns_and_insert_nothing_twice(tmp_path, prefect_harness):
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        single = tmp_path / "single.duckdb"
        ingest(warehouse_path=str(single), config_dir=str(config_dir))
        path = tmp_path / "both.duckdb"
        results, errors = [], []

        def run() -> None:
            try:
                results.append(ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [] and len(results) == 2
    assert sorted(r["counts"].count("articles", "new") for r in results) == [0, 3]  # the second planned after the first
    both, one = warehouse.table_counts(path), warehouse.table_counts(single)
    assert {t: both[t] for t in DATA_TABLES} == {t: one[t] for t in DATA_TABLES}
    assert both["runs"] == 2


def test_a_retried_run_reads_its_feeds_back_instead_of_fetching_them_again(tmp_path, prefect_harness, monkeypatch):
    """A run that fails at the load is retried by Prefect; the feeds it fetched are not asked again."""
    import functools
    import shutil
    from collections import Counter

    from flows.ingest import ingest
    from monitor.demo.server import _QuietHandler, serve_handler
    from tests.conftest import SEED

    hits: Counter = Counter()

    class Counting(_QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits[self.path] += 1
            super().do_GET()

    site = tmp_path / "site"
    shutil.copytree(SEED, site)
    real_load, loads = warehouse.load, []

    def load_failing_once(path, batch, check=None):
        loads.append(path)
        if len(loads) == 1:
            raise warehouse.WarehouseError("the disk was full (injected once)")
        real_load(path, batch, check)

    monkeypatch.setattr(warehouse, "load", load_failing_once)
    with serve_handler(functools.partial(Counting, directory=str(site))) as base:
        feed = site / "feed.xml"
        feed.write_text(feed.read_text(encoding="utf-8").replace("{BASE}", base), encoding="utf-8")
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{base}/feed.xml"\n')
        path = tmp_path / "w.duckdb"
        result = ingest.with_options(retries=1, retry_delay_seconds=0)(warehouse_path=str(path),
                                                                      config_dir=str(config_dir))
    # the first attempt's first load (its feed batch) failed; the retry loaded the feeds, one wave of pages and
    # the run's record
    assert len(loads) == 4 and result["counts"].count("articles", "new") == 3
    assert hits["/feed.xml"] == 1  # fetched by the first attempt only
    assert warehouse.table_counts(path)["articles"] == 3


@pytest.mark.parametrize("runner", ["dask", "processes"])
def test_extraction_and_tagging_in_worker_processes_give_the_same_warehouse(runner, tmp_path, prefect_harness):
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        threads, dask = tmp_path / "threads.duckdb", tmp_path / "dask.duckdb"
        ingest(warehouse_path=str(threads), config_dir=str(config_dir), cpu_runner=None)
        result = ingest(warehouse_path=str(dask), config_dir=str(config_dir), force=True, cpu_runner=runner)
    assert result["counts"].count("articles", "new") == 3
    same = "SELECT article_id, title, body FROM articles ORDER BY 1"
    assert rows(dask, same) == rows(threads, same)
    tags = "SELECT article_id, country, is_about FROM article_countries ORDER BY 1, 2"
    assert rows(dask, tags) == rows(threads, tags)


def _children(pid: int) -> dict[int, str]:
    """The live child processes of `pid` (zombies are dead), with their command lines, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            state, ppid = stat.rpartition(")")[2].split()[:2]
            if int(ppid) == pid and state != "Z":
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue  # gone meanwhile
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.timeout(180)
def test_a_sigkilled_run_leaves_no_prefect_server_behind(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from monitor.cli.serve import healthy

    # a feed that refuses connections: its retries keep the run busy long after its Prefect server is up
    config_dir = write_config(tmp_path / "config", '[[source]]\nname = "down"\nurl = "http://127.0.0.1:9/feed.xml"\n')
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    run = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(config_dir), "run", "--warehouse",
                            str(tmp_path / "w.duckdb")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, server = time.monotonic() + 120, None
        while server is None and time.monotonic() < deadline and run.poll() is None:
            for pid, cmdline in _children(run.pid).items():
                if "prefect.server.api.server:create_app" in cmdline and "--port " in cmdline:
                    server = pid, cmdline.split("--port ")[1].split()[0]
            time.sleep(0.2)
        assert server is not None, f"no Prefect server child came up: {run.stderr.read() if run.poll() else ''}"
        wait_for_health = time.monotonic() + 60
        while not healthy(f"http://127.0.0.1:{server[1]}/api") and time.monotonic() < wait_for_health:
            time.sleep(0.2)
        time.sleep(1)  # well into the flow: its feed is being retried
        children = _children(run.pid)
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = [pid for pid in children if _alive(pid)]
        for pid in survivors:  # a failing test must not leave them either
            os.kill(pid, signal.SIGKILL)
        assert [children[pid] for pid in survivors] == []
    finally:
        if run.poll() is None:
            run.kill()
        run.wait()


def test_a_failing_sources_write_is_rolled_back_and_loses_nothing(tmp_path):
    from monitor import config

    directory = write_config(tmp_path / "config", '[[source]]\nname = "a"\nurl = "http://127.0.0.1:9/a.xml"\n\n'
                                                  '[[source]]\nname = "b"\nurl = "http://127.0.0.1:9/b.xml"\n')
    a, b = config.load(directory).sources.source
    path = tmp_path / "w.duckdb"
    warehouse.prepare(path, [a, b])
    before = rows(path, "SELECT * FROM sources ORDER BY name")
    # The registry write deletes the rows it replaces, then inserts: a repeated source makes the insert (the
    # second statement) fail on the key, after the delete ran.
    with pytest.raises(warehouse.WarehouseError, match="recording the sources in .* failed and was rolled back"):
        warehouse.prepare(path, [a, b, a])
    assert rows(path, "SELECT * FROM sources ORDER BY name") == before


def test_a_source_named_twice_is_fetched_once(tmp_path, prefect_harness):
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", "[schedule.fast]\ninterval_seconds = 60\n\n"
                                  f'[[source]]\nname = "seed"\nurl = "{feed}"\nschedule = "fast"\n')
        path = tmp_path / "w.duckdb"
        result = CliRunner().invoke(cli, ["--config", str(config_dir), "run", "--source", "seed", "--source", "seed",
                                          "--warehouse", str(path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        # a triggered run whose sources repeat one of its schedule group's
        again = ingest(sources=["seed"], schedule="fast", warehouse_path=str(path), config_dir=str(config_dir),
                       force=True)
    assert again["sources"] == ["seed"]
    assert rows(path, "SELECT count(*) FROM sources") == [(1,)]
    assert rows(path, "SELECT count(*), count(last_success) FROM feed_state") == [(1, 1)]
    assert rows(path, "SELECT count(*) FROM articles") == [(3,)]


def test_status_lists_every_run_prefect_knows_whatever_its_outcome(tmp_path, prefect_harness):
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir), limit=1)
        ingest(warehouse_path=str(path), config_dir=str(config_dir), dry_run=True, force=True)
        with pytest.raises(ValueError, match="is not a date"):
            ingest(warehouse_path=str(path), config_dir=str(config_dir), since="yesterday")
    status = CliRunner().invoke(cli, ["--config", str(config_dir), "status", "--warehouse", str(path), "--format",
                                      "json", "--last", "3"], catch_exceptions=False)
    assert status.exit_code == 0, status.output
    failed, dry, first = json.loads(status.output)
    assert (failed["state"], failed["parameters"], failed["entries"]) == ("Failed", "since=yesterday", None)
    assert (dry["state"], dry["parameters"], dry["new"]) == ("Completed (dry run)", "force=true dry_run=true", 2)
    assert (first["state"], first["parameters"], first["new"]) == ("Completed", "limit=1", 1)
    assert all(r["deployment"] == "ad hoc" and len(r["flow_run"]) == 36 for r in (failed, dry, first))
    (stored,) = rows(path, "SELECT flow_run_id FROM runs")  # the warehouse's run is the same Prefect run
    assert stored == (first["flow_run"],)


def test_a_rejected_page_is_tried_again_later_or_now_on_request_and_a_410_is_final(tmp_path, prefect_harness):
    from flows.ingest import ingest
    from tests.conftest import SEED, scripted_server

    routes: dict = {}
    with scripted_server(routes) as base:
        items = "".join(f"<item><title>{name}</title><link>{base}/{name}.html</link><guid>{name}</guid></item>"
                        for name in ("fixed", "gone"))
        routes.update({"/feed.xml": (200, "application/rss+xml",
                                     f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()),
                       "/fixed.html": (404, "text/plain", b"not found"), "/gone.html": (410, "text/plain", b"gone")})
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "s"\nurl = "{base}/feed.xml"\n')
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
        retries = ("SELECT url, reason, attempts, epoch(next_attempt - last_seen) / 86400 FROM rejections "
                   "WHERE stage <> 'feed' ORDER BY url")
        assert rows(path, retries) == [(f"{base}/fixed.html", "http-404", 1, 1.0),  # a day
                                       (f"{base}/gone.html", "gone", 1, None)]  # never
        routes["/fixed.html"] = (200, "text/html; charset=utf-8", (SEED / "armenia-ceasefire.html").read_bytes())
        later = ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
        assert later["counts"].count("pages", "requested") == 0  # not due for a day
        monitor = ["--config", str(config_dir), "run", "--force", "--warehouse", str(path)]
        routes["/fixed.html"] = (404, "text/plain", b"not found")
        again = CliRunner().invoke(cli, [*monitor, "--retry-rejected"], catch_exceptions=False)
        assert again.exit_code == 0 and "2 rejected pages are due again" in again.output, again.output
        assert rows(path, retries) == [(f"{base}/fixed.html", "http-404", 2, 7.0),  # then a week
                                       (f"{base}/gone.html", "gone", 2, None)]
        routes["/fixed.html"] = (200, "text/html; charset=utf-8", (SEED / "armenia-ceasefire.html").read_bytes())
        fixed = CliRunner().invoke(cli, [*monitor, "--retry-rejected"], catch_exceptions=False)
        assert fixed.exit_code == 0, fixed.output
    assert rows(path, "SELECT url FROM articles") == [(f"{base}/fixed.html",)]
