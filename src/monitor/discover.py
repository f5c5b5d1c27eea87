"""Feed discovery for `monitor add-source`: from a homepage or a feed URL to one validated feed.

Like a flow, this wires stages together (fetch -> feeds) rather than being one; it needs no Prefect because it is
one short, interactive call.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor import feeds, fetch, polling, sitemap
from monitor.config import MULTILINGUAL, HttpSettings, SitemapSettings, Source
from monitor.fields import normalize_language
from monitor.models import FeedParse
from monitor.opml import OpmlFeed
from monitor.polling import home_of
from monitor.sitemap import GZIP_MAGIC, SitemapError

log = logging.getLogger(__name__)

# Candidates tried before giving up: a homepage's declared feeds come first, so the common paths rarely matter.
MAX_CANDIDATES = 12
MAX_ENTRIES = 500  # entries read to check a candidate: any at all will do


class DiscoveryError(Exception):
    """No usable feed was found; the message says what was tried and what to do."""


@dataclass(frozen=True, slots=True)
class Discovered:
    """A feed that answered and parsed to entries."""

    url: str
    parse: FeedParse
    tried: int
    site: str = ""  # the outlet's home page: the page we were given, else the feed's own link, else its host's root
    kind: str = "feed"  # or "sitemap": the outlet has no feed, its (news) sitemap stands for one


def _try_feed(http: HttpSettings, url: str) -> tuple[str, str, bytes, FeedParse | None]:
    """Fetch one URL; parse it when it looks like a feed. Returns (final url, content type, body, parse)."""
    try:
        status, final, ctype, content = fetch.fetch_url(http, url)
    except fetch.TransientFetchError as exc:
        log.info("discovery: %s", exc)
        return url, "", b"", None
    if status >= 400:
        return final, ctype, b"", None
    if feeds.looks_like_feed(content) or "xml" in ctype or "rss" in ctype or "atom" in ctype:
        parsed = feeds.parse_feed("discovered", final, content, ctype)
        return final, ctype, content, parsed if parsed.entries else None
    return final, ctype, content, None


def discover(http: HttpSettings, url: str, limits: SitemapSettings = SitemapSettings()) -> Discovered:
    """The feed at `url`, or the first feed the page declares or a common path serves; failing those, the sitemap
    at `url` or the first of the site's robots.txt that lists articles (a source of kind "sitemap")."""
    final, ctype, content, parsed = _try_feed(http, url)
    if parsed is not None:
        return Discovered(final, parsed, 1, parsed.site or home_of(final))
    if not content:
        raise DiscoveryError(f"{url} did not answer with a page or a feed; check the URL and try again")
    if _looks_like_sitemap(content):
        found = _try_sitemap(http, final, content, limits)
        if found is not None:
            return Discovered(final, found, 1, home_of(final), "sitemap")
    html = fetch.decode_html(content, ctype)
    candidates = [c for c in feeds.discover_feed_links(html, final) if c != final][:MAX_CANDIDATES]
    for tried, candidate in enumerate(candidates, 2):
        feed_url, _, _, parsed = _try_feed(http, candidate)
        if parsed is not None:
            return Discovered(feed_url, parsed, tried, final)
    sitemaps = polling.robots_sitemaps(http, final)
    for tried, candidate in enumerate(sitemaps[:MAX_CANDIDATES], len(candidates) + 2):
        try:
            status, sitemap_url, _, body = fetch.fetch_url(http, candidate)
        except fetch.TransientFetchError:
            continue
        found = _try_sitemap(http, sitemap_url, body, limits) if status < 400 else None
        if found is not None:
            return Discovered(sitemap_url, found, tried, final, "sitemap")
    raise DiscoveryError(
        f"no feed found at {url} (tried {len(candidates) + 1} URLs: declared feeds and common paths"
        f"{f', and {len(sitemaps)} sitemaps from robots.txt' if sitemaps else ', and no sitemap in robots.txt'}); "
        "pass the feed's own URL")


def _looks_like_sitemap(content: bytes) -> bool:
    head = content[:4096].lower()
    return content.startswith(GZIP_MAGIC) or b"<urlset" in head or b"<sitemapindex" in head


def _try_sitemap(http: HttpSettings, url: str, content: bytes, limits: SitemapSettings) -> FeedParse | None:
    """The entries of a sitemap (an index's children fetched), or None when it is unusable or lists none."""
    try:
        parts = polling.sitemap_parts(http, url, content, limits)
    except SitemapError as exc:
        log.info("discovery: %s", exc)
        return None
    parsed = sitemap.parse_sitemaps("discovered", url, parts, MAX_ENTRIES, limits.max_urls)
    return parsed if parsed.entries else None


def suggest_name(feed_url: str, title: str, taken: set[str]) -> str:
    """A source name from the site's host ("www.example.co.uk" -> "example-co-uk"), unique among `taken`."""
    host = (urlsplit(feed_url).hostname or "").removeprefix("www.")
    base = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-") or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    base = base or "source"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an OPML import would add, and what it leaves out and why."""

    sources: tuple[Source, ...]  # checked and ready to append, in the file's order
    duplicates: int  # feeds the file lists more than once
    known: int  # feeds already in sources.toml
    failures: tuple[tuple[str, str], ...]  # (feed URL, why it was not added)


def plan_import(http: HttpSettings, feeds: list[OpmlFeed], configured: list[Source], schedule: str) -> ImportPlan:
    """Check every feed of an OPML list as `add-source` does (fetched, parsed to entries) and make a source of
    each that works: its folders as tags, the site and language the file or the feed gives, a name from its host."""
    known_urls = {s.url for s in configured}
    taken = {s.name for s in configured}
    seen: set[str] = set()
    duplicates = known = 0
    added: list[Source] = []
    failures: list[tuple[str, str]] = []
    for feed in feeds:
        if feed.url in seen:
            duplicates += 1
            continue
        seen.add(feed.url)
        if feed.url in known_urls:
            known += 1
            continue
        found, failure = _check_feed(http, feed.url)
        if found is None:
            failures.append((feed.url, failure))
            continue
        if found.url in known_urls:  # the list's URL redirects to a feed already configured
            known += 1
            continue
        known_urls.add(found.url)
        name = suggest_name(found.url, feed.title or found.parse.title, taken)
        language = _listed_language(feed.language) or found.parse.language or "en"
        try:
            source = Source(name=name, url=found.url, site=feed.site or found.site, language=language,
                            tags=feed.tags, schedule=schedule)
        except ValueError as exc:  # pydantic's ValidationError: an unusable value the file gave
            failures.append((feed.url, " ".join(str(exc).split())[:200]))
            continue
        taken.add(name)
        added.append(source)
    return ImportPlan(tuple(added), duplicates, known, tuple(failures))


def _listed_language(value: str) -> str | tuple[str, ...] | None:
    """An OPML `language`: a locale ("en-US" -> "en"), a list ("en,fr") or "multi"; None for anything else."""
    if value.strip().lower() == MULTILINGUAL:
        return MULTILINGUAL
    codes = [normalize_language(part) for part in value.split(",") if part.strip()]
    if not codes or None in codes:
        return None
    return codes[0] if len(codes) == 1 else tuple(codes)


def _check_feed(http: HttpSettings, url: str) -> tuple[Discovered | None, str]:
    """The feed at `url` itself, checked: it answers and parses to entries (no discovery from a page: an OPML
    list names feeds). Returns (found, "") or (None, why not)."""
    if not url.startswith(("http://", "https://")):
        return None, "not an http(s) URL"
    try:
        status, final, ctype, content = fetch.fetch_url(http, url)
    except fetch.TransientFetchError as exc:
        return None, str(exc).removeprefix(f"{url}: ")[:200]
    if status >= 400:
        return None, f"HTTP {status}"
    parsed = feeds.parse_feed("imported", final, content, ctype)
    if not parsed.entries:
        return None, f"not a feed ({parsed.error or 'no entries'})"
    return Discovered(final, parsed, 1, parsed.site or home_of(final)), ""
