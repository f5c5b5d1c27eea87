"""robots.txt, honoured for article pages (feeds are published to be polled): fetched once per host (however the
host is spelt) and cached for a day, asked for every page and every redirect hop, its Crawl-delay spacing the host."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from monitor.config import HttpSettings
from monitor.fetch.client import open_hops, read_capped
from monitor.fetch.decode import BadEncoding, TooLarge
from monitor.fetch.guard import politeness_key
from monitor.politeness import ROBOTS_AGENT, HostBusy, crawl_interval, parse_robots

log = logging.getLogger(__name__)

# RFC 9309: crawlers may cache robots.txt for up to 24 hours and must read at least 500 KiB of it.
ROBOTS_TTL_SECONDS = 24 * 3600
ROBOTS_MAX_BYTES = 500 * 1024
# An unreachable robots.txt (5xx, timeout) means "disallow all" (RFC 9309); we ask again after this long.
ROBOTS_RETRY_SECONDS = 300


class Refused(Exception):
    """A page or redirect hop that robots.txt keeps us from: becomes a rejection with this reason."""

    def __init__(self, reason: str, detail: str, transient: bool = False) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.transient = reason, detail, transient


class _Robots:
    """One host's robots.txt rules; `rules` is None while the file is unreachable (disallow all, RFC 9309)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: RobotFileParser | None = None
        self.expires = 0.0  # time.monotonic() after which the file is read again


_ROBOTS: dict[str, _Robots] = {}
_ROBOTS_LOCK = threading.Lock()


def _read_robots(client: httpx.Client, http: HttpSettings, origin: str) -> RobotFileParser | None:
    """Fetch and parse `origin/robots.txt`: 4xx allows everything, 5xx or no answer disallows (None)."""
    started = time.monotonic()
    try:
        with open_hops(client, http, f"{origin}/robots.txt") as (_, response):
            status = response.status_code
            if status >= 500 or status == 429:
                return None
            if status >= 400:
                rules = RobotFileParser()
                rules.allow_all = True
                return rules
            try:
                content = read_capped(response, http, started, cap=ROBOTS_MAX_BYTES)
            except TooLarge:
                return parse_robots("")  # an absurd robots.txt is ignored, as Google ignores what is past 500 KiB
            return parse_robots(content.decode("utf-8", errors="replace"))
    except (HostBusy, httpx.TransportError, httpx.TooManyRedirects, httpx.DecodingError, BadEncoding) as exc:
        log.info("robots.txt of %s unreachable (%s); its pages wait for a later run", origin, type(exc).__name__)
        return None


def robots_for(client: httpx.Client, http: HttpSettings, url: str) -> RobotFileParser | None:
    """The cached robots.txt rules for a URL's origin (read at most once a day, or every few minutes while
    unreachable); None while the file is unreachable."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _ROBOTS_LOCK:  # one file per host, however it is spelled (localhost = 127.0.0.1)
        entry = _ROBOTS.setdefault(f"{parts.scheme}://{politeness_key(url)}", _Robots())
    with entry.lock:  # one fetch per origin, however many threads ask at once
        if time.monotonic() >= entry.expires:
            entry.rules = _read_robots(client, http, origin)
            ttl = ROBOTS_TTL_SECONDS if entry.rules is not None else ROBOTS_RETRY_SECONDS
            entry.expires = time.monotonic() + ttl
        return entry.rules


def page_interval(client: httpx.Client, http: HttpSettings, url: str) -> float | None:
    """The spacing of requests to a page's host (its Crawl-delay), after checking its robots.txt allows the page;
    raises Refused when it does not, or while the file is unreachable."""
    if not http.obey_robots:
        return None
    rules = robots_for(client, http, url)
    if rules is None:
        raise Refused("robots-unreachable", "robots.txt answered 5xx or not at all", transient=True)
    if not rules.can_fetch(ROBOTS_AGENT, url):
        raise Refused("robots-disallowed", f"robots.txt disallows {urlsplit(url).path} for {ROBOTS_AGENT}")
    return crawl_interval(rules, http)
