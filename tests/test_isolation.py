"""No feed can stop or starve ingest (issue 16), on real parts: feeds and pages served on 127.0.0.1, real Prefect
flows and `monitor run` processes, real DuckDB files.

- Items that repeat a GUID (inside one feed, or link-less across feeds) used to fail the run's single load on a
  duplicate key, on every run, for every source.
- A slow feed held back every other source's pages until it was done.
- A run that died late kept nothing: one load at the end.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from monitor import warehouse
from monitor.demo.server import serve_handler
from tests.conftest import _Scripted, write_config

WORDS = ("harbour council budget river bridge minister court vote school hospital market energy grain port rail "
         "strike weather election festival museum police factory wages farmers drought tourism airline").split()
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}  # a busy machine starts it slowly


def article(title: str, seed: int) -> bytes:
    """A plain article page whose body is its own (no two pages near-duplicates of each other)."""
    rng = random.Random(seed)
    paragraphs = "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(60))}.</p>" for _ in range(4))
    return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{paragraphs}</article></body></html>").encode()


def rss(items: list[tuple[str, str | None, str]]) -> bytes:
    """RSS with (guid, link or None, title) items."""
    body = "".join(f"<item><title>{title}</title>" + (f"<link>{link}</link>" if link else "")
                   + f"<guid isPermaLink='false'>{guid}</guid></item>" for guid, link, title in items)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{body}</channel></rss>".encode()


class Newsroom(_Scripted):
    """Feeds by path (set per test), article pages for every /a/... path; /a/hang-* waits for `release`."""

    protocol_version = "HTTP/1.1"
    feeds: dict[str, bytes] = {}
    pages: dict[str, bytes] = {}  # pages with a body of the test's own
    release = threading.Event()
    hang_feeds = False

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path in self.feeds:
            if self.hang_feeds:
                self.release.wait(120)
            return self.answer(200, "application/rss+xml", self.feeds[self.path])
        if self.path in self.pages:
            return self.answer(200, "text/html; charset=utf-8", self.pages[self.path])
        if self.path.startswith("/a/"):
            if self.path.startswith("/a/hang-"):
                self.release.wait(120)
            return self.answer(200, "text/html; charset=utf-8", article(self.path, hash(self.path) % 10_000))
        return self.answer(404, "text/plain", b"not found")


def newsroom(feeds: dict[str, bytes], hang_feeds: bool = False):
    """A server of its own (its own port, so its own host for the politeness gates)."""
    handler = type("Room", (Newsroom,), {"feeds": feeds, "pages": {}, "release": threading.Event(),
                                         "hang_feeds": hang_feeds})
    return handler, serve_handler(handler)


def one(path: Path, sql: str):
    return warehouse.query(path, sql)[1][0][0]


ROWS = "import sys, json; from monitor import warehouse; " \
       "print(json.dumps(warehouse.query(__import__('pathlib').Path(sys.argv[1]), sys.argv[2])[1]))"


def peek_rows(path: Path, sql: str) -> list:
    """Rows read by another process, as an analyst's `monitor sql` would while a run writes (DuckDB refuses a
    read-only connection beside a writing one in the same process); [] while the file is missing or busy."""
    result = subprocess.run([sys.executable, "-c", ROWS, str(path), sql], env=ENV, capture_output=True, text=True,
                            timeout=60)
    return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []


def peek(path: Path, sql: str) -> int:
    """A count read by another process (see `peek_rows`); 0 while the file is missing or busy."""
    rows = peek_rows(path, sql)
    return int(rows[0][0]) if rows else 0


def while_hanging(room, path: Path, config_dir: Path, sql: str, enough) -> tuple[list, bool, dict]:
    """Run ingest in a thread while `room` holds its hanging requests, reading `sql` from another process until
    `enough(rows)`; then let the room answer and wait for the run. Returns (rows read, whether the room still hung
    when they were read, the run's summary)."""
    from flows.ingest import ingest

    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(ingest(warehouse_path=str(path),
                                                                  config_dir=str(config_dir))))
    runner.start()
    rows: list = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not enough(rows) and runner.is_alive():
        time.sleep(0.5)
        rows = peek_rows(path, sql)
    still_hanging = not room.release.is_set() and runner.is_alive()
    room.release.set()
    runner.join(150)
    return rows, still_hanging, result


def test_repeated_guids_inside_a_feed_and_across_feeds_never_stop_the_load(tmp_path, prefect_harness):
    from flows.ingest import ingest

    feeds: dict[str, bytes] = {}
    _, server = newsroom(feeds)
    with server as base:
        feeds["/sloppy.xml"] = rss([  # one GUID for every item, as a broken CMS template does
            ("same", f"{base}/a/sloppy-1.html", "One"), ("same", f"{base}/a/sloppy-2.html", "Two"),
            ("same", f"{base}/a/sloppy-2.html", "Two again"),  # an exact repeat: one entry
        ])
        feeds["/linkless-1.xml"] = rss([("tag:wire,1", None, "Linkless"), ("x1", f"{base}/a/l1.html", "L1")])
        feeds["/linkless-2.xml"] = rss([("tag:wire,1", None, "Linkless"), ("x2", f"{base}/a/l2.html", "L2")])
        feeds["/good.xml"] = rss([(f"g{i}", f"{base}/a/good-{i}.html", f"Good {i}") for i in range(3)])
        sources = "".join(f'[[source]]\nname = "{name}"\nurl = "{base}/{name}.xml"\n'
                          for name in ("sloppy", "linkless-1", "linkless-2", "good"))
        config_dir = write_config(tmp_path / "config", sources)
        path = tmp_path / "w.duckdb"
        first = ingest(warehouse_path=str(path), config_dir=str(config_dir))
        second = ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
    assert first["counts"].count("articles", "new") == 7  # sloppy 2, l1, l2, good 3
    assert second["counts"].count("articles", "new") == 0
    assert one(path, "SELECT count(*) FROM articles") == 7
    assert one(path, "SELECT count(*) FROM runs") == 2
    assert one(path, "SELECT count(*) FROM feed_state WHERE last_success IS NOT NULL") == 4
    # the two sloppy items are two entries, each with its own article; the exact repeat is not a third
    assert warehouse.query(path, "SELECT count(*), count(DISTINCT article_id) FROM entries "
                                 "WHERE source = 'sloppy'")[1] == [(2, 2)]
    # the link-less item is recorded (once: its GUID is its key), never fetched
    assert one(path, "SELECT count(*) FROM rejections WHERE reason = 'no-link'") == 1


def test_a_slow_feed_delays_only_its_own_pages(tmp_path, prefect_harness):
    """The good source's articles are committed while the other host's feed still hangs."""
    good_feeds: dict[str, bytes] = {}
    slow_feeds: dict[str, bytes] = {}
    _, good_server = newsroom(good_feeds)
    slow, slow_server = newsroom(slow_feeds, hang_feeds=True)
    with good_server as good, slow_server as late:
        good_feeds["/good.xml"] = rss([(f"g{i}", f"{good}/a/good-{i}.html", f"Good {i}") for i in range(3)])
        slow_feeds["/slow.xml"] = rss([("s0", f"{late}/a/slow-0.html", "Slow")])
        config_dir = write_config(
            tmp_path / "config",
            f'[[source]]\nname = "good"\nurl = "{good}/good.xml"\n[[source]]\nname = "slow"\nurl = "{late}/slow.xml"\n',
            "[http]\nread_timeout = 90\ntotal_timeout = 120\nretries = 0\n")
        rows, feed_still_hanging, result = while_hanging(
            slow, tmp_path / "w.duckdb", config_dir, "SELECT count(*) FROM articles WHERE source = 'good'",
            lambda rows: rows and rows[0][0])
    assert rows == [[3]] and feed_still_hanging  # committed before the slow feed had even answered
    assert result["counts"].count("articles", "new") == 4


def test_a_hanging_page_holds_back_neither_another_feed_batch_nor_its_own_batch_for_long(tmp_path, prefect_harness):
    """While one page hangs, the articles of the other host's feed batch are committed as soon as that batch's pages
    are done, and its own feed's other articles within WAVE_MAX_WAIT_SECONDS; before, every wave waited for the
    whole page stream, so nothing was queryable until the hanging page gave up."""
    from flows._execution import WAVE_MAX_WAIT_SECONDS

    good_feeds: dict[str, bytes] = {}
    mixed_feeds: dict[str, bytes] = {}
    _, good_server = newsroom(good_feeds)
    mixed, mixed_server = newsroom(mixed_feeds)
    with good_server as good, mixed_server as other:
        good_feeds["/good.xml"] = rss([(f"g{i}", f"{good}/a/good-{i}.html", f"Good {i}") for i in range(3)])
        mixed_feeds["/mixed.xml"] = rss([(f"m{i}", f"{other}/a/m-{i}.html", f"M {i}") for i in range(2)]
                                        + [("h", f"{other}/a/hang-1.html", "Hang")])
        config_dir = write_config(
            tmp_path / "config", f'[[source]]\nname = "good"\nurl = "{good}/good.xml"\n'
            f'[[source]]\nname = "mixed"\nurl = "{other}/mixed.xml"\n',
            "[http]\nread_timeout = 90\ntotal_timeout = 120\nretries = 0\n")
        rows, page_still_hanging, result = while_hanging(
            mixed, tmp_path / "w.duckdb", config_dir, "SELECT source, count(*) FROM articles GROUP BY 1 ORDER BY 1",
            lambda rows: sum(n for _, n in rows) >= 5)
    assert rows == [["good", 3], ["mixed", 2]] and page_still_hanging  # both committed while the page hung
    assert WAVE_MAX_WAIT_SECONDS < 30  # what "for long" means above
    assert result["counts"].count("articles", "new") == 6


def test_a_run_killed_late_keeps_the_waves_it_loaded(tmp_path):
    """With waves of two articles, a `monitor run` killed while one page hangs has kept the articles before it;
    the next run completes the rest, nothing stored twice."""
    feeds: dict[str, bytes] = {}
    room, server = newsroom(feeds)
    with server as base:
        items = [(f"k{i}", f"{base}/a/kill-{i}.html", f"K {i}") for i in range(6)]
        feeds["/k.xml"] = rss(items + [("hang", f"{base}/a/hang-1.html", "Hang")])
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "k"\nurl = "{base}/k.xml"\n',
                                  "[http]\nread_timeout = 90\ntotal_timeout = 120\n"
                                  "[pipeline]\nload_wave_articles = 2\npage_batch_size = 2\n")
        path = tmp_path / "w.duckdb"
        run = [sys.executable, "-m", "monitor.cli", "--config", str(config_dir), "run", "--warehouse", str(path)]
        process = subprocess.Popen(run, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stored, deadline = 0, time.monotonic() + 120
        try:
            while time.monotonic() < deadline and stored < 6 and process.poll() is None:
                time.sleep(0.5)
                stored = peek(path, "SELECT count(*) FROM articles")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert stored == 6  # every page but the hanging one was loaded before the kill
        assert one(path, "SELECT count(*) FROM runs") == 0  # the run itself never finished
        room.release.set()
        subprocess.run(run, env=ENV, check=True, capture_output=True, timeout=240)
    assert one(path, "SELECT count(*) FROM articles") == 7
    assert one(path, "SELECT count(*) - count(DISTINCT article_id) FROM articles") == 0
    assert one(path, "SELECT count(*) FROM entries WHERE article_id IS NULL") == 0


@pytest.mark.parametrize("duplicates", [2, 5])
def test_unique_entries_keeps_every_distinct_item_once(duplicates):
    from monitor.feeds import parse_feed

    items = [("g", f"http://news.test/{i}", f"t{i}") for i in range(duplicates)] + [("g", "http://news.test/0", "x")]
    parsed = parse_feed("s", "http://news.test/feed", rss(items))
    assert len(parsed.entries) == duplicates
    assert len({e.entry_id for e in parsed.entries}) == duplicates
    shuffled = parse_feed("s", "http://news.test/feed", rss(list(reversed(items))))
    assert {e.entry_id for e in shuffled.entries} == {e.entry_id for e in parsed.entries}  # order does not decide


def page_with_canonical(canonical: str, seed: int) -> bytes:
    return article("Shared story", seed).replace(b"<title>", f"<link rel='canonical' href='{canonical}'><title>"
                                                 .encode(), 1)


def test_every_entry_is_accounted_for_and_a_pickup_counts_as_an_outlet(tmp_path, prefect_harness):
    """Issue 18, 7: an entry whose page is an article stored before (another outlet's page with the same canonical
    URL) is a pickup, counted and stored as a member of that story; `--since` and `--limit` deferrals are counted."""
    from flows.ingest import ingest

    feeds: dict[str, bytes] = {}
    room, server = newsroom(feeds)
    with server as base:
        canonical = f"{base}/a/original.html"
        feeds["/first.xml"] = rss([("o", canonical, "Original")])
        feeds["/second.xml"] = rss([("p", f"{base}/a/syndicated.html", "Syndicated")])
        feeds["/old.xml"] = (rss([(f"d{i}", f"{base}/a/old-{i}.html", "Old") for i in range(2)])
                             .replace(b"</item>", b"<pubDate>Mon, 02 Jan 2023 08:00:00 GMT</pubDate></item>"))
        room.pages = {"/a/syndicated.html": page_with_canonical(canonical, 1)}
        sources = "".join(f'[[source]]\nname = "{n}"\nurl = "{base}/{n}.xml"\n' for n in ("first", "second", "old"))
        config_dir = write_config(tmp_path / "config", sources)
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir), sources=["first"])
        result = ingest(warehouse_path=str(path), config_dir=str(config_dir), since="2024-01-01")
        limited = ingest(warehouse_path=str(tmp_path / "l.duckdb"), config_dir=str(config_dir), limit=1)
    counts = result["counts"]
    assert counts.of("second").pickups == 1 and counts.count("entries", "pickup") == 1
    assert counts.of("second").new_articles == 0
    assert counts.of("old").deferred == 2 and counts.count("entries", "deferred", "since") == 2
    assert warehouse.query(path, "SELECT outlets, articles FROM story_clusters")[1] == [(2, 1)]
    assert limited["counts"].count("entries", "deferred", "limit") == 3  # four new entries, one page allowed


def test_the_wait_before_a_404_is_fetched_again_is_a_setting(tmp_path, prefect_harness):
    from flows.ingest import ingest

    feeds: dict[str, bytes] = {}
    _, server = newsroom(feeds)
    with server as base:
        feeds["/f.xml"] = rss([("m", f"{base}/missing.html", "Missing")])
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "f"\nurl = "{base}/f.xml"\n',
                                  "[pipeline]\nretry_not_found_hours = 2\n")
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
    assert warehouse.query(path, "SELECT reason, epoch(next_attempt - last_seen) / 3600 FROM rejections "
                                 "WHERE stage = 'fetch'")[1] == [("http-404", 2.0)]
