"""Hostile input: where the crawler may connect, entity expansion in feeds, HTML that reaches the report, and SQL
that tries to write."""

import time

import httpx
import pytest
from click.testing import CliRunner

from monitor import feeds
from monitor.cli import cli
from monitor.config import HttpSettings
from monitor.fetch import BlockedAddress, check_target, fetch_feed, fetch_pages
from monitor.models import FeedRequest, PageRequest, Rejection
from tests.conftest import scripted_server

PUBLIC_ONLY = HttpSettings(min_host_interval=0, obey_robots=False)  # the default: allow_private_addresses off


@pytest.mark.parametrize("url", ["http://127.0.0.1/feed", "http://10.1.2.3/", "http://192.168.0.1/admin",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/", "http://0.0.0.0/",
                                 "http://100.64.0.1/"])
def test_private_loopback_and_link_local_addresses_are_refused(url):
    with pytest.raises(BlockedAddress, match="not a public address"):
        check_target(httpx.URL(url), allow_private=False)
    check_target(httpx.URL(url), allow_private=True)  # the demo and the tests opt in


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "gopher://example.org/"])
def test_schemes_other_than_http_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(BlockedAddress, match="is not http or https"):
        check_target(httpx.URL(url), allow_private=True)


def test_a_public_address_passes():
    check_target(httpx.URL("http://93.184.216.34/feed.xml"), allow_private=False)


def test_feeds_and_pages_on_loopback_are_recorded_refusals_by_default():
    routes = {"/feed": (200, "application/rss+xml", b"<rss/>"), "/page": (200, "text/html", b"<p>hi</p>")}
    with scripted_server(routes) as base:
        feed = fetch_feed(PUBLIC_ONLY, FeedRequest("s", f"{base}/feed"))
        (page,) = fetch_pages([PageRequest(f"{base}/page", "s")], PUBLIC_ONLY)
        (bad,) = fetch_pages([PageRequest("file:///etc/passwd", "s")], PUBLIC_ONLY)
    assert feed.status == "error" and feed.error.startswith("blocked-address: 127.0.0.1 is 127.0.0.1")
    assert isinstance(page, Rejection) and page.reason == "blocked-address" and not page.transient
    assert isinstance(bad, Rejection) and bad.reason == "blocked-address"


def test_a_redirect_to_a_private_address_is_refused_at_that_hop():
    transport_check = httpx.Client(transport=__import__("monitor.fetch", fromlist=["x"])._GuardedTransport(False))
    with pytest.raises(BlockedAddress):
        transport_check.get("http://169.254.169.254/latest/meta-data/")  # what a redirect would ask for


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
