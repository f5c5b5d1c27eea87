"""Polling the sources: a feed is one conditional GET; a sitemap source whose sitemap is an index also needs its
child sitemaps. This wires `fetch` (the network) to `sitemap` (the parsing) so that the flow fetches a sitemap
source as it fetches a feed: bytes in a FeedFetch, parsed afterwards by `feeds.parse_fetches`."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import replace

from datetime import datetime
from urllib.parse import urlsplit

from monitor import fetch, sitemap
from monitor.config import HttpSettings, SitemapSettings, Source
from monitor.models import Entry, FeedFailure, FeedFetch, FeedRequest
from monitor.sitemap import SitemapError, read_sitemap

log = logging.getLogger(__name__)


def fetch_feeds(http: HttpSettings, requests: list[FeedRequest], limits: SitemapSettings) -> list[FeedFetch]:
    """`fetch.fetch_feeds`, with each sitemap index's child sitemaps fetched too (within `limits`)."""
    return [expand(http, request, fetched, limits)
            for request, fetched in zip(requests, fetch.fetch_feeds(http, requests))]


def refetch_feed(http: HttpSettings, request: FeedRequest, limits: SitemapSettings) -> FeedFetch:
    """One feed again after a transient failure (the flow has waited `planning.feed_retry_waits` before it),
    a sitemap index expanded as above; raises `fetch.TransientFetchError` if it fails again."""
    return expand(http, request, fetch.fetch_feed(http, request), limits)


def expand(http: HttpSettings, request: FeedRequest, fetched: FeedFetch, limits: SitemapSettings) -> FeedFetch:
    """A sitemap source's fetch with the URL sets it stands for in `parts`; a sitemap that cannot be used (not XML,
    too many URLs, an index that loops) makes the fetch an error with that one line as its reason."""
    if request.kind != "sitemap":
        return fetched
    fetched = replace(fetched, kind="sitemap")
    if fetched.status != "ok":
        return fetched
    try:
        parts = sitemap_parts(http, fetched.url, fetched.content, limits)
    except SitemapError as exc:
        log.warning("source %s: %s", request.source, exc)
        # body_hash dropped: the next poll reads the sitemap again instead of calling it unchanged
        return replace(fetched, status="error", content=b"", body_hash=None,
                       failure=FeedFailure("bad-sitemap", str(exc)))
    return replace(fetched, parts=parts)


def sitemap_parts(http: HttpSettings, url: str, content: bytes, limits: SitemapSettings
                  ) -> tuple[tuple[str, bytes], ...]:
    """The URL sets behind a sitemap: itself, or the child sitemaps of an index (breadth first, at most
    `limits.max_children` per index and `limits.max_depth` levels). Children that do not answer are skipped;
    raises SitemapError when none answers or a sitemap is unusable."""
    root = read_sitemap(content, url, limits.max_urls)
    if not root.is_index:
        return ((url, content),)
    seen = {url}
    queue = deque((child, 2) for child in root.children[:limits.max_children])
    parts: list[tuple[str, bytes]] = []
    failed: list[str] = []
    while queue:
        child, level = queue.popleft()
        if child in seen:
            raise SitemapError(f"sitemap index {url} loops back to {child}; refused")
        seen.add(child)
        try:
            status, _, _, body = fetch.fetch_url(http, child)
        except fetch.TransientFetchError as exc:
            failed.append(str(exc))
            continue
        if status >= 400:
            failed.append(f"{child}: HTTP {status}")
            continue
        sub = read_sitemap(body, child, limits.max_urls)
        looped = next((c for c in sub.children if c in seen), None)
        if looped:
            raise SitemapError(f"sitemap index {url} loops back to {looped}; refused")
        if not sub.is_index:
            parts.append((child, body))
        elif level >= limits.max_depth:
            raise SitemapError(f"sitemap index {url} nests indexes deeper than {limits.max_depth} levels "
                               "(settings: sitemaps.max_depth); refused")
        else:
            queue.extend((grandchild, level + 1) for grandchild in sub.children[:limits.max_children])
    if not parts:
        raise SitemapError(f"sitemap index {url}: no child sitemap answered ({failed[0] if failed else 'none'})")
    if failed:
        log.warning("sitemap index %s: %d child sitemaps did not answer (%s)", url, len(failed), failed[0])
    return tuple(parts)


def home_of(url: str) -> str:
    """The root page of a URL's site: "https://example.com/feeds/rss.xml" -> "https://example.com/"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def robots_sitemaps(http: HttpSettings, page: str) -> list[str]:
    """The sitemaps the robots.txt of `page`'s site declares; empty when it has none or does not answer."""
    try:
        status, _, _, body = fetch.fetch_url(http, home_of(page) + "robots.txt")
    except fetch.TransientFetchError:
        return []
    return sitemap.robots_sitemaps(body.decode("utf-8", "replace")) if status < 400 else []


def backfill_entries(http: HttpSettings, source: Source, since: datetime, limits: SitemapSettings,
                     sitemap_url: str | None = None) -> tuple[list[str], tuple[Entry, ...]]:
    """The entries of `source`'s older articles: the URLs dated on or after `since` in its sitemap (`sitemap_url`,
    else the source's own when it is a sitemap source, else those its site's robots.txt declares), archive indexes
    walked within `limits` (`archive_max_urls` per sitemap). Returns (the sitemaps read, the entries)."""
    starts = [sitemap_url] if sitemap_url else [source.url] if source.kind == "sitemap" else \
        robots_sitemaps(http, source.site or source.url)
    if not starts:
        raise SitemapError(f"source {source.name!r} has no sitemap: its robots.txt lists none; pass --sitemap URL")
    archive = limits.model_copy(update={"max_urls": limits.archive_max_urls})
    read: list[sitemap.Sitemap] = []
    for start in starts:
        try:
            status, final, _, body = fetch.fetch_url(http, start)
        except fetch.TransientFetchError as exc:
            raise SitemapError(f"sitemap {start} did not answer ({exc}); try again later") from None
        if status >= 400:
            raise SitemapError(f"sitemap {start} answered HTTP {status}; check the URL")
        read += [read_sitemap(content, url, archive.max_urls) for url, content in
                 sitemap_parts(http, final, body, archive)]
    entries = sitemap.to_entries(source.name, sitemap.dated_since(read, since), max_entries=10 ** 9)
    return [s.url for s in read], entries
