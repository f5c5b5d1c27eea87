"""The page store and re-extraction (issue 21): pages kept as WARC files and read back byte for byte, retention,
the ingest flow recording each article's page and extractor, and `monitor reextract` killed half-way and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor import config, dedup, extract, pagestore, tagging, warehouse
from monitor.extract.htmltext import text_key
from monitor.models import LoadBatch, Page, PageRequest, page_hash
from monitor.warehouse import furniture as site_furniture
from tests.conftest import CONFIG, write_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
TOPICS = ["harbour", "railway", "vineyard", "glacier", "orchestra", "lighthouse", "canal", "observatory", "bakery",
          "museum", "ferry", "forest"]


def article_html(n: int, furniture: str = "") -> str:
    """A hand-written article page: headline, date, a few paragraphs naming a place, an image with its caption."""
    topic = TOPICS[n % len(TOPICS)]
    paragraphs = "".join(
        f"<p>The {topic} in Lisbon reopened on day {n} after a long repair, and visitors {k} queued along the "
        f"river to see the restored {topic} and the new exhibits the city had promised for years.</p>"
        for k in range(4))
    return (f"<html lang='en'><head><title>The {topic} story {n}</title>"
            f"<meta property='article:published_time' content='2026-11-{1 + n % 18:02d}T08:00:00Z'></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>The {topic} story number {n}</h1>"
            f"<figure><img src='/img/{n}.jpg'><figcaption>The restored {topic} seen from the water "
            f"(Photo: Ana Reis)</figcaption></figure>{paragraphs}{furniture}</article></body></html>")


PITCH = "Our journalism depends on readers like you: become a member of News Example today"


def page(n: int, source: str = "fixture") -> Page:
    url = f"https://news.example/{n}"
    return Page(url, url, article_html(n, f"<p>{PITCH}</p>"), 200, PageRequest(url, source, NOW, "en"))


def test_pages_round_trip_through_warc_files_and_their_index(tmp_path):
    pages = [page(n) for n in range(5)] + [page(0)]  # the same content twice is stored once
    pages.append(Page("https://news.example/ü", "https://news.example/ü", "<p>naïve – “quoted” 🎉</p>", 200, None))
    assert pagestore.store_pages(pages, tmp_path, now=NOW) == 6
    found = pagestore.index(tmp_path)
    assert set(found) == {page_hash(p.html) for p in pages}
    read = {item.sha: p for item, p in pagestore.read_pages(tmp_path, found.values())}
    for original in pages:
        again = read[page_hash(original.html)]
        assert again.html == original.html and again.url == original.url and again.fetched_at == NOW
        if original.request:
            assert again.request == original.request
    # a standard WARC file: every record a response another reader can take apart
    (warc,) = tmp_path.glob("2026/11/20/*.warc.gz")
    with open(warc, "rb") as handle:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(handle)]
    assert len(records) == 6 and all(kind == "response" for kind, _ in records)


def test_retention_deletes_day_folders_older_than_keep_days(tmp_path):
    pagestore.store_pages([page(1)], tmp_path, now=NOW - timedelta(days=10))
    pagestore.store_pages([page(2)], tmp_path, now=NOW - timedelta(days=2))
    assert len(pagestore.index(tmp_path)) == 2
    pagestore.store_pages([page(3)], tmp_path, keep_days=5, now=NOW)  # storing applies the retention first
    assert {p.url for p in pagestore.index(tmp_path).values()} == {page(2).url, page(3).url}
    assert pagestore.prune(tmp_path, 0, NOW + timedelta(days=999)) == 0  # 0 keeps everything


def test_settings_put_the_store_beside_the_warehouse():
    settings = config.PageSettings()
    assert settings.store and settings.keep_days == 0
    assert settings.store_dir(Path("/w/monitor.duckdb")) == Path("/w/monitor.pages")
    assert config.PageSettings(dir="archive").store_dir(Path("/w/monitor.duckdb")) == Path("/w/archive")


def test_an_ingest_run_keeps_every_article_page_and_names_it(seed_warehouse):
    with duckdb.connect(str(seed_warehouse), read_only=True) as con:
        rows = con.execute("SELECT page_sha, extractor_version, extraction_method FROM articles").fetchall()
    assert rows and all(sha and version == extract.EXTRACTOR_VERSION and method for sha, version, method in rows)
    root = config.load(CONFIG).settings.pages.store_dir(seed_warehouse)
    stored = pagestore.index(root)
    assert {sha for sha, _, _ in rows} <= set(stored)
    for item, stored_page in pagestore.read_pages(root, [stored[sha] for sha, _, _ in rows]):
        assert page_hash(stored_page.html) == item.sha  # the bytes are the ones the address names


def build_warehouse(path: Path, n: int) -> Path:
    """A warehouse of `n` fixture articles whose pages are in the store, as an ingest run leaves them; then made
    stale: an older extractor version, and a body that extractor got wrong."""
    cfg = config.load(CONFIG)
    pages = [page(i) for i in range(n)]
    root = cfg.settings.pages.store_dir(path)
    pagestore.store_pages(pages, root, now=NOW)
    articles = extract.extract_pages(pages, fetched_at=NOW)
    tags = tagging.tag_articles(articles, cfg.regions, cfg.topics, cfg.settings.tagging)
    clusters = dedup.cluster_articles(articles, [])
    warehouse.init(path)
    warehouse.load(path, LoadBatch(run_id="fixture", articles=tuple(articles), clusters=tuple(clusters),
                                   tags=tuple(tags)))
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE articles SET extractor_version = 'monitor-extract/0.0.1+old', "
                    "body = 'stale', body_hash = 'stale', title = 'stale title'")
        con.execute("DELETE FROM captions")
    return root


def state(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("""SELECT article_id, title, body, extractor_version,
                                     (SELECT count(*) FROM captions c WHERE c.article_id = a.article_id),
                                     (SELECT count(*) FROM article_countries t WHERE t.article_id = a.article_id)
                              FROM articles a ORDER BY article_id""").fetchall()


def test_reextract_killed_half_way_is_resumed_and_then_has_nothing_to_do(tmp_path, prefect_harness):
    from prefect.settings import get_current_settings

    n = 24
    path = tmp_path / "w.duckdb"
    build_warehouse(path, n)
    reference = tmp_path / "reference.duckdb"
    build_warehouse(reference, n)
    from flows.reextract import reextract

    full = reextract(warehouse_path=str(reference), config_dir=str(CONFIG), batch_size=4)
    assert full["counts"]["articles"] == n and full["counts"]["bodies"] == n and full["counts"]["captions"] == n
    assert full["counts"]["titles"] == n
    want = state(reference)
    assert not any(PITCH in body for _, _, body, _, _, _ in want)  # the site's furniture, learned from its pages
    assert all(version == extract.SITE_EXTRACTOR_VERSION and body != "stale" and captions == 1
               for _, _, body, version, captions, _ in want)
    # and the warehouse keeps it, for the ingest flow to remove from the site's new pages
    assert site_furniture.known(reference) == {"news.example": frozenset({text_key(PITCH)})}
    # the same command in its own process, SIGKILLed once a batch has landed (reporting to this test's server)
    env = {**os.environ, "PREFECT_API_URL": get_current_settings().api.url, "PREFECT_LOGGING_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "monitor.cli", "--config", str(CONFIG), "reextract", "--warehouse", str(path),
               "--batch-size", "1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    for line in process.stderr:
        if line.startswith("reextract: ") and int(line.split()[1].split("/")[0]) >= 2 or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    half = state(path)
    done = sum(version == extract.SITE_EXTRACTOR_VERSION for _, _, _, version, _, _ in half)
    assert 2 <= done < n  # killed half-way: some batches landed, whole, the rest untouched
    assert all((body == "stale") == (version != extract.SITE_EXTRACTOR_VERSION) for _, _, body, version, _, _ in half)
    resumed = reextract(warehouse_path=str(path), config_dir=str(CONFIG), batch_size=5)
    assert resumed["counts"]["articles"] == n - done
    assert state(path) == want  # the same result as a run never interrupted
    again = reextract(warehouse_path=str(path), config_dir=str(CONFIG))
    assert again["counts"].get("articles", 0) == 0 and "re-extracted 0 articles" in again["summary"]


def test_reextract_of_an_unknown_source_is_one_line(tmp_path):
    from click.testing import CliRunner

    from monitor.cli import cli

    path = tmp_path / "w.duckdb"
    warehouse.init(path)
    config_dir = write_config(tmp_path / "config", '[[source]]\nname = "one"\nurl = "http://127.0.0.1:9/feed"\n')
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "reextract", "--warehouse", str(path),
                                      "--source", "nope"])
    assert result.exit_code == 1 and "no articles of source 'nope'" in result.output
    assert len(result.output.strip().splitlines()) == 1


OTHER = ("<html><head><title>Budget vote</title></head><body><article><h1>Council passes the budget</h1>"
         + "".join(f"<p>Councillors in Porto voted {k} times on amendments to a spending plan for schools, roads "
                   f"and parks, item {k * 7}, before the final reading late on Thursday night.</p>" for k in range(5))
         + "</article></body></html>")


def archive(path: Path) -> Path:
    """A WARC file as a crawler writes it: three HTML responses (the third a copy of the first under another URL),
    an image, a redirect and a request record, fetched in March 2025."""
    records = [("https://paper.example/a", "text/html; charset=utf-8", article_html(3).encode(), "200"),
               ("https://paper.example/b", "text/html", OTHER.encode("utf-8"), "200"),
               ("https://mirror.example/a-copy", "text/html", article_html(3).encode(), "200"),
               ("https://paper.example/logo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 not a page", "200"),
               ("https://paper.example/old", "text/html", b"<html>moved</html>", "301")]
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(writer.create_warc_record("https://paper.example/a", "request", payload=BytesIO(b"GET")))
        for url, ctype, body, status in records:
            http = StatusAndHeaders(f"{status} X", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2025-03-04T05:06:07Z"}))
    return path


def test_import_warc_loads_html_responses_as_a_sources_articles_and_export_writes_them_back(tmp_path, prefect_harness):
    from click.testing import CliRunner

    from flows.reextract import import_warc
    from monitor.cli import cli

    path = tmp_path / "w.duckdb"
    warc = archive(tmp_path / "crawl.warc.gz")
    result = import_warc([str(warc)], "cc-news", warehouse_path=str(path), config_dir=str(CONFIG))
    counts = result["counts"]
    assert counts["pages"] == 3 and counts["articles"] == 3 and counts["duplicates"] == 1
    assert counts["skipped:not-html"] == 1 and counts["skipped:not-response"] == 1 and counts["skipped:http-301"] == 1
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("""SELECT a.url, a.source, c.match, a.page_sha IS NOT NULL,
                                     (SELECT count(*) FROM article_countries t WHERE t.article_id = a.article_id)
                              FROM articles a JOIN article_clusters c USING (article_id) ORDER BY a.url""").fetchall()
    assert [(url, source, match) for url, source, match, _, _ in rows] == [
        ("https://mirror.example/a-copy", "cc-news", "exact"), ("https://paper.example/a", "cc-news", None),
        ("https://paper.example/b", "cc-news", None)]
    assert all(stored and countries for _, _, _, stored, countries in rows)  # kept, and tagged (Lisbon, Porto)
    # imported again: nothing new
    assert import_warc([str(warc)], "cc-news", warehouse_path=str(path), config_dir=str(CONFIG))["counts"].get(
        "articles", 0) == 0
    # the stored pages of the period go back out as a WARC file, dated as the archive fetched them
    out = tmp_path / "out.warc.gz"
    runner = CliRunner().invoke(cli, ["--config", str(CONFIG), "export-warc", "--warehouse", str(path),
                                      "--since", "2000-01-01", "--out", str(out)])
    assert runner.exit_code == 0 and runner.output.startswith("wrote 2 pages"), runner.output  # a and its copy: one page
    pages, skipped = pagestore.read_warc(out)
    assert skipped == {} and {p.url for p in pages} <= {"https://paper.example/a", "https://paper.example/b",
                                                      "https://mirror.example/a-copy"}
    assert {p.fetched_at for p in pages} == {datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)}
    assert {page_hash(p.html) for p in pages} == {page_hash(article_html(3)), page_hash(OTHER)}
