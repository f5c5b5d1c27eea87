"""End-to-end throughput, one summary line.

Builds a newsroom of 100 feeds x 50 articles (5,000 pages of 50-150 KB), serves it on 127.0.0.1, then times:
- a cold `monitor run` into a fresh warehouse (the default: worker processes for a run this size), then the same
  with `--task-runner threads` (and `--task-runner dask` with --compare threads,dask);
- an immediate warm re-run (`--force`, so every feed is asked again and answers 304), then the same again beside
  a running `monitor serve` (whose Prefect server the run reports to instead of starting a temporary one);
- the floor: the same pages through `trafilatura.extract` alone, one process per core.

The pages are real by default: the corpus's extraction pages of 50-150 KB (`../shared/corpus/extraction`, read at
run time and never copied into this repository), each served under several URLs with its canonical link pointed
at the copy's own address. Without the corpus, or with `--synthetic`, they are generated: navigation, inline CSS
and scripts, JSON-LD, a captioned figure, related links and a footer around 6-15 paragraphs. Generated pages are
about five times cheaper for trafilatura than real ones of the same size, which flatters every fixed cost.

It prints end-to-end articles/s beside the floor, the share of each stage (from the runs table), and the warm run
as a share of the cold one.

Usage: .venv/bin/python benchmarks/pipeline.py [--feeds 100] [--per-feed 50] [--synthetic] [--compare threads,dask]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor import warehouse  # noqa: E402
from monitor.cli.serve import LocalServer, server_home  # noqa: E402
from monitor.demo.server import serve_directory  # noqa: E402

CLI = [str(ROOT / ".venv" / "bin" / "monitor")]  # --cli replaces it (to time another checkout, say)
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
PLACES = ("Armenia", "Baku", "Tbilisi", "the Kremlin", "Kenya", "Nairobi", "Brazil", "Lima", "Seoul", "Berlin",
          "Paris", "Canada", "Ukraine", "Gaza", "Jakarta", "Lagos", "Chile", "Norway", "Vietnam", "Mexico City")
WORDS = ("officials", "said", "the", "government", "talks", "market", "prices", "rose", "after", "storm", "league",
         "election", "border", "court", "ruled", "workers", "strike", "minister", "budget", "vaccine", "company",
         "shares", "fell", "police", "protest", "drought", "harvest", "summit", "agreement", "investors", "rain")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 28))]
    words.insert(rng.randrange(len(words)), "in " + rng.choice(PLACES))
    return " ".join(words).capitalize() + "."


def page(rng: random.Random, base: str, feed: int, n: int) -> str:
    title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize() + f" in {rng.choice(PLACES)}"
    paragraphs = "\n".join(f"<p>{' '.join(sentence(rng) for _ in range(rng.randint(2, 5)))}</p>"
                           for _ in range(rng.randint(6, 15)))
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(rng.randint(60, 200)))
    related = "".join(f'<li><a href="/f{feed}/a{(n + k) % 50}.html">{escape(sentence(rng)[:60])}</a></li>'
                      for k in range(1, 6))
    target = rng.randint(50_000, 150_000)
    css = "".join(f".c{k}{{margin:{k % 7}px;padding:{k % 5}px;color:#{k % 999:03d}}}" for k in range(400))
    page_without_padding = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}"><meta property="article:published_time" content="2026-11-{1 + n % 20:02d}T08:00:00Z">
<link rel="canonical" href="{base}/f{feed}/a{n}.html"><style>{css}</style>
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{title}"}}</script></head><body>
<div class="cookie-banner">We use cookies. <button>Accept</button></div>
<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>
<p class="byline">By Staff Reporter</p>
<figure><img src="/img/{n}.jpg" alt=""><figcaption>{escape(sentence(rng))} Photo: Agency</figcaption></figure>
{paragraphs}
<aside class="related"><h3>Read more</h3><ul>{related}</ul></aside></article></main>
<footer><p>Copyright 2026 Outlet {feed}. All rights reserved.</p></footer>"""
    padding = max(0, target - len(page_without_padding) - 40)
    script = "var tracking = [" + ",".join(str(rng.randint(0, 9999)) for _ in range(padding // 5)) + "];"
    return page_without_padding + f"<script>{script[:padding]}</script></body></html>"


CORPUS = ROOT.parent / "shared" / "corpus" / "extraction"
# The "realistic size": pages outside it are left out of the corpus mode.
MIN_PAGE_BYTES, MAX_PAGE_BYTES = 50_000, 150_000
_CANONICAL = re.compile(r"""(<link\b[^>]*\brel=["']?canonical\b[^>]*>|<meta\b[^>]*\bproperty=["']?og:url\b[^>]*>)""",
                        re.I)
_HREF = re.compile(r"""\b(href|content)=(["'])[^"']*\2""", re.I)


def corpus_pages(corpus: Path) -> list[str]:
    """The corpus's extraction pages of a realistic size that are UTF-8 (the local server declares UTF-8)."""
    found = []
    for path in sorted(corpus.glob("*/html/*.html.gz")):
        data = gzip.decompress(path.read_bytes())
        if MIN_PAGE_BYTES <= len(data) <= MAX_PAGE_BYTES:
            try:
                found.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                continue
    return found


def real_page(html: str, url: str) -> str:
    """A corpus page served at `url`: its canonical link and og:url name the copy, so each copy is its own article."""
    return _CANONICAL.sub(lambda m: _HREF.sub(lambda h: f'{h.group(1)}="{url}"', m.group(0)), html)


def build(root: Path, base: str, feeds: int, per_feed: int, real: list[str]) -> None:
    rng = random.Random(1)
    for f in range(feeds):
        folder = root / f"f{f}"
        folder.mkdir(parents=True, exist_ok=True)
        items = []
        for n in range(per_feed):
            url = f"{base}/f{f}/a{n}.html"
            html = real_page(real[(f * per_feed + n) % len(real)], url) if real else page(rng, base, f, n)
            (folder / f"a{n}.html").write_text(html, encoding="utf-8")
            items.append(f"<item><title>Story {f}-{n}</title><link>{base}/f{f}/a{n}.html</link>"
                         f"<guid>{base}/f{f}/a{n}.html</guid><pubDate>Mon, {1 + n % 20:02d} Nov 2026 08:00:00 GMT</pubDate></item>")
        (folder / "feed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet {f}</title>'
                                         f'<link>{base}/f{f}/</link>{"".join(items)}</channel></rss>', encoding="utf-8")


def config(root: Path, base: str, feeds: int) -> Path:
    directory = root / "config"
    directory.mkdir()
    for name in ("regions.toml", "topics.toml"):
        (directory / name).write_text((ROOT / "config" / name).read_text(encoding="utf-8"), encoding="utf-8")
    # Our own server: no pause between requests, and more than 2 at a time (it stands in for 100 hosts).
    own = base.removeprefix("http://")  # the only non-public server it may fetch from
    (directory / "settings.toml").write_text(f'[http]\nmin_host_interval = 0\nallow_hosts = ["{own}"]\n'
                                             "per_host_limit = 8\nmax_connections = 16\n", encoding="utf-8")
    (directory / "sources.toml").write_text("".join(f'[[source]]\nname = "outlet-{f}"\nurl = "{base}/f{f}/feed.xml"\n\n'
                                                    for f in range(feeds)), encoding="utf-8")
    return directory


def timed_run(config_dir: Path, path: Path, *extra: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([*CLI, "--config", str(config_dir), "run", "--warehouse", str(path), *extra], env=ENV,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"monitor run failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started


def _extract(path: str) -> int:
    import trafilatura

    text = trafilatura.extract(Path(path).read_text(encoding="utf-8"))
    return len(text or "")


def floor(pages: list[Path]) -> float:
    """Pages per second through trafilatura.extract alone, one process per core."""
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
        pool.map(_extract, [str(p) for p in pages], chunksize=20)
    return len(pages) / (time.perf_counter() - started)


def flow_seconds(path: Path) -> list[float]:
    """Each run's own time, start to finish of the flow (without process start-up and Prefect's server)."""
    rows = warehouse.query(path, "SELECT epoch(finished_at - started_at) FROM runs ORDER BY started_at")[1]
    return [r[0] for r in rows]


def shares(path: Path) -> str:
    (stages,) = warehouse.query(path, "SELECT stage_seconds FROM runs ORDER BY started_at LIMIT 1")[1][0]
    stages = json.loads(stages)
    total = sum(stages.values())
    return " ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--per-feed", type=int, default=50)
    parser.add_argument("--compare", default="threads",
                        help="other task runners to time after the default one, comma-separated: threads, dask "
                             "(empty: none)")
    parser.add_argument("--cli", help='the monitor command, split as a shell would (default: .venv/bin/monitor), '
                                      'for example "env PYTHONPATH=../old/src:../old .venv/bin/python -m monitor.cli"')
    parser.add_argument("--synthetic", action="store_true", help="generated pages even when the corpus is here")
    args = parser.parse_args()
    if args.cli:
        CLI[:] = shlex.split(args.cli)
    real = [] if args.synthetic else corpus_pages(CORPUS)
    if not real and not args.synthetic:
        print(f"no corpus at {CORPUS}: using generated pages (see --synthetic)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = root / "site"
        site.mkdir()
        with serve_directory(site) as base:
            build(site, base, args.feeds, args.per_feed, real)
            pages = sorted(site.glob("f*/a*.html"))
            mb = sum(p.stat().st_size for p in pages) / len(pages) / 1000
            config_dir = config(root, base, args.feeds)
            floor_rate = floor(pages)
            cold_path = root / "default.duckdb"
            cold = timed_run(config_dir, cold_path)
            warm = timed_run(config_dir, cold_path, "--force")
            # The same beside `monitor serve`: its Prefect server is up, so the run reports to it instead of
            # starting a temporary one.
            server = LocalServer(server_home(config_dir)).start()
            try:
                served = timed_run(config_dir, cold_path, "--force")
            finally:
                server.stop()
            articles = warehouse.query(cold_path, "SELECT count(*) FROM articles")[1][0][0]
            cold_flow, warm_flow, _ = flow_seconds(cold_path)
            kind = f"real ({len(real)} corpus pages, each under several URLs)" if real else "generated"
            line = (f"pipeline {len(pages)} {kind} pages (avg {mb:.0f} KB): floor {floor_rate:.1f} pages/s "
                    f"(trafilatura.extract, {os.cpu_count()} processes); cold run {articles / cold:.1f} articles/s "
                    f"= {100 * articles / cold / floor_rate:.0f}% of floor ({cold:.0f}s wall, {cold_flow:.0f}s in "
                    f"the flow; {shares(cold_path)}); warm re-run {warm:.1f}s wall = {100 * warm / cold:.1f}% of "
                    f"cold ({warm_flow:.1f}s in the flow = {100 * warm_flow / cold_flow:.1f}%); beside a running "
                    f"`monitor serve` {served:.1f}s wall = {100 * served / cold:.1f}% of cold")
            for runner in [r for r in args.compare.split(",") if r]:
                other = root / f"{runner}.duckdb"
                took = timed_run(config_dir, other, "--task-runner", runner)
                line += (f"; with --task-runner {runner} {articles / took:.1f} articles/s = "
                         f"{100 * articles / took / floor_rate:.0f}% of floor ({took:.0f}s; {shares(other)})")
    print(line)


if __name__ == "__main__":
    main()
