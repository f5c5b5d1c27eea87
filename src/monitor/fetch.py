"""The only network code: get bytes from URLs politely.

Expected outcomes (304, 404, not HTML, too big) come back as values; transient trouble on a feed (timeouts,
429, 5xx, resets) raises `TransientFetchError` so the orchestrator can retry it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from monitor.config import HttpSettings
from monitor.models import FeedFetch, Page, PageRequest, Rejection
from monitor.urls import host_of

log = logging.getLogger(__name__)

# Statuses that say "try again later" rather than "this will never work".
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
HTML_TYPES = ("text/html", "application/xhtml+xml")
# How far into a page we look for a <meta charset>: browsers sniff the first 1024 bytes; we allow more
# because some CMSs put long comments or scripts before it.
CHARSET_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)


class TransientFetchError(Exception):
    """A failure worth retrying: timeout, connection error, 429 or 5xx."""


class TooLarge(Exception):
    """The response exceeded the configured size cap."""


def make_client(http: HttpSettings) -> httpx.Client:
    """An httpx client with our user agent, timeouts, redirect cap and connection limits."""
    return httpx.Client(
        headers={"User-Agent": http.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(http.read_timeout, connect=http.connect_timeout),
        follow_redirects=True,
        max_redirects=http.max_redirects,
        limits=httpx.Limits(max_connections=http.max_connections),
    )


def _read_capped(response: httpx.Response, http: HttpSettings, started: float) -> bytes:
    """Read a streamed body, enforcing the size cap and the total-time budget."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > http.max_bytes:
        raise TooLarge(f"content-length {declared} > {http.max_bytes}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > http.max_bytes:
            raise TooLarge(f"body exceeds {http.max_bytes} bytes")
        if time.monotonic() - started > http.total_timeout:
            raise httpx.ReadTimeout(f"total time over {http.total_timeout}s")
        chunks.append(chunk)
    return b"".join(chunks)


def body_hash(content: bytes) -> str:
    """sha1 of a body: decides "unchanged" even when a server's validators lie."""
    return hashlib.sha1(content).hexdigest()


def fetch_feed(
    http: HttpSettings,
    source: str,
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    previous_hash: str | None = None,
) -> FeedFetch:
    """Fetch one feed with a conditional GET. Raises TransientFetchError on retryable failures."""
    with make_client(http) as client:
        return _fetch_feed(client, http, source, url, etag, last_modified, previous_hash)


def _fetch_feed(client: httpx.Client, http: HttpSettings, source: str, url: str, etag: str | None,
                last_modified: str | None, previous_hash: str | None) -> FeedFetch:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        with client.stream("GET", url, headers=headers) as response:
            elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
            if response.status_code in TRANSIENT_STATUSES:
                raise TransientFetchError(f"{url}: HTTP {response.status_code}")
            if response.status_code == 304:
                return FeedFetch(source, url, "not-modified", 304, etag=etag, last_modified=last_modified,
                                 body_hash=previous_hash, elapsed_ms=elapsed())
            if response.status_code >= 400:
                return FeedFetch(source, url, "error", response.status_code,
                                 error=f"http-{response.status_code}", elapsed_ms=elapsed())
            content = _read_capped(response, http, started)
            digest = body_hash(content)
            status = "unchanged" if previous_hash and digest == previous_hash else "ok"
            return FeedFetch(
                source, url, status, response.status_code,
                content=b"" if status == "unchanged" else content,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                body_hash=digest,
                elapsed_ms=elapsed(),
            )
    except TooLarge as exc:
        return FeedFetch(source, url, "error", error=f"too-large: {exc}")
    except httpx.TooManyRedirects:
        return FeedFetch(source, url, "error", error="too-many-redirects")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return FeedFetch(source, url, "error", error=f"bad-url: {exc}")
    except httpx.TransportError as exc:  # timeouts, refused connections, resets
        raise TransientFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


def decode_html(content: bytes, content_type: str | None) -> str:
    """Decode page bytes: the header's charset, then <meta charset>, then UTF-8, then cp1252."""
    candidates: list[str] = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    match = _META_CHARSET.search(content[:CHARSET_SNIFF_BYTES])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    candidates += ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return content.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return content.decode("utf-8", errors="replace")


def fetch_page(client: httpx.Client, http: HttpSettings, request: PageRequest) -> Page | Rejection:
    """Fetch one article page. Every outcome is a value; transient ones are marked so a later run retries."""
    url, started = request.url, time.monotonic()

    def reject(reason: str, detail: str = "", transient: bool = False) -> Rejection:
        return Rejection(url, "fetch", reason, detail, request.source, transient)

    try:
        with client.stream("GET", url, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}) as resp:
            status = resp.status_code
            if status >= 400:
                return reject(f"http-{status}", transient=status in TRANSIENT_STATUSES)
            ctype = resp.headers.get("content-type", "")
            if ctype and not ctype.lower().startswith(HTML_TYPES):
                return reject("not-html", ctype[:100])
            content = _read_capped(resp, http, started)
            if not content.strip():
                return reject("empty-body")
            return Page(url, str(resp.url), decode_html(content, ctype), status, request)
    except TooLarge as exc:
        return reject("too-large", str(exc))
    except httpx.TooManyRedirects:
        return reject("too-many-redirects")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return reject("bad-url", str(exc)[:200])
    except httpx.TimeoutException as exc:
        return reject("timeout", type(exc).__name__, transient=True)
    except httpx.TransportError as exc:
        return reject("connection-error", f"{type(exc).__name__}: {exc}"[:200], transient=True)


# Per-host slots are shared by every batch in this process: page batches run concurrently as separate tasks,
# and the per-host limit must hold across all of them, not within one batch.
_HOST_SLOTS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_HOST_SLOTS_LOCK = threading.Lock()


def host_slot(host: str, limit: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore that caps concurrent requests to one host."""
    with _HOST_SLOTS_LOCK:
        return _HOST_SLOTS.setdefault((host, limit), threading.BoundedSemaphore(limit))


def fetch_pages(requests: list[PageRequest], http: HttpSettings) -> list[Page | Rejection]:
    """Fetch many pages concurrently, at most `per_host_limit` at a time to one host; results keep input order."""
    if not requests:
        return []

    def one(request: PageRequest) -> Page | Rejection:
        with host_slot(host_of(request.url), http.per_host_limit):
            return fetch_page(client, http, request)

    with make_client(http) as client, ThreadPoolExecutor(max_workers=http.max_connections) as pool:
        results = list(pool.map(one, requests))
    failed = sum(isinstance(r, Rejection) for r in results)
    log.info("fetched %d pages (%d rejected)", len(requests), failed)
    return results
