"""Feed discovery for `monitor add-source`: from a homepage or a feed URL to one validated feed.

Like a flow, this wires stages together (fetch -> feeds) rather than being one; it needs no Prefect because it is
one short, interactive call.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor import feeds, fetch
from monitor.config import HttpSettings
from monitor.models import FeedParse

log = logging.getLogger(__name__)

# Candidates tried before giving up: a homepage's declared feeds come first, so the common paths rarely matter.
MAX_CANDIDATES = 12


class DiscoveryError(Exception):
    """No usable feed was found; the message says what was tried and what to do."""


@dataclass(frozen=True, slots=True)
class Discovered:
    """A feed that answered and parsed to entries."""

    url: str
    parse: FeedParse
    tried: int
    site: str = ""  # the outlet's home page: the page we were given, else the feed's own link, else its host's root


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


def discover(http: HttpSettings, url: str) -> Discovered:
    """The feed at `url`, or the first feed the page declares or a common path serves."""
    final, ctype, content, parsed = _try_feed(http, url)
    if parsed is not None:
        return Discovered(final, parsed, 1, parsed.site or home_of(final))
    if not content:
        raise DiscoveryError(f"{url} did not answer with a page or a feed; check the URL and try again")
    html = fetch.decode_html(content, ctype)
    candidates = [c for c in feeds.discover_feed_links(html, final) if c != final][:MAX_CANDIDATES]
    for tried, candidate in enumerate(candidates, 2):
        feed_url, _, _, parsed = _try_feed(http, candidate)
        if parsed is not None:
            return Discovered(feed_url, parsed, tried, final)
    raise DiscoveryError(
        f"no feed found at {url} (tried {len(candidates) + 1} URLs: declared feeds and common paths); "
        "pass the feed's own URL")


def home_of(url: str) -> str:
    """The root page of a URL's site: "https://example.com/feeds/rss.xml" -> "https://example.com/"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def suggest_name(feed_url: str, title: str, taken: set[str]) -> str:
    """A source name from the site's host ("www.example.co.uk" -> "example-co-uk"), unique among `taken`."""
    host = (urlsplit(feed_url).hostname or "").removeprefix("www.")
    base = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-") or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    base = base or "source"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name
