"""A day of serve, compressed (issue 23): `monitor serve` with a one-minute schedule against a local newsroom that
publishes a new item every few seconds, for N minutes, on 127.0.0.1 only.

The newsroom: FEEDS feeds on one loopback server, each answering conditional requests (ETag, 304 when unchanged),
keeping its newest 20 items; one new item every --publish-seconds on a random feed. Some things fail on purpose:
one feed always answers 500, and every tenth item's page is a 404 (those are "published" but not storable).
Each page's body is its own random text, so no two are copies and each should be stored once.

After --minutes of publishing it stops publishing, lets serve run two more minutes to catch up, stops it with SIGINT
and prints one line:
- storable items published / stored exactly once / missing / stored more than once;
- flow runs completed / failed or crashed (from the Prefect API);
- peak and final resident memory of every process in serve's tree (by role), and of the first vs the last third of
  the run for the long-lived ones (flat after warm-up or not);
- open files of the tree, peak and final; the Prefect database's size; child processes left after serve exited.

The soak compresses time: one-minute schedules stand for hourly ones. What the Prefect server keeps
(monitor.cli.serve.SERVER_SETTINGS: hours of events, the clean-up's period) is compressed by the same factor, so that
a database flat here is flat over weeks of serve; `--real-retention` keeps the real settings.

Usage: .venv/bin/python benchmarks/soak.py [--minutes 30] [--publish-seconds 4] [--feeds 6] [--real-retention]
       [--database-url postgresql+asyncpg://...]  (the Prefect DB size printed is then SQLite's: 0)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from email.utils import format_datetime
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from monitor import warehouse  # noqa: E402
from monitor.cli.serve import SERVER_SETTINGS, TASK_RUN_EVENTS_KEPT_SECONDS  # noqa: E402
from monitor.demo.server import serve_handler  # noqa: E402

CLI = [sys.executable, "-m", "monitor.cli"]
ITEMS_PER_FEED = 20  # a feed lists its newest 20 items, as most news feeds do
NOT_FOUND_EVERY = 10  # every tenth item's page is a 404
DRAIN_SECONDS = 120  # after publishing stops: two one-minute cycles to pick up the last items
SAMPLE_SECONDS = 5  # how often the process tree is measured
TIME_SCALE = 60  # a one-minute schedule stands for an hourly one
SYLLABLES = "ka lo mi ne ru sa te vi do pa ge zu fo ri na be tu mo li se da ko pi ra".split()


def compressed_retention() -> dict[str, str]:
    """The Prefect server's retention settings divided by TIME_SCALE (a day of events: 24 minutes)."""
    overrides = {name: max(1, seconds // TIME_SCALE) for name, seconds in
                 json.loads(SERVER_SETTINGS["PREFECT_SERVER_SERVICES_DB_VACUUM_EVENT_RETENTION_OVERRIDES"]).items()}
    assert max(overrides.values()) == TASK_RUN_EVENTS_KEPT_SECONDS // TIME_SCALE
    return {"PREFECT_SERVER_SERVICES_DB_VACUUM_EVENT_RETENTION_OVERRIDES": json.dumps(overrides),
            "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": f"PT{24 * 60 // TIME_SCALE}M",
            "PREFECT_SERVER_SERVICES_DB_VACUUM_LOOP_SECONDS":
                str(int(SERVER_SETTINGS["PREFECT_SERVER_SERVICES_DB_VACUUM_LOOP_SECONDS"]) // TIME_SCALE)}
    # finished flow runs stay a week / 60 = 2.8 h: longer than a soak (and Prefect's minimum is an hour)


def words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n))


class Newsroom:
    """Feeds and pages in memory, published to over time; served by `handler`."""

    def __init__(self, feeds: int) -> None:
        self.lock = threading.Lock()
        self.feeds: dict[str, list[dict]] = {f"feed{i}": [] for i in range(feeds)}
        self.failing = "feed0"  # always 500
        self.pages: dict[str, bytes] = {}
        self.published: list[str] = []  # paths of storable items
        self.count = 0

    def publish(self) -> None:
        with self.lock:
            self.count += 1
            n, feed = self.count, random.choice([f for f in self.feeds if f != self.failing])
            path = f"/{feed}/story-{n}.html"
            rng = random.Random(n)
            title = words(rng, 6).capitalize()
            if n % NOT_FOUND_EVERY:
                body = "".join(f"<p>{words(rng, 60)}.</p>" for _ in range(5))
                self.pages[path] = (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body>"
                                    f"<article><h1>{title}</h1>{body}</article></body></html>").encode()
                self.published.append(path)
            item = {"title": title, "path": path, "date": format_datetime(datetime.now(timezone.utc))}
            self.feeds[feed] = [item, *self.feeds[feed]][:ITEMS_PER_FEED]

    def feed_xml(self, feed: str, base: str) -> bytes:
        with self.lock:
            items = "".join(f"<item><title>{i['title']}</title><link>{base}{i['path']}</link><guid>{base}{i['path']}"
                            f"</guid><pubDate>{i['date']}</pubDate></item>" for i in self.feeds[feed])
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>{feed}</title><link>{base}/</link>"
                f"<description>soak</description>{items}</channel></rss>").encode()

    def handler(self, base: list[str]):
        room = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                feed = self.path.strip("/").removesuffix("/feed.xml")
                if self.path.endswith("/feed.xml") and feed in room.feeds:
                    if feed == room.failing:
                        return self.answer(500, b"down", "text/plain")
                    body = room.feed_xml(feed, base[0])
                    etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return None
                    return self.answer(200, body, "application/rss+xml", etag)
                page = room.pages.get(self.path)
                return self.answer(200, page, "text/html; charset=utf-8") if page else \
                    self.answer(404, b"not found", "text/plain")

            def answer(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler


def tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def role(pid: int) -> str:
    try:
        cmd = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode()
    except OSError:
        return "gone"
    if "prefect server start" in cmd or "uvicorn" in cmd:
        return "prefect-server"
    if "lifeline" in cmd:
        return "lifeline"
    if " serve " in cmd:
        return "monitor-serve"
    if "prefect.engine" in cmd or "flow_run" in cmd or "runner" in cmd:
        return "flow-run"
    return Path(cmd.split(" ")[0]).name + ":" + " ".join(cmd.split(" ")[1:3])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def db_mb(work: Path) -> float:
    """The Prefect database's size, its write-ahead log included (SQLite folds it in at checkpoints)."""
    base = work / ".monitor" / "prefect" / "prefect.db"
    return sum(p.stat().st_size for p in (base, base.with_name("prefect.db-wal")) if p.exists()) / 1e6


def open_files(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
    return total


def flow_runs(api_url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    offset = 0
    while True:
        body = json.dumps({"limit": 200, "offset": offset}).encode()
        request = urllib.request.Request(f"{api_url}/flow_runs/filter", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            page = json.load(response)
        for run in page:
            counts[run["state_type"]] = counts.get(run["state_type"], 0) + 1
        if len(page) < 200:
            return counts
        offset += 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--publish-seconds", type=float, default=4.0)
    parser.add_argument("--feeds", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the warehouse and Prefect data for inspection")
    parser.add_argument("--database-url", default=None,
                        help="the Prefect server's database (PREFECT_API_DATABASE_CONNECTION_URL, e.g. Postgres's "
                             "postgresql+asyncpg://user@127.0.0.1:5432/prefect); default: SQLite in its home")
    parser.add_argument("--real-retention", action="store_true",
                        help="the Prefect server keeps what `monitor serve` sets, not that divided by 60")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="monitor-soak-"))
    room, base = Newsroom(args.feeds), [""]
    with serve_handler(room.handler(base)) as url:
        base[0] = url
        config = work / "config"
        config.mkdir()
        for name in ("regions.toml", "topics.toml"):
            (config / name).write_bytes((ROOT / "config" / name).read_bytes())
        netloc = url.split("//")[1]
        (config / "settings.toml").write_text(f'[http]\nmin_host_interval = 0\nallow_hosts = ["{netloc}"]\n'
                                              "retries = 0\n", encoding="utf-8")
        (config / "sources.toml").write_text("[schedule.minute]\ninterval_minutes = 1\n\n" + "".join(
            f'[[source]]\nname = "{f}"\nurl = "{url}/{f}/feed.xml"\nlanguage = "en"\nschedule = "minute"\n\n'
            for f in room.feeds), encoding="utf-8")
        path = work / "warehouse" / "soak.duckdb"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                    "PREFECT_HOME": str(work / "prefect-client"),
                    **({} if args.real_retention else compressed_retention()),
                    **({"PREFECT_API_DATABASE_CONNECTION_URL": args.database_url} if args.database_url else {})})
        for _ in range(3):
            room.publish()
        served = subprocess.Popen([*CLI, "--config", str(config), "serve", "--warehouse", str(path),
                                   "--report-out", str(work / "report.html")], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(served.stdout), daemon=True).start()
        began = time.monotonic()
        publish_until = began + args.minutes * 60
        end = publish_until + DRAIN_SECONDS
        peak: dict[str, float] = {}
        samples: list[tuple[float, dict[str, float]]] = []
        seen: dict[int, str] = {}
        files_peak = files_final = 0
        next_publish = next_sample = time.monotonic()
        api_url = None
        while time.monotonic() < end and served.poll() is None:
            now = time.monotonic()
            if now >= next_publish and now < publish_until:
                room.publish()
                next_publish = now + args.publish_seconds
            if now >= next_sample:
                pids = tree(served.pid)
                by_role: dict[str, float] = {}
                for pid in pids:
                    seen.setdefault(pid, role(pid))
                    name = seen[pid]
                    by_role[name] = by_role.get(name, 0.0) + rss_mb(pid)
                for name, mb in by_role.items():
                    peak[name] = max(peak.get(name, 0.0), mb)
                by_role["prefect-db"] = db_mb(work)
                samples.append((now - began, by_role))
                files_final = open_files(pids)
                files_peak = max(files_peak, files_final)
                next_sample = now + SAMPLE_SECONDS
            if api_url is None:
                try:
                    api_url = json.loads((work / ".monitor" / "prefect" / "server.json").read_text())["api_url"]
                except (OSError, ValueError, KeyError):
                    pass
            time.sleep(0.2)
        runs = flow_runs(api_url) if api_url and served.poll() is None else {}
        final = samples[-1][1] if samples else {}
        served.send_signal(signal.SIGINT)
        try:
            served.wait(90)
        except subprocess.TimeoutExpired:
            served.kill()
            served.wait()
        time.sleep(2)
        left = [pid for pid, name in seen.items() if Path(f"/proc/{pid}").exists() and role(pid) == name]
        for pid in left:
            os.kill(pid, signal.SIGKILL)

    stored = dict(warehouse.query(path, "SELECT url, count(*) FROM articles GROUP BY url")[1]) if path.exists() else {}
    published = [base[0] + p for p in room.published]
    once = sum(stored.get(u) == 1 for u in published)
    doubled = sum((stored.get(u) or 0) > 1 for u in published)
    missing = sum(u not in stored for u in published)
    thirds = max(1, len(samples) // 3)

    def mean(role_name: str, part: list) -> float:
        values = [s[1].get(role_name, 0.0) for s in part]
        return sum(values) / len(values) if values else 0.0

    flat = {r: f"{mean(r, samples[:thirds]):.0f}->{mean(r, samples[-thirds:]):.0f}"
            for r in ("monitor-serve", "prefect-server", "prefect-db")}
    peak.pop("prefect-db", None)
    db = work / ".monitor" / "prefect" / "prefect.db"
    memory = ", ".join(f"{r} peak {peak[r]:.0f} final {final.get(r, 0.0):.0f} MB" for r in sorted(peak))
    print(f"soak {args.minutes:g} min, 1 item / {args.publish_seconds:g} s on {args.feeds} feeds (1 failing, every "
          f"{NOT_FOUND_EVERY}th page 404): storable items {len(published)}, stored once {once}, missing {missing}, "
          f"doubled {doubled}; flow runs {runs.get('COMPLETED', 0)} completed, "
          f"{runs.get('FAILED', 0) + runs.get('CRASHED', 0)} failed/crashed, {runs.get('CANCELLED', 0)} cancelled, "
          f"{runs.get('RUNNING', 0) + runs.get('PENDING', 0)} running at the end (those scheduled ahead left out); "
          f"memory "
          f"{memory}; mean RSS first->last third (MB) {flat}; open files peak {files_peak} final {files_final}; "
          f"Prefect DB {db.stat().st_size / 1e6 if db.exists() else 0:.1f} MB (with its log {db_mb(work):.1f} MB); "
          f"retention {'real' if args.real_retention else f'/{TIME_SCALE}'}; children left {len(left)}; "
          f"serve exit {served.returncode}" + (f"; data in {work}" if args.keep else ""))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
