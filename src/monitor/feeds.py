"""Turn fetched feed bytes into entries. feedparser only ever sees bytes we fetched, never a URL."""

from __future__ import annotations

import calendar
import io
import logging
import re
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser

from monitor import sitemap
from monitor.fields import (
    MAX_GUID_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS, bounded_url, cut_text, in_date_window, normalize_language,
    unescape_entities,
)
from monitor.models import Entry, FeedFetch, FeedParse, stable_id
from monitor.urls import normalize_url

log = logging.getLogger(__name__)


def _published(item: feedparser.FeedParserDict, fetched_at: datetime) -> tuple[datetime | None, tuple[str, ...]]:
    """The item's published (else updated) time as aware UTC, if it lies in the window of believable dates
    (`fields.in_date_window`: 0001-01-01 and 9999-12-31 never reach the warehouse); flags name what was set aside.
    Without a believable date the entry has none, and the warehouse's first_seen stands for it."""
    flags: list[str] = []
    seen = set()
    for key in ("published_parsed", "updated_parsed"):
        parsed = item.get(key)
        if not parsed or tuple(parsed) in seen:  # feedparser fills an RSS item's updated from its pubDate
            continue
        seen.add(tuple(parsed))
        try:
            value = datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            value = None
        if value is not None and in_date_window(value, fetched_at):
            return value, tuple(flags)
        flags.append(f"{key.removesuffix('_parsed')}-out-of-window")
    return None, tuple(flags)


def _link(item: feedparser.FeedParserDict) -> str | None:
    """The item's article link: `link`, else the first alternate link, else a permalink GUID."""
    if item.get("link"):
        return item["link"]
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    guid = item.get("id", "")
    if item.get("guidislink") or guid.startswith(("http://", "https://")):
        return guid
    return None


def to_entry(source: str, feed_url: str, item: feedparser.FeedParserDict, fetched_at: datetime | None = None
             ) -> Entry:
    """One feed item as an Entry; its link resolved against the feed URL and normalised, every field within its
    cap (`monitor.fields`: an over-long link is dropped, text is cut) and the cuts named in `truncated`."""
    full_link = _link(item)
    raw_link, long_link = bounded_url(full_link)
    link = None
    if raw_link:
        candidate, long_link = bounded_url(normalize_url(raw_link, base=feed_url))
        link = candidate if candidate and candidate.startswith(("http://", "https://")) else None
    guid = item.get("id") or full_link or item.get("title", "")
    stored_guid, long_guid = cut_text(guid, MAX_GUID_CHARS)
    title, long_title = cut_text(unescape_entities(item.get("title", "")), MAX_TITLE_CHARS)
    published, date_flags = _published(item, fetched_at or datetime.now(timezone.utc))
    cuts = {"link": long_link, "guid": long_guid, "title": long_title}
    truncated = tuple(name for name, cut in cuts.items() if cut)
    if truncated or date_flags:
        log.info("feed %s: entry %.80s kept with %s", source, stored_guid, ", ".join(
            [*(f"{name} cut" for name in truncated), *date_flags]))
    return Entry(
        entry_id=stable_id(source, guid),  # the whole GUID: two long ones that share a start stay apart
        source=source,
        guid=stored_guid,
        link=link,
        raw_link=raw_link,
        title=title,
        published=published,
        summary=item.get("summary", "")[:MAX_SUMMARY_CHARS],  # a teaser for this run, never stored
        truncated=truncated,
        date_flags=date_flags,
    )


def parse_feed(source: str, feed_url: str, content: bytes, content_type: str | None = None,
               max_entries: int = 500, fetched_at: datetime | None = None) -> FeedParse:
    """Parse RSS/Atom bytes. A bozo feed that still yields entries is kept and flagged. Entry dates later than two
    days after `fetched_at` (default: now) or before 1990 are set aside (`fields.in_date_window`)."""
    fetched_at = fetched_at or datetime.now(timezone.utc)
    if not content.strip():
        return FeedParse(source, (), error="empty-body")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    bozo_reason = None
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        bozo_reason = f"{type(exc).__name__}: {exc}"[:300] if exc else "bozo"
    entries = unique_entries(to_entry(source, feed_url, item, fetched_at) for item in parsed.entries[:max_entries])
    ttl = ttl_minutes(parsed.feed)
    if not entries:
        looks_like_feed = bool(parsed.get("version")) or bool(parsed.feed.get("title"))
        error = "no-entries" if looks_like_feed and not parsed.bozo else "not-a-feed"
        return FeedParse(source, (), bozo=bool(parsed.bozo), bozo_reason=bozo_reason, error=error, ttl_minutes=ttl)
    if parsed.bozo:
        log.warning("feed %s is malformed but yielded %d entries: %s", source, len(entries), bozo_reason)
    language = normalize_language(str(parsed.feed.get("language") or ""))
    title = cut_text(unescape_entities(str(parsed.feed.get("title", ""))), MAX_TITLE_CHARS)[0]
    site = bounded_url(str(parsed.feed.get("link") or ""))[0] or ""
    return FeedParse(source, entries, bozo=bool(parsed.bozo), bozo_reason=bozo_reason, ttl_minutes=ttl,
                     title=title, language=language, site=site if site.startswith(("http://", "https://")) else "")


def unique_entries(entries) -> tuple[Entry, ...]:
    """The feed's entries with one id each, whatever the feed repeats.

    A GUID is the publisher's promise, and sloppy CMSs break it: the same GUID on several items of one feed (a
    template's constant, an id reused for every update). `entry_id = hash(source, guid)` then collides and, before
    this, one such item stopped the whole run's load on a duplicate key. Now an item that repeats an earlier one
    exactly (same GUID, same link) is the same entry and is kept once; items that share a GUID but not a link are
    different entries, and every one of them is identified by (source, GUID, link), so which one comes first in the
    feed does not decide whose id is whose.
    """
    entries = list(entries)
    links_per_guid: dict[str, set[str | None]] = {}
    for entry in entries:
        links_per_guid.setdefault(entry.guid, set()).add(entry.link)
    out: dict[str, Entry] = {}
    for entry in entries:
        if len(links_per_guid[entry.guid]) > 1:
            entry = replace(entry, entry_id=stable_id(entry.source, entry.guid, entry.link or ""))
        out.setdefault(entry.entry_id, entry)
    if len(out) < len(entries):
        log.info("feed %s repeats %d items; kept once each", entries[0].source, len(entries) - len(out))
    return tuple(out.values())


# RSS 1.0 syndication module periods, in minutes.
_SY_PERIODS = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


def ttl_minutes(feed: feedparser.FeedParserDict) -> float | None:
    """How often the feed says it may be polled: RSS <ttl>, else sy:updatePeriod / sy:updateFrequency."""
    ttl = str(feed.get("ttl", "")).strip()
    if ttl.isdigit() and int(ttl) > 0:
        return float(ttl)
    period = _SY_PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period:
        frequency = str(feed.get("sy_updatefrequency", "1")).strip()
        return period / max(1, int(frequency)) if frequency.isdigit() else float(period)
    return None


def parse_fetches(fetches: list[FeedFetch], max_entries: int = 500) -> list[FeedParse | None]:
    """Parse every fetched feed (or sitemap source: `monitor.sitemap`) that has new bytes; None for a 304, an
    unchanged body or a failed fetch."""
    return [
        None if f.status != "ok"
        else sitemap.parse_sitemaps(f.source, f.url, f.parts or ((f.url, f.content),), max_entries)
        if f.kind == "sitemap" else parse_feed(f.source, f.url, f.content, f.content_type, max_entries)
        for f in fetches
    ]


# Where sites commonly publish a feed, tried when a homepage declares none (WordPress, Blogger, Ghost, Hugo,
# Jekyll and most news CMSs use one of these).
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feeds/posts/default",
                     "/?feed=rss2", "/rss/index.xml")
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
                        "text/xml"})  # JSON Feed is left out: feedparser cannot read it
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.I)
_ANCHOR = re.compile(r"<a\b[^>]*href\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_FEEDISH_HREF = re.compile(r"(rss|atom|feed)[^/]*$|\.(rss|xml)$", re.I)


def looks_like_feed(content: bytes) -> bool:
    """True when bytes start like an RSS, RDF or Atom document (cheap, before a full parse)."""
    head = content[:2048].lstrip().lower()
    return head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def discover_feed_links(html: str, base_url: str) -> list[str]:
    """Feed URLs a page declares: <link rel="alternate"> with a feed type first, then feed-looking <a> links,
    then the common paths on the page's host, each resolved and in first-seen order."""
    found: dict[str, None] = {}
    for tag in _LINK_TAG.findall(html):
        attrs = {m.group(1).lower(): next(v for v in m.groups()[1:] if v is not None) for m in _ATTR.finditer(tag)}
        rels = attrs.get("rel", "").lower().split()
        kind = attrs.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and attrs.get("href"):
            found.setdefault(urljoin(base_url, attrs["href"].strip()), None)
    for href in _ANCHOR.findall(html):
        if _FEEDISH_HREF.search(href.split("?")[0].rstrip("/")):
            found.setdefault(urljoin(base_url, href.strip()), None)
    for path in COMMON_FEED_PATHS:
        found.setdefault(urljoin(base_url, path), None)
    return [url for url in found if url.startswith(("http://", "https://"))]
