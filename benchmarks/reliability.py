"""Reliability: good sources beside every kind of bad one, on 127.0.0.1 only (issue 16).

A newsroom of good feeds (their own host) is served next to a hostile one, each bad source on a host of its own:
GUIDs repeated inside a feed and link-less items repeating a GUID across two feeds, gzip, deflate and brotli bombs
(as feeds and as article pages), pages and items dated 0001-01-01 and 9999-12-31, a feed whose body trickles
slowly, a dead host (nothing listens), and article links that redirect to another loopback port that the settings do
not allow (an "internal" server whose page holds a password). `monitor run` ingests it twice (the second forced),
then the good sources alone into a fresh warehouse.

Prints one line:
- good articles stored / expected, after each run (each exactly once: a count that is more is a failure too);
- rejections by reason;
- peak memory (the largest resident set of the run process or any of its workers);
- the good sources' time (from the flow's start to the commit that made their last article queryable) beside the
  same sources run without the bad ones: the bad ones may not delay them by more than 10%. The commit is when the
  load's log line arrives (the run logs it once the transaction has committed); an article's `first_seen` is taken
  as its load begins, before the search index and the commit, so it would flatter both runs by the load's time;
- the load average when it finished (the machine is shared: the times move with it).

Usage: .venv/bin/python benchmarks/reliability.py [--good-feeds 6] [--items 8]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from collections import deque
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
       "PREFECT_HOME": tempfile.mkdtemp(prefix="monitor-bench-prefect-"), "PREFECT_LOGGING_LEVEL": "ERROR",
       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
CLI = [sys.executable, "-m", "monitor.cli"]
WORDS = ("harbour council budget river bridge minister court vote school hospital market energy grain port rail "
         "strike weather election festival museum police factory wages farmers drought tourism airline").split()
BOMB_BYTES = 512 * 1024 * 1024  # what each bomb unpacks to: 50 times the 10 MB cap
SLOW_SECONDS = 20  # how long the slow feed trickles its body


def article(path: str, published: str | None = None) -> bytes:
    rng = random.Random(path)
    body = "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(70))}.</p>" for _ in range(5))
    meta = (f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{published}"}}'
            "</script>" if published else "")
    return (f"<!doctype html><html lang='en'><head><title>Story {path}</title>{meta}</head><body><article>"
            f"<h1>Story {path}</h1>{body}</article></body></html>").encode()


def rss(items: list[tuple[str, str | None, str | None]]) -> bytes:
    """(guid, link or None, pubDate or None) items."""
    body = "".join("<item><title>Item</title>" + (f"<link>{link}</link>" if link else "")
                   + f"<guid isPermaLink='false'>{guid}</guid>" + (f"<pubDate>{date}</pubDate>" if date else "")
                   + "</item>" for guid, link, date in items)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>f</title>{body}</channel></rss>".encode()


def bombs() -> dict[str, bytes]:
    zeros = b"\0" * BOMB_BYTES
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)  # zlib-wrapped, as HTTP's "deflate" is
    return {"gzip": gzip.compress(zeros, 9), "deflate": deflate.compress(zeros) + deflate.flush(),
            "br": brotli.compress(zeros, quality=5)}


def handler(routes: dict, slow: bool = False) -> type[BaseHTTPRequestHandler]:
    """Routes: path -> (content type, body, content encoding or None). A slow handler trickles its body."""

    class Host(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            route = routes.get(self.path.split("?")[0])
            if route is None:
                return self.reply(404, "text/plain", b"not found")
            if route[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", route[1].decode())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self.reply(200, *route)

        def reply(self, status: int, ctype: str, body: bytes, encoding: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if slow:
                    for i in range(0, len(body), max(1, len(body) // SLOW_SECONDS)):
                        self.wfile.write(body[i:i + max(1, len(body) // SLOW_SECONDS)])
                        self.wfile.flush()
                        time.sleep(1)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Host


def newsroom(stack: ExitStack, good_feeds: int, items: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]],
                                                                        list[str], int]:
    """Start the hosts; returns (good sources, bad sources, allowed host:ports, good articles expected)."""
    from monitor.demo.server import serve_handler

    def host(routes: dict, slow: bool = False) -> str:
        return stack.enter_context(serve_handler(handler(routes, slow)))

    good_routes: dict = {}
    good = host(good_routes)
    good_sources = []
    for f in range(good_feeds):
        links = [f"{good}/g{f}/a{i}.html" for i in range(items)]
        for link in links:
            good_routes[link[len(good):]] = ("text/html; charset=utf-8", article(link))
        good_routes[f"/g{f}.xml"] = ("application/rss+xml", rss([(link, link, None) for link in links]))
        good_sources.append((f"good-{f}", f"{good}/g{f}.xml"))

    internal = host({"/admin": ("text/html", b"<html><body><p>password: hunter2 " + b"x " * 200 + b"</p></body></html>")})
    bad_routes: dict = {}
    bad = host(bad_routes)
    expected_bad = 0
    # repeated GUIDs inside one feed, and link-less items repeating one GUID across two feeds
    sloppy = [("same", f"{bad}/dup/a{i}.html", None) for i in range(3)] + [("same", f"{bad}/dup/a0.html", None)]
    for _, link, _ in sloppy:
        bad_routes[link[len(bad):]] = ("text/html; charset=utf-8", article(link))
    expected_bad += 3
    bad_routes["/sloppy.xml"] = ("application/rss+xml", rss(sloppy))
    for n in (1, 2):
        bad_routes[f"/linkless-{n}.xml"] = ("application/rss+xml", rss([("tag:wire,2026:1", None, None)]))
    # extreme dates, in the feed and on the pages
    extreme = [("x0", f"{bad}/dates/a0.html", "Mon, 01 Jan 0001 00:00:00 GMT"),
               ("x1", f"{bad}/dates/a1.html", "Fri, 31 Dec 9999 23:59:59 GMT")]
    for (_, link, _), date in zip(extreme, ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z")):
        bad_routes[link[len(bad):]] = ("text/html; charset=utf-8", article(link, date))
    expected_bad += 2
    bad_routes["/dates.xml"] = ("application/rss+xml", rss(extreme))
    # bombs: as feeds, and as article pages
    packed = bombs()
    bomb_items = []
    for kind, data in packed.items():
        bad_routes[f"/bomb-{kind}.xml"] = ("application/rss+xml", data, kind)
        bad_routes[f"/bomb/{kind}.html"] = ("text/html", data, kind)
        bomb_items.append((f"b-{kind}", f"{bad}/bomb/{kind}.html", None))
    bad_routes["/bomb-pages.xml"] = ("application/rss+xml", rss(bomb_items))
    # links that redirect to a loopback port nobody allowed
    bad_routes["/sneaky/a0.html"] = ("redirect", f"{internal}/admin".encode())
    bad_routes["/redirects.xml"] = ("application/rss+xml", rss([("r0", f"{bad}/sneaky/a0.html", None)]))
    slow_routes: dict = {}
    slow = host(slow_routes, slow=True)
    slow_routes["/slow.xml"] = ("application/rss+xml", rss([("s0", f"{slow}/never.html", None)]) + b" " * 200)
    with socket_free_port() as dead_port:
        dead = f"http://127.0.0.1:{dead_port}"
    bad_sources = [("sloppy", f"{bad}/sloppy.xml"), ("linkless-1", f"{bad}/linkless-1.xml"),
                   ("linkless-2", f"{bad}/linkless-2.xml"), ("dates", f"{bad}/dates.xml"),
                   ("bomb-pages", f"{bad}/bomb-pages.xml"), ("redirects", f"{bad}/redirects.xml"),
                   ("slow", f"{slow}/slow.xml"), ("dead", f"{dead}/feed.xml"),
                   *((f"bomb-{k}", f"{bad}/bomb-{k}.xml") for k in packed)]
    allowed = [url.split("/")[2] for url in (good, bad, slow, dead)]  # not `internal`: the redirect must be refused
    return good_sources, bad_sources, allowed, good_feeds * items + expected_bad


class socket_free_port:
    """A port nothing listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def write_config(directory: Path, sources: list[tuple[str, str]], allowed: list[str]) -> Path:
    directory.mkdir(parents=True)
    for name in ("regions.toml", "topics.toml"):
        (directory / name).write_text((ROOT / "config" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (directory / "settings.toml").write_text(
        f"[http]\nmin_host_interval = 0\nallow_hosts = {json.dumps(allowed)}\nretries = 2\nretry_delay_seconds = 2\n"
        "read_timeout = 5\ntotal_timeout = 10\n", encoding="utf-8")
    (directory / "sources.toml").write_text("".join(f'[[source]]\nname = "{n}"\nurl = "{u}"\n\n' for n, u in sources),
                                            encoding="utf-8")
    return directory


# What the warehouse logs once a load has committed (monitor.warehouse.load, at INFO: `monitor -v`).
LOADED = re.compile(r"monitor\.warehouse: loaded run \w+ batch: (\d+) articles")


def run(config_dir: Path, path: Path, *extra: str) -> list[float]:
    """`monitor -v run`; returns the wall-clock times (epoch seconds) at which its loads holding articles committed."""
    process = subprocess.Popen([*CLI, "-v", "--config", str(config_dir), "run", "--warehouse", str(path), *extra],
                               env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    commits, tail = [], deque(maxlen=1)
    for line in process.stderr:
        loaded = LOADED.search(line)
        if loaded and int(loaded[1]):
            commits.append(time.time())
        if line.strip():
            tail.append(line.strip())
    if process.wait():
        sys.exit(f"monitor run failed ({process.returncode}): {list(tail)}")
    return commits


def good_seconds(path: Path, commits: list[float], run_index: int = 0) -> float:
    """Seconds from the run's start to the commit that made its last good article queryable: the first load
    that committed after that article's load began (loads run one after another)."""
    from monitor import warehouse

    started, last = warehouse.query(path, f"""
        WITH r AS (SELECT run_id, started_at FROM runs ORDER BY started_at LIMIT 1 OFFSET {run_index})
        SELECT epoch(any_value(r.started_at)), epoch(max(a.first_seen)) FROM articles a JOIN r USING (run_id)
        WHERE a.source LIKE 'good-%'""")[1][0]
    return min(t for t in commits if t >= last) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--good-feeds", type=int, default=6)
    parser.add_argument("--items", type=int, default=8)
    args = parser.parse_args()
    from monitor import warehouse

    with tempfile.TemporaryDirectory(prefix="monitor-reliability-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        good, bad, allowed, expected = newsroom(stack, args.good_feeds, args.items)
        mixed = write_config(root / "mixed", good + bad, allowed)
        alone = write_config(root / "alone", good, allowed)
        path = root / "mixed.duckdb"
        stored, commits = [], []
        started = time.perf_counter()
        for extra in ((), ("--force",)):
            commits.append(run(mixed, path, *extra))
            total, distinct = warehouse.query(
                path, "SELECT count(*), count(DISTINCT article_id) FROM articles WHERE source NOT IN ('redirects')")[1][0]
            stored.append(f"{distinct}/{expected}" + ("" if total == distinct else f" ({total - distinct} doubled)"))
        mixed_wall = time.perf_counter() - started
        with_bad = good_seconds(path, commits[0])
        secrets = warehouse.query(path, "SELECT count(*) FROM articles WHERE body LIKE '%hunter2%'")[1][0][0]
        reasons = dict(warehouse.query(path, "SELECT reason, count(*) FROM rejections GROUP BY 1 ORDER BY 1")[1])
        lone = root / "alone.duckdb"
        without_bad = good_seconds(lone, run(alone, lone))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"reliability: good articles stored {' then '.join(stored)} (run 1, run 2); internal page stored "
          f"{secrets} times; rejections {json.dumps(reasons, separators=(',', ':'))}; peak memory {peak_mb:.0f} MB; "
          f"good sources done {with_bad:.1f}s beside the bad ones vs {without_bad:.1f}s alone "
          f"({(with_bad / without_bad - 1) * 100:+.0f}%); two mixed runs {mixed_wall:.0f}s; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
