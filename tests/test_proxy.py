"""Proxies: `http.proxy` and HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY, through a real forward proxy on
127.0.0.1 that records what it was asked for. The proxy may be on a private address; the guard applies to the target."""

import http.client
import select
import socket
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import httpx
import pytest

from monitor.config import HttpSettings
from monitor.demo.server import serve_handler
from monitor.fetch import fetch_feed, fetch_pages
from monitor.fetch.guard import proxy_for
from monitor.models import FeedRequest, Page, PageRequest, Rejection
from tests.conftest import allowing, scripted_server

HTTP = HttpSettings(min_host_interval=0, obey_robots=False, connect_timeout=2, read_timeout=2, total_timeout=5)
FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
ROUTES = {"/feed": (200, "application/rss+xml", FEED), "/page": (200, "text/html", b"<html><p>via</p></html>")}


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy: absolute-URI GETs are forwarded, CONNECT is tunnelled; `seen` records each request line."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(f"GET {self.path}")
        target = urlsplit(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=5)
        upstream.request("GET", target.path + (f"?{target.query}" if target.query else ""),
                         headers={k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"})
        answer = upstream.getresponse()
        body = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        upstream.close()

    def do_CONNECT(self) -> None:  # noqa: N802
        type(self).seen.append(f"CONNECT {self.path}")
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=5)
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        while True:
            readable, _, _ = select.select(sockets, [], [], 5)
            if not readable:
                break
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if sock is self.connection else self.connection).sendall(data)
        upstream.close()

    def log_message(self, *args) -> None:
        return


@pytest.fixture()
def proxy():
    handler = type("Proxy", (_Proxy,), {"seen": []})
    with serve_handler(handler) as base:
        yield base, handler.seen


def test_http_proxy_setting_carries_feeds_and_pages_and_the_proxy_need_not_be_listed(proxy):
    proxy_url, seen = proxy
    with scripted_server(ROUTES) as base:
        settings = allowing(HTTP, base).model_copy(update={"proxy": proxy_url})  # the proxy's own port: not listed
        feed = fetch_feed(settings, FeedRequest("s", f"{base}/feed"))
        (page,) = fetch_pages(settings, [PageRequest(f"{base}/page", "s")])
    assert feed.status == "ok" and feed.content == FEED
    assert isinstance(page, Page) and "via" in page.html
    assert seen == [f"GET {base}/feed", f"GET {base}/page"]


def test_environment_proxies_and_no_proxy(proxy, monkeypatch):
    proxy_url, seen = proxy
    with scripted_server(ROUTES) as base:
        settings = allowing(HTTP, base)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        assert fetch_feed(settings, FeedRequest("s", f"{base}/feed")).content == FEED
        assert seen == [f"GET {base}/feed"]
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        assert fetch_feed(settings, FeedRequest("s", f"{base}/feed")).content == FEED  # direct: bypassed
        monkeypatch.delenv("NO_PROXY")
        monkeypatch.delenv("HTTP_PROXY")
        monkeypatch.setenv("ALL_PROXY", proxy_url)
        assert fetch_feed(settings, FeedRequest("s", f"{base}/feed")).content == FEED
        direct = settings.model_copy(update={"proxy": "direct"})  # ignores the environment
        assert fetch_feed(direct, FeedRequest("s", f"{base}/feed")).content == FEED
    assert seen == [f"GET {base}/feed", f"GET {base}/feed"]


def test_https_goes_through_connect(proxy):
    proxy_url, seen = proxy
    with scripted_server(ROUTES) as base:
        target = base.replace("http://", "https://")  # a plain server: the TLS handshake fails past the tunnel
        settings = allowing(HTTP, base).model_copy(update={"proxy": proxy_url, "retries": 0})
        (page,) = fetch_pages(settings, [PageRequest(f"{target}/page", "s")])
    assert isinstance(page, Rejection) and page.reason == "connection-error"
    assert seen == [f"CONNECT {urlsplit(base).netloc}"]


def test_the_guard_applies_to_the_target_not_the_proxy(proxy):
    proxy_url, seen = proxy
    with scripted_server(ROUTES) as listed, scripted_server(ROUTES) as unlisted:
        settings = allowing(HTTP, listed).model_copy(update={"proxy": proxy_url})
        feed = fetch_feed(settings, FeedRequest("s", f"{unlisted}/feed"))
        (page,) = fetch_pages(settings, [PageRequest(f"{unlisted}/page", "s")])
        (metadata,) = fetch_pages(settings, [PageRequest("http://169.254.169.254/latest/meta-data/", "s")])
    assert feed.error.startswith("blocked-address: 127.0.0.1 is 127.0.0.1, not a public address")
    assert page.reason == "blocked-address" and metadata.reason == "blocked-address"
    assert seen == []  # nothing was handed to the proxy


def test_a_redirect_through_the_proxy_is_checked_at_each_hop(proxy):
    proxy_url, seen = proxy
    with scripted_server(ROUTES) as unlisted:
        class Redirect(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(302)
                self.send_header("Location", f"{unlisted}/feed")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                return

        with serve_handler(Redirect) as base:
            settings = allowing(HTTP, base).model_copy(update={"proxy": proxy_url})
            feed = fetch_feed(settings, FeedRequest("s", f"{base}/feed"))
    assert feed.error.startswith("blocked-address")
    assert seen == [f"GET {base}/feed"]  # the first hop went through; the second was refused before the proxy


def test_proxy_routing_rules():
    env = {"http": "http://p:3128", "https": "http://s:3128", "no": "intranet.example,.corp,10.0.0.1"}
    assert proxy_for(httpx.URL("http://news.example/"), "", env) == "http://p:3128"
    assert proxy_for(httpx.URL("https://news.example/"), "", env) == "http://s:3128"
    for bypassed in ("http://intranet.example/", "http://feeds.corp/", "http://10.0.0.1:8080/"):
        assert proxy_for(httpx.URL(bypassed), "", env) is None
    assert proxy_for(httpx.URL("http://news.example/"), "http://mine:8080", env) == "http://mine:8080"
    assert proxy_for(httpx.URL("http://news.example/"), "direct", env) is None
    assert proxy_for(httpx.URL("https://news.example/"), "", {"all": "http://a:1"}) == "http://a:1"
    assert proxy_for(httpx.URL("https://news.example/"), "", {}) is None
    assert proxy_for(httpx.URL("http://news.example/"), "", {"http": "p:3128"}) == "http://p:3128"


def test_an_unusable_environment_proxy_is_a_transient_failure_not_a_crash(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "gopher://127.0.0.1:9")
    with scripted_server(ROUTES) as base:
        (page,) = fetch_pages(allowing(HTTP, base), [PageRequest(f"{base}/page", "s")])
    assert isinstance(page, Rejection) and page.reason == "connection-error" and page.transient
