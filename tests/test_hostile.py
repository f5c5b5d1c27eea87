"""Hostile input: where the crawler may connect, entity expansion in feeds, HTML that reaches the report, and SQL
that tries to write."""

import ipaddress
import socket
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from click.testing import CliRunner

from monitor import config, feeds
from monitor.cli import cli
from monitor.config import ConfigError, HttpSettings, parse_allowed
from monitor.demo.server import serve_handler
from monitor.fetch import BlockedAddress, check_target, fetch_feed, fetch_pages
from monitor.models import FeedRequest, PageRequest, Rejection
from tests.conftest import allowing, write_config

PUBLIC_ONLY = HttpSettings(min_host_interval=0, obey_robots=False)  # the default: no http.allow_hosts


@pytest.mark.parametrize("url", ["http://127.0.0.1/feed", "http://10.1.2.3/", "http://192.168.0.1/admin",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/", "http://0.0.0.0/",
                                 "http://100.64.0.1/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/",
                                 "http://[fe80::1]/", "http://168.63.129.16/"])
def test_non_public_and_metadata_addresses_are_refused(url):
    with pytest.raises(BlockedAddress, match="not a public address|link-local or cloud metadata"):
        check_target(httpx.URL(url))


def test_a_listed_host_and_port_is_allowed_and_only_that_port():
    allowed = [parse_allowed(e) for e in ("127.0.0.1:8123", "10.1.0.0/16:443", "[::1]:8080", "intranet:8080")]
    for url in ("http://127.0.0.1:8123/", "https://10.1.200.3/", "http://[::1]:8080/"):
        check_target(httpx.URL(url), allowed)
    for url in ("http://127.0.0.1:8124/", "http://10.1.200.3/", "https://10.2.0.1/", "http://127.0.0.2:8123/"):
        with pytest.raises(BlockedAddress, match="to http.allow_hosts"):
            check_target(httpx.URL(url), allowed)


def test_link_local_and_metadata_pass_only_when_listed_one_by_one():
    network = [parse_allowed("169.254.0.0/16:80"), parse_allowed("100.64.0.0/10:80")]
    for url in ("http://169.254.169.254/", "http://169.254.1.1/", "http://100.100.100.200/"):
        with pytest.raises(BlockedAddress, match="list exactly"):
            check_target(httpx.URL(url), network)
    check_target(httpx.URL("http://169.254.169.254/"), [parse_allowed("169.254.169.254:80")])
    check_target(httpx.URL("http://100.64.0.9/"), network)  # CGNAT passes by network; its metadata address did not


def test_metadata_names_are_refused_before_any_lookup(network_log):
    for url in ("http://metadata.google.internal/computeMetadata/v1/", "http://METADATA.goog./",
                "http://instance-data/latest/"):
        with pytest.raises(BlockedAddress, match="cloud metadata service"):
            check_target(httpx.URL(url))
    assert network_log == []  # not even a DNS query left the machine


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "gopher://example.org/"])
def test_schemes_other_than_http_are_refused(url):
    with pytest.raises(BlockedAddress, match="is not http or https"):
        check_target(httpx.URL(url), [parse_allowed("127.0.0.1:80")])


def test_a_public_address_passes():
    check_target(httpx.URL("http://93.184.216.34/feed.xml"))


def test_the_old_switch_is_a_one_line_config_error(tmp_path):
    directory = write_config(tmp_path / "c", "", "[http]\nallow_private_addresses = true\n")
    with pytest.raises(ConfigError) as error:
        config.load(directory)
    message = str(error.value)
    assert "\n" not in message and "allow_private_addresses was replaced by allow_hosts" in message
    bad = write_config(tmp_path / "d", "", '[http]\nallow_hosts = ["127.0.0.1"]\n')
    with pytest.raises(ConfigError, match=r"allow_hosts.*is not HOST:PORT"):
        config.load(bad)


_WATCHING: list[list[str]] = []


def _audit(event: str, args: tuple) -> None:
    """Records every connect and every DNS lookup of a name (not of an address literal) while a test watches."""
    if not _WATCHING:
        return
    if event == "socket.connect" and isinstance(args[1], tuple):
        _WATCHING[-1].append(str(args[1][0]))
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
        try:
            ipaddress.ip_address(host)
        except ValueError:
            _WATCHING[-1].append(host)


sys.addaudithook(_audit)


@pytest.fixture()
def network_log():
    """The addresses connected to and the names looked up during the test (Python audit events, no patching)."""
    log: list[str] = []
    _WATCHING.append(log)
    yield log
    _WATCHING.remove(log)


@contextmanager
def listening():
    """A bare listening socket on 127.0.0.1 that counts the connections it accepts; yields (base URL, counter)."""
    accepted = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    finally:
        done.set()
        thread.join()
        server.close()


def test_feeds_and_pages_on_loopback_are_refused_before_connecting_by_default():
    with listening() as (base, accepted):
        feed = fetch_feed(PUBLIC_ONLY, FeedRequest("s", f"{base}/feed"))
        (page,) = fetch_pages(PUBLIC_ONLY, [PageRequest(f"{base}/page", "s")])
        (bad,) = fetch_pages(PUBLIC_ONLY, [PageRequest("file:///etc/passwd", "s")])
    assert feed.status == "error" and feed.error.startswith("blocked-address: 127.0.0.1 is 127.0.0.1")
    assert isinstance(page, Rejection) and page.reason == "blocked-address" and not page.transient
    assert isinstance(bad, Rejection) and bad.reason == "blocked-address"
    assert accepted == []


def _redirecting(target: str):
    """A server on 127.0.0.1 that answers every GET with a redirect to `target`."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    return serve_handler(Redirect)


def test_a_redirect_to_another_loopback_port_is_refused_at_that_hop():
    with listening() as (other, accepted), _redirecting(f"{other}/admin") as base:
        settings = allowing(PUBLIC_ONLY, base)  # the first server only: the other port is not listed
        feed = fetch_feed(settings, FeedRequest("s", f"{base}/feed"))
        (page,) = fetch_pages(settings, [PageRequest(f"{base}/page", "s")])
    assert feed.error.startswith("blocked-address: 127.0.0.1 is 127.0.0.1, not a public address")
    assert isinstance(page, Rejection) and page.reason == "blocked-address"
    assert accepted == []  # refused before a connection was opened


@pytest.mark.parametrize("target", ["http://10.0.0.1/internal", "http://169.254.169.254/latest/meta-data/",
                                    "http://metadata.google.internal/computeMetadata/v1/"])
def test_a_redirect_to_a_private_address_is_refused_at_that_hop(target, network_log):
    with _redirecting(target) as base:
        settings = allowing(PUBLIC_ONLY, base)
        feed = fetch_feed(settings, FeedRequest("s", f"{base}/feed"))
        (page,) = fetch_pages(settings, [PageRequest(f"{base}/page", "s")])
    assert feed.error.startswith("blocked-address: ") and page.reason == "blocked-address"
    assert all(address.startswith("127.") for address in network_log), network_log  # nothing left loopback


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<rss version="2.0"><channel><title>&g;</title>
<item><title>Real entry</title><link>https://example.org/a</link><guid>a</guid></item></channel></rss>"""


def test_entity_expansion_in_a_feed_is_bounded():
    started = time.monotonic()
    parsed = feeds.parse_feed("s", "https://example.org/feed.xml", BILLION_LAUGHS)
    assert time.monotonic() - started < 5  # 16^6 x 40 bytes = 671 MB if expanded; it must not be
    assert len(parsed.title or "") < 100_000


def test_sql_cannot_write_the_warehouse_or_files(seed_warehouse, tmp_path):
    target = tmp_path / "out.csv"
    for statement in ("DELETE FROM articles", "CREATE TABLE x (a INT)", "DROP VIEW feed_health",
                      f"COPY (SELECT 1) TO '{target}'", f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
                      "INSTALL httpfs"):
        result = CliRunner().invoke(cli, ["sql", statement, "--warehouse", str(seed_warehouse)])
        assert result.exit_code == 2, (statement, result.output)
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert not target.exists() and not (tmp_path / "other.duckdb").exists()
