"""Sitemap sources: a news sitemap index with two child sitemaps (one gzipped) and an outlet without a feed, served
on 127.0.0.1, found through robots.txt, imported from OPML and ingested by the real flow; bad sitemaps (malformed,
a bomb of 50,000 URLs, an index listing itself) are the source's one-line failure, and nothing is stored twice."""

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.ingest import ingest
from monitor import config, planning, warehouse
from monitor.cli import cli
from monitor.sitemap import SitemapError, parse_sitemaps, read_sitemap, robots_sitemaps
from tests.conftest import SEED, scripted_server, write_config

NEWS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')
STORIES = [  # (slug, title, date, language): invented text, for these tests only
    ("harbour-reopens", "Harbour reopens after the winter storms", "2026-11-20T08:00:00+01:00", "en"),
    ("bridge-vote", "Council votes on the new river bridge", "2026-11-21T09:30:00Z", "en"),
    ("marche-couvert", "Le marché couvert rouvre ses portes", "2026-11-22", "fr"),
    ("rail-timetable", "Rail timetable changes for the holidays", "2026-11-23T12:00:00Z", "en"),
]


def _page(title: str) -> bytes:
    paragraphs = "".join(f"<p>{title}. Paragraph {n} tells the readers of the Tidewater Gazette what happened in "
                         "the town this week, who said what at the meeting, and what comes next for the people "
                         "who live by the estuary.</p>" for n in range(1, 5))
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{paragraphs}</article>" \
           "</body></html>".encode()


def _urlset(base: str, stories) -> bytes:
    urls = "".join(
        f"<url><loc>{base}/news/{slug}.html</loc><news:news><news:publication><news:name>Tidewater Gazette"
        f"</news:name><news:language>{lang}</news:language></news:publication>"
        f"<news:publication_date>{date}</news:publication_date><news:title>{title}</news:title></news:news></url>"
        for slug, title, date, lang in stories)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NEWS}>{urls}</urlset>'.encode()


def _index(base: str, *children: str) -> bytes:
    listed = "".join(f"<sitemap><loc>{base}/{c}</loc></sitemap>" for c in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{listed}' \
           "</sitemapindex>".encode()


def _outlet(base: str) -> dict:
    """An outlet without a feed: a home page, robots.txt naming its news sitemap index, two child sitemaps."""
    routes = {
        "/": (200, "text/html", b"<html><body><h1>Tidewater Gazette</h1><p>No feed here.</p></body></html>"),
        "/robots.txt": (200, "text/plain", f"User-agent: *\nAllow: /\nSitemap: {base}/news-index.xml\n".encode()),
        "/news-index.xml": (200, "application/xml", _index(base, "news-1.xml", "news-2.xml.gz")),
        "/news-1.xml": (200, "application/xml", _urlset(base, STORIES[:2])),
        "/news-2.xml.gz": (200, "application/gzip", gzip.compress(_urlset(base, STORIES[2:]))),
    }
    routes.update({f"/news/{slug}.html": (200, "text/html", _page(title)) for slug, title, _, _ in STORIES})
    return routes


def test_a_news_sitemap_reads_as_feed_entries_with_title_date_and_language():
    base = "https://gazette.example"
    parsed = parse_sitemaps("gazette", f"{base}/s.xml", ((f"{base}/s.xml", gzip.compress(_urlset(base, STORIES))),),
                            max_entries=3)
    assert [(e.title, e.published.isoformat(), e.language) for e in parsed.entries] == [
        ("Rail timetable changes for the holidays", "2026-11-23T12:00:00+00:00", "en"),
        ("Le marché couvert rouvre ses portes", "2026-11-22T00:00:00+00:00", "fr"),
        ("Council votes on the new river bridge", "2026-11-21T09:30:00+00:00", "en")]  # newest first, capped
    assert parsed.entries[0].link == parsed.entries[0].guid == f"{base}/news/rail-timetable.html"
    # a page that neither declares nor clearly reads as a language falls back on its sitemap's, then the source's
    source = config.Source(name="gazette", url=f"{base}/s.xml", kind="sitemap", language="de")
    assert [r.language for r in planning.plan_pages(list(parsed.entries), [], set(), [source])] == ["en", "fr", "en"]
    assert robots_sitemaps("User-agent: *\nsitemap: https://a.example/s.xml\nSitemap:https://a.example/s.xml\n") == [
        "https://a.example/s.xml"]


BOMB = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>https://x.example/{n}</loc></url>" for n in range(50_000)) + "</urlset>").encode()


@pytest.mark.parametrize("content, message", [
    (b"<urlset><url><loc>https://x.example/a</loc></url>", "sitemap S is not well-formed XML"),
    (BOMB, "sitemap S lists 50000 URLs, more than the 1000 allowed (settings: sitemaps.max_urls); refused"),
    (gzip.compress(BOMB), "lists 50000 URLs"),
    (_index("", "S"), "sitemap index S lists itself; refused"),
    (b"<rss><channel/></rss>", "S is XML but not a sitemap (its root is <rss>"),
    (b"\x1f\x8b\x08\x00garbage", "sitemap S is gzipped but corrupt"),
])
def test_bad_sitemaps_are_one_line(content: bytes, message: str):
    with pytest.raises(SitemapError) as err:
        read_sitemap(content.replace(b"<loc>/S</loc>", b"<loc>S</loc>"), "S", 1000)
    assert message in str(err.value) and "\n" not in str(err.value)


def _counts(path: Path, sql: str):
    return warehouse.query(path, sql)[1]


def test_sitemap_outlet_found_through_robots_and_an_opml_feed_are_imported_ingested_and_removed(
        tmp_path: Path, prefect_harness):
    routes: dict = {}
    with scripted_server(routes) as base:
        routes.update(_outlet(base))
        routes["/elsewhere/seed.rss"] = (200, "application/rss+xml", (SEED / "feed.xml").read_bytes())
        routes["/list.opml"] = (200, "text/x-opml", f'<opml version="2.0"><body><outline text="Caucasus">'
                                f'<outline text="Seed" xmlUrl="{base}/elsewhere/seed.rss"/></outline></body></opml>'.encode())
        # the bad ones, each a sitemap source of its own
        routes["/bad/malformed.xml"] = (200, "application/xml", b"<urlset><url><loc>x</loc>")
        routes["/bad/bomb.xml"] = (200, "application/xml", BOMB)
        routes["/bad/self.xml"] = (200, "application/xml", _index(base, "bad/self.xml"))
        routes["/bad/loop.xml"] = (200, "application/xml", _index(base, "bad/loop-child.xml"))
        routes["/bad/loop-child.xml"] = (200, "application/xml", _index(base, "bad/loop.xml"))
        bad = "".join(f'[[source]]\nname = "bad-{n}"\nkind = "sitemap"\nurl = "{base}/bad/{n}.xml"\n\n'
                      for n in ("malformed", "bomb", "self", "loop"))
        directory = write_config(tmp_path / "c", bad, allow=(base,))
        path = tmp_path / "w.duckdb"
        run = CliRunner()
        added = run.invoke(cli, ["--config", str(directory), "add-source", f"{base}/", "--name", "gazette"])
        imported = run.invoke(cli, ["--config", str(directory), "import-opml", f"{base}/list.opml"])
        assert added.exit_code == 0 and imported.exit_code == 0, added.output + imported.output
        gazette = config.load(directory).select_sources(["gazette"])[0]
        assert (gazette.kind, gazette.url, gazette.site, gazette.language) == (
            "sitemap", f"{base}/news-index.xml", f"{base}/", "en")
        direct = run.invoke(cli, ["--config", str(directory), "add-source", f"{base}/news-2.xml.gz", "--name", "x"])
        assert direct.output == f"added source 'x': {base}/news-2.xml.gz (2 entries) to {directory / 'sources.toml'}\n"
        assert config.load(directory).select_sources(["x"])[0].kind == "sitemap"
        config.remove_source(directory, "x")  # same articles as gazette's: not polled below
        first = ingest(warehouse_path=str(path), config_dir=str(directory))
        second = ingest(warehouse_path=str(path), config_dir=str(directory), force=True)
        del routes["/bad/bomb.xml"]
        result = run.invoke(cli, ["--config", str(directory), "remove-source", "gazette", "--warehouse", str(path)])
        third = ingest(warehouse_path=str(path), config_dir=str(directory), force=True)
    assert result.exit_code == 0, result.output
    # the imported feed's entries (its pages are not served: their links are the fixture's placeholders)
    assert first["counts"].of("gazette").new_articles == 4 and first["counts"].of("127-0-0-1").entries == 4
    stored = _counts(path, "SELECT title FROM articles WHERE source = 'gazette' ORDER BY title")
    assert stored == sorted((t,) for _, t, _, _ in STORIES)
    assert _counts(path, "SELECT count(*), count(DISTINCT title) FROM entries WHERE source = 'gazette'") == [(4, 4)]
    errors = dict(_counts(path, "SELECT source, any_value(error) FROM feed_fetches WHERE source LIKE 'bad-%' "
                                "GROUP BY source"))
    assert errors.pop("bad-malformed").startswith(
        f"bad-sitemap: sitemap {base}/bad/malformed.xml is not well-formed XML (Premature end of data in tag")
    assert errors == {
        "bad-bomb": f"bad-sitemap: sitemap {base}/bad/bomb.xml lists 50000 URLs, more than the 1000 allowed (settings: "
                    "sitemaps.max_urls); refused",
        "bad-self": f"bad-sitemap: sitemap index {base}/bad/self.xml lists itself; refused",
        "bad-loop": f"bad-sitemap: sitemap index {base}/bad/loop.xml loops back to {base}/bad/loop.xml; refused"}
    assert _counts(path, "SELECT count(*) FROM entries WHERE source LIKE 'bad-%'") == [(0,)]
    # polled again: nothing new, nothing doubled
    assert second["counts"].of("gazette").new_articles == 0
    assert _counts(path, "SELECT count(*), count(DISTINCT url) FROM articles") == \
        _counts(path, "SELECT count(*), count(*) FROM articles")
    # retired: no longer polled, its articles kept, gone from the active views
    assert "gazette" not in third["sources"] and third["counts"].count("feed", "error") >= 1
    assert _counts(path, "SELECT count(*) FROM articles WHERE source = 'gazette'") == [(4,)]
    assert ("gazette",) not in _counts(path, "SELECT source FROM feed_health")
    assert ("gazette",) in _counts(path, "SELECT source FROM feed_health_all")
