"""`monitor sql --out/--format parquet`, `search`, `export`, and SQL while another process holds the lock, over a
warehouse made by a real ingest run (the seed newsroom)."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from click.testing import CliRunner

from monitor import warehouse
from monitor.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_sql_writes_csv_json_and_parquet_files(seed_warehouse, tmp_path):
    query = "SELECT article_id, title FROM articles ORDER BY article_id"
    for fmt in ("csv", "json", "parquet"):
        out = tmp_path / f"articles.{fmt}"
        result = invoke("sql", query, "--warehouse", str(seed_warehouse), "--format", fmt, "--out", str(out))
        assert result.exit_code == 0 and result.output == f"wrote 3 rows to {out}\n"
    assert (tmp_path / "articles.csv").read_text().splitlines()[0] == "article_id,title"
    assert pq.read_table(tmp_path / "articles.parquet").num_rows == 3
    result = invoke("sql", query, "--warehouse", str(seed_warehouse), "--format", "parquet")
    assert result.exit_code == 1 and result.output == "Error: --format parquet writes a file: add --out FILE.parquet\n"


def test_search_finds_words_plurals_and_phrases_with_filters(seed_warehouse):
    result = invoke("search", "ceasefire", "--warehouse", str(seed_warehouse), "--format", "json")
    hits = __import__("json").loads(result.output)
    assert hits and all("ceasefire" in (h["title"] + h["snippet"]).lower() for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    none = invoke("search", "ceasefire", "--country", "BR", "--warehouse", str(seed_warehouse), "--format", "json")
    assert none.output == "[]\n"
    bad = invoke("search", "  ", "--warehouse", str(seed_warehouse))
    assert bad.exit_code == 2 and bad.output.startswith("Error: nothing to search for")  # a query error, as sql


def test_export_writes_one_folder_per_day_with_tags_and_story(seed_warehouse, tmp_path):
    out = tmp_path / "export"
    result = invoke("export", "--out", str(out), "--warehouse", str(seed_warehouse))
    assert result.exit_code == 0 and result.output.startswith("exported 3 articles over ")
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 3
    rows = table.to_pylist()
    assert all(r["day"] and r["cluster_id"] for r in rows)
    assert any("AM" in (r["countries"] or []) for r in rows)
    assert all(r["topics"] and r["topics"][0]["code"].startswith("medtop:") for r in rows)
    csv_out = tmp_path / "csv"  # partitioned by day only when asked (issue 19: one file by default)
    assert invoke("export", "--out", str(csv_out), "--format", "csv", "--partition", "day",
                  "--warehouse", str(seed_warehouse)).exit_code == 0
    assert len(list(csv_out.glob("day=*/part-0.csv"))) == len(list(out.glob("day=*/part-0.parquet")))


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_sql_waits_while_another_process_writes_then_answers(seed_warehouse, tmp_path):
    path = tmp_path / "busy.duckdb"
    shutil.copy(seed_warehouse, path)
    holder = hold_lock(path, 1.5)
    started = time.monotonic()
    result = invoke("sql", "SELECT count(*) AS n FROM articles", "--warehouse", str(path), "--format", "csv")
    holder.wait()
    assert result.exit_code == 0 and result.output.endswith("n\n3\n")
    assert time.monotonic() - started >= 1.0  # it waited for the lock rather than failing


def test_sql_gives_up_on_a_lock_held_too_long_in_one_line(seed_warehouse, tmp_path, monkeypatch):
    path = tmp_path / "busy.duckdb"
    shutil.copy(seed_warehouse, path)
    monkeypatch.setattr(warehouse.connection, "LOCK_WAIT_SECONDS", 0.5)  # where _connect reads it
    holder = hold_lock(path, 5)
    try:
        result = invoke("sql", "SELECT 1", "--warehouse", str(path))
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert result.output == (f"Error: {path} is still locked by another process after 0.5 s (a flow loading, or a "
                             "long query); try again when it ends\n")
    with duckdb.connect(str(path), read_only=True) as con:  # nothing stored was lost
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
