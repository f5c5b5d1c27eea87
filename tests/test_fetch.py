"""fetch.py against a real HTTP server on 127.0.0.1: every outcome is a value or a retryable error."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import pytest

from monitor.config import HttpSettings
from monitor.demo.server import serve_directory, serve_handler
from monitor.fetch import TransientFetchError, fetch_feed, fetch_pages
from monitor.models import FeedRequest, Page, PageRequest, Rejection
from tests.conftest import SEED, allowing, scripted_server

HTTP = HttpSettings(connect_timeout=2, read_timeout=1, total_timeout=3, max_bytes=50_000, min_host_interval=0,
                    retry_delay_seconds=0.1)


def test_page_outcomes_are_values():
    routes = {"/ok.html": (200, "text/html; charset=utf-8", "<html><body><p>Grüße</p></body></html>".encode()),
              "/gone.html": (410, "text/html", b"gone"), "/busy.html": (503, "text/html", b"busy"),
              "/image.png": (200, "image/png", b"\x89PNG"), "/big.html": (200, "text/html", b"x" * 60_000),
              "/empty.html": (200, "text/html", b"")}
    with scripted_server(routes) as base:
        results = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}{p}", source="s") for p in routes])
    ok, *rejected = results
    assert isinstance(ok, Page) and "Grüße" in ok.html and ok.request.source == "s"
    assert [(r.reason, r.transient, r.source) for r in rejected] == [
        ("gone", False, "s"), ("http-503", True, "s"), ("not-html", False, "s"), ("too-large", False, "s"),
        ("empty-body", False, "s")]


def test_feed_conditional_get_and_transient_errors():
    with serve_directory(SEED) as base:
        first = fetch_feed(allowing(HTTP, base), FeedRequest("seed", f"{base}/feed.xml"))
        assert first.status == "ok" and first.last_modified and first.body_hash and first.content
        again = fetch_feed(allowing(HTTP, base), FeedRequest("seed", f"{base}/feed.xml", first.etag,
                                                             first.last_modified, first.body_hash))
        assert again.status == "not-modified" and again.http_status == 304
        # no validators sent: the body hash alone says "unchanged", and the bytes are not passed on to parse
        lying = fetch_feed(allowing(HTTP, base),
                           FeedRequest("seed", f"{base}/feed.xml", body_hash=first.body_hash))
        assert lying.status == "unchanged" and lying.content == b""
        assert fetch_feed(allowing(HTTP, base), FeedRequest("seed", f"{base}/missing.xml")).error == "http-404"
    with scripted_server({"/f": (500, "text/plain", b"boom")}) as base, pytest.raises(TransientFetchError):
        fetch_feed(allowing(HTTP, base), FeedRequest("s", f"{base}/f"))


class _Slow(BaseHTTPRequestHandler):
    """Sleeps on every request and records the peak number of requests in flight."""

    lock = threading.Lock()
    active = 0
    peak = 0

    def do_GET(self) -> None:  # noqa: N802
        cls = type(self)
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        time.sleep(0.15)
        with cls.lock:
            cls.active -= 1
        body = b"<html><body><p>slow</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


def test_per_host_limit_holds_across_concurrent_batches():
    handler = type("Slow", (_Slow,), {"lock": threading.Lock(), "active": 0, "peak": 0})
    with serve_handler(handler) as base, ThreadPoolExecutor(3) as pool:
        batches = [[PageRequest(f"{base}/{b}-{i}.html") for i in range(6)] for b in range(3)]
        results = [r for rs in pool.map(lambda reqs: fetch_pages(allowing(HTTP, base), reqs), batches) for r in rs]
    assert all(isinstance(r, Page) for r in results) and len(results) == 18
    assert handler.peak == HTTP.per_host_limit


def test_a_timeout_is_a_transient_rejection():
    handler = type("Slower", (_Slow,), {"lock": threading.Lock(), "active": 0, "peak": 0})
    settings = HttpSettings(read_timeout=0.05, total_timeout=1, min_host_interval=0, obey_robots=False)
    with serve_handler(handler) as base:
        (result,) = fetch_pages(allowing(settings, base), [PageRequest(f"{base}/x.html")])
    assert isinstance(result, Rejection) and result.reason == "timeout" and result.transient


class _Recorder(BaseHTTPRequestHandler):
    """Serves robots.txt and pages; records (path, user agent, accept-encoding, time) of every request."""

    robots = b""
    robots_status = 200
    page_status = 200
    headers_out: dict[str, str] = {}
    seen: list = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append((self.path, self.headers.get("User-Agent"), self.headers.get("Accept-Encoding"),
                                time.monotonic()))
        if self.path == "/robots.txt":
            status, body = self.robots_status, self.robots
        else:
            status, body = self.page_status, b"<html><body><p>page</p></body></html>"
        self.send_response(status)
        for key, value in {"Content-Type": "text/html", **self.headers_out}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


def _recorder(**attrs):
    return type("Recorder", (_Recorder,), {"seen": [], "headers_out": {}, **attrs})


def test_robots_txt_is_honoured_and_read_once_per_host():
    handler = _recorder(robots=b"User-agent: *\nDisallow: /private/\n\nUser-agent: monitor\nDisallow: /members/\n")
    with serve_handler(handler) as base:
        results = fetch_pages(allowing(HTTP, base),
                              [PageRequest(f"{base}/{p}.html") for p in ("a", "private/b", "members/c", "d")])
    assert [r.reason if isinstance(r, Rejection) else "ok" for r in results] == ["ok", "ok", "robots-disallowed", "ok"]
    assert [path for path, *_ in handler.seen].count("/robots.txt") == 1
    user_agent, encodings = handler.seen[0][1], handler.seen[0][2]
    assert user_agent.startswith("monitor/") and "(+https://" in user_agent and "br" in encodings


def test_an_unreachable_robots_txt_defers_the_pages_and_a_missing_one_allows_them():
    down = _recorder(robots_status=503)
    with serve_handler(down) as base:
        (result,) = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}/a.html")])
    assert (result.reason, result.transient) == ("robots-unreachable", True)
    assert [path for path, *_ in down.seen] == ["/robots.txt"]  # the page itself was never asked for
    missing = _recorder(robots_status=404)
    with serve_handler(missing) as base:
        (page,) = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}/a.html")])
    assert isinstance(page, Page)


def test_request_starts_to_one_host_are_spaced_by_the_crawl_delay():
    handler = _recorder(robots=b"User-agent: *\nCrawl-delay: 0.3\n")
    with serve_handler(handler) as base:
        fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}/{i}.html") for i in range(4)])
    starts = [t for path, *_, t in handler.seen if path != "/robots.txt"]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 4 and min(gaps) >= 0.27  # 0.3 s apart, minus scheduler jitter


def test_a_429_holds_the_whole_host_for_its_retry_after():
    handler = _recorder(page_status=429, headers_out={"Retry-After": "3600"})
    with serve_handler(handler) as base:
        settings = allowing(HTTP, base).model_copy(update={"max_host_wait": 2, "per_host_limit": 1})
        results = fetch_pages(settings, [PageRequest(f"{base}/{i}.html") for i in range(3)])
    # which of the three reaches the host first is up to the thread pool; exactly one does
    assert sorted((r.reason, r.transient) for r in results) == [("host-busy", True), ("host-busy", True), ("http-429", True)]
    assert len([p for p, *_ in handler.seen if p != "/robots.txt"]) == 1  # the host was asked once


def test_gzip_and_brotli_bodies_are_decoded_and_capped_after_decoding():
    import brotli
    import gzip

    feed = (SEED / "feed.xml").read_bytes()
    routes = {"/gz": (200, "application/rss+xml", gzip.compress(feed)),
              "/br": (200, "application/rss+xml", brotli.compress(feed)),
              "/bomb": (200, "application/rss+xml", gzip.compress(b" " * 5_000_000))}

    class Encoded(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, ctype, body = routes[self.path]
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Encoding", "br" if self.path == "/br" else "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return

    with serve_handler(Encoded) as base:
        assert fetch_feed(allowing(HTTP, base), FeedRequest("s", f"{base}/gz")).content == feed
        assert fetch_feed(allowing(HTTP, base), FeedRequest("s", f"{base}/br")).content == feed
        bomb = fetch_feed(allowing(HTTP, base), FeedRequest("s", f"{base}/bomb"))  # 5 KB on the wire, 5 MB decoded
    assert bomb.status == "error" and bomb.error.startswith("too-large")


def test_cache_headers_are_read_as_seconds():
    from datetime import datetime, timezone

    import httpx

    from monitor.politeness import freshness, retry_after

    now = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
    assert freshness(httpx.Headers({"Cache-Control": "public, max-age=900"})) == 900
    assert freshness(httpx.Headers({"Cache-Control": "no-cache, max-age=900"})) == 0
    assert freshness(httpx.Headers({"Date": "Tue, 24 Nov 2026 12:00:00 GMT",
                                    "Expires": "Tue, 24 Nov 2026 12:30:00 GMT"})) == 1800
    assert freshness(httpx.Headers({"Expires": "0"})) is None  # unreadable: no advice
    assert retry_after(httpx.Headers({"Retry-After": "120"})) == 120
    assert retry_after(httpx.Headers({"Retry-After": "Tue, 24 Nov 2026 12:05:00 GMT"}), now) == 300
    assert retry_after(httpx.Headers({})) is None


def test_a_410_is_final_for_pages_and_kills_a_feed_at_once():
    from datetime import datetime, timezone

    from monitor import health
    from monitor.config import FeedSettings

    with scripted_server({"/feed": (410, "text/plain", b"gone"), "/page": (410, "text/html", b"gone")}) as base:
        feed = fetch_feed(allowing(HTTP, base), FeedRequest("s", f"{base}/feed"))
        (page,) = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}/page", "s")])
    assert (page.reason, page.transient) == ("gone", False)  # a non-transient rejection: never asked for again
    assert (feed.status, feed.http_status, feed.error) == ("error", 410, "gone")
    state = health.advance(None, feed, None, 0, 60, FeedSettings(dead_after_failures=10),
                           datetime(2026, 11, 29, tzinfo=timezone.utc))
    assert state.dead and state.consecutive_failures == 1


def test_an_http_date_retry_after_holds_requests_already_waiting_for_the_host():
    import email.utils
    import math

    until = math.ceil(time.time()) + 2  # an HTTP date has whole seconds
    handler = _recorder()

    wall: list[float] = []  # when each request arrived, by the wall clock the HTTP date is on

    class HoldOnce(handler):  # the first page answers 503 until `until`; later ones succeed
        def do_GET(self) -> None:  # noqa: N802
            wall.append(time.time())
            if not type(self).seen:  # answered late, once the second page has booked its start and sleeps
                time.sleep(0.2)
                type(self).headers_out = {"Retry-After": email.utils.formatdate(until, usegmt=True)}
                type(self).page_status = 503
            else:
                type(self).headers_out, type(self).page_status = {}, 200
            super().do_GET()

    with serve_handler(HoldOnce) as base:
        settings = allowing(HTTP, base).model_copy(update={"per_host_limit": 2, "min_host_interval": 1.0,
                                                           "obey_robots": False, "max_host_wait": 10})
        results = fetch_pages(settings, [PageRequest(f"{base}/{i}.html") for i in range(3)])
    outcomes = sorted("page" if isinstance(r, Page) else r.reason for r in results)
    assert outcomes == ["http-503", "page", "page"]  # whichever page went first got the 503
    # the second request had booked its start 1 s in, before the 503 came: it waited for the date too
    assert len(wall) == 3 and min(wall[1:]) >= until - 0.1, [round(w - until, 2) for w in wall]


def test_redirect_hops_wait_their_turn_at_the_host():
    handler = _recorder(robots=b"User-agent: *\nCrawl-delay: 0.3\n")

    class Hops(handler):
        def do_GET(self) -> None:  # noqa: N802
            hop = {"/a.html": "/b.html", "/b.html": "/c.html", "/feed": "/feed2"}.get(self.path)
            if hop is None:
                return super().do_GET()
            type(self).seen.append((self.path, None, None, time.monotonic()))
            self.send_response(301)
            self.send_header("Location", hop)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serve_handler(Hops) as base:
        (page,) = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}/a.html")])
        fetch_feed(allowing(HTTP, base).model_copy(update={"min_host_interval": 0.3}), FeedRequest("s", f"{base}/feed"))
    assert isinstance(page, Page) and page.final_url.endswith("/c.html")
    starts = {path: t for path, *_, t in Hops.seen}
    assert starts["/b.html"] - starts["/a.html"] >= 0.27 and starts["/c.html"] - starts["/b.html"] >= 0.27
    assert starts["/feed2"] - starts["/feed"] >= 0.27


def test_localhost_and_127_0_0_1_are_one_host():
    handler = type("Slow", (_Slow,), {"lock": threading.Lock(), "active": 0, "peak": 0})
    robots = _recorder(robots=b"User-agent: *\nDisallow: /private/\n")
    with serve_handler(handler) as base, ThreadPoolExecutor(2) as pool:
        port = base.rsplit(":", 1)[1]
        settings = allowing(HTTP, base).model_copy(update={"per_host_limit": 1, "obey_robots": False,
                                                           "allow_hosts": (f"127.0.0.1:{port}", f"localhost:{port}")})
        batches = [[PageRequest(f"http://{name}:{port}/{i}.html") for i in range(3)] for name in ("localhost",
                                                                                                  "127.0.0.1")]
        results = [r for rs in pool.map(lambda reqs: fetch_pages(settings, reqs), batches) for r in rs]
    assert all(isinstance(r, Page) for r in results) and handler.peak == 1  # one limit for both names
    with serve_handler(robots) as base:
        port = base.rsplit(":", 1)[1]
        settings = allowing(HTTP, base).model_copy(update={"allow_hosts": (f"127.0.0.1:{port}", f"localhost:{port}")})
        results = fetch_pages(settings, [PageRequest(f"http://{name}:{port}/{p}.html")
                                         for name in ("localhost", "127.0.0.1") for p in ("a", "private/b")])
    assert [r.reason if isinstance(r, Rejection) else "ok" for r in results] == ["ok", "robots-disallowed"] * 2
    assert [path for path, *_ in robots.seen].count("/robots.txt") == 1


def test_bom_marked_utf16_and_utf32_and_untyped_html_are_pages():
    html = "<!DOCTYPE html><html><head><title>Grüße</title></head><body><p>Grüße aus Köln</p></body></html>"
    routes = {"/u16": (200, "text/html", html.encode("utf-16")), "/u16be": (200, "text/html", b"\xfe\xff" +
                                                                              html.encode("utf-16-be")),
              "/u32": (200, "text/html; charset=iso-8859-1", html.encode("utf-32")),
              "/octet": (200, "application/octet-stream", html.encode()),
              "/octet16": (200, "application/octet-stream", html.encode("utf-16")),
              "/untyped": (200, "", b"\n  " + html.encode()),
              "/png": (200, "application/octet-stream", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)}
    with scripted_server(routes) as base:
        results = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}{p}") for p in routes])
    *pages, png = results
    assert all(isinstance(p, Page) and "Grüße aus Köln" in p.html for p in pages), pages
    assert all(p.html.lstrip().startswith("<!DOCTYPE html>") for p in pages)
    assert isinstance(png, Rejection) and png.reason == "not-html"
