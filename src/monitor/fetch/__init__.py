"""The only network code: get bytes from URLs politely, under the rules in `politeness`.

robots.txt is honoured for article pages (feeds are published to be polled), fetched and cached per host for a day.
Redirects are followed here, hop by hop, so that every hop waits its turn at its own host (and, for pages, obeys
that host's robots.txt). Where a connection may go is `fetch.guard`'s; bodies are decoded by `fetch.decode`.

Expected outcomes (304, 404, 410, not HTML, too big, disallowed) come back as values; transient trouble on a feed
(timeouts, 429, 5xx, resets) raises `TransientFetchError` so the orchestrator can retry it.
"""

from __future__ import annotations

import hashlib
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from monitor.config import HttpSettings
from monitor.fetch.decode import BadEncoding, TooLarge, decode_html, looks_like_html, read_bounded
from monitor.fetch.guard import BlockedAddress, GuardedTransport, allowed_hosts, check_target, politeness_key
from monitor.models import FeedFailure, FeedFetch, FeedRequest, Page, PageRequest, Rejection
from monitor.once import once
from monitor.politeness import (
    ROBOTS_AGENT, THROTTLE_JITTER, HostBusy, HostGate, crawl_interval, freshness, parse_robots, polite, retry_after,
)

__all__ = ["BlockedAddress", "TooLarge", "TransientFetchError", "check_target", "decode_html", "fetch_feed",
           "fetch_feeds", "fetch_page", "fetch_pages", "fetch_url", "make_client", "refetch_feed", "settle"]

log = logging.getLogger(__name__)

# Statuses that say "try again later" rather than "this will never work".
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Statuses that ask the client to slow down: the host is backed off, not just the one URL.
THROTTLE_STATUSES = frozenset({429, 503})
# 410 Gone: the resource was removed on purpose and will not come back (RFC 9110 15.5.11), unlike a 404.
GONE = 410
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Types that say nothing about the bytes: a page served so is sniffed (WHATWG MIME sniffing) and kept if HTML.
UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown", "unknown/unknown"})
# brotli is a dependency, so "br" is always decodable; zstd is left out (it needs another package).
ACCEPT_ENCODING = "gzip, deflate, br"
# RFC 9309: crawlers may cache robots.txt for up to 24 hours and must read at least 500 KiB of it.
ROBOTS_TTL_SECONDS = 24 * 3600
ROBOTS_MAX_BYTES = 500 * 1024
# An unreachable robots.txt (5xx, timeout) means "disallow all" (RFC 9309); we ask again after this long.
ROBOTS_RETRY_SECONDS = 300


class TransientFetchError(Exception):
    """A failure worth retrying: timeout, connection error, 429 or 5xx."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@once
def _tls() -> ssl.SSLContext:
    """The certificate store, loaded once per process: httpx loads it for every new client by default, 18 ms each,
    which was most of what a 25-page fetch task cost beyond its requests."""
    return httpx.create_ssl_context()


def make_client(http: HttpSettings) -> httpx.Client:
    """An httpx client with our user agent, timeouts, redirect cap, connection limits, proxies and address guard.

    The client itself follows redirects (each hop guarded); the fetch functions below follow them hop by hop."""
    return httpx.Client(
        headers={"User-Agent": http.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        timeout=httpx.Timeout(http.read_timeout, connect=http.connect_timeout),
        follow_redirects=True,
        max_redirects=http.max_redirects,
        transport=GuardedTransport(http, _tls(), httpx.Limits(max_connections=http.max_connections)),
    )


class _Refused(Exception):
    """A redirect hop that may not be fetched (robots.txt): becomes a rejection with this reason."""

    def __init__(self, reason: str, detail: str, transient: bool = False) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.transient = reason, detail, transient


@contextmanager
def _open(client: httpx.Client, http: HttpSettings, url: str, headers: dict[str, str] | None = None,
          interval_for: Callable[[str], float | None] = lambda url: None) -> Iterator[tuple[HostGate, httpx.Response]]:
    """GET `url`, following redirects one hop at a time, each hop taking its turn at its host's gate (spacing,
    concurrency, Retry-After); yields the final hop's gate and streamed response, its slot held until the body is
    read. `interval_for(hop)` gives the hop's spacing (or raises _Refused). The transport checks each connection's
    address again as it opens (the address actually used)."""
    request = client.build_request("GET", url, headers=headers)
    allowed = allowed_hosts(http)
    for _ in range(http.max_redirects + 1):
        hop = str(request.url)
        check_target(request.url, allowed)  # refused hops fail here, before waiting at a gate or reading robots.txt
        with polite(hop, http, interval_for(hop), key=politeness_key(hop)) as gate:
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    yield gate, response
                    return
            finally:
                response.close()
        request = response.next_request
    raise httpx.TooManyRedirects(f"more than {http.max_redirects} redirects from {url}", request=request)


def _read_capped(response: httpx.Response, http: HttpSettings, started: float, cap: int | None = None) -> bytes:
    """Read a streamed body, decoding its Content-Encoding step by step under the size cap and the time budget.

    The cap applies to the decoded bytes, and no step decodes more than `decode.DECODE_STEP`, so a gzip, deflate or
    brotli bomb stops at the cap, not after a whole network chunk is inflated.
    """
    cap = cap or http.max_bytes
    declared = response.headers.get("content-length")
    encoding = response.headers.get("content-encoding", "")
    if declared and declared.isdigit() and int(declared) > cap and encoding.lower() in ("", "identity"):
        raise TooLarge(f"content-length {declared} > {cap}")

    def tick() -> None:
        if time.monotonic() - started > http.total_timeout:
            raise httpx.ReadTimeout(f"total time over {http.total_timeout}s")

    return read_bounded(response.iter_raw(), encoding, cap, tick)


# A page rejection's detail is cut to this many characters (the feeds' failure text has its own cap).
MAX_PAGE_DETAIL_CHARS = 200


def expected_failure(exc: BaseException) -> tuple[str, str]:
    """The reason and detail of a fetch failure that trying again in this run would not mend, for feeds and pages
    alike (the one place that names them): a busy or oversized host, a blocked address, a redirect loop, a URL we
    cannot fetch, bytes we cannot decode. Transport trouble (timeouts, resets) is not among them: it is retried."""
    if isinstance(exc, HostBusy):
        return "host-busy", str(exc)
    if isinstance(exc, TooLarge):
        return "too-large", str(exc)
    if isinstance(exc, BlockedAddress):
        return "blocked-address", str(exc)
    if isinstance(exc, httpx.TooManyRedirects):
        return "too-many-redirects", ""
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return "bad-url", str(exc)
    if isinstance(exc, (httpx.DecodingError, BadEncoding)):
        return "bad-encoding", str(exc)
    raise TypeError(f"not an expected fetch failure: {type(exc).__name__}") from exc


def feed_bytes_hash(content: bytes) -> str:
    """sha1 of a feed's raw bytes (the `body_hash` of FeedFetch and FeedState): decides "unchanged" even when a
    server's validators lie. Not `models.text_hash`, the normalised-words hash of an article's body."""
    return hashlib.sha1(content).hexdigest()


# --- feeds --------------------------------------------------------------------------------------------

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


def fetch_feed(http: HttpSettings, request: FeedRequest, client: httpx.Client | None = None) -> FeedFetch:
    """Fetch one feed with a conditional GET. Raises TransientFetchError on retryable failures."""
    if client is None:
        with make_client(http) as own:
            return fetch_feed(http, request, own)
    started = time.monotonic()
    elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    source, url = request.source, request.url
    headers = {"Accept": FEED_ACCEPT}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    try:
        with _open(client, http, url, headers) as (gate, response):
            admitted = time.monotonic()  # the body's time budget starts once the host lets us in
            status = response.status_code
            if status in THROTTLE_STATUSES:
                wait = retry_after(response.headers)
                gate.throttle(wait, http.retry_delay_seconds)
                if wait is not None and wait > http.max_host_wait:  # not worth a retry in this run
                    return FeedFetch(source, url, "error", status, failure=FeedFailure(f"http-{status}"), retry_after=wait,
                                     elapsed_ms=elapsed())
                raise TransientFetchError(f"{url}: HTTP {status}", retry_after=wait)
            if status in TRANSIENT_STATUSES:
                raise TransientFetchError(f"{url}: HTTP {status}")
            gate.succeeded()
            max_age = freshness(response.headers)
            if status == 304:
                return FeedFetch(source, url, "not-modified", 304, etag=request.etag,
                                 last_modified=request.last_modified, body_hash=request.body_hash,
                                 elapsed_ms=elapsed(), max_age=max_age)
            if status >= 400:  # a 410 says "gone"; health marks the feed dead at once
                failure = FeedFailure("gone" if status == GONE else f"http-{status}")
                return FeedFetch(source, url, "error", status, failure=failure, elapsed_ms=elapsed())
            content = _read_capped(response, http, admitted)
            digest = feed_bytes_hash(content)
            # A 200 whose body hashes as before is unchanged whatever its validators say, so it is not parsed.
            unchanged = request.body_hash is not None and digest == request.body_hash
            return FeedFetch(
                source, url, "unchanged" if unchanged else "ok", status,
                content=b"" if unchanged else content,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                body_hash=digest,
                elapsed_ms=elapsed(),
                max_age=max_age,
            )
    except (HostBusy, TooLarge, BlockedAddress, httpx.TooManyRedirects, httpx.UnsupportedProtocol, httpx.InvalidURL,
            httpx.DecodingError, BadEncoding) as exc:
        reason, detail = expected_failure(exc)
        return FeedFetch(source, url, "error", failure=FeedFailure(reason, detail), elapsed_ms=elapsed())
    except httpx.TransportError as exc:  # timeouts, refused connections, resets
        raise TransientFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


def fetch_feeds(http: HttpSettings, requests: list[FeedRequest]) -> list[FeedFetch]:
    """Fetch many feeds concurrently (per-host limits hold); a transient failure comes back as a value with
    status "transient", so the caller can retry just that feed. Results keep input order."""
    if not requests:
        return []

    def one(request: FeedRequest) -> FeedFetch:
        try:
            return fetch_feed(http, request, client)
        except TransientFetchError as exc:
            return FeedFetch(request.source, request.url, "transient", retry_after=exc.retry_after,
                             failure=FeedFailure("transient", str(exc), transient=True))

    with make_client(http) as client, ThreadPoolExecutor(max_workers=http.max_connections) as pool:
        results = list(pool.map(one, requests))
    log.info("fetched %d feeds (%d to retry)", len(results), sum(r.status == "transient" for r in results))
    return results


def refetch_feed(http: HttpSettings, request: FeedRequest) -> FeedFetch:
    """Try a feed again after a transient failure: wait `retry_delay_seconds` (spread by jitter so feeds that
    failed together do not come back together), then fetch. Raises TransientFetchError if it fails again."""
    time.sleep(http.retry_delay_seconds * random.uniform(1 - THROTTLE_JITTER, 1 + THROTTLE_JITTER))
    return fetch_feed(http, request)


def settle(request: FeedRequest, outcome: FeedFetch | BaseException) -> FeedFetch:
    """A feed's outcome once its retries are spent: still transient (or the exception that ended the last
    retry), it becomes an error value with its reason, so one bad feed never fails the run."""
    if isinstance(outcome, FeedFetch):
        if outcome.status != "transient":
            return outcome
        detail, http_status, retry, elapsed = (outcome.failure.detail if outcome.failure else "", outcome.http_status,
                                               outcome.retry_after, outcome.elapsed_ms)
    else:
        detail, http_status, retry, elapsed = str(outcome), None, getattr(outcome, "retry_after", None), 0
    return FeedFetch(request.source, request.url, "error", http_status, retry_after=retry, elapsed_ms=elapsed,
                     failure=FeedFailure("transient", detail, transient=True))


def fetch_url(http: HttpSettings, url: str) -> tuple[int, str, str, bytes]:
    """GET one URL politely: (status, final URL, content type, body). Raises TransientFetchError on
    transport trouble; used by feed discovery."""
    started = time.monotonic()
    try:
        with make_client(http) as client, _open(client, http, url) as (_, response):
            content = _read_capped(response, http, started) if response.status_code < 400 else b""
            return response.status_code, str(response.url), response.headers.get("content-type", ""), content
    except (HostBusy, TooLarge, httpx.TooManyRedirects, httpx.DecodingError, BadEncoding) as exc:
        raise TransientFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise TransientFetchError(f"{url}: not a fetchable URL ({exc})") from exc
    except httpx.TransportError as exc:
        raise TransientFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


# --- robots.txt ---------------------------------------------------------------------------------------

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
        with _open(client, http, f"{origin}/robots.txt") as (_, response):
            status = response.status_code
            if status >= 500 or status == 429:
                return None
            if status >= 400:
                rules = RobotFileParser()
                rules.allow_all = True
                return rules
            try:
                content = _read_capped(response, http, started, cap=ROBOTS_MAX_BYTES)
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


# --- article pages ------------------------------------------------------------------------------------

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


def fetch_page(client: httpx.Client, http: HttpSettings, request: PageRequest) -> Page | Rejection:
    """Fetch one article page. Every outcome is a value; transient ones are marked so a later run retries."""
    url = request.url

    def reject(reason: str, detail: str = "", transient: bool = False) -> Rejection:
        return Rejection(url, "fetch", reason, detail, request.source, transient)

    try:
        check_target(httpx.URL(url), allowed_hosts(http))
    except (BlockedAddress, httpx.InvalidURL) as exc:
        return reject("blocked-address" if isinstance(exc, BlockedAddress) else "bad-url", str(exc)[:200])
    try:
        with _open(client, http, url, {"Accept": PAGE_ACCEPT}, lambda hop: _robots_interval(client, http, hop)) \
                as (gate, response):
            return _get_page(response, http, request, gate, reject)
    except _Refused as exc:
        return reject(exc.reason, exc.detail, exc.transient)
    except (HostBusy, TooLarge, BlockedAddress, httpx.TooManyRedirects, httpx.UnsupportedProtocol, httpx.InvalidURL,
            httpx.DecodingError, BadEncoding) as exc:  # BlockedAddress here: a redirect to a private address
        reason, detail = expected_failure(exc)
        return reject(reason, detail[:MAX_PAGE_DETAIL_CHARS], transient=isinstance(exc, HostBusy))
    except httpx.TimeoutException as exc:
        return reject("timeout", type(exc).__name__, transient=True)
    except httpx.TransportError as exc:
        return reject("connection-error", f"{type(exc).__name__}: {exc}"[:200], transient=True)


def _robots_interval(client: httpx.Client, http: HttpSettings, url: str) -> float | None:
    """The spacing of requests to a page's host (its Crawl-delay), after checking its robots.txt allows the page;
    raises _Refused when it does not, or while the file is unreachable."""
    if not http.obey_robots:
        return None
    rules = robots_for(client, http, url)
    if rules is None:
        raise _Refused("robots-unreachable", "robots.txt answered 5xx or not at all", transient=True)
    if not rules.can_fetch(ROBOTS_AGENT, url):
        raise _Refused("robots-disallowed", f"robots.txt disallows {urlsplit(url).path} for {ROBOTS_AGENT}")
    return crawl_interval(rules, http)


def _get_page(resp: httpx.Response, http: HttpSettings, request: PageRequest, gate: HostGate,
              reject) -> Page | Rejection:
    started = time.monotonic()  # the time budget starts once the host lets us in
    status = resp.status_code
    if status in THROTTLE_STATUSES:
        waited = gate.throttle(retry_after(resp.headers), http.retry_delay_seconds)
        return reject(f"http-{status}", f"host backed off for {waited:.0f}s", transient=True)
    gate.succeeded()
    if status == GONE:
        return reject("gone", "HTTP 410: removed for good")
    if status >= 400:
        return reject(f"http-{status}", transient=status in TRANSIENT_STATUSES)
    ctype = resp.headers.get("content-type", "")
    mime = ctype.split(";")[0].strip().lower()
    if not mime.startswith(HTML_TYPES) and mime not in UNTYPED:
        return reject("not-html", ctype[:100])
    content = _read_capped(resp, http, started)
    if not content.strip():
        return reject("empty-body")
    if not mime.startswith(HTML_TYPES) and not looks_like_html(content):
        return reject("not-html", f"{ctype or 'no content type'}, and the bytes do not start like HTML"[:100])
    return Page(request.url, str(resp.url), decode_html(content, ctype), status, request)


def fetch_pages(http: HttpSettings, requests: list[PageRequest]) -> list[Page | Rejection]:
    """Fetch many pages concurrently under the per-host politeness rules; results keep input order."""
    if not requests:
        return []
    with make_client(http) as client, ThreadPoolExecutor(max_workers=http.max_connections) as pool:
        results = list(pool.map(lambda request: fetch_page(client, http, request), requests))
    failed = sum(isinstance(r, Rejection) for r in results)
    log.info("fetched %d pages (%d rejected)", len(requests), failed)
    return results
