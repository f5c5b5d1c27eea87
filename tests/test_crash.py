"""Crash safety on real parts: the flow process SIGKILLed at random points, a load killed half-way, and a disk
that fills up during a load. After each, the warehouse opens, is consistent, and a re-run completes it."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor import warehouse
from monitor.demo import prepare
from monitor.demo.server import serve_directory

MONITOR = [sys.executable, "-m", "monitor.cli"]
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}  # a busy machine starts it slowly


def consistent(path: Path) -> dict:
    """The invariants a crash must not break; returns the table counts."""
    one = lambda sql: warehouse.query(path, sql)[1][0][0]  # noqa: E731
    assert one("SELECT count(*) - count(DISTINCT article_id) FROM articles") == 0
    assert one("SELECT count(*) FROM articles a LEFT JOIN article_clusters c USING (article_id) "
               "WHERE c.article_id IS NULL") == 0  # every article has its story
    assert one("SELECT count(*) FROM captions WHERE article_id NOT IN (SELECT article_id FROM articles)") == 0
    assert one("SELECT count(*) FROM article_countries WHERE article_id NOT IN (SELECT article_id FROM articles)") == 0
    assert one("SELECT count(*) FROM entries WHERE article_id IS NOT NULL "
               "AND article_id NOT IN (SELECT article_id FROM articles)") == 0
    return warehouse.table_counts(path)


@pytest.mark.timeout(400)
def test_a_run_killed_at_random_points_is_completed_by_the_next(tmp_path):
    (tmp_path / "site").mkdir()
    with serve_directory(tmp_path / "site") as base:
        config_dir = prepare(tmp_path, base)
        run = [*MONITOR, "--config", str(config_dir), "run", "--force"]
        reference = tmp_path / "reference.duckdb"
        started = time.monotonic()
        subprocess.run([*run, "--warehouse", str(reference)], env=ENV, check=True, capture_output=True)
        full = time.monotonic() - started
        path = tmp_path / "crashed.duckdb"
        rng = random.Random(7)
        # kill points spread over a whole run: start-up, feeds, pages and extraction, tagging and the load
        for fraction in sorted(rng.uniform(lo, hi) for lo, hi in ((0.2, 0.5), (0.5, 0.8), (0.8, 0.99))):
            process = subprocess.Popen([*run, "--warehouse", str(path)], env=ENV, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            time.sleep(full * fraction)
            process.send_signal(signal.SIGKILL)
            process.wait()
            if path.exists():
                consistent(path)
        subprocess.run([*run, "--warehouse", str(path)], env=ENV, check=True, capture_output=True)
    after, want = consistent(path), consistent(reference)
    for table in ("articles", "captions", "article_clusters", "article_countries", "article_topics", "entries"):
        assert after[table] == want[table], table  # nothing lost, nothing doubled


def synthetic_batch(n: int):
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from warehouse import batch  # benchmarks/warehouse.py's generator

    from datetime import datetime, timezone

    return batch(0, n, random.Random(1), datetime(2026, 8, 1, tzinfo=timezone.utc))


LOAD = """
import pickle, sys
from pathlib import Path
from monitor import warehouse
batch = pickle.loads(Path(sys.argv[2]).read_bytes())
print("loading", flush=True)
warehouse.load(Path(sys.argv[1]), batch)
print("loaded", flush=True)
"""


def test_a_load_killed_half_way_leaves_nothing_of_it(tmp_path):
    import pickle

    path = tmp_path / "w.duckdb"
    warehouse.init(path)
    batch_file = tmp_path / "batch.pickle"
    batch_file.write_bytes(pickle.dumps(synthetic_batch(150_000)))
    process = subprocess.Popen([sys.executable, "-c", LOAD, str(path), str(batch_file)], env=ENV,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "loading"
    time.sleep(1.5)  # a 150,000-article load takes several seconds on this machine
    process.send_signal(signal.SIGKILL)
    process.wait()
    counts = consistent(path)
    assert counts["articles"] in (0, 150_000)  # one transaction: all of it or none of it
    subprocess.run([sys.executable, "-c", LOAD, str(path), str(batch_file)], env=ENV, check=True, capture_output=True)
    assert consistent(path)["articles"] == 150_000


FULL_DISK = """
import pickle, resource, signal, sys
from pathlib import Path
from monitor import warehouse
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
limit = Path(sys.argv[1]).stat().st_size + 200_000
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    warehouse.load(Path(sys.argv[1]), pickle.loads(Path(sys.argv[2]).read_bytes()))
except warehouse.WarehouseError as exc:
    print(exc)
    sys.exit(1)
"""


def test_a_full_disk_during_a_load_is_one_line_and_leaves_no_partial_rows(tmp_path):
    import pickle

    path = tmp_path / "w.duckdb"
    warehouse.init(path)
    before = warehouse.table_counts(path)
    batch_file = tmp_path / "batch.pickle"
    batch_file.write_bytes(pickle.dumps(synthetic_batch(20_000)))
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), str(batch_file)], env=ENV,
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stdout.count("\n") == 1 and "all or nothing of this batch stored (" in result.stdout, result.stdout
    after = consistent(path)  # the warehouse opens again (its log replayed) and holds no part of a batch
    assert after["articles"] - before["articles"] in (0, 20_000)
    assert after["article_clusters"] - before["article_clusters"] == after["articles"] - before["articles"]


# Room on the tmpfs beyond a settled empty warehouse: opening it (views rewritten) fits, the run's first load does not.
FULL_DISK_HEADROOM_K = 300


@pytest.mark.timeout(400)
def test_a_full_disk_during_a_run_is_one_line_and_the_next_run_completes(tmp_path):
    """A real full disk (a tmpfs 300 KB bigger than an empty warehouse): `monitor run` says so in one line, not Prefect's 50
    lines of log; what it loaded before is intact, and a run with room completes the rest exactly once."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    (tmp_path / "site").mkdir()
    try:
        with serve_directory(tmp_path / "site") as base:
            config_dir = prepare(tmp_path, base)
            run = [*MONITOR, "--config", str(config_dir), "run", "--warehouse"]
            path = small / "w.duckdb"
            warehouse.init(path)
            warehouse.init(path)  # the second open settles the file (the views' rewrite takes new blocks once)
            used_k = sum(p.stat().st_size for p in small.iterdir()) // 1024
            subprocess.run(["mount", "-o", f"remount,size={used_k + FULL_DISK_HEADROOM_K}k", str(small)], check=True)
            full = subprocess.run([*run, str(path)], env=ENV, capture_output=True, text=True, timeout=300)
            errors = [line for line in full.stderr.splitlines() if line.startswith(("Error", "Traceback", "  File"))]
            assert full.returncode == 1 and len(errors) == 1, full.stderr[-3000:]
            assert errors[0].startswith(f"Error: load into {path} failed") and "No space left" in errors[0]
            roomy = tmp_path / "w.duckdb"
            subprocess.run(["cp", str(path), str(roomy)], check=True)
            consistent(roomy)
            subprocess.run([*run, str(roomy)], env=ENV, check=True, capture_output=True, timeout=300)
            reference = tmp_path / "reference.duckdb"
            subprocess.run([*run, str(reference)], env=ENV, check=True, capture_output=True, timeout=300)
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)
    after, want = consistent(roomy), consistent(reference)
    for table in ("articles", "captions", "article_clusters", "article_countries", "entries"):
        assert after[table] == want[table], table
