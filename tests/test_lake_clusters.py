"""Writers at once never split one story into two clusters (issue 23): each run clusters against what it read
before the other committed, and the load settles its stories against what was committed meanwhile
(warehouse/clusters.py). The runs here are the ingest flow's steps, run by hand in the order that splits a story:
both read the warehouse, then both load."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor import dedup, outcomes, warehouse
from monitor.models import Article, LoadBatch

WINDOW_DAYS = 7
SYLLABLES = "ka lo mi ne ru sa te vi do pa ge zu fo ri na be tu mo li se da ko pi ra".split()


def words(seed: int, n: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n))


STORY = words(1, 180)  # one wire story, picked up three times below
PICKUPS = {  # (source, body): verbatim, with a dateline, and cut short with a byline
    "a1": ("ledger", STORY),
    "b1": ("courier", "LONDON (Reuters) - " + STORY),
    "b2": ("review", " ".join(STORY.split()[:150]) + " Reporting by our staff."),
}


def article(doc_id: str, source: str, body: str, hour: int) -> Article:
    url = f"https://{source}.test/{doc_id}"
    return Article(doc_id, url, url, f"Story {doc_id}", body, source=source,
                   published=datetime(2026, 11, 29, hour, tzinfo=timezone.utc))


def pickup(doc_id: str, hour: int = 10) -> Article:
    return article(doc_id, *PICKUPS[doc_id], hour)


class Writer:
    """One ingest run's view of the warehouse, as flows/_ingest_run.py keeps it: the recent articles read once,
    then its own waves; each wave clustered against that view and loaded in one transaction."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path, self.run_id = path, run_id
        self.prior = warehouse.recent_docs(path, WINDOW_DAYS)

    def wave(self, articles: list[Article], settle: bool = True) -> None:
        sketches = dedup.sketch_articles(articles)
        clusters = dedup.cluster_articles(articles, self.prior, sketches=sketches)
        self.prior += outcomes.as_prior(articles, clusters, sketches)
        check = warehouse.ClusterCheck(frozenset(d.doc_id for d in self.prior), WINDOW_DAYS, dedup.rematch)
        warehouse.load(self.path, LoadBatch(run_id=self.run_id, articles=tuple(articles), clusters=tuple(clusters)),
                       check if settle else None)


def stories(path: Path) -> list[list[str]]:
    """The clusters as sets of article ids (what one story is), sorted."""
    return sorted(row[0] for row in warehouse.query(
        path, "SELECT list(article_id ORDER BY article_id) FROM article_clusters GROUP BY cluster_id")[1])


def overlapping(path: Path, settle: bool = True) -> None:
    """Two runs that each read the warehouse before the other committed; the second has a later wave too."""
    warehouse.init(path)
    Writer(path, "earlier").wave([article("u0", "ledger", words(2, 160), 8)])  # an unrelated story, stored before
    a, b = Writer(path, "run-a"), Writer(path, "run-b")
    a.wave([pickup("a1")], settle)
    b.wave([pickup("b1", 11)], settle)  # founds its own story: run-b never saw a1
    b.wave([pickup("b2", 12)], settle)  # joins b1's story in run-b's view


@pytest.mark.parametrize("kind", ["duckdb", "ducklake"])
def test_two_writers_pickups_of_one_story_land_in_one_cluster(tmp_path, kind):
    path = tmp_path / "w.duckdb" if kind == "duckdb" else Path(f"ducklake:{tmp_path / 'lake' / 'catalog.ducklake'}")
    overlapping(path)
    one = tmp_path / "one-writer.duckdb"  # what one run over everything stores
    warehouse.init(one)
    Writer(one, "earlier").wave([article("u0", "ledger", words(2, 160), 8)])
    Writer(one, "all").wave([pickup("a1"), pickup("b1", 11), pickup("b2", 12)])

    assert stories(path) == stories(one) == [["a1", "b1", "b2"], ["u0"]]
    clusters = dict(warehouse.query(path, "SELECT article_id, cluster_id FROM article_clusters")[1])
    assert clusters == {"u0": "u0", "a1": "a1", "b1": "a1", "b2": "a1"}  # named after the story's first member
    (b1,) = warehouse.query(path, "SELECT duplicate_of, match FROM article_clusters WHERE article_id = 'b1'")[1]
    assert b1 == ("a1", "near")  # what b1 duplicates, as a writer that had seen a1 first records it
    assert warehouse.query(path, "SELECT count(*), count(DISTINCT article_id) FROM article_clusters")[1] == [(4, 4)]


def test_without_settling_the_same_writers_split_the_story(tmp_path):
    """The split is real: the same interleaving, loaded without the settle step, stores two stories."""
    path = tmp_path / "w.duckdb"
    overlapping(path, settle=False)
    assert stories(path) == [["a1"], ["b1", "b2"], ["u0"]]
