"""End to end: real HTTP on 127.0.0.1, a real Prefect flow under the test harness, a real DuckDB file."""

from pathlib import Path

from flows.ingest import ingest
from monitor import warehouse
from tests.conftest import SEED, scripted_server, serve_seed, write_config

DATA_TABLES = ["entries", "articles", "captions", "article_countries", "article_regions", "article_topics",
               "article_clusters", "rejections", "sources"]


def _one(path: Path, sql: str, params=None):
    return warehouse.query(path, sql, params)[1]


def test_seed_newsroom_lands_as_expected(seed_warehouse, expected):
    feed = expected["feed"]
    assert _one(seed_warehouse, "SELECT count(*) FROM entries") == [(feed["entries"],)]
    assert _one(seed_warehouse, "SELECT count(*) FROM articles") == [(feed["distinct_articles_after_dedup"],)]
    assert _one(seed_warehouse, "SELECT count(DISTINCT cluster_id) FROM article_clusters") == [(feed["story_clusters"],)]
    assert _one(seed_warehouse, "SELECT count(*) FROM entries WHERE article_id IS NULL") == [(0,)]
    cgtn = expected["articles"]["cgtn-armenia-azerbaijan.html"]
    rows = _one(seed_warehouse, "SELECT article_id, title, body, language, strftime(published, '%Y-%m-%d') FROM articles "
                                "WHERE canonical_url = ?", [cgtn["canonical_url"]])
    (article_id, title, body, language, published), = rows
    assert (title, language, published) == (cgtn["title"], cgtn["language"], cgtn["published"])
    assert body.startswith(cgtn["body_starts_with"]) and "READ MORE" not in body
    assert _one(seed_warehouse, "SELECT text, credit FROM captions WHERE article_id = ?", [article_id]) == \
        [(cgtn["captions_exactly"][0], cgtn["caption_credit"])]
    assert [r[0] for r in _one(seed_warehouse, "SELECT country FROM article_countries WHERE article_id = ? ORDER BY 1",
                               [article_id])] == cgtn["countries_exactly"]
    regions = {r[0] for r in _one(seed_warehouse, "SELECT region FROM article_regions WHERE article_id = ?", [article_id])}
    assert set(cgtn["regions_include"]) <= regions
    topics = {r[0] for r in _one(seed_warehouse, "SELECT label FROM article_topics WHERE article_id = ?", [article_id])}
    assert set(cgtn["topics_include"]) <= topics


def test_wire_copy_joins_the_cgtn_cluster_and_the_ceasefire_does_not(seed_warehouse):
    rows = dict(_one(seed_warehouse, """SELECT regexp_extract(a.url, '[^/]+$'), c.cluster_id
                                        FROM articles a JOIN article_clusters c USING (article_id)"""))
    assert rows["wire-armenia-azerbaijan.html"] == rows["cgtn-armenia-azerbaijan.html"]
    assert rows["armenia-ceasefire.html"] != rows["cgtn-armenia-azerbaijan.html"]
    assert _one(seed_warehouse, "SELECT match FROM article_clusters WHERE match IS NOT NULL") == [("near",)]


def test_running_twice_adds_no_data_rows(tmp_path, prefect_harness):
    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
        first = warehouse.table_counts(path)
        not_due = ingest(warehouse_path=str(path), config_dir=str(config_dir))
        forced = ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
        second = warehouse.table_counts(path)
    assert {t: second[t] for t in DATA_TABLES} == {t: first[t] for t in DATA_TABLES}
    assert second["runs"] == first["runs"] + 2  # the runs log records every run
    # An hourly feed polled a moment ago is not due; a forced run asks, and the server answers 304.
    assert not_due["skipped"] == {"seed": "not-due"} and not_due["counts"].count("feed", "skipped", "not-due") == 1
    assert forced["counts"].count("feed", "not-modified") == 1 and forced["counts"].count("articles", "new") == 0


def test_bad_feeds_are_recorded_and_the_run_goes_on(tmp_path, prefect_harness):
    good = (SEED / "feed.xml").read_bytes()
    routes = {"/error.xml": (500, "text/plain", b"boom"), "/empty.xml": (200, "application/xml", b""),
              "/html.xml": (200, "text/html", b"<html><body>Not a feed</body></html>")}
    with serve_seed(tmp_path) as (_, feed), scripted_server(routes) as bad:
        sources = f'[[source]]\nname = "seed"\nurl = "{feed}"\n' + "".join(
            f'[[source]]\nname = "{n}"\nurl = "{bad}/{n}.xml"\n' for n in ("error", "gone", "empty", "html"))
        config_dir = write_config(tmp_path / "config", sources, "[http]\nretries = 1\nretry_delay_seconds = 0\n")
        path = tmp_path / "w.duckdb"
        result = ingest(warehouse_path=str(path), config_dir=str(config_dir))
    assert good and result["counts"].count("articles", "new") == 3
    reasons = dict(_one(path, "SELECT source, reason FROM rejections WHERE stage = 'feed' ORDER BY source"))
    assert reasons == {"error": "transient", "gone": "http-404", "empty": "empty-body", "html": "not-a-feed"}
    statuses = dict(_one(path, "SELECT source, status FROM feed_fetches"))
    assert statuses["seed"] == "ok" and statuses["error"] == "error" and statuses["gone"] == "error"


def test_demo_newsroom(tmp_path, prefect_harness):
    from monitor.demo import prepare
    from monitor.demo.server import serve_directory

    (tmp_path / "site").mkdir()
    with serve_directory(tmp_path / "site") as base:
        config_dir = prepare(tmp_path, base)
        path = tmp_path / "demo.duckdb"
        result = ingest(warehouse_path=str(path), config_dir=str(config_dir))
    counts = result["counts"]
    assert counts.count("articles", "new") >= 40 and counts.count("feed", "bozo") == 1
    assert counts.count("fetch", "rejected", "http-404") == 1
    assert counts.of("ledger").duplicates >= 1  # the tracking-parameter link
    (members, outlets), = _one(path, "SELECT articles, outlets FROM story_clusters WHERE articles > 1")
    assert (members, outlets) == (3, 3)
    # Countries named only in the outlets' related-link boxes are never tagged.
    leaked = _one(path, """SELECT count(*) FROM article_countries c JOIN articles a USING (article_id)
                           WHERE c.country IN ('ES', 'AR') AND a.body NOT LIKE '%Spain%' AND a.body NOT LIKE '%Argentin%'""")
    assert leaked == [(0,)]
    assert _one(path, "SELECT count(*) FROM articles WHERE body LIKE '%Sign up%' OR body LIKE '%READ MORE%'") == [(0,)]
    # Served again on another port: canonical URLs and GUIDs are stable, so nothing is added.
    before = warehouse.table_counts(path)
    (tmp_path / "again" / "site").mkdir(parents=True)
    with serve_directory(tmp_path / "again" / "site") as base:
        ingest(warehouse_path=str(path), config_dir=str(prepare(tmp_path / "again", base)), force=True)
    after = warehouse.table_counts(path)
    assert {t: after[t] for t in ("articles", "entries", "article_clusters", "captions")} == \
        {t: before[t] for t in ("articles", "entries", "article_clusters", "captions")}


def test_feed_fetch_log_counts_entries_and_new_entries(seed_warehouse):
    assert _one(seed_warehouse, "SELECT source, status, entries, new_entries, bozo FROM feed_fetches") == \
        [("seed", "ok", 4, 4, False)]


def _page(title: str, paragraphs: list[str], canonical: str | None = None) -> bytes:
    """An article page: headline and paragraphs, with a canonical link when given."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>{text}</article>"
            "</body></html>").encode()


def _feed(link: str, guid: str | None = None) -> bytes:
    """An RSS feed with one item."""
    guid_tag = f"<guid>{guid}</guid>" if guid else ""
    return (f"<rss version='2.0'><channel><title>F</title><item><title>Story</title><link>{link}</link>{guid_tag}"
            "</item></channel></rss>").encode()


def test_amp_and_main_page_from_two_feeds_are_one_article(tmp_path, prefect_harness):
    story = ["Ministers from both countries met in the capital to agree on new border crossings. " * 5]

    def page(canonical: str) -> bytes:
        return _page("Border crossings agreed", story, canonical)

    feed = _feed

    routes: dict = {}
    with scripted_server(routes) as base:
        main = f"{base}/world/border.html"
        routes.update({
            "/world/border.html": (200, "text/html", page(main)),
            "/amp/world/border.html": (200, "text/html", page(main)),
            "/amp.xml": (200, "application/rss+xml", feed(f"{base}/amp/world/border.html?utm_medium=amp", "a-1")),
            "/main.xml": (200, "application/rss+xml", feed(main, "m-1")),
        })
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "amp"\nurl = "{base}/amp.xml"\n'
                                                       f'[[source]]\nname = "main"\nurl = "{base}/main.xml"\n')
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
        # The AMP feed's item gets a new GUID, as CMSs do on republishing: still no new article.
        routes["/amp.xml"] = (200, "application/rss+xml", feed(f"{base}/amp/world/border.html", "a-2"))
        again = ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
    assert _one(path, "SELECT canonical_url FROM articles") == [(main,)]
    assert _one(path, "SELECT count(DISTINCT article_id), count(*) FROM entries") == [(1, 3)]
    assert again["counts"].count("articles", "new") == 0 and again["counts"].count("pages", "fetched") == 0


def test_a_wire_copy_next_run_joins_the_stored_story_by_its_signature(tmp_path, prefect_harness):
    """Run 1 stores a story; run 2 brings another outlet's copy. The copy is matched against the stored MinHash
    signature (no body is re-read), joins the cluster, and the agency in its dateline is recorded."""
    paragraphs = [f"Paragraph {i}: ministers from Armenia and Azerbaijan met in Geneva on Monday to discuss the "
                  f"border commission, the release of detainees and the opening of transport links number {i}."
                  for i in range(8)]
    page = _page

    def feed(base: str, path: str) -> bytes:
        return _feed(f"{base}{path}")

    routes: dict = {}
    with scripted_server(routes) as base:
        routes.update({
            "/first/story.html": (200, "text/html", page("Armenia and Azerbaijan meet in Geneva", paragraphs)),
            "/second/copy.html": (200, "text/html", page("Geneva talks on the border", [
                "GENEVA (Reuters) - " + paragraphs[0], *paragraphs[2:7], "Sign up for our newsletter."])),
            "/a.xml": (200, "application/rss+xml", feed(base, "/first/story.html")),
            "/b.xml": (200, "application/rss+xml", b"<rss version='2.0'><channel><title>B</title></channel></rss>"),
        })
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "a"\nurl = "{base}/a.xml"\n'
                                                       f'[[source]]\nname = "b"\nurl = "{base}/b.xml"\n')
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
        routes["/b.xml"] = (200, "application/rss+xml", feed(base, "/second/copy.html"))
        ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
    rows = _one(path, """SELECT a.source, c.cluster_id, c.match, c.similarity, octet_length(c.signature), c.shingle_count
                         FROM articles a JOIN article_clusters c USING (article_id) ORDER BY a.source""")
    (source_a, cluster_a, match_a, _, sig_a, count_a), (source_b, cluster_b, match_b, similarity, _, _) = rows
    assert (source_a, source_b, match_a, match_b) == ("a", "b", None, "near")
    assert cluster_b == cluster_a and similarity >= 0.6 and sig_a == 256 and count_a >= 20
    assert _one(path, "SELECT a.source, g.agency, g.found_in FROM article_agencies g JOIN articles a USING (article_id)"
                ) == [("b", "Reuters", "dateline")]
    (articles, outlets, agencies), = _one(path, "SELECT articles, outlets, agencies FROM cluster_reach")
    assert (articles, outlets, agencies) == (2, 2, ["Reuters"])
    assert _one(path, "SELECT source, publish_rank FROM story_firsts ORDER BY publish_rank") == [("a", 1), ("b", 2)]


def test_story_views_count_the_seed(seed_warehouse, expected):
    (articles, stories, pickups), = _one(seed_warehouse,
                                         "SELECT sum(articles), sum(stories), sum(pickups) FROM stories_per_day")
    assert (articles, stories, pickups) == (expected["feed"]["distinct_articles_after_dedup"],
                                            expected["feed"]["story_clusters"], 1)
    (representative, first), = _one(seed_warehouse, """SELECT representative, (SELECT article_id FROM story_firsts f
        WHERE f.cluster_id = s.cluster_id AND publish_rank = 1) FROM story_clusters s WHERE articles = 2""")
    assert representative == first
