"""Each site's furniture as the warehouse keeps it (`site_furniture`, migration 013): what the ingest flow hands to
extraction, so that a site's standards line or newsletter pitch stops reaching bodies and tags once the site has
enough stored stories; learned again after each run from the stored articles of the sites the run touched, and
replaced site by site by `monitor reextract`, which learns from the stored pages.

The learning itself is extraction's (`extract.learn_stored_furniture`, pure), handed in by the caller: the
warehouse only reads the samples and keeps the result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from monitor.models import Article, Caption
from monitor.urls import site_of
from monitor.warehouse.connection import _connect, exists, read_only, transaction

# A site's host, from a stored article's URL, as `urls.site_of` gives it (scheme, "www." and port left out); used
# only to pick the samples, whose hosts the learner computes again with `site_of` itself.
HOST_OF_URL = r"lower(regexp_extract(url, '^[A-Za-z]+://(?:[^/@]*@)?(?:www[.])?([^/:?#]+)', 1))"
# A site's furniture is learned from up to this many of its newest stored stories (one article per story: updates
# and copies of one story share their sentences, so they count once), as `monitor reextract` learns from up to
# this many stored pages.
SAMPLE_STORIES = 200
# ...first seen within this many days: a frame the site changed long ago is not today's (and the scan stays on
# the recent part of the table).
SAMPLE_DAYS = 90


def known(path: Path) -> dict[str, frozenset[str]]:
    """Per host, the keys of the lines and captions the warehouse knows to be that site's furniture."""
    if not exists(path):
        return {}
    with read_only(path) as con:
        try:
            rows = con.execute("SELECT host, line_key FROM site_furniture").fetchall()
        except duckdb.CatalogException:  # not migrated yet (a dry run reads a warehouse without migrating it)
            return {}
    found: dict[str, set[str]] = {}
    for host, key in rows:
        found.setdefault(host, set()).add(key)
    return {host: frozenset(keys) for host, keys in found.items()}


def _samples(con: duckdb.DuckDBPyConnection, hosts: list[str], now: datetime) -> list[Article]:
    """The newest SAMPLE_STORIES stories of each host (one article each) with their bodies and captions."""
    rows = con.execute(
        f"""WITH recent AS (
                SELECT article_id, first_seen, {HOST_OF_URL} AS host FROM articles
                WHERE first_seen >= ?::TIMESTAMPTZ - to_days(?) AND {HOST_OF_URL} IN (SELECT unnest(?))),
            stories AS (
                SELECT r.article_id, r.first_seen, r.host FROM recent r LEFT JOIN article_clusters k USING (article_id)
                QUALIFY row_number() OVER (PARTITION BY r.host, coalesce(k.cluster_id, r.article_id)
                                           ORDER BY r.first_seen DESC, r.article_id) = 1),
            chosen AS (
                SELECT article_id FROM stories
                QUALIFY row_number() OVER (PARTITION BY host ORDER BY first_seen DESC, article_id) <= ?),
            shown AS (
                SELECT article_id, list(text ORDER BY position) AS texts FROM captions
                WHERE article_id IN (SELECT article_id FROM chosen) GROUP BY article_id)
            SELECT a.article_id, a.url, a.body, s.texts FROM articles a LEFT JOIN shown s USING (article_id)
            WHERE a.article_id IN (SELECT article_id FROM chosen)""",
        [now, SAMPLE_DAYS, hosts, SAMPLE_STORIES]).fetchall()
    return [Article(article_id, url, url, "", body, tuple(Caption(t) for t in texts or ()))
            for article_id, url, body, texts in rows]


def _rows(furniture: dict[str, frozenset[str]], origin: str, now: datetime) -> pa.Table:
    pairs = [(host, key) for host, keys in sorted(furniture.items()) for key in sorted(keys)]
    return pa.table({"host": pa.array([h for h, _ in pairs], pa.string()),
                     "line_key": pa.array([k for _, k in pairs], pa.string()),
                     "origin": pa.array([origin] * len(pairs), pa.string()),
                     "learned_at": pa.array([now] * len(pairs), pa.timestamp("us", "UTC"))})


def _write(con: duckdb.DuckDBPyConnection, found: dict[str, frozenset[str]], origin: str, now: datetime,
           keep: bool) -> int:
    """Store the keys `found` per host: added to what is known (`keep`), or instead of what was known of those
    hosts (a host mapped to no keys then has none). Returns the keys stored."""
    table = _rows(found, origin, now)
    con.register("furniture_in", table)
    if keep:  # a key found again is refreshed; one not found again stays (the articles after it no longer show it)
        con.execute("DELETE FROM site_furniture USING furniture_in f "
                    "WHERE site_furniture.host = f.host AND site_furniture.line_key = f.line_key")
    else:
        con.execute("DELETE FROM site_furniture WHERE host IN (SELECT unnest(?))", [sorted(found)])
    con.execute("INSERT INTO site_furniture SELECT host, line_key, origin, learned_at FROM furniture_in")
    con.unregister("furniture_in")
    return table.num_rows


Learner = Callable[[list[Article]], dict[str, frozenset[str]]]


def refresh(path: Path, articles: list[Article], learn: Learner) -> int:
    """Learn again (with `learn`) the furniture of the sites these new articles belong to, from each site's newest
    stored stories, and add it to what the warehouse knows, in one transaction. Returns the keys found."""
    hosts = sorted({site_of(a.url) for a in articles} - {""})
    if not hosts or not exists(path):
        return 0
    now = datetime.now(timezone.utc)
    with _connect(path, read_only=False) as con:
        return transaction(con, path, lambda c: _write(c, learn(_samples(c, hosts, now)), "articles", now, True))


def replace(path: Path, pages: list[Article], learn: Learner) -> int:
    """What the sites' furniture is, learned (with `learn`) from these articles just extracted from their stored
    pages (`monitor reextract`): it replaces what the warehouse knew of each site `learn` answers for. Returns the
    keys stored."""
    found = learn(pages)
    if not found:
        return 0
    now = datetime.now(timezone.utc)
    with _connect(path, read_only=False) as con:
        return transaction(con, path, lambda c: _write(c, found, "pages", now, False))
