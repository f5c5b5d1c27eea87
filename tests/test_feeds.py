from datetime import datetime, timezone

from monitor import fields
from monitor.feeds import discover_feed_links, looks_like_feed, parse_feed
from monitor.models import FeedFailure, FeedFetch
from monitor.feeds import parse_fetches
from monitor.planning import candidate_links
from tests.conftest import SEED

FEED_URL = "http://127.0.0.1:9/feed.xml"


def _seed_feed() -> bytes:
    return (SEED / "feed.xml").read_text(encoding="utf-8").replace("{BASE}", "http://127.0.0.1:9").encode()


def test_seed_feed_yields_four_entries_and_three_distinct_links():
    parsed = parse_feed("seed", FEED_URL, _seed_feed(), "application/rss+xml")
    assert not parsed.bozo and parsed.error is None
    assert len(parsed.entries) == 4
    assert len({e.entry_id for e in parsed.entries}) == 4
    assert candidate_links(list(parsed.entries), []) == [  # one page fetch per link
        "http://127.0.0.1:9/cgtn-armenia-azerbaijan.html",
        "http://127.0.0.1:9/wire-armenia-azerbaijan.html",
        "http://127.0.0.1:9/armenia-ceasefire.html",
    ]
    first = parsed.entries[0]
    assert first.raw_link.endswith("utm_campaign=world") and first.published.isoformat() == "2021-11-16T13:04:11+00:00"


def test_malformed_feed_is_flagged_and_still_yields_entries():
    xml = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>" \
          b"<item><title>A & B</title><link>/a.html</link></item><item><title>C</title><link>/c.html</link></item></rss>"
    parsed = parse_feed("broken", FEED_URL, xml)
    assert parsed.bozo and parsed.bozo_reason
    assert [e.link for e in parsed.entries] == ["http://127.0.0.1:9/a.html", "http://127.0.0.1:9/c.html"]


def test_empty_and_non_feed_bodies_are_errors_not_crashes():
    assert parse_feed("s", FEED_URL, b"  ").error == "empty-body"
    assert parse_feed("s", FEED_URL, b"<html><body><p>Hello</p></body></html>").error == "not-a-feed"
    assert parse_feed("s", FEED_URL, b"\x00\xff\xfe garbage").entries == ()


def test_entry_without_link_is_kept_with_no_link():
    xml = b"<rss version='2.0'><channel><title>T</title><item><title>No link</title><guid isPermaLink='false'>x1</guid></item></channel></rss>"
    (entry,) = parse_feed("s", FEED_URL, xml).entries
    assert entry.link is None and entry.guid == "x1" and entry.title == "No link"


def test_atom_alternate_links_are_used():
    xml = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
      <entry><title>One</title><id>urn:1</id><link rel="alternate" href="http://h.example/one?utm_source=x"/>
      <updated>2026-11-01T10:00:00Z</updated></entry></feed>"""
    (entry,) = parse_feed("atom", FEED_URL, xml).entries
    assert entry.link == "http://h.example/one" and entry.published.year == 2026


def test_only_fetches_with_new_bytes_are_parsed():
    fetches = [FeedFetch("a", FEED_URL, "ok", 200, content=_seed_feed()), FeedFetch("b", FEED_URL, "not-modified", 304),
               FeedFetch("c", FEED_URL, "error", failure=FeedFailure("http-404"))]
    parsed = parse_fetches(fetches)
    assert len(parsed[0].entries) == 4 and parsed[1] is None and parsed[2] is None


def test_feed_ttl_and_syndication_period():
    ttl = b"<rss version='2.0'><channel><title>T</title><ttl>45</ttl><item><link>/a</link></item></channel></rss>"
    assert parse_feed("s", FEED_URL, ttl).ttl_minutes == 45
    sy = (b"<rss version='2.0' xmlns:sy='http://purl.org/rss/1.0/modules/syndication/'><channel><title>T</title>"
          b"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>"
          b"<item><link>/a</link></item></channel></rss>")
    assert parse_feed("s", FEED_URL, sy).ttl_minutes == 360
    assert parse_feed("seed", FEED_URL, _seed_feed()).ttl_minutes == 30  # the seed says <ttl>30</ttl>
    assert parse_feed("s", FEED_URL, ttl.replace(b"45", b"soon")).ttl_minutes is None


def test_a_changed_guid_keeps_the_link_identity():
    """Same link under a new GUID: a new entry row, but one link, so one page and one article."""
    item = "<item><title>T</title><link>https://ex.org/a?utm_source=x</link><guid>{}</guid></item>"
    xml = f"<rss version='2.0'><channel><title>T</title>{item.format('g1')}{item.format('g2')}</channel></rss>"
    entries = list(parse_feed("s", FEED_URL, xml.encode()).entries)
    assert len({e.entry_id for e in entries}) == 2 and candidate_links(entries, []) == ["https://ex.org/a"]


def test_discovery_prefers_declared_feeds_then_feed_links_then_common_paths():
    html = """<html><head>
      <link rel="stylesheet" href="/s.css">
      <link rel="alternate" type="application/rss+xml" title="World" href="/world/rss.xml">
      <LINK REL='alternate' TYPE='application/atom+xml' HREF='https://cdn.example.org/atom'>
      <link rel="alternate" hreflang="fr" href="/fr/">
    </head><body><a href="/about">About</a><a href="/news/feed/">Feed</a></body></html>"""
    links = discover_feed_links(html, "https://example.org/home")
    assert links[:3] == ["https://example.org/world/rss.xml", "https://cdn.example.org/atom",
                         "https://example.org/news/feed/"]
    assert "https://example.org/feed" in links and "https://example.org/rss.xml" in links
    assert "https://example.org/fr/" not in links and "https://example.org/about" not in links
    assert looks_like_feed(b"  <?xml version='1.0'?><rss>") and not looks_like_feed(b"<!doctype html><html>")


def _rss(items: str, language: str = "en") -> bytes:
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><language>{language}</language>"
            f"{items}</channel></rss>").encode()


FETCHED = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def test_extreme_feed_dates_never_reach_an_entry():
    xml = _rss("<item><title>A</title><link>/a</link><pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate></item>"
               "<item><title>B</title><link>/b</link><pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>"
               "<item><title>C</title><link>/c</link><pubDate>Sat, 19 Dec 2026 10:00:00 GMT</pubDate></item>"
               "<item><title>D</title><link>/d</link><pubDate>Fri, 20 Nov 2026 09:00:00 +0100</pubDate></item>")
    a, b, c, d = parse_feed("s", FEED_URL, xml, fetched_at=FETCHED).entries
    assert [e.published for e in (a, b, c)] == [None, None, None]  # so the warehouse's first_seen stands
    assert a.date_flags == b.date_flags == c.date_flags == ("published-out-of-window",)
    assert (d.published, d.date_flags) == (datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc), ())


def test_an_unbelievable_published_date_gives_way_to_the_updated_date():
    xml = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
      <entry><title>One</title><id>urn:1</id><link href="http://h.example/one"/>
      <published>0001-01-01T00:00:00Z</published><updated>2026-11-19T10:00:00Z</updated></entry></feed>"""
    (entry,) = parse_feed("atom", FEED_URL, xml, fetched_at=FETCHED).entries
    assert entry.published == datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)
    assert entry.date_flags == ("published-out-of-window",)


def test_entry_fields_are_bounded_and_the_cut_recorded():
    huge_title = "Harbour " * 250_000  # 2 MB
    long_link = "http://h.example/" + "a" * 9000
    long_guid = "urn:" + "g" * 5000
    xml = _rss(f"<item><title>{huge_title}</title><link>{long_link}</link><guid>{long_guid}</guid></item>"
               f"<item><title>Ok</title><link>/ok</link><guid>{long_guid}x</guid></item>")
    first, second = parse_feed("s", FEED_URL, xml).entries
    assert len(first.title) <= fields.MAX_TITLE_CHARS and len(first.guid) <= fields.MAX_GUID_CHARS
    assert first.link is None and first.raw_link is None  # a URL is dropped, never cut into another URL
    assert first.truncated == ("link", "guid", "title")
    assert first.entry_id != second.entry_id  # ids hash the whole GUID, so a shared start does not collide
    assert second.truncated == ("guid",) and second.link == "http://127.0.0.1:9/ok"


def test_entry_titles_lose_html_entities_and_feed_languages_are_normalised():
    xml = _rss("<item><title>T&amp;amp;#039;de &amp;#8217;yang&#305;n&amp;#8217;</title><link>/a</link></item>",
               language="nb-NO")
    parsed = parse_feed("s", FEED_URL, xml)
    assert parsed.entries[0].title == "T'de ’yangın’" and parsed.language == "no"
