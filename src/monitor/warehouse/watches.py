"""Watches in the warehouse: the ones `monitor watch add` stores, their hits (each once), the webhook outbox, and
the report runs. Matching goes through `search.find`, on the writer's connection, restricted to the articles the
watch has not looked at yet."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from monitor.config import Watch, country_code
from monitor.models import FILTER_FIELDS
from monitor.warehouse.connection import (
    QueryError, WarehouseError, _connect, _first_line, _open_for_writing, exists, read_only, transaction)
from monitor.warehouse.search import find

log = logging.getLogger(__name__)

# A run's articles are looked at again by every check until the run is settled: it wrote its `runs` row (it will
# load nothing more), or its newest article is older than this (it died; no run lasts anywhere near a day).
SETTLED_AFTER = timedelta(days=1)
# A webhook that refused a hit this many times (one try per run, each with its own quick retries) gives up on it;
# the hit stays in watch_hits and in the digest.
MAX_NOTIFY_ATTEMPTS = 10


def add_watch(path: Path, name: str, watch: Watch) -> None:
    """Store a watch; a name already stored raises WarehouseError."""
    filters = {k: list(getattr(watch.filters, k)) for k in FILTER_FIELDS if getattr(watch.filters, k)}
    with _open_for_writing(path) as con:
        if con.execute("SELECT 1 FROM watches WHERE name = ?", [name]).fetchone():
            raise WarehouseError(f"a watch named {name!r} exists already; `monitor watch remove {name}` first, or "
                                 "choose another name")
        con.execute("INSERT INTO watches VALUES (?, ?, ?, ?, ?, ?)",
                    [name, watch.query, json.dumps(filters), watch.spikes, watch.notify, datetime.now(timezone.utc)])


def remove_watch(path: Path, name: str) -> bool:
    """Forget a stored watch and its hits; False if there is no such stored watch."""
    with _open_for_writing(path) as con:
        if not con.execute("SELECT 1 FROM watches WHERE name = ?", [name]).fetchone():
            return False
        for table in ("watches", "watch_hits", "watch_spike_hits", "watch_checks", "watch_state"):
            column = "name" if table == "watches" else "watch"
            con.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])  # names: ours
        return True


def stored_watches(path: Path) -> dict[str, tuple[Watch, datetime]]:
    """The watches `monitor watch add` stored, with when each was added; empty without a warehouse."""
    if not exists(path):
        return {}
    with read_only(path) as con:
        try:
            rows = con.execute("SELECT name, query, filters, spikes, notify, created_at FROM watches "
                               "ORDER BY name").fetchall()
        except duckdb.CatalogException:  # a warehouse from before migration 008, opened read-only
            return {}
    return {name: (Watch(query=query, spikes=spikes, notify=notify, **json.loads(filters)), created)
            for name, query, filters, spikes, notify, created in rows}



def record_hits(path: Path, watches: dict[str, tuple[Watch, datetime | None]], run_id: str,
                started: datetime) -> dict[str, int]:
    """Match every watch against the articles it has not looked at yet and insert its new hits, each (watch,
    article) or (watch, spike) once whatever runs overlap or are retried; returns new hits per watch. `since` None
    (a watch of watches.toml) means: from the first run that checks it, which starts at `started`."""
    counts: dict[str, int] = {}
    with _open_for_writing(path) as con:
        for name, (watch, since) in watches.items():
            def check(c: duckdb.DuckDBPyConnection, name: str = name, watch: Watch = watch,
                      since: datetime | None = since) -> int:
                start = since or _first_checked(c, name, started)
                return (_spike_hits(c, name, watch, start, run_id) if watch.spikes
                        else _article_hits(c, name, watch, start, run_id))

            try:  # one transaction per watch; on a lake it claims the write row, so overlapping runs take turns
                counts[name] = transaction(con, path, check)
            except (QueryError, duckdb.Error) as exc:  # one bad watch does not keep the others from their hits
                log.warning("watch %s: not checked (%s); fix it with `monitor watch remove` / watches.toml", name,
                            _first_line(exc))
    return counts


def _first_checked(con: duckdb.DuckDBPyConnection, name: str, started: datetime) -> datetime:
    con.execute("INSERT INTO watch_state SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM watch_state WHERE watch = ?)",
                [name, started, name])
    return con.execute("SELECT since FROM watch_state WHERE watch = ?", [name]).fetchone()[0]


def _article_hits(con: duckdb.DuckDBPyConnection, name: str, watch: Watch, since: datetime, run_id: str) -> int:
    candidates = con.execute(
        """SELECT a.article_id FROM articles a WHERE a.first_seen >= ? AND coalesce(a.run_id, '') NOT IN
               (SELECT run_id FROM watch_checks WHERE watch = ?)""", [since, name]).fetchall()
    ids = [r[0] for r in candidates]
    if not ids:
        return 0
    matched = [h.article_id for h in find(con, watch.query, watch.filters.within(), article_ids=ids, limit=None)]
    (added,) = con.execute(
        """INSERT INTO watch_hits SELECT ?, m.article_id, c.cluster_id, now(), ?, NULL, 0
           FROM (SELECT unnest(?) AS article_id) m LEFT JOIN article_clusters c USING (article_id)
           WHERE NOT EXISTS (SELECT 1 FROM watch_hits h WHERE h.watch = ? AND h.article_id = m.article_id)""",
        [name, run_id, matched, name]).fetchone() if matched else (0,)
    con.execute(  # the runs that will load nothing more need not be looked at again
        """INSERT INTO watch_checks SELECT ?, r.run_id, now() FROM (
               SELECT coalesce(run_id, '') AS run_id, max(first_seen) AS newest FROM articles
               WHERE list_contains(?, article_id) GROUP BY 1) r
           WHERE (r.run_id IN (SELECT run_id FROM runs) OR r.newest < now() - ?)
             AND NOT EXISTS (SELECT 1 FROM watch_checks k WHERE k.watch = ? AND k.run_id = r.run_id)""",
        [name, ids, SETTLED_AFTER, name])
    return added


def _spike_hits(con: duckdb.DuckDBPyConnection, name: str, watch: Watch, since: datetime, run_id: str) -> int:
    mentioned = [country_code(v) for v in watch.filters.countries]
    about = [country_code(v) for v in watch.filters.about]
    topics = [t.lower() for t in watch.filters.topics]
    wanted = not (mentioned or about or topics)
    (added,) = con.execute(
        """INSERT INTO watch_spike_hits
           SELECT ?, s.day, s.dimension, s.value, s.articles, s.z, now(), ?, NULL, 0 FROM spikes s
           WHERE s.day >= CAST(? AS DATE)
             AND (? AND s.dimension IN ('country', 'topic')
                  OR s.dimension = 'country' AND list_contains(?, s.value)
                  OR s.dimension = 'country_about' AND list_contains(?, s.value)
                  OR s.dimension = 'topic' AND (list_contains(?, lower(s.value)) OR s.value IN
                     (SELECT label FROM article_topics WHERE list_contains(?, code))))
             AND NOT EXISTS (SELECT 1 FROM watch_spike_hits h WHERE h.watch = ? AND h.day = s.day
                             AND h.dimension = s.dimension AND h.value = s.value)""",
        [name, run_id, since, wanted, mentioned, about, topics, topics, name]).fetchone()
    return added


# What a hit says about its article: enough for a webhook, a digest or a report line.
_STORY = """SELECT h.watch, h.article_id, h.cluster_id, h.matched_at, h.run_id, a.title, a.url, a.source, a.published,
       coalesce((SELECT list(x.country ORDER BY x.mentions DESC, x.country) FROM article_countries x
                 WHERE x.article_id = h.article_id), []) AS countries,
       coalesce((SELECT list(t.label ORDER BY t.rank) FROM article_topics t WHERE t.article_id = h.article_id), [])
           AS topics,
       (SELECT count(*) FROM article_clusters m WHERE m.cluster_id = h.cluster_id) AS articles
FROM watch_hits h JOIN articles a USING (article_id)"""
_SPIKE = "SELECT watch, day, dimension, value, articles, z, matched_at, run_id FROM watch_spike_hits"


def pending(path: Path, names: list[str]) -> tuple[list[dict], list[dict]]:
    """The hits and spike hits of these watches not yet delivered to their webhook (and not given up on)."""
    with read_only(path) as con:
        hits = _dicts(con, _STORY + " WHERE h.notified_at IS NULL AND h.notify_attempts < ? AND list_contains(?, "
                      "h.watch) ORDER BY h.watch, a.published DESC NULLS LAST, h.article_id",
                      [MAX_NOTIFY_ATTEMPTS, names])
        spikes = _dicts(con, _SPIKE + " WHERE notified_at IS NULL AND notify_attempts < ? AND list_contains(?, watch)"
                        " ORDER BY watch, day DESC, articles DESC", [MAX_NOTIFY_ATTEMPTS, names])
    return hits, spikes


def mark_notified(path: Path, watch: str, article_ids: list[str], spikes: list[tuple[date, str, str]],
                  delivered: bool) -> None:
    """Record a delivery (or one more refused attempt) of these hits of one watch."""
    update = "notified_at = now()" if delivered else "notify_attempts = notify_attempts + 1"
    with _connect(path, read_only=False) as con:
        con.execute(f"UPDATE watch_hits SET {update} WHERE watch = ? AND list_contains(?, article_id)",
                    [watch, article_ids])
        for day, dimension, value in spikes:
            con.execute(f"UPDATE watch_spike_hits SET {update} WHERE watch = ? AND day = ? AND dimension = ? "
                        "AND value = ?", [watch, day, dimension, value])


def hits_since(path: Path, watch: str, since: datetime) -> tuple[list[dict], list[dict]]:
    """A watch's hits and spike hits recorded since `since`, newest first."""
    with read_only(path) as con:
        try:
            hits = _dicts(con, _STORY + " WHERE h.watch = ? AND h.matched_at >= ? "
                          "ORDER BY h.matched_at DESC, a.published DESC NULLS LAST, h.article_id", [watch, since])
            spikes = _dicts(con, _SPIKE + " WHERE watch = ? AND matched_at >= ? ORDER BY day DESC, articles DESC",
                            [watch, since])
        except duckdb.CatalogException:
            return [], []
    return hits, spikes


def hit_counts(path: Path) -> dict[str, tuple[int, datetime | None]]:
    """Per watch: hits recorded (articles and spikes) and when the last was."""
    if not exists(path):
        return {}
    with read_only(path) as con:
        try:
            rows = con.execute("""SELECT watch, count(*), max(matched_at) FROM (
                                      SELECT watch, matched_at FROM watch_hits
                                      UNION ALL SELECT watch, matched_at FROM watch_spike_hits) GROUP BY watch""").fetchall()
        except duckdb.CatalogException:
            return {}
    return {w: (n, last) for w, n, last in rows}


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
