"""The search query language (issue 19) over a small warehouse of known articles, written by `warehouse.load` in two
loads (so the index is kept up to date load by load): exact expected ids for words, -word, NOT, OR, parentheses,
phrases and prefixes; filters by name and by code; unknown filter values; `show`; CSV export as one file."""

import csv
import json
import shutil
from datetime import datetime, timezone

import duckdb
import pytest
from click.testing import CliRunner

from monitor import query as ql
from monitor import warehouse
from monitor.cli import cli
from monitor.models import Article, Caption, DedupResult, LoadBatch, Tags, TopicScore
from monitor.warehouse import search as wsearch
from monitor.warehouse import search_index

POLITICS = TopicScore("medtop:11000000", "politics", 0.8, 1)
ECONOMY = TopicScore("medtop:04000000", "economy, business and finance", 0.7, 1)
DISASTER = TopicScore("medtop:03000000", "disaster, accident and emergency incident", 0.9, 1)
DIPLOMACY = TopicScore("medtop:11000000", "politics", 0.6, 1)

# id: (title, body, source, language, day, countries (first = about), topic, caption)
ARTICLES = {
    "a1": ("Trump meets Xi in Beijing", "Trump and Xi discussed trade between the United States and China. "
           "Tariffs were the main subject of the talks.", "wire", "en", 3, ("CN", "US"), ECONOMY,
           ("Trump and Xi shake hands", "Reuters")),
    "a2": ("Trump holds a rally in Ohio", "The former president spoke to supporters about taxes and jobs.",
           "daily", "en", 4, ("US",), POLITICS, None),
    "a3": ("Floods in southern China displace thousands", "Heavy rain flooded villages; rescuers evacuated "
           "residents.", "wire", "en", 5, ("CN",), DISASTER, None),
    "a4": ("Elections in Germany: the chancellor concedes", "The election results came in late. The electoral "
           "commission confirmed the count.", "daily", "en", 6, ("DE",), POLITICS, None),
    "a5": ("Die Wahlen in Bayern", "Die Wähler in Bayern haben am Sonntag gewählt. Die Wahl war knapp.",
           "zeitung", "de", 6, ("DE",), POLITICS, ("Ein Wahllokal in München", "dpa")),
    "a6": ("Peace talks resume in Geneva", "Delegations met for peace talks on Monday.", "wire", "en", 7,
           ("CH",), DIPLOMACY, None),
    "a7": ("Talks stall as peace seems distant", "Negotiators said the talks were over for now; peace must wait.",
           "daily", "en", 8, ("CH",), DIPLOMACY, None),
    "a8": ("Geneva talks: peace talks resume", "Delegations met again in Geneva for peace talks.", "daily", "en", 7,
           ("CH",), DIPLOMACY, None),
}
STORIES = {"a8": ("a6", "near", 0.82)}  # a8 is a pickup of a6's story


def _batch(ids: list[str]) -> LoadBatch:
    articles, tags, clusters = [], [], []
    for aid in ids:
        title, body, source, lang, day, countries, topic, caption = ARTICLES[aid]
        url = f"https://{source}.example/{aid}"
        articles.append(Article(aid, url, url, title, body, (Caption(*caption),) if caption else (),
                                datetime(2026, 11, day, 9, tzinfo=timezone.utc), lang, source=source,
                                published_source="json-ld"))
        regions = ("Europe",) if countries[0] in ("DE", "CH") else ("Asia",) if countries[0] == "CN" else ("Americas",)
        tags.append(Tags(aid, countries, countries[:1], regions, (topic,), {c: 1.0 for c in countries}, (),
                         {c: 1 / len(countries) for c in countries}, "test", language=lang, regions_about=regions))
        head, match, similarity = STORIES.get(aid, (aid, None, None))
        clusters.append(DedupResult(aid, head, head if match else None, match, similarity,
                                    agencies=(("Reuters", "dateline"),) if source == "wire" else ()))
    return LoadBatch(articles=tuple(articles), tags=tuple(tags), clusters=tuple(clusters),
                     taxonomy="IPTC Media Topics", taxonomy_version="2019-04-06")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "search.duckdb"
    warehouse.init(path)
    warehouse.load(path, _batch(["a1", "a2", "a3", "a4"]))
    warehouse.load(path, _batch(["a5", "a6", "a7", "a8"]))
    return path


def ids(path, query, **filters) -> list[str]:
    with warehouse.read_only(path) as con:
        return sorted(h.article_id for h in wsearch.find(con, query, wsearch.SearchFilters(**filters), limit=None))


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_index_holds_every_article_after_two_loads(store):
    with warehouse.read_only(store) as con:
        assert con.execute("SELECT count(*) FROM search_docs").fetchone()[0] == len(ARTICLES)
        assert con.execute("SELECT stemmer FROM search_docs WHERE article_id = 'a5'").fetchone()[0] == "german"
        assert wsearch.indexed(con)


@pytest.mark.parametrize("query, expected", [
    ("Trump China", ["a1"]),
    ("Trump -China", ["a2"]),
    ("Trump NOT China", ["a2"]),
    ("Trump OR floods", ["a1", "a2", "a3"]),
    ("(Trump OR floods) China", ["a1", "a3"]),
    ("Trump OR floods China", ["a1", "a2", "a3"]),  # AND binds first: Trump OR (floods China)
    ("-(Trump OR China) -peace", ["a4", "a5"]),
    ('"peace talks"', ["a6", "a8"]),
    ("peace talks", ["a6", "a7", "a8"]),
    ('talks -"peace talks"', ["a1", "a7"]),
    ("election", ["a4"]),            # "Elections" in the title, "election" in the body: one stem
    ("elect*", ["a4"]),              # election, electoral
    ("wahl", ["a5"]),                # German stemming: Wahlen, Wahl
    ("shake hands", ["a1"]),         # words of a caption
    ("münchen", ["a5"]),
    ("TRUMP AND china", ["a1"]),
])
def test_query_language_finds_exactly_these(store, query, expected):
    assert ids(store, query) == expected


def test_the_scan_without_the_index_answers_the_same(store, tmp_path):
    copy = tmp_path / "unindexed.duckdb"
    shutil.copy(store, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM search_docs WHERE article_id = 'a1'")  # the index no longer answers for all
    for query in ("Trump -China", "(Trump OR floods) China", '"peace talks"', "elect*", "Trump OR floods China"):
        assert ids(copy, query) == ids(store, query), query


def test_title_and_lead_rank_first(store):
    with warehouse.read_only(store) as con:
        hits = wsearch.find(con, "geneva", limit=None)
    assert [h.article_id for h in hits][0] == "a8"  # Geneva in its title and body; a6 in its title only
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("filters, expected", [
    ({"countries": ("Germany",)}, ["a4", "a5"]),
    ({"countries": ("de",)}, ["a4", "a5"]),
    ({"countries": ("Deutschland",)}, ["a4", "a5"]),
    ({"about": ("US",)}, ["a2"]),
    ({"countries": ("US",)}, ["a1", "a2"]),
    ({"topics": ("Politics",)}, ["a2", "a4", "a5", "a6", "a7", "a8"]),
    ({"topics": ("medtop:03000000",)}, ["a3"]),
    ({"topics": ("disaster",)}, ["a3"]),
    ({"languages": ("German",)}, ["a5"]),
    ({"languages": ("de",)}, ["a5"]),
    ({"sources": ("WIRE",)}, ["a1", "a3", "a6"]),
    ({"regions": ("europe",)}, ["a4", "a5", "a6", "a7", "a8"]),
    ({"since": datetime(2026, 11, 6, tzinfo=timezone.utc), "until": datetime(2026, 11, 7, tzinfo=timezone.utc)},
     ["a4", "a5"]),
])
def test_filters_by_name_and_by_code(store, filters, expected):
    assert ids(store, "", **filters) == expected


def test_filters_written_in_the_query(store):
    assert ids(store, "talks source:daily") == ["a7", "a8"]
    assert ids(store, 'topic:"economy, business and finance"') == ["a1"]


def test_search_cli_folds_pickups_under_their_story(store):
    result = invoke("search", "peace talks", "--country", "Switzerland", "--warehouse", str(store), "--format", "json")
    assert result.exit_code == 0, result.output
    stories = json.loads(result.output)
    assert sorted(s["article_id"] for s in stories) == ["a7", "a8"]  # a6 and a8 are one story, a8 ranked first
    story = next(s for s in stories if s["article_id"] == "a8")
    assert story["url"] == "https://daily.example/a8"
    assert [(p["article_id"], p["url"]) for p in story["pickups"]] == [("a6", "https://wire.example/a6")]
    lines = invoke("search", "peace talks", "--warehouse", str(store), "--format", "jsonl").output.splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["article_id"] == "a8"
    table = invoke("search", "peace talks", "--warehouse", str(store)).output
    assert "https://wire.example/a6" in table and "\u21b3 wire" in table
    rows = list(csv.DictReader(invoke("search", "peace", "--warehouse", str(store), "--format", "csv").output
                               .splitlines()))
    story = next(r for r in rows if r["article_id"] in ("a6", "a8"))  # one line for the two
    assert story["pickups"] == ("wire https://wire.example/a6" if story["article_id"] == "a8"
                                else "daily https://daily.example/a8")
    assert sorted(r["article_id"] for r in rows if r["article_id"] != story["article_id"]) == ["a7"]


@pytest.mark.parametrize("args, message", [
    (["x", "--country", "Atlantis"], "Error: country 'Atlantis' matches nothing known"),
    (["x", "--topic", "quidditch"], "Error: topic 'quidditch' matches nothing known"),
    (["x", "--source", "nowhere"], "Error: source 'nowhere' matches nothing known"),
    (["x", "--language", "klingon"], "Error: language 'klingon' matches nothing known"),
    (["x", "--region", "Atlantis"], "Error: region 'Atlantis' matches nothing known"),
    (['"peace talks'], "Error: unclosed quote"),
    (["(peace OR talks"], "Error: unbalanced '('"),
    (["peace OR"], "Error: OR needs a term on each side"),
    (["  "], "Error: nothing to search for"),
])
def test_bad_queries_and_unknown_filter_values_exit_2_with_one_line(store, args, message):
    result = invoke("search", *args, "--warehouse", str(store))
    assert result.exit_code == 2
    assert result.output.startswith(message) and result.output.count("\n") == 1


def test_show_prints_the_article_with_its_tags_captions_and_story(store):
    result = invoke("show", "https://daily.example/a8", "--warehouse", str(store))
    assert result.exit_code == 0, result.output
    text = result.output
    for expected in ("Geneva talks: peace talks resume", "source     daily", "published  2026-11-07T09:00:00+00:00 "
                     "(from json-ld)", "Switzerland (CH)", "politics medtop:11000000 0.60", "story      a6, near "
                     "match 0.82 of a6; wire: Reuters", "wire  https://wire.example/a6  (first)",
                     "Delegations met again in Geneva"):
        assert expected in text, expected
    shown = json.loads(invoke("show", "a5", "--warehouse", str(store), "--format", "json").output)
    assert shown["captions"] == [{"position": 0, "text": "Ein Wahllokal in München", "credit": "dpa"}]
    assert shown["countries"][0]["country"] == "DE" and shown["regions"][0]["region"] == "Europe"
    assert shown["country_phrases"]["DE"]  # the words that named Germany (Bayern, München)
    missing = invoke("show", "nope", "--warehouse", str(store))
    assert missing.exit_code == 1 and missing.output.startswith("Error: no article, story or URL 'nope'")


def test_csv_export_is_one_file_unless_partitioned(store, tmp_path):
    result = invoke("export", "--out", str(tmp_path / "csv"), "--format", "csv", "--warehouse", str(store))
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "csv").iterdir()] == ["articles.csv"]
    rows = list(csv.DictReader((tmp_path / "csv" / "articles.csv").open(encoding="utf-8")))
    assert sorted(r["article_id"] for r in rows) == sorted(ARTICLES)
    named = tmp_path / "out.csv"
    assert invoke("export", "--out", str(named), "--format", "csv", "--warehouse", str(store)).exit_code == 0
    assert named.is_file()
    days = tmp_path / "days"
    assert invoke("export", "--out", str(days), "--format", "csv", "--partition", "day",
                  "--warehouse", str(store)).exit_code == 0
    assert len(list(days.glob("day=*/part-0.csv"))) == 6


@pytest.mark.parametrize("query, tree", [
    ("a b", ql.And((ql.Term("a"), ql.Term("b")))),
    ("a -b", ql.And((ql.Term("a"), ql.Not(ql.Term("b"))))),
    ("a OR b c", ql.Or((ql.Term("a"), ql.And((ql.Term("b"), ql.Term("c")))))),
    ('-"x y" z*', ql.And((ql.Not(ql.Phrase(("x", "y"))), ql.Term("z", True)))),
    ("covid-19", ql.Phrase(("covid", "19"))),
    ("NOT (a OR b)", ql.Not(ql.Or((ql.Term("a"), ql.Term("b"))))),
    ("", ql.Everything()),
])
def test_parser_trees(query, tree):
    assert ql.parse(query).root == tree


def test_parser_collects_field_filters_and_refuses_them_under_not():
    parsed = ql.parse('ukraine topic:"crime, law and justice" source:reuters')
    assert parsed.root == ql.Term("ukraine")
    assert parsed.fields == (("topic", "crime, law and justice"), ("source", "reuters"))
    with pytest.raises(ql.QueryError, match="filters the whole query"):
        ql.parse("(a source:reuters)")


def test_a_load_that_makes_the_postings_due_rewrites_them_in_stem_order(store, tmp_path, monkeypatch):
    copy = tmp_path / "compacted.duckdb"
    shutil.copy(store, copy)
    monkeypatch.setattr(search_index, "COMPACT_READ_ROWS", 1)  # due at the next load
    monkeypatch.setitem(ARTICLES, "a9", ("Trump visits China", "A state visit.", "daily", "en", 9, ("CN",), POLITICS,
                                         None))
    warehouse.load(copy, _batch(["a9"]))
    with warehouse.read_only(copy) as con:
        assert con.execute("SELECT pending_reads FROM search_index_state").fetchall() == [(0,)]
        stems = [s for (s,) in con.execute("SELECT stem FROM search_postings").fetchall()]
    assert stems == sorted(stems)
    assert ids(copy, "Trump China") == ["a1", "a9"] and ids(copy, "Trump -China") == ["a2"]


def test_the_next_load_indexes_what_the_index_lacks(store, tmp_path, monkeypatch):
    copy = tmp_path / "behind.duckdb"
    shutil.copy(store, copy)
    with duckdb.connect(str(copy)) as con:  # as after migration 007: articles stored, none indexed
        con.execute("DELETE FROM search_docs")
        con.execute("DELETE FROM search_postings")
    monkeypatch.setattr(search_index, "INDEX_CHUNK", 3)  # in chunks, as a big warehouse is
    warehouse.load(copy, _batch(["a1"]))  # nothing new: the load still brings the index up to date
    with warehouse.read_only(copy) as con:
        assert wsearch.indexed(con)
    assert ids(copy, "Trump -China") == ["a2"] and ids(copy, '"peace talks"') == ["a6", "a8"]
