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
from tests.conftest import SEED, scripted_server

HTTP = HttpSettings(connect_timeout=2, read_timeout=1, total_timeout=3, max_bytes=50_000, min_host_interval=0)


def test_page_outcomes_are_values():
    routes = {"/ok.html": (200, "text/html; charset=utf-8", "<html><body><p>Grüße</p></body></html>".encode()),
              "/gone.html": (410, "text/html", b"gone"), "/busy.html": (503, "text/html", b"busy"),
              "/image.png": (200, "image/png", b"\x89PNG"), "/big.html": (200, "text/html", b"x" * 60_000),
              "/empty.html": (200, "text/html", b"")}
    with scripted_server(routes) as base:
        results = fetch_pages([PageRequest(f"{base}{p}", source="s") for p in routes], HTTP)
    ok, *rejected = results
    assert isinstance(ok, Page) and "Grüße" in ok.html and ok.request.source == "s"
    assert [(r.reason, r.transient, r.source) for r in rejected] == [
        ("http-410", False, "s"), ("http-503", True, "s"), ("not-html", False, "s"), ("too-large", False, "s"),
        ("empty-body", False, "s")]


def test_feed_conditional_get_and_transient_errors():
    with serve_directory(SEED) as base:
        first = fetch_feed(HTTP, FeedRequest("seed", f"{base}/feed.xml"))
        assert first.status == "ok" and first.last_modified and first.body_hash and first.content
        again = fetch_feed(HTTP, FeedRequest("seed", f"{base}/feed.xml", first.etag, first.last_modified,
                                             first.body_hash))
        assert again.status == "not-modified" and again.http_status == 304
        # no validators sent: the body hash alone says "unchanged", and the bytes are not passed on to parse
        lying = fetch_feed(HTTP, FeedRequest("seed", f"{base}/feed.xml", body_hash=first.body_hash))
        assert lying.status == "unchanged" and lying.content == b""
        assert fetch_feed(HTTP, FeedRequest("seed", f"{base}/missing.xml")).error == "http-404"
    with scripted_server({"/f": (500, "text/plain", b"boom")}) as base, pytest.raises(TransientFetchError):
        fetch_feed(HTTP, FeedRequest("s", f"{base}/f"))


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
        results = [r for rs in pool.map(lambda reqs: fetch_pages(reqs, HTTP), batches) for r in rs]
    assert all(isinstance(r, Page) for r in results) and len(results) == 18
    assert handler.peak == HTTP.per_host_limit


def test_a_timeout_is_a_transient_rejection():
    handler = type("Slower", (_Slow,), {"lock": threading.Lock(), "active": 0, "peak": 0})
    settings = HttpSettings(read_timeout=0.05, total_timeout=1, min_host_interval=0, obey_robots=False)
    with serve_handler(handler) as base:
        (result,) = fetch_pages([PageRequest(f"{base}/x.html")], settings)
    assert isinstance(result, Rejection) and result.reason == "timeout" and result.transient
