"""`monitor backfill` walks a source's archive sitemap (an index, one child gzipped) for older articles and ingests
them through the flow; SIGKILLed half-way, a second run completes it without fetching or storing anything twice."""

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from monitor import warehouse
from monitor.demo.server import serve_handler
from tests.conftest import _Scripted, write_config
from tests.test_sitemaps import _index, _page, _urlset

MONITOR = [sys.executable, "-m", "monitor.cli"]
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
       "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
PAGE_SECONDS = 0.3  # each article page answers this slowly, so the kill lands while pages are being fetched
OCTOBER = [(f"oct-{n}", f"October story number {n} from the quay", f"2026-10-{n + 10:02d}", "en") for n in range(6)]
NOVEMBER = [(f"nov-{n}", f"November story number {n} from the quay", f"2026-11-{n + 10:02d}", "en") for n in range(6)]
SEPTEMBER = [("sep-0", "September story, older than the backfill", "2026-09-01", "en")]


class _Archive(_Scripted):
    """The scripted routes, counting requests; article pages answer slowly."""

    served: Counter = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        with self.lock:
            self.served[self.path] += 1
        if self.path.startswith("/news/"):
            time.sleep(PAGE_SECONDS)
        super().do_GET()


def _articles_served(handler) -> int:
    with handler.lock:
        return sum(n for p, n in handler.served.items() if p.startswith("/news/"))


@pytest.mark.timeout(300)
def test_backfill_killed_half_way_is_completed_by_the_next_run_with_nothing_doubled(tmp_path: Path, prefect_harness):
    from prefect.settings import get_current_settings

    # both runs report to the session's Prefect server instead of each starting one (20 s apiece here)
    env = {**ENV, "PREFECT_API_URL": get_current_settings().api.url}
    handler = type("Archive", (_Archive,), {"routes": {}, "served": Counter(), "lock": threading.Lock()})
    with serve_handler(handler) as base:
        stories = OCTOBER + NOVEMBER + SEPTEMBER
        handler.routes.update({
            "/news.xml": (200, "application/xml", _urlset(base, [])),
            "/archive-index.xml": (200, "application/xml", _index(base, "archive-10.xml", "archive-11.xml.gz")),
            "/archive-10.xml": (200, "application/xml", _urlset(base, OCTOBER + SEPTEMBER)),
            "/archive-11.xml.gz": (200, "application/gzip", gzip.compress(_urlset(base, NOVEMBER))),
            **{f"/news/{slug}.html": (200, "text/html", _page(title)) for slug, title, _, _ in stories}})
        directory = write_config(tmp_path / "c", f'[[source]]\nname = "quay"\nkind = "sitemap"\n'
                                                 f'url = "{base}/news.xml"\n',
                                 "[pipeline]\nload_wave_articles = 2\npage_batch_size = 2\n")
        path = tmp_path / "w.duckdb"
        command = [*MONITOR, "--config", str(directory), "backfill", "--source", "quay", "--since", "2026-10-01",
                   "--sitemap", f"{base}/archive-index.xml", "--warehouse", str(path)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 200
        while _articles_served(handler) < 6 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
        one = lambda sql: warehouse.query(path, sql)[1][0]  # noqa: E731
        kept, = one("SELECT count(*) FROM articles")
        assert one("SELECT count(*) FROM entries WHERE source = 'quay'") == (12,)  # every URL stored first
        before = Counter(handler.served)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "backfill quay since 2026-10-01: 12 URLs in 2 sitemaps, 12 stored before, 0 new" in done.stderr
    again = {p: n - before[p] for p, n in handler.served.items() if p.startswith("/news/") and n > before[p]}
    assert len(again) == 12 - kept and all(n == 1 for n in again.values())  # only what was not stored, once
    assert "/news/sep-0.html" not in handler.served  # older than --since
    assert one("SELECT count(*), count(DISTINCT url) FROM articles WHERE source = 'quay'") == (12, 12)
    assert one("SELECT count(*), count(DISTINCT link), count(*) FILTER (WHERE article_id IS NULL) FROM entries") == \
        (12, 12, 0)
