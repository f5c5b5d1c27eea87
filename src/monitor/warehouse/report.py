"""What the visual report shows, read from the views in one read-only connection."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from monitor.config import Watch
from monitor.models import ReportData
from monitor.warehouse import QueryError, _open_for_writing, read_only
from monitor.warehouse.search import find
from monitor.warehouse.watches import stored_watches

log = logging.getLogger(__name__)

TOP_SERIES = 6  # regions and topics drawn one per colour; the rest are summed as "other"
TOP_COUNTRIES = 15
TOP_STORIES = 10
# Headlines: the few stories an analyst reads first, per watched query, per country and per topic; a page (or an
# e-mail) with more than this many sections of more than this many lines stops being read.
HEADLINES = 5
HEADLINE_SECTIONS = 6


def report_data(path: Path, days: int, until: date | None = None, watches: dict[str, Watch] | None = None,
                kind: str = "report") -> ReportData:
    """The `days` days up to `until` (default: the newest article's day, so an idle warehouse still shows its
    last weeks). `watches` (those of watches.toml; the stored ones are added) get their headlines; stories first
    seen after the previous report of this `kind` are marked new."""
    watched = {**{n: w for n, (w, _) in stored_watches(path).items()}, **(watches or {})}
    with read_only(path) as con:
        previous = _previous_report(con, kind)
        newest = con.execute("SELECT max(day) FROM article_days").fetchone()[0]
        last = until or newest
        sources = _dicts(con, """
            SELECT h.source, h.health, h.last_status, h.last_success, h.items_per_day, h.last_error,
                   q.articles, q.success_rate, q.fallbacks, q.missing_date, q.empty_bodies
            FROM feed_health h LEFT JOIN extraction_quality q USING (source) ORDER BY h.source""")
        if last is None:
            return ReportData(None, None, sources=sources, previous_report=previous)
        first = last - timedelta(days=days - 1)
        span = [first + timedelta(days=k) for k in range(days)]
        window = [first, last]
        totals = dict(zip(("articles", "stories", "outlets"), con.execute(
            """SELECT count(*), count(DISTINCT cluster_id), count(DISTINCT source) FROM article_days
               WHERE day BETWEEN ? AND ?""", window).fetchone()))
        totals["countries"] = con.execute(
            """SELECT count(DISTINCT value) FROM daily_volume WHERE dimension = 'country' AND day BETWEEN ? AND ?""",
            window).fetchone()[0]
        # articles the tagger could not read are in no region, topic or country chart: the page says how many
        totals["unsupported_language"] = con.execute(
            """SELECT count(*) FROM article_days d JOIN article_tagging g USING (article_id)
               WHERE g.status = 'unsupported-language' AND d.day BETWEEN ? AND ?""", window).fetchone()[0]
        # regions the articles are about (of their focus countries), not every region a passing mention touches;
        # regions overlap (a story about two countries counts in each of their regions): no "other" sum
        regions = _series(con, "region", window, span, other=False)
        topics = _series(con, "topic", window, span, other=True)  # one first-ranked topic per article
        countries = con.execute(
            """SELECT value, sum(articles) FILTER (WHERE dimension = 'country') AS mentioned,
                      coalesce(sum(articles) FILTER (WHERE dimension = 'country_about'), 0) AS about
               FROM daily_volume WHERE dimension IN ('country', 'country_about') AND day BETWEEN ? AND ?
               GROUP BY value HAVING mentioned > 0 ORDER BY mentioned DESC, about DESC, value LIMIT ?""",
            window + [TOP_COUNTRIES]).fetchall()
        stories = _dicts(con, f"""
            WITH m AS (
                SELECT cluster_id, count(*) AS articles, count(DISTINCT source) AS outlets,
                       list(DISTINCT source ORDER BY source) AS outlet_names, min(day) AS first_day
                FROM article_days WHERE day BETWEEN ? AND ? GROUP BY cluster_id)
            SELECT m.*, r.title, r.countries, s.url, s.first_seen > ? AS new
            FROM m JOIN cluster_reach r USING (cluster_id) JOIN {_LINKS} USING (cluster_id)
            ORDER BY outlets DESC, articles DESC, first_day DESC, cluster_id LIMIT ?""",
                         [*window] + [previous or _NEVER, TOP_STORIES])
        spikes = _dicts(con, """SELECT day, dimension, value, articles, mean_28d, z FROM spikes
                                WHERE day BETWEEN ? AND ? AND dimension IN ('country', 'topic')
                                ORDER BY day DESC, articles DESC LIMIT 12""", window)
        window_times = [datetime.combine(first, datetime.min.time(), timezone.utc),
                        datetime.combine(last + timedelta(days=1), datetime.min.time(), timezone.utc)]
        headlines = {name: _watch_headlines(con, name, w, window_times, previous) for name, w in watched.items()
                     if not w.spikes}
        by_country = _headlines(con, "article_countries x", "x.is_about AND list_contains(?, x.country)", "x.country",
                                [code for code, _, about in countries[:HEADLINE_SECTIONS] if about], window, previous)
        by_topic = _headlines(con, "article_topics x", "x.rank = 1 AND list_contains(?, x.label)", "x.label",
                              [label for label in list(topics)[:HEADLINE_SECTIONS] if label != "other"], window,
                              previous)
    return ReportData(first, last, span, totals, regions, topics, [tuple(c) for c in countries], stories, spikes,
                      sources, headlines, by_country, by_topic, previous)


_NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Each story's link (its first member's URL) and when the warehouse first saw any of it.
_LINKS = """(SELECT c.cluster_id, arg_min(a.url, coalesce(a.published, a.first_seen)) AS url,
                    min(a.first_seen) AS first_seen
             FROM article_clusters c JOIN articles a USING (article_id) GROUP BY c.cluster_id) s"""


def _previous_report(con: duckdb.DuckDBPyConnection, kind: str) -> datetime | None:
    try:
        return con.execute("SELECT max(generated_at) FROM report_runs WHERE kind = ?", [kind]).fetchone()[0]
    except duckdb.CatalogException:  # a warehouse from before migration 008
        return None


def _headlines(con: duckdb.DuckDBPyConnection, table: str, condition: str, key: str, values: list[str],
               window: list[date], previous: datetime | None) -> dict[str, list[dict]]:
    """Per value (a country, a topic), in the order given: the widest-reaching stories of the window with a member
    tagged so, in one query for all values. `table`, `condition` (one bound list) and `key` are ours."""
    if not values:
        return {}
    rows = _dicts(con, f"""
        WITH picked AS (
            SELECT DISTINCT {key} AS key, d.cluster_id FROM article_days d JOIN {table} USING (article_id)
            WHERE d.day BETWEEN ? AND ? AND {condition}
        ), ranked AS (
            SELECT p.key, p.cluster_id, r.title, s.url, r.outlets, s.first_seen > ? AS new,
                   row_number() OVER (PARTITION BY p.key ORDER BY r.outlets DESC, r.articles DESC, s.first_seen DESC,
                                                                p.cluster_id) AS k
            FROM picked p JOIN story_clusters r USING (cluster_id) JOIN {_LINKS} USING (cluster_id))
        SELECT * FROM ranked WHERE k <= ? ORDER BY key, k""", [*window, values, previous or _NEVER, HEADLINES])
    found: dict[str, list[dict]] = {value: [] for value in values}
    for row in rows:
        found[row.pop("key")].append(row)
    return found


def _watch_headlines(con: duckdb.DuckDBPyConnection, name: str, watch: Watch, window: list[datetime],
                     previous: datetime | None) -> list[dict]:
    """The best matches of a watch's query in the window, one per story."""
    filters = watch.filters.within(since=window[0], until=window[1])
    try:
        hits = find(con, watch.query, filters, limit=HEADLINES * 4)
    except QueryError as exc:
        log.warning("watch %s: no headlines (%s)", name, exc)
        return []
    if not hits:
        return []
    rows = _dicts(con, f"""
        SELECT a.article_id, c.cluster_id, r.outlets, s.first_seen > ? AS new FROM articles a
        JOIN article_clusters c USING (article_id) JOIN story_clusters r USING (cluster_id)
        JOIN {_LINKS} USING (cluster_id) WHERE list_contains(?, a.article_id)""",
                  [previous or _NEVER, [h.article_id for h in hits]])
    story = {r["article_id"]: r for r in rows}
    seen, out = set(), []
    for hit in hits:  # best first; a story once, under its best-matching member
        row = story.get(hit.article_id, {"cluster_id": hit.article_id, "outlets": 1, "new": False})
        if row["cluster_id"] not in seen:
            seen.add(row["cluster_id"])
            out.append({"title": hit.title, "url": hit.url, "source": hit.source, "outlets": row["outlets"],
                        "new": bool(row["new"])})
    return out[:HEADLINES]


def record_report(path: Path, kind: str, data: ReportData, out: str, generated: datetime) -> None:
    """Note that a report was made, so the next one of this kind marks what is new since."""
    with _open_for_writing(path) as con:
        con.execute("INSERT INTO report_runs VALUES (?, ?, ?, ?, ?)",
                    [generated, kind, data.first_day, data.last_day, out])


def _series(con, dimension: str, window: list[date], span: list[date], other: bool) -> dict[str, list[int]]:
    rows = con.execute("""SELECT value, day, articles FROM daily_volume
                          WHERE dimension = ? AND day BETWEEN ? AND ?""", [dimension] + window).fetchall()
    totals: dict[str, int] = {}
    for value, _, n in rows:
        totals[value] = totals.get(value, 0) + n
    top = sorted(totals, key=lambda v: (-totals[v], v))[:TOP_SERIES]
    index = {d: k for k, d in enumerate(span)}
    series = {name: [0] * len(span) for name in top}
    if other and len(totals) > len(top):
        series["other"] = [0] * len(span)
    for value, day, n in rows:
        name = value if value in top else "other"
        if name in series:
            series[name][index[day]] += n
    return series


def _dicts(con, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
