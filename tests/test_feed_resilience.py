"""Feeds against a hostile local server: every failure is recorded with a reason and the run goes on.

A real HTTP server on 127.0.0.1 answers 304, 429 with Retry-After, 500, a slow body, a redirect loop, gzip, brotli,
an oversized body, a lying charset, malformed XML, HTML instead of XML and an empty 200; a real Prefect flow ingests
them beside the seed feed into a real DuckDB file.
"""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli

from flows.ingest import ingest
from monitor import warehouse
from monitor.demo.server import serve_handler
from tests.conftest import serve_seed, write_config


def rss(base: str, name: str, items: int = 3, title: str = "Feed", encoding: str = "utf-8") -> str:
    body = "".join(
        f"<item><title>{title} item {i}</title><link>{base}/{name}/story-{i}.html?utm_source=rss#top</link>"
        f"<guid>{name}-{i}</guid><pubDate>Tue, 24 Nov 2026 0{i}:00:00 GMT</pubDate></item>" for i in range(items))
    return (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/</link><ttl>30</ttl>{body}</channel></rss>")


class Hostile(BaseHTTPRequestHandler):
    """Each feed path misbehaves in its own way; article pages are all 404 (they are not under test here)."""

    calls: dict[str, int] = {}
    lock = threading.Lock()

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"Content-Type": "application/rss+xml", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802, C901 - one branch per misbehaviour
        with self.lock:
            count = self.calls[self.path] = self.calls.get(self.path, 0) + 1
        base = f"http://{self.headers['Host']}"
        name = self.path.strip("/").removesuffix(".xml")
        feed = rss(base, name).encode()
        if self.path == "/etag.xml":  # honours If-None-Match
            if self.headers.get("If-None-Match") == '"v1"':
                return self.send(304, headers={"ETag": '"v1"'})
            return self.send(200, feed, {"ETag": '"v1"'})
        if self.path == "/lying.xml":  # a new ETag and Last-Modified every time, the same bytes
            return self.send(200, feed, {"ETag": f'"{time.time_ns()}"', "Last-Modified": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime())})
        if self.path == "/throttled.xml":  # 429 with a short Retry-After, then fine
            return self.send(429, b"slow down", {"Retry-After": "1"}) if count == 1 else self.send(200, feed)
        if self.path == "/closed.xml":  # 429 asking for an hour: not retried in this run
            return self.send(429, b"come back later", {"Retry-After": "3600"})
        if self.path == "/error.xml":
            return self.send(500, b"boom", {"Content-Type": "text/plain"})
        if self.path == "/slow.xml":  # headers at once, then a body that trickles past the read timeout
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(feed)))
            self.end_headers()
            self.wfile.write(feed[:20])
            self.wfile.flush()
            time.sleep(1.5)
            return
        if self.path == "/loop.xml":
            return self.send(302, headers={"Location": "/loop.xml"})
        if self.path == "/gzip.xml":
            return self.send(200, gzip.compress(feed), {"Content-Encoding": "gzip"})
        if self.path == "/brotli.xml":
            return self.send(200, brotli.compress(feed), {"Content-Encoding": "br"})
        if self.path == "/huge.xml":
            return self.send(200, feed + b"<!--" + b"x" * 300_000 + b"-->")
        if self.path == "/charset.xml":  # declares UTF-8, is Latin-1
            return self.send(200, rss(base, name, title="Café Zürich").encode("latin-1"))
        if self.path == "/malformed.xml":  # an unclosed tag and a bare ampersand: salvageable
            return self.send(200, feed.replace(b"</channel>", b"<item><title>R&D</title></channel>"))
        if self.path == "/html.xml":
            return self.send(200, b"<html><body><h1>Welcome</h1></body></html>", {"Content-Type": "text/html"})
        if self.path == "/empty.xml":
            return self.send(200, b"")
        if self.path == "/nolink.xml":  # a live-blog item with neither a link nor a permalink GUID
            return self.send(200, feed.replace(b"</channel>", b"<item><title>Live: latest</title>"
                                                              b"<guid isPermaLink='false'>live-1</guid></item></channel>"))
        return self.send(404, b"not found", {"Content-Type": "text/plain"})

    def log_message(self, *args) -> None:
        return


PARSEABLE = ["etag", "lying", "throttled", "gzip", "brotli", "charset", "malformed", "nolink"]
FAILING = {"closed": "http-429", "error": "transient", "slow": "transient", "loop": "too-many-redirects",
           "huge": "too-large", "html": "not-a-feed", "empty": "empty-body"}
SETTINGS = """[http]
retries = 1
retry_delay_seconds = 0
read_timeout = 0.5
total_timeout = 3
max_bytes = 200000
max_host_wait = 5
"""


def _rows(path: Path, sql: str, params=None):
    return warehouse.query(path, sql, params)[1]


def test_hostile_feeds_are_recorded_and_the_rest_is_ingested(tmp_path, prefect_harness):
    handler = type("H", (Hostile,), {"calls": {}, "lock": threading.Lock()})
    names = PARSEABLE + [n for n in FAILING if n != "closed"]
    # "closed" asks for an hour's rest, which holds for its whole host: it gets a host of its own.
    with serve_seed(tmp_path) as (_, seed_feed), serve_handler(handler) as base, serve_handler(handler) as other:
        sources = f'[[source]]\nname = "seed"\nurl = "{seed_feed}"\n' + "".join(
            f'[[source]]\nname = "{n}"\nurl = "{base}/{n}.xml"\n' for n in names) + (
            f'[[source]]\nname = "closed"\nurl = "{other}/closed.xml"\n')
        config_dir = write_config(tmp_path / "config", sources, SETTINGS)
        path = tmp_path / "w.duckdb"
        first = ingest(warehouse_path=str(path), config_dir=str(config_dir))
        _check_first_run(path, first, handler)
        second = ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)

    # The forced second run: the ETag feed answers 304; the lying feed's new validators do not fool the body hash.
    statuses = dict(_rows(path, "SELECT source, coalesce(error, status) FROM feed_fetches WHERE run_id = ?",
                          [second["run_id"]]))
    assert statuses["etag"] == "not-modified" and statuses["lying"] == "unchanged"
    assert {statuses[n] for n in ("gzip", "brotli", "charset", "malformed", "nolink", "seed")} <= \
        {"unchanged", "not-modified"}
    assert second["counts"].count("entries", "seen") == 0  # nothing unchanged was parsed again
    # Even a forced run leaves alone a host that asked for an hour's rest.
    assert statuses["closed"].startswith("host-busy") and handler.calls["/closed.xml"] == 1
    failures = dict(_rows(path, "SELECT source, consecutive_failures FROM feed_state"))
    assert {n: failures[n] for n in FAILING} == {n: 2 for n in FAILING}


def _check_first_run(path: Path, first: dict, handler) -> None:
    # The seed feed is untouched by its neighbours.
    assert first["counts"].count("articles", "new") == 3
    # No lost entries from feeds that parse: 3 items each (the malformed one salvages a 4th, "nolink" has 4).
    entries = dict(_rows(path, "SELECT source, count(*) FROM entries GROUP BY source"))
    assert {n: entries.get(n) for n in PARSEABLE} == {**{n: 3 for n in PARSEABLE}, "malformed": 4, "nolink": 4}
    # An item with no link is stored and recorded, not dropped.
    assert _rows(path, "SELECT e.title, r.reason FROM entries e JOIN rejections r ON r.url = e.guid "
                       "WHERE e.source = 'nolink' AND e.link IS NULL") == [("Live: latest", "no-link")]
    # Links are resolved and normalised: no tracking parameters, no fragment.
    assert _rows(path, "SELECT count(*) FROM entries WHERE link LIKE '%utm_%' OR link LIKE '%#%'") == [(0,)]
    assert _rows(path, "SELECT min(title) FROM entries WHERE source = 'charset'") == [("Café Zürich item 0",)]
    # Every failure has a reason, in the fetch log, the rejections and the feed's health.
    first_fetches = dict(_rows(path, "SELECT source, coalesce(error, status) FROM feed_fetches WHERE run_id = ?",
                               [first["run_id"]]))
    for name, reason in FAILING.items():
        assert first_fetches[name].startswith(reason), (name, first_fetches[name])
    rejected = dict(_rows(path, "SELECT source, reason FROM rejections WHERE stage = 'feed'"))
    assert {n: rejected.get(n) for n in FAILING} == FAILING
    health = warehouse.feed_health(path)
    assert {n: health[n]["health"] for n in FAILING} == {n: "failing" for n in FAILING}
    assert {n: health[n]["health"] for n in PARSEABLE + ["seed"]} == {n: "ok" for n in PARSEABLE + ["seed"]}
    assert health["malformed"]["last_error"]  # ingested, and flagged as bozo
    assert _rows(path, "SELECT bozo FROM feed_fetches WHERE source = 'malformed' AND run_id = ?",
                 [first["run_id"]]) == [(True,)]
    # Retry-After: 1 was waited out within the run; 3600 was not retried and sets the next check an hour out.
    assert handler.calls["/throttled.xml"] == 2 and handler.calls["/closed.xml"] == 1
    (closed_next,), = _rows(path, "SELECT date_diff('minute', last_attempt, next_check) FROM feed_state "
                                  "WHERE source = 'closed'")
    assert closed_next >= 59
    # <ttl>30 is shorter than the hourly schedule, so the schedule decides: the next check is an hour out.
    assert _rows(path, "SELECT round(date_diff('second', last_attempt, next_check) / 60) FROM feed_state "
                       "WHERE source = 'gzip'") == [(60,)]


def test_a_dead_feed_is_skipped_until_a_forced_run_revives_it(tmp_path, prefect_harness):
    handler = type("H", (Hostile,), {"calls": {}, "lock": threading.Lock()})
    with serve_handler(handler) as base:
        config_dir = write_config(
            tmp_path / "config", f'[[source]]\nname = "flaky"\nurl = "{base}/html.xml"\n',
            SETTINGS + "[feeds]\ndead_after_failures = 2\n")
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
        ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
        assert warehouse.feed_health(path)["flaky"]["health"] == "dead"
        skipped = ingest(warehouse_path=str(path), config_dir=str(config_dir))
        assert skipped["skipped"] == {"flaky": "dead"} and handler.calls["/html.xml"] == 2
        # The site fixes its feed (the source now points at a working URL): a forced run revives it.
        write_config(tmp_path / "config", f'[[source]]\nname = "flaky"\nurl = "{base}/gzip.xml"\n', SETTINGS)
        ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True, limit=0)
    row = warehouse.feed_health(path)["flaky"]
    assert (row["health"], row["consecutive_failures"], row["last_status"]) == ("ok", 0, "ok")
    # limit=0 fetched no pages: the entries wait for the next run instead of being lost.
    assert _rows(path, "SELECT count(*) FROM entries WHERE article_id IS NULL") == [(3,)]


def test_a_feed_retry_waits_the_planned_waits_and_the_fetch_itself_never_sleeps(tmp_path, prefect_harness):
    """A feed that answers 500 twice is retried within the run, after `retry_delay_seconds` and then twice that
    (each spread by jitter), and its third answer is ingested. The waits are `planning.feed_retry_waits`, held by
    the flow (the first) and by Prefect (the rest); before, the library slept the first wait again in every retry."""
    from monitor import planning

    assert planning.feed_retry_waits(3, 1.0) == [1.0, 2.0, 4.0] and planning.feed_retry_waits(0, 5.0) == []
    times: list[float] = []

    class Flaky(Hostile):
        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/flaky.xml":
                return self.send(404)
            times.append(time.monotonic())
            if len(times) <= 2:
                return self.send(500, b"try later")
            return self.send(200, rss(f"http://{self.headers['Host']}", "flaky").encode())

    with serve_handler(Flaky) as base:
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "flaky"\nurl = "{base}/flaky.xml"\n',
                                  "[http]\nretries = 2\nretry_delay_seconds = 1\n")
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir), limit=0)
    assert len(times) == 3
    low = 1 - planning.RETRY_JITTER  # below Prefect's clamped jitter (never under 0.63 of the wait at this factor)
    assert times[1] - times[0] >= low * 1.0 and times[2] - times[1] >= low * 2.0
    assert _rows(path, "SELECT count(*) FROM entries WHERE source = 'flaky'") == [(3,)]
