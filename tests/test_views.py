"""The reporting views in warehouse/views.sql, over a real DuckDB file filled with known rows."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from monitor import warehouse

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def add_article(con, article_id: str, source: str, published: datetime | None, countries=(), topic: str | None = None,
                cluster: str | None = None, method: str = "trafilatura", first_seen: datetime = NOW) -> None:
    con.execute("""INSERT INTO articles (article_id, url, canonical_url, source, title, published, first_seen, language,
                                         body, body_hash, extraction_method, run_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 'en', 'Body text.', 'h', ?, 'r')""",
                [article_id, f"http://x/{article_id}", f"http://x/{article_id}", source, f"Title {article_id}",
                 published, first_seen, method])
    con.execute("INSERT INTO article_clusters (article_id, cluster_id, match) VALUES (?, ?, ?)",
                [article_id, cluster or article_id, "near" if cluster and cluster != article_id else None])
    for country in countries:
        con.execute("INSERT INTO article_countries (article_id, country, mentions, is_about, in_caption) "
                    "VALUES (?, ?, 1, true, false)", [article_id, country])
    if topic:
        con.execute("INSERT INTO article_topics (article_id, code, label, score, rank, taxonomy) "
                    "VALUES (?, 'medtop:16000000', ?, 0.9, 1, 'IPTC Media Topics')", [article_id, topic])


@pytest.fixture()
def wh(tmp_path: Path):
    path = tmp_path / "views.duckdb"
    warehouse.init(path)
    with duckdb.connect(str(path)) as con:
        for name in ("ledger", "courier", "review"):
            con.execute("INSERT INTO sources (name, url, updated_at) VALUES (?, ?, now())", [name, f"http://x/{name}"])
        yield path, con


def test_daily_volume_counts_articles_and_stories_per_dimension(wh):
    path, con = wh
    day = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    add_article(con, "a", "ledger", day, ["FR"], "politics")
    add_article(con, "b", "courier", day, ["FR", "DE"], "politics", cluster="a")
    add_article(con, "c", "courier", None, ["DE"], first_seen=day + timedelta(days=1))  # undated: first seen
    rows = con.execute("SELECT day::VARCHAR, dimension, value, articles, stories FROM daily_volume "
                       "WHERE dimension IN ('all', 'country', 'topic') ORDER BY 1, 2, 3").fetchall()
    assert rows == [("2026-11-02", "all", "all", 2, 1), ("2026-11-02", "country", "DE", 1, 1),
                    ("2026-11-02", "country", "FR", 2, 1), ("2026-11-02", "topic", "politics", 2, 1),
                    ("2026-11-03", "all", "all", 1, 1), ("2026-11-03", "country", "DE", 1, 1)]


def test_a_spike_is_three_deviations_over_the_28_day_mean(wh):
    path, con = wh
    start = datetime(2026, 10, 1, 9, tzinfo=timezone.utc)
    for d in range(28):  # one or two articles a day about Estonia, then ten on day 29
        for k in range(1 + d % 2):
            add_article(con, f"ee{d}-{k}", "ledger", start + timedelta(days=d), ["EE"])
    for k in range(10):
        add_article(con, f"burst{k}", "courier", start + timedelta(days=28), ["EE"])
    spikes = con.execute("SELECT day::VARCHAR, value, articles, mean_28d, z FROM spikes "
                         "WHERE dimension = 'country'").fetchall()
    assert spikes == [("2026-10-29", "EE", 10, 1.5, 17.0)]


def test_top_stories_rank_by_outlets_within_each_period(wh):
    path, con = wh
    add_article(con, "wide1", "ledger", NOW - timedelta(hours=2))
    add_article(con, "wide2", "courier", NOW - timedelta(hours=3), cluster="wide1")
    add_article(con, "wide3", "review", NOW - timedelta(hours=4), cluster="wide1")
    add_article(con, "narrow", "ledger", NOW - timedelta(hours=5))
    add_article(con, "older", "ledger", NOW - timedelta(days=3))
    add_article(con, "older2", "review", NOW - timedelta(days=3), cluster="older")
    rows = con.execute("SELECT period, rank, cluster_id, outlets, outlet_names FROM top_stories "
                       "ORDER BY period, rank").fetchall()
    assert rows == [("24h", 1, "wide1", 3, ["courier", "ledger", "review"]), ("24h", 2, "narrow", 1, ["ledger"]),
                    ("7d", 1, "wide1", 3, ["courier", "ledger", "review"]), ("7d", 2, "older", 2, ["ledger", "review"]),
                    ("7d", 3, "narrow", 1, ["ledger"])]


def test_extraction_quality_counts_fallbacks_missing_dates_and_rejections(wh):
    path, con = wh
    add_article(con, "a", "ledger", NOW)
    add_article(con, "b", "ledger", None, method="paragraphs")
    con.execute("INSERT INTO rejections (url, stage, reason, detail, source, transient, first_seen, last_seen, run_id) "
                "VALUES ('http://x/e', 'extract', 'empty-page', '', 'ledger', false, now(), "
                "now(), 'r'), ('http://x/f', 'fetch', 'http-404', '', 'ledger', false, now(), now(), 'r')")
    row = con.execute("SELECT articles, empty_bodies, extract_rejections, fetch_rejections, fallbacks, missing_date, "
                      "success_rate, rejection_reasons FROM extraction_quality WHERE source = 'ledger'").fetchone()
    assert row == (2, 1, 1, 1, 1, 1, 0.5, ["empty-page", "http-404"])


def test_every_query_in_docs_queries_md_runs(seed_warehouse):
    """The documented examples stay true to the schema: each ```sql block runs on a real warehouse."""
    text = (Path(__file__).parents[1] / "docs" / "queries.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```sql\n")[1:]]
    statements = [s.strip() for b in blocks for s in b.split(";") if s.strip() and not s.strip().startswith("--")
                  or "\n" in s.strip()]
    assert len(statements) >= 8
    with duckdb.connect(str(seed_warehouse), read_only=True) as con:
        for sql in statements:
            con.execute(sql).fetchall()
