"""The only network code: get bytes from URLs politely, under the rules in `politeness`.

Redirects are followed hop by hop, so that every hop waits its turn at its own host (`fetch.client`) and, for pages,
obeys that host's robots.txt (`fetch.robots`). Where a connection may go is `fetch.guard`'s; bodies are decoded by
`fetch.decode`.

Expected outcomes (304, 404, 410, not HTML, too big, disallowed) come back as values; transient trouble on a feed
(timeouts, 429, 5xx, resets) raises `TransientFetchError` so the orchestrator can retry it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from monitor.config import HttpSettings
from monitor.fetch.client import make_client, open_hops, read_capped
from monitor.fetch.decode import BadEncoding, TooLarge, decode_html, looks_like_html
from monitor.fetch.guard import BlockedAddress, allowed_hosts, check_target
from monitor.fetch.robots import Refused, page_interval
from monitor.models import FeedFailure, FeedFetch, FeedRequest, Page, PageRequest, Rejection
from monitor.politeness import HostBusy, HostGate, freshness, retry_after

__all__ = ["BlockedAddress", "TooLarge", "TransientFetchError", "check_target", "decode_html", "fetch_feed",
           "fetch_feeds", "fetch_page", "fetch_pages", "fetch_url", "make_client", "settle"]

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


class TransientFetchError(Exception):
    """A failure worth retrying: timeout, connection error, 429 or 5xx."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# A page rejection's detail is cut to this many characters (the feeds' failure text has its own cap).
MAX_PAGE_DETAIL_CHARS = 200


# The failures `expected_failure` names: trying again in this run would not mend them.
EXPECTED = (HostBusy, TooLarge, BlockedAddress, httpx.TooManyRedirects, httpx.UnsupportedProtocol, httpx.InvalidURL,
            httpx.DecodingError, BadEncoding)


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
        with open_hops(client, http, url, headers) as (gate, response):
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
            content = read_capped(response, http, admitted)
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
    except EXPECTED as exc:
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
    """GET one URL politely: (status, final URL, content type, body). Raises TransientFetchError on transport
    trouble and on any failure `expected_failure` names (then with its reason); used by feed discovery."""
    started = time.monotonic()
    try:
        with make_client(http) as client, open_hops(client, http, url) as (_, response):
            content = read_capped(response, http, started) if response.status_code < 400 else b""
            return response.status_code, str(response.url), response.headers.get("content-type", ""), content
    except EXPECTED as exc:  # its callers (discovery, child sitemaps) skip a URL that fails, whatever the reason
        reason, detail = expected_failure(exc)
        raise TransientFetchError(f"{url}: {reason}" + (f" ({detail})" if detail else "")) from exc
    except httpx.TransportError as exc:
        raise TransientFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


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
        with open_hops(client, http, url, {"Accept": PAGE_ACCEPT}, lambda hop: page_interval(client, http, hop)) \
                as (gate, response):
            return _get_page(response, http, request, gate, reject)
    except Refused as exc:
        return reject(exc.reason, exc.detail, exc.transient)
    except EXPECTED as exc:  # BlockedAddress here: a redirect to a private address
        reason, detail = expected_failure(exc)
        return reject(reason, detail[:MAX_PAGE_DETAIL_CHARS], transient=isinstance(exc, HostBusy))
    except httpx.TimeoutException as exc:
        return reject("timeout", type(exc).__name__, transient=True)
    except httpx.TransportError as exc:
        return reject("connection-error", f"{type(exc).__name__}: {exc}"[:200], transient=True)


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
    content = read_capped(resp, http, started)
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
