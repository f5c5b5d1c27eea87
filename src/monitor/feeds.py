"""Turn fetched feed bytes into entries. feedparser only ever sees bytes we fetched, never a URL."""

from __future__ import annotations

import calendar
import io
import logging
from datetime import datetime, timezone

import feedparser

from monitor.models import Entry, FeedFetch, FeedParse, stable_id
from monitor.urls import normalize_url

log = logging.getLogger(__name__)


def _published(item: feedparser.FeedParserDict) -> datetime | None:
    """The item's published (else updated) time as aware UTC."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = item.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    return None


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


def to_entry(source: str, feed_url: str, item: feedparser.FeedParserDict) -> Entry:
    """One feed item as an Entry; its link resolved against the feed URL and normalised."""
    raw_link = _link(item)
    link = None
    if raw_link:
        candidate = normalize_url(raw_link, base=feed_url)
        link = candidate if candidate.startswith(("http://", "https://")) else None
    guid = item.get("id") or raw_link or item.get("title", "")
    return Entry(
        entry_id=stable_id(source, guid),
        source=source,
        guid=guid,
        link=link,
        raw_link=raw_link,
        title=" ".join(item.get("title", "").split()),
        published=_published(item),
        summary=item.get("summary", "")[:2000],
    )


def parse_feed(source: str, feed_url: str, content: bytes, content_type: str | None = None,
               max_entries: int = 500) -> FeedParse:
    """Parse RSS/Atom bytes. A bozo feed that still yields entries is kept and flagged."""
    if not content.strip():
        return FeedParse(source, (), error="empty-body")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    bozo_reason = None
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        bozo_reason = f"{type(exc).__name__}: {exc}"[:300] if exc else "bozo"
    entries = tuple(to_entry(source, feed_url, item) for item in parsed.entries[:max_entries])
    if not entries:
        looks_like_feed = bool(parsed.get("version")) or bool(parsed.feed.get("title"))
        error = "no-entries" if looks_like_feed and not parsed.bozo else "not-a-feed"
        return FeedParse(source, (), bozo=bool(parsed.bozo), bozo_reason=bozo_reason, error=error)
    if parsed.bozo:
        log.warning("feed %s is malformed but yielded %d entries: %s", source, len(entries), bozo_reason)
    return FeedParse(source, entries, bozo=bool(parsed.bozo), bozo_reason=bozo_reason)


def dedupe_links(entries: list[Entry]) -> list[str]:
    """The distinct entry links in first-seen order: one fetch per page, however many entries point at it."""
    seen: dict[str, None] = {}
    for entry in entries:
        if entry.link and entry.link not in seen:
            seen[entry.link] = None
    return list(seen)


def parse_fetches(fetches: list[FeedFetch], max_entries: int = 500) -> list[FeedParse | None]:
    """Parse every fetched feed that has new bytes; None for a 304, an unchanged body or a failed fetch."""
    return [
        parse_feed(f.source, f.url, f.content, f.content_type, max_entries) if f.status == "ok" else None
        for f in fetches
    ]
