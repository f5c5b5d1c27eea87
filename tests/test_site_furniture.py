"""Site furniture in the ingest flow (issue 21): a site's frame lines, learned from what the warehouse stores of the
site, are removed from its new pages as they are extracted; a sentence two articles quote is kept.

On real parts: a newsroom served on 127.0.0.1 whose pages share a standards line, a promotional line naming two
countries and an author's headshot caption; real ingest flows; a real DuckDB file.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import duckdb

from monitor import extract
from monitor.extract.htmltext import text_key
from monitor.models import Article, DedupResult, LoadBatch
from monitor.warehouse import furniture as site_furniture
from monitor import warehouse
from tests.conftest import scripted_server, write_config

STANDARDS = "Our Standards: The Porto Ledger Trust Principles."
PROMO = "The Porto Ledger has reported from Poland and Belarus since 1991."
HEADSHOT = "Ana Reis is the Ledger's correspondent in Porto"
QUOTE = "We will rebuild every house on this street before the winter comes, the mayor told reporters."
WORDS = ("harbour council budget river bridge minister court vote school hospital market energy grain port rail "
         "strike weather festival museum police factory wages farmers drought tourism airline").split()
FIRST_RUN = 22  # stories of the site stored by the first run: enough to learn from (MIN_STORED_STORIES)
SECOND_RUN = range(FIRST_RUN, FIRST_RUN + 6)
QUOTED = {FIRST_RUN + 1, FIRST_RUN + 4}  # two articles of the second run quote the mayor


def page(n: int) -> bytes:
    rng = random.Random(n)  # every article its own text: no two are copies of one story
    paragraphs = "".join(f"<p>In Porto, {' '.join(rng.choice(WORDS) for _ in range(50))}.</p>" for _ in range(4))
    quote = f"<p>{QUOTE}</p>" if n in QUOTED else ""
    return (f"<!doctype html><html lang='en'><head><title>Porto story {n}</title></head><body><article>"
            f"<h1>Porto story {n}</h1><div class='author'><figure><img src='/staff/ana.jpg'>"
            f"<figcaption>{HEADSHOT}</figcaption></figure></div>{paragraphs}{quote}<p>{PROMO}</p><p>{STANDARDS}</p>"
            "</article></body></html>").encode()


def rss(base: str, numbers) -> bytes:
    now = datetime.now(timezone.utc)
    items = "".join(f"<item><title>Porto story {n}</title><link>{base}/a/{n}.html</link><guid>{base}/a/{n}</guid>"
                    f"<pubDate>{format_datetime(now - timedelta(minutes=n))}</pubDate></item>" for n in numbers)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


def stored(path: Path, numbers) -> dict[int, tuple[str, list[str], set[str]]]:
    """Body, captions and countries of the stored articles of these page numbers."""
    found = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for url, body, captions, countries in con.execute(
                """SELECT a.url, a.body,
                          (SELECT list(text ORDER BY position) FROM captions c WHERE c.article_id = a.article_id),
                          (SELECT list(country) FROM article_countries t WHERE t.article_id = a.article_id)
                   FROM articles a""").fetchall():
            n = int(url.rsplit("/", 1)[1].removesuffix(".html"))
            if n in numbers:
                found[n] = (body, captions or [], set(countries or []))
    return found


def test_a_second_run_removes_the_furniture_the_first_one_stored_and_keeps_a_quote(tmp_path, prefect_harness):
    from flows.ingest import ingest

    routes: dict[str, tuple[int, str, bytes]] = {}
    with scripted_server(routes) as base:
        for n in range(FIRST_RUN + len(SECOND_RUN)):
            routes[f"/a/{n}.html"] = (200, "text/html; charset=utf-8", page(n))
        routes["/feed.xml"] = (200, "application/rss+xml", rss(base, range(FIRST_RUN)))
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "ledger"\nurl = "{base}/feed.xml"\n')
        path = tmp_path / "w.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
        first = stored(path, range(FIRST_RUN))
        assert len(first) == FIRST_RUN
        # nothing was known of the site: its frame is in every body, and tags the articles with Poland and Belarus
        assert all(STANDARDS in body and PROMO in body and HEADSHOT in captions for body, captions, _ in first.values())
        assert all({"PL", "BY"} <= countries for _, _, countries in first.values())
        assert site_furniture.known(path) == {"127.0.0.1": {text_key(STANDARDS), text_key(PROMO), text_key(HEADSHOT)}}

        routes["/feed.xml"] = (200, "application/rss+xml", rss(base, [*SECOND_RUN, *range(FIRST_RUN)]))
        ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
    second = stored(path, SECOND_RUN)
    assert len(second) == len(SECOND_RUN)
    for n, (body, captions, countries) in second.items():
        assert STANDARDS not in body and PROMO not in body and HEADSHOT not in captions
        assert body.startswith("In Porto,") and body.count("\n") == 3 + (n in QUOTED)  # the article's text stays
        assert "PT" in countries and not {"PL", "BY"} & countries  # the frame no longer tags the news
    assert {n for n, (body, _, _) in second.items() if QUOTE in body} == QUOTED  # quoted twice: news
    assert stored(path, range(FIRST_RUN)) == first  # stored articles are not rewritten by a run


def story(n: int, host: str, body: str, cluster: str | None = None) -> tuple[Article, DedupResult]:
    article = Article(f"{host}-{n}", f"https://{host}/{n}", f"https://{host}/{n}", f"t{n}", body)
    return article, DedupResult(article.article_id, cluster or article.article_id)


def test_stored_stories_teach_a_site_only_with_enough_of_them_and_copies_count_once(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse.init(path)
    line = "Sign up for the weekday briefing from the Example Courier"
    quoted = "The ceasefire took effect at midnight, the army said."
    rows = [story(n, "courier.example", f"Own text of story {n} here.\n{line}" + (f"\n{quoted}" if n < 3 else ""))
            for n in range(19)]
    # one story updated eight times: its sentence is on eight articles, but on one story
    rows += [story(100 + n, "courier.example", f"Update {n} of the flood story.\nWater rose over the old quay wall.",
                   cluster="flood") for n in range(8)]
    rows += [story(n, "small.example", f"Story {n}.\n{line}") for n in range(19)]
    articles, clusters = [a for a, _ in rows], [c for _, c in rows]
    warehouse.load(path, LoadBatch(run_id="r", articles=tuple(articles), clusters=tuple(clusters)))
    assert site_furniture.refresh(path, articles, extract.learn_stored_furniture) == 1
    # courier.example has 19 + 1 stories; small.example 19, too few to learn from
    assert site_furniture.known(path) == {"courier.example": frozenset({"sign up for the weekday briefing from the "
                                                                        "example courier"})}
    # a key once learned stays when the stored stories stop showing it (later articles are stripped of it)
    stripped = [story(200 + n, "courier.example", f"Fresh story {n}.") for n in range(60)]  # 19 of 80: < 25%
    warehouse.load(path, LoadBatch(run_id="s", articles=tuple(a for a, _ in stripped),
                                   clusters=tuple(c for _, c in stripped)))
    site_furniture.refresh(path, [a for a, _ in stripped], extract.learn_stored_furniture)
    assert set(site_furniture.known(path)) == {"courier.example"}
    # what the stored pages teach (monitor reextract) replaces it: the frame is gone from the site
    assert site_furniture.replace(path, [a for a, _ in stripped], extract.learn_stored_furniture) == 0
    assert site_furniture.known(path) == {}
