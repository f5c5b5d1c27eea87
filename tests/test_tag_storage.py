"""Issue 17's storage side over real DuckDB files: the language of every tag row, the regions an article is about,
the tagging record that makes an unsupported-language article visible, the views and report that use the focus,
and the run summary's count. Tags are built by hand here: the tagger that fills them is tested in test_tagging."""

import re
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest

from monitor import warehouse
from monitor.cli import _print_summary
from monitor.config import Source
from monitor.counts import RunCounts
from monitor.models import Article, DedupResult, LoadBatch, RunRecord, Tags, TopicScore
from monitor.outcomes import RunInputs, run_record
from monitor.report_page import render
from monitor.warehouse.report import report_data

DAY = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
VERSION = "monitor-tagger/test+1"
WAR = TopicScore("medtop:16000000", "conflict, war and peace", 0.8)

# A Russian story about Armenia and Azerbaijan that mentions the US in passing, a German one about Germany, and an
# Armenian one the tagger cannot read.
RU = Tags("ru1", countries=("AM", "AZ", "US"), about=("AM", "AZ"),
          regions=("Americas", "Asia", "Northern America", "South Caucasus", "Western Asia"),
          regions_about=("Asia", "South Caucasus", "Western Asia"), topics=(WAR,),
          mentions={"AM": 5.0, "AZ": 4.0, "US": 1.0}, confidence={"AM": 0.5, "AZ": 0.4, "US": 0.1, "Asia": 0.9},
          tagger_version=VERSION, language="ru")
DE = Tags("de1", countries=("DE",), about=("DE",), regions=("Europe", "Western Europe"),
          regions_about=("Europe", "Western Europe"), topics=(WAR,), mentions={"DE": 3.0}, tagger_version=VERSION,
          language="de")
HY = Tags("hy1", tagger_version=VERSION, language="hy", status="unsupported-language")


def article(article_id: str, language: str, source: str = "desk") -> Article:
    return Article(article_id, f"http://x/{article_id}", f"http://x/{article_id}", f"Title {article_id}",
                   "Body text.", published=DAY, language=language, source=source)


def batch(tags: tuple[Tags, ...], run_id: str = "r1") -> LoadBatch:
    articles = tuple(article(t.doc_id, t.language) for t in tags)
    run = RunRecord(run_id, None, DAY, DAY, "completed", ("desk",))
    return LoadBatch(run, articles=articles, clusters=tuple(DedupResult(a.article_id, a.article_id) for a in articles),
                     tags=tags)


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture()
def loaded(tmp_path: Path) -> Path:
    path = tmp_path / "tags.duckdb"
    warehouse.init(path)
    warehouse.load(path, batch((RU, DE, HY)))
    return path


def test_every_tag_row_names_the_language_it_was_read_as(loaded):
    assert rows(loaded, "SELECT DISTINCT article_id, language FROM article_countries ORDER BY 1") == \
        [("de1", "de"), ("ru1", "ru")]
    assert rows(loaded, "SELECT DISTINCT article_id, language, tagger_version FROM article_topics ORDER BY 1") == \
        [("de1", "de", VERSION), ("ru1", "ru", VERSION)]
    assert rows(loaded, "SELECT DISTINCT language FROM article_regions ORDER BY 1") == [("de",), ("ru",)]


def test_every_mentioned_region_keeps_a_row_and_the_focus_is_marked(loaded):
    assert rows(loaded, "SELECT region, is_about, confidence FROM article_regions WHERE article_id = 'ru1' "
                        "ORDER BY 1") == [("Americas", False, None), ("Asia", True, 0.9),
                                          ("Northern America", False, None), ("South Caucasus", True, None),
                                          ("Western Asia", True, None)]


def test_an_unsupported_language_article_is_stored_with_its_language_and_visible_in_sql(loaded):
    assert rows(loaded, "SELECT count(*) FROM article_countries WHERE article_id = 'hy1'") == [(0,)]
    assert rows(loaded, "SELECT article_id, language, status, tagger_version FROM article_tagging ORDER BY 1") == [
        ("de1", "de", "ok", VERSION), ("hy1", "hy", "unsupported-language", VERSION), ("ru1", "ru", "ok", VERSION)]
    assert rows(loaded, "SELECT source, language, articles, tagged_ok, unsupported_language, not_tagged, "
                        "ok_without_countries, tagged_share FROM tagging_coverage ORDER BY language") == [
        ("desk", "de", 1, 1, 0, 0, 0, 1.0), ("desk", "hy", 1, 0, 1, 0, 0, 0.0), ("desk", "ru", 1, 1, 0, 0, 0, 1.0)]


def test_loading_the_same_tags_twice_adds_nothing(loaded):
    before = warehouse.table_counts(loaded)
    warehouse.load(loaded, batch((RU, DE, HY), run_id="r2"))
    after = warehouse.table_counts(loaded)
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}


def test_daily_volume_by_region_counts_the_focus_and_keeps_every_mention_apart(loaded):
    by = {dim: rows(loaded, f"SELECT value, articles FROM daily_volume WHERE dimension = '{dim}' ORDER BY 1")
          for dim in ("region", "region_mentioned")}
    assert by["region"] == [("Asia", 1), ("Europe", 1), ("South Caucasus", 1), ("Western Asia", 1),
                            ("Western Europe", 1)]
    assert ("Americas", 1) in by["region_mentioned"] and len(by["region_mentioned"]) == 7
    assert rows(loaded, "SELECT regions, regions_about FROM cluster_reach WHERE cluster_id = 'ru1'") == [
        (["Americas", "Asia", "Northern America", "South Caucasus", "Western Asia"],
         ["Asia", "South Caucasus", "Western Asia"])]


def test_the_report_draws_the_regions_articles_are_about_and_says_what_it_could_not_read(loaded):
    data = report_data(loaded, days=3)
    assert data.last_day == date(2026, 11, 2)
    assert set(data.regions) == {"Asia", "Europe", "South Caucasus", "Western Asia", "Western Europe"}
    assert data.regions["Asia"] == [0, 0, 1]
    assert data.totals["articles"] == 3 and data.totals["unsupported_language"] == 1
    html = render(data, DAY)
    assert "Americas" not in html and "1 article is in a language the tagger does not read" in html


def test_the_run_counts_and_prints_articles_stored_untagged(capsys):
    sources = [Source(name="desk", url="http://127.0.0.1/feed")]
    inputs = RunInputs("r1", None, DAY, sources, [], [], {}, 3, [], [article(t.doc_id, t.language) for t in (RU, HY)],
                       [DedupResult(t.doc_id, t.doc_id) for t in (RU, HY)], [RU, HY], [])
    counts = run_record(inputs, DAY).counts
    assert counts.count("articles", "untagged", "unsupported-language") == 1 and counts.of("desk").untagged == 1
    _print_summary({"run_id": "r1", "warehouse": "w", "counts": counts, "sources": ["desk"]}, 1.0)
    printed = capsys.readouterr().out
    assert "untagged ┃" in printed and "untagged: 1 new articles are in a language the tagger" in printed
    assert re.search(r"^│ desk +│( +\d+ │){6} +1 │$", printed, re.M), printed  # the last column: 1 untagged
    tagged = RunCounts(tuple(o for o in counts.outcomes if o.kind != "untagged"), counts.sources)
    _print_summary({"run_id": "r1", "warehouse": "w", "counts": tagged, "sources": ["desk"]}, 1.0)
    assert "unsupported" not in capsys.readouterr().out


def test_the_export_carries_the_focus_regions_and_the_tagging_status(loaded, tmp_path):
    import pyarrow.dataset as ds

    from monitor.warehouse.export import export

    assert export(loaded, tmp_path / "out") == {"rows": 3, "days": 1}
    table = ds.dataset(tmp_path / "out", format="parquet", partitioning="hive").to_table()
    got = {r["article_id"]: (r["regions_about"], r["tagging_status"]) for r in table.to_pylist()}
    assert got == {"ru1": (["Asia", "South Caucasus", "Western Asia"], "ok"),
                   "de1": (["Europe", "Western Europe"], "ok"), "hy1": (None, "unsupported-language")}
