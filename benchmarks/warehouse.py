"""Warehouse load speed and view timings, one summary line.

Loads N synthetic articles (default 1,000,000) through `warehouse.load`, the same Arrow bulk path the flow uses
(which also keeps the search index), in batches like a run's: each article with a generated body of 80 words drawn
from a Zipf-distributed vocabulary of 5,000 made-up words and 20 news words (no corpus text), 1 caption, 2-3 countries, their regions (those of the first country
marked as what it is about), 2 topics, a tagging record and a cluster row
(a fifth are pickups of an earlier story), spread over 90 days and 40 sources. Then times the main views and a
search on the finished file: a two-word query with one filter (`find`, the function behind `monitor search`), on a
fresh read-only connection as the CLI opens it, then once more. Prints rows/s over every table written (the search
index's rows not counted), articles/s, file size and each query's time.

With --search it measures search alone, faster to build: the N articles (bodies of 80 words drawn by a Zipf law
from the same made-up vocabulary, titles, a caption, 2 countries, a story) are generated inside DuckDB, then indexed
in batches by `search_index.index_new`, the function each load calls (same tokenising, stemming and compaction rule),
and the two-word query with one filter is timed on a fresh read-only connection, first and again.

Usage: .venv/bin/python benchmarks/warehouse.py [--articles 1000000] [--batch 50000] [--keep PATH] [--search]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor import warehouse  # noqa: E402
from monitor.models import Article, Caption, DedupResult, LoadBatch, RunRecord, Tags, TopicScore  # noqa: E402
from monitor.warehouse.search import SearchFilters, find  # noqa: E402

WORDS = ("talks", "border", "minister", "ceasefire", "election", "market", "shares", "storm", "league", "vaccine",
         "pipeline", "drought", "court", "strike", "harvest", "summit", "protest", "budget", "rocket", "museum")
COUNTRIES = ("AM", "AZ", "RU", "UA", "US", "CN", "FR", "DE", "GB", "IN", "BR", "NG", "KE", "EG", "IR", "TR", "JP")
REGIONS = {"AM": ("Western Asia", "Asia", "South Caucasus"), "AZ": ("Western Asia", "Asia", "South Caucasus"),
           "RU": ("Eastern Europe", "Europe"), "UA": ("Eastern Europe", "Europe")}
TOPICS = (("medtop:11000000", "politics"), ("medtop:16000000", "conflict, war and peace"),
          ("medtop:04000000", "economy, business and finance"), ("medtop:15000000", "sport"),
          ("medtop:07000000", "health"), ("medtop:13000000", "science and technology"))
VOCABULARY_SIZE = 5_000  # made-up words; with the news words, ranked by a Zipf law (s = 1) like real text
BODY_WORDS = 80
SEARCH = ("ceasefire pipeline", "AM")  # two of the news words (about ranks 40-60) and a country filter
QUERIES = {
    "daily_volume(country, 30d)": "SELECT value, sum(articles) FROM daily_volume WHERE dimension = 'country' "
                                  "AND day >= (SELECT max(day) - 30 FROM article_days) GROUP BY 1",
    "daily_volume(region, 30d)": "SELECT value, sum(articles) FROM daily_volume WHERE dimension = 'region' "
                                 "AND day >= (SELECT max(day) - 30 FROM article_days) GROUP BY 1",
    "stories_per_day": "SELECT * FROM stories_per_day",
    "spikes": "SELECT count(*) FROM spikes",
    "top_stories": "SELECT * FROM top_stories WHERE rank <= 10",
    "extraction_quality": "SELECT * FROM extraction_quality",
    "feed_health": "SELECT * FROM feed_health",
    "tagging_coverage": "SELECT * FROM tagging_coverage",
}


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Made-up words (syllables drawn at random) and the news words, with cumulative Zipf weights."""
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    made = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(VOCABULARY_SIZE)})
    rng.shuffle(made)
    words = made[:40] + list(WORDS) + made[40:]
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


def batch(start: int, size: int, rng: random.Random, first_day: datetime,
          vocab: tuple[list[str], list[float]] | None = None) -> LoadBatch:
    articles, tags, clusters = [], [], []
    words_of, weights = vocab or (list(WORDS), None)
    for n in range(start, start + size):
        aid = f"{n:016x}"
        words = " ".join(rng.choices(words_of, cum_weights=weights, k=BODY_WORDS))
        published = first_day + timedelta(minutes=rng.randrange(90 * 24 * 60))
        articles.append(Article(aid, f"https://s{n % 40}.example/{aid}", f"https://s{n % 40}.example/{aid}",
                                f"Story {n}: {rng.choice(WORDS)} {rng.choice(WORDS)}", words,
                                (Caption(f"Photo {rng.choice(WORDS)}", "Reuters"),), published, "en",
                                extraction_method="trafilatura" if n % 17 else "json-ld", source=f"s{n % 40}"))
        countries = tuple(sorted(rng.sample(COUNTRIES, rng.randint(2, 3))))
        regions = tuple(sorted({r for c in countries for r in REGIONS.get(c, ("Elsewhere",))}))
        topics = tuple(TopicScore(code, label, 0.5) for code, label in rng.sample(TOPICS, 2))
        mentions = {c: 1.0 for c in countries}
        about = REGIONS.get(countries[0], ("Elsewhere",))  # the regions of the one focus country
        tags.append(Tags(aid, countries, countries[:1], regions, topics, mentions, (), {c: 0.3 for c in countries},
                         "bench", language="en", regions_about=about))
        pickup = n > 10 and n % 5 == 0
        clusters.append(DedupResult(aid, f"{n - 7:016x}" if pickup else aid, f"{n - 7:016x}" if pickup else None,
                                    "near" if pickup else None, 0.8 if pickup else None))
    now = datetime.now(timezone.utc)
    run = RunRecord(f"bench{start}", None, now, now, "completed", ())
    return LoadBatch(run=run, articles=tuple(articles), clusters=tuple(clusters), tags=tuple(tags),
                     taxonomy="IPTC Media Topics", taxonomy_version="2019-04-06")


def rows_in(b: LoadBatch) -> int:
    return (len(b.articles) + sum(len(a.captions) for a in b.articles) + len(b.clusters)
            + sum(1 + len(t.countries) + len(t.regions) + len(t.topics) for t in b.tags))  # 1: the tagging record


def build_for_search(path: Path, articles: int, batch_size: int, words: list[str]) -> tuple[float, float]:
    """Articles and their countries, captions and stories generated in SQL, then indexed batch by batch as loads
    index them. Returns (seconds to generate, seconds to index)."""
    import duckdb

    from monitor.warehouse import search_index as index

    warehouse.init(path)
    began = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TEMP TABLE vocab AS SELECT ?::VARCHAR[] AS w, ?::VARCHAR[] AS news, ?::VARCHAR[] AS c",
                    [words, list(WORDS), list(COUNTRIES)])
        pick = "w[floor(exp(random() * ln(len(w) + 1)))::INT]"  # rank r with probability ~ 1/r (Zipf, s = 1)
        con.execute(f"""
            INSERT INTO articles (article_id, url, canonical_url, source, title, published, first_seen, language,
                                  body, body_hash, extraction_method)
            SELECT printf('%016x', n), printf('https://s%d.example/%016x', n % 40, n),
                   printf('https://s%d.example/%016x', n % 40, n), 's' || (n % 40),
                   printf('Story %d: %s %s', n, news[1 + floor(random() * len(news))::INT],
                          news[1 + floor(random() * len(news))::INT]),
                   TIMESTAMPTZ '2026-08-01 00:00:00+00' + to_minutes((random() * 90 * 24 * 60)::BIGINT), now(), 'en',
                   array_to_string(list_transform(range({BODY_WORDS}), x -> {pick}), ' '), '', 'trafilatura'
            FROM vocab, range(?) t(n)""", [articles])
        con.execute(f"""INSERT INTO captions SELECT article_id, 0, 'Photo ' || {pick}, 'Reuters'
                        FROM articles, vocab""")
        con.execute("""INSERT INTO article_countries (article_id, country, mentions, is_about, in_caption)
                       SELECT printf('%016x', n), c[1 + (n + k * 7) % len(c)], 1.0, k = 0, false
                       FROM vocab, range(?) t(n), range(2) u(k)""", [articles])
        con.execute("""INSERT INTO article_clusters (article_id, cluster_id, duplicate_of, match, similarity)
                       SELECT printf('%016x', n), printf('%016x', CASE WHEN n > 10 AND n % 5 = 0 THEN n - 7 ELSE n END),
                              NULL, CASE WHEN n > 10 AND n % 5 = 0 THEN 'near' END, NULL FROM range(?) t(n)""",
                    [articles])
        generated = time.perf_counter() - began
        began = time.perf_counter()
        if not index.load_fts(con):
            raise SystemExit("the fts extension did not load: pip install duckdb-extension-fts")
        while True:
            con.execute("BEGIN TRANSACTION")
            done = index.index_new(con, at_most=batch_size)
            con.execute("COMMIT")
            if not done:
                break
    return generated, time.perf_counter() - began


def time_search(path: Path) -> str:
    """The two-word query with one filter on a fresh read-only connection (as `monitor search` opens it), first and
    again; with how many articles match in all and how big the index is."""
    began = time.perf_counter()
    with warehouse.read_only(path) as con:
        hits = find(con, SEARCH[0], SearchFilters(countries=(SEARCH[1],)), limit=20)
        cold = time.perf_counter() - began
        began = time.perf_counter()
        find(con, SEARCH[0], SearchFilters(countries=(SEARCH[1],)), limit=20)
        warm = time.perf_counter() - began
        matched = len(find(con, SEARCH[0], SearchFilters(countries=(SEARCH[1],)), limit=None))
        (postings,) = con.execute("SELECT count(*) FROM search_postings").fetchone()
    return (f"search({SEARCH[0]!r}, country {SEARCH[1]}) {cold:.2f}s open+first, {warm:.2f}s again "
            f"({len(hits)} of {matched:,} matches; index {postings:,} postings)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the warehouse here and keep it")
    parser.add_argument("--search", action="store_true", help="build in SQL, index, and time search only")
    args = parser.parse_args()
    rng = random.Random(1)
    vocab = vocabulary(rng)
    first_day = datetime(2026, 8, 1, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.duckdb"
        if args.search:
            generated, indexed = build_for_search(path, args.articles, args.batch, vocab[0])
            timing = time_search(path)
            print(f"search over {args.articles:,} articles (generated in {generated:.0f}s, indexed in {indexed:.0f}s, "
                  f"file {path.stat().st_size / 1e6:,.0f} MB): {timing}")
            return
        warehouse.init(path)
        loading = rows = 0
        for start in range(0, args.articles, args.batch):
            b = batch(start, min(args.batch, args.articles - start), rng, first_day, vocab)
            began = time.perf_counter()
            warehouse.load(path, b)
            loading += time.perf_counter() - began
            rows += rows_in(b)
        timings = []
        for name, sql in QUERIES.items():
            began = time.perf_counter()
            warehouse.query(path, sql)
            timings.append(f"{name} {time.perf_counter() - began:.2f}s")
        timings.append(time_search(path))
        size = path.stat().st_size / 1e6
    print(f"warehouse load {args.articles:,} articles ({rows:,} rows) in {loading:.1f}s: {rows / loading:,.0f} rows/s, "
          f"{args.articles / loading:,.0f} articles/s, file {size:,.0f} MB; " + ", ".join(timings))


if __name__ == "__main__":
    main()
