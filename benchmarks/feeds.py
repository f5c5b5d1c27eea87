"""Feed acquisition speed: 200 feeds x 50 items served on 127.0.0.1, a first run and an immediate second one.

The newsroom is spread over 20 local hosts (10 feeds each) so the per-host limit applies as it would across real
outlets. A quarter of the feeds honour ETag, a quarter Last-Modified, a quarter send no validators and a quarter
lie (a new ETag and date on every response, the same bytes), so the second run exercises 304s and the body hash.
Every run is the real `ingest` flow under a local Prefect API with `limit=0` (feeds only, no article pages).
After the first run come two immediate re-runs: one as the scheduler runs it (every feed was just polled, so none
is due and none is asked), and one forced, which asks every feed again (304s and body hashes, nothing parsed).

Prints one line: feeds/s of the first run and each re-run's time as a share of the first (goal: <= 10%), as wall
time and as the flow's own work (wall time adds Prefect's fixed start and exit cost).

Usage: .venv/bin/python benchmarks/feeds.py [--feeds 200] [--items 50] [--hosts 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

os.environ.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                   "PREFECT_LOGGING_LEVEL": "ERROR"})
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="monitor-bench-prefect-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A fixed Last-Modified for the static feeds: the newsroom does not change between the two runs.
PUBLISHED = formatdate(1_790_000_000, usegmt=True)
CHANGED_AT: dict[int, str] = {}  # Last-Modified of the feeds that published since (in the newsroom's process)
PARAGRAPH = ("Officials said on Tuesday that the talks would continue next week, after a round of meetings in the "
             "capital that both delegations described as constructive but difficult. ")


def render_feed(base: str, feed: int, items: int) -> bytes:
    """One RSS feed of `items` stories with realistic titles and summaries (about 25 KB for 50 items)."""
    body = "".join(
        f"<item><title>Story {feed}-{i}: talks continue as delegations meet again</title>"
        f"<link>{base}/news/{feed}/story-{i}.html?utm_source=rss</link><guid isPermaLink='false'>{feed}-{i}</guid>"
        f"<pubDate>{formatdate(1_790_000_000 - i * 600, usegmt=True)}</pubDate>"
        f"<description>{PARAGRAPH * 2}</description></item>" for i in range(items))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Feed {feed}</title>"
            f"<link>{base}/</link><description>Benchmark feed</description>{body}</channel></rss>").encode()


def handler_for(feeds: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Newsroom(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_GET(self) -> None:  # noqa: N802
            body = feeds.get(self.path)
            if body is None:
                return self._send(404, b"")
            kind = int(self.path.split("/")[-1].split(".")[0]) % 4
            headers = {"Content-Type": "application/rss+xml"}
            if kind == 0:  # honours ETag
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", {"ETag": etag})
                headers["ETag"] = etag
            elif kind == 1:  # honours Last-Modified
                modified = CHANGED_AT.get(int(self.path.split("/")[-1].split(".")[0]), PUBLISHED)
                if self.headers.get("If-Modified-Since") == modified:
                    return self._send(304, b"", {"Last-Modified": modified})
                headers["Last-Modified"] = modified
            elif kind == 3:  # lies: new validators every time, the same bytes
                headers["ETag"] = f'"{time.time_ns()}"'
                headers["Last-Modified"] = formatdate(usegmt=True)
            self._send(200, body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return

    return Newsroom


def serve_newsroom(conn, feeds: int, items: int, hosts: int) -> None:
    """Serve `feeds` feeds over `hosts` local servers until terminated; sends the base URLs back."""
    from monitor.demo.server import serve_handler

    with ExitStack() as stack:
        by_host: list[dict[str, bytes]] = [{} for _ in range(hosts)]
        bases = [stack.enter_context(serve_handler(handler_for(by_host[h]))) for h in range(hosts)]
        for n in range(feeds):
            by_host[n % hosts][f"/feeds/{n}.xml"] = render_feed(bases[n % hosts], n, items)
        conn.send(bases)
        while True:  # "change F": a share F of the feeds publishes one new item, with new validators
            share = float(conn.recv().split()[1])
            for n in range(0, feeds, max(1, round(1 / share)) if share else feeds + 1):
                body = render_feed(bases[n % hosts], n, items).replace(
                    b"<item>", f"<item><title>Breaking {n}</title><link>{bases[n % hosts]}/news/{n}/new.html</link>"
                               f"<guid>{n}-new</guid></item><item>".encode(), 1)
                by_host[n % hosts][f"/feeds/{n}.xml"] = body
                CHANGED_AT[n] = formatdate(usegmt=True)
            conn.send("changed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--changed", type=float, default=None, help="share of feeds with a new item in the cycle")
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import ingest
    from monitor import warehouse

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="monitor-bench-feeds-") as tmp:
        # The newsroom runs in its own process, as real servers do: serving from this process would bill the
        # server's work to the client through the GIL.
        parent, child = multiprocessing.Pipe()
        newsroom = multiprocessing.Process(target=serve_newsroom, args=(child, args.feeds, args.items, args.hosts),
                                           daemon=True)
        newsroom.start()
        stack.callback(newsroom.terminate)
        bases = parent.recv()
        sources = [f'[[source]]\nname = "feed-{n}"\nurl = "{bases[n % args.hosts]}/feeds/{n}.xml"\n'
                   for n in range(args.feeds)]
        config_dir = Path(tmp) / "config"
        config_dir.mkdir()
        (config_dir / "sources.toml").write_text("".join(sources), encoding="utf-8")
        # Loopback hosts are ours: no pause between request starts (the per-host concurrency limit still holds).
        allow = ", ".join(f'"{urlsplit(base).netloc}"' for base in bases)  # exactly our own servers
        (config_dir / "settings.toml").write_text(f"[http]\nmin_host_interval = 0\nallow_hosts = [{allow}]\n",
                                                 encoding="utf-8")
        for name in ("regions.toml", "topics.toml"):
            (config_dir / name).write_text((ROOT / "config" / name).read_text(encoding="utf-8"), encoding="utf-8")
        path = Path(tmp) / "bench.duckdb"
        stack.enter_context(prefect_test_harness(server_startup_timeout=120))

        def timed(**kwargs) -> tuple[float, dict]:
            started = time.perf_counter()
            result = ingest(warehouse_path=str(path), config_dir=str(config_dir), limit=0, **kwargs)
            return time.perf_counter() - started, result

        first_s, first = timed()
        due_s, due = timed()  # what a scheduled run does at once: every feed was just polled, none is due
        forced_s, forced = timed(force=True)  # every feed asked again: 304s and body hashes
        stored = warehouse.query(path, "SELECT count(*) FROM entries")[1][0][0]
        cycle = None
        if args.changed is not None:
            parent.send(f"change {args.changed}")
            parent.recv()
            cpu_before = _cpu_seconds()
            cycle_s, cycle_result = timed(force=True)
            added = warehouse.query(path, "SELECT count(*) FROM entries")[1][0][0] - stored
            cycle = (cycle_s, cycle_result, _cpu_seconds() - cpu_before, added)

    c1, c3 = first["counts"], forced["counts"]
    # Wall time includes Prefect's own flow start and exit (a heartbeat thread joined on exit costs up to 1 s
    # per flow run); "work" is the flow body from start to loaded, the flow's own elapsed_s.

    def share(seconds: float, result: dict) -> str:
        wall, work = seconds / first_s, result["elapsed_s"] / first["elapsed_s"]
        return (f"{seconds:.2f}s wall = {wall:.1%}, {result['elapsed_s']:.2f}s work = {work:.1%} "
                f"(goal <= 10%: wall {'met' if wall <= 0.10 else 'NOT met'}, work {'met' if work <= 0.10 else 'NOT met'})")

    print(f"feeds {args.feeds} feeds x {args.items} items on {args.hosts} hosts: "
          f"first run {first_s:.2f}s wall, {first['elapsed_s']:.2f}s work ({args.feeds / first_s:.0f} feeds/s wall, "
          f"{args.feeds / first['elapsed_s']:.0f} work; {c1.count('feed', 'ok')} parsed, {stored} entries); "
          f"immediate re-run ({due['counts'].count('feed', 'skipped', 'not-due')} not due) {share(due_s, due)}; "
          f"forced re-run ({c3.count('feed', 'not-modified')} not-modified, {c3.count('feed', 'unchanged')} unchanged, "
          f"{c3.count('feed', 'ok')} parsed) {share(forced_s, forced)}" + (_cycle_line(*cycle, args) if cycle else ""))
    return 0


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _cycle_line(seconds: float, result: dict, cpu: float, added: int, args) -> str:
    """The realistic cycle: its outcomes, time, CPU, peak memory and the hourly capacity it implies. The CPU is
    this process's (the flow and its fetches): children count only once they have ended, so the newsroom and the
    Prefect test server, which run to the end, are left out."""
    counts = result["counts"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (f"; poll cycle with {args.changed:.0%} changed: {seconds:.1f}s wall, {cpu:.1f}s CPU, "
            f"{counts.count('feed', 'ok')} parsed, {counts.count('feed', 'not-modified')} not-modified, "
            f"{counts.count('feed', 'unchanged')} unchanged, {added} new entries stored; peak RSS {peak_mb:.0f} MB; "
            f"{args.feeds / seconds * 3600:,.0f} feeds/hour at this pace, "
            f"{args.feeds / cpu * 3600:,.0f} feeds/hour if one core did nothing else")


if __name__ == "__main__":
    sys.exit(main())
