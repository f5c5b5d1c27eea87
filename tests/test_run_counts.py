"""A run's counts are typed records (counts.RunCounts) from where they are counted to where they are stored and
printed: no "{figure}:{source}" keys parsed back. Real DuckDB files; the counting itself is pure."""

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from monitor import warehouse
from monitor.cli.runs import artifact_counts, count_totals
from monitor.config import Source
from monitor.counts import Outcome, RunCounts, SourceCounts
from monitor.models import Entry, FeedFetch, FeedParse, LoadBatch, Rejection
from monitor.outcomes import RunInputs, run_record
from tests.test_migrations import OLD

DAY = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)


def entry(source: str, link: str) -> Entry:
    return Entry(f"{source}-{link}", source, link, link, link, f"Title {link}", DAY)


def inputs(**changes) -> RunInputs:
    # A source named "pickup": with keys, its entries ("entries:pickup") were the run's pickups ("entries:pickup").
    sources = [Source(name="pickup", url="http://127.0.0.1/a"), Source(name="desk", url="http://127.0.0.1/b")]
    parses = [FeedParse("pickup", (entry("pickup", "http://x/1"), entry("pickup", "http://x/1"))),
              FeedParse("desk", (entry("desk", "http://x/2"),))]
    fetches = [FeedFetch("pickup", "http://127.0.0.1/a", "ok"), FeedFetch("desk", "http://127.0.0.1/b", "ok")]
    return RunInputs("r1", "flow-1", DAY, sources, fetches, parses, {}, 1, [], [], [], [],
                     [Rejection("http://x/2", "fetch", "http-404", source="desk")], skipped={"quiet": "not-due"},
                     deferred={("since", "desk"): 2, ("limit", "pickup"): 1}, **changes)


def test_counts_are_typed_per_outcome_and_per_source_whatever_a_source_is_called():
    counts = run_record(inputs(), DAY).counts
    assert counts.count("entries", "seen") == 3 and counts.count("entries", "pickup") == 0
    assert counts.count("entries", "duplicate") == 1  # the link "pickup" listed twice
    assert counts.of("pickup") == SourceCounts("pickup", entries=2, new_entries=2, duplicates=1, deferred=1)
    assert counts.of("desk") == SourceCounts("desk", entries=1, new_entries=1, deferred=2, errors=1)
    assert counts.of("elsewhere") == SourceCounts("elsewhere")
    assert counts.count("feed", "ok") == 2 and counts.count("feed", "skipped", "not-due") == 1
    assert counts.count("entries", "deferred") == 3 and counts.count("entries", "deferred", "since") == 2
    assert counts.count("fetch", "rejected", "http-404") == 1 and counts.count(kind="rejected") == 1
    assert all(o.n for o in counts.outcomes)  # nothing counted is not a row
    assert count_totals(counts) == {"entries": 3, "new": 0, "dups": 1, "rejected": 1}


def test_the_warehouse_stores_the_counts_in_typed_rows_and_reads_back_the_same_record(tmp_path):
    path = tmp_path / "w.duckdb"
    record = run_record(inputs(), DAY)
    warehouse.init(path)
    warehouse.load(path, LoadBatch(run=record))
    warehouse.load(path, LoadBatch(run=record))  # a retried last batch: the run keeps one set of rows
    ((counts, stages),) = warehouse.stored_runs(path, ["flow-1"]).values()
    assert counts == record.counts and "load" in stages
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT n FROM run_outcomes WHERE (stage, kind, reason) = ('fetch', 'rejected', "
                           "'http-404')").fetchall() == [(1,)]
        assert con.execute("SELECT source, entries, deferred FROM run_sources ORDER BY 1").fetchall() == \
            [("desk", 1, 2), ("pickup", 2, 1)]
    assert warehouse.stored_runs(path, ["another"]) == {}


def test_runs_recorded_with_keyed_counts_are_migrated_and_still_read(tmp_path: Path):
    old = {"entries": 6, "entries:pickup": 1, "entries:deferred:since": 2, "articles:new": 4, "dup:near": 1,
           "feed:ok": 2, "feed:not-due": 1, "feed:failing": 0, "rejected:fetch:http-404": 1,
           "rejected:extract:too-short": 2, "tagged:unsupported-language": 1, "unsupported-language:b": 1,
           "entries:a": 4, "new_entries:a": 4, "new_articles:a": 3, "duplicates:a": 1, "pickups:a": 0,
           "deferred:a": 2, "errors:a": 3, "entries:b": 2, "new_entries:b": 2, "new_articles:b": 1,
           "duplicates:b": 2, "pickups:b": 1, "deferred:b": 0, "errors:b": 0}
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(OLD.read_text(encoding="utf-8"))
        con.execute("UPDATE runs SET flow_run_id = 'flow-old', sources = ['a', 'b'], counts = ?", [json.dumps(old)])
    warehouse.init(path)
    ((counts, _),) = warehouse.stored_runs(path, ["flow-old"]).values()
    assert count_totals(counts) == {"entries": 6, "new": 4, "dups": 3, "rejected": 3}  # what `monitor status` shows
    assert counts.of("a") == SourceCounts("a", 4, 4, 3, 1, 0, 2, 3, 0)
    assert counts.of("b") == SourceCounts("b", 2, 2, 1, 2, 1, 0, 0, 1)
    assert set(counts.outcomes) >= {Outcome("feed", "skipped", 1, "not-due"), Outcome("articles", "duplicate", 1, "near"),
                                    Outcome("entries", "deferred", 2, "since"), Outcome("extract", "rejected", 2,
                                                                                        "too-short"),
                                    Outcome("articles", "untagged", 1, "unsupported-language")}
    assert counts.count("feed", "failing") == 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert "counts" not in [c[0] for c in con.execute("DESCRIBE runs").fetchall()]


def test_a_run_that_counted_nothing_reads_back_empty():
    assert RunCounts().count() == 0 and RunCounts().of("any") == SourceCounts("any")


def test_the_summary_artifact_is_the_runs_outcomes_in_typed_columns():
    counts = run_record(inputs(), DAY).counts
    table = json.loads(json.dumps([dataclasses.asdict(o) for o in counts.outcomes]))  # as flows/tasks.py publishes it
    assert artifact_counts(table) == RunCounts(counts.outcomes)
    # an artifact of a run before typed counts: left to the warehouse's migrated rows
    assert artifact_counts([{"outcome": "articles:new", "count": 3}]) is None
