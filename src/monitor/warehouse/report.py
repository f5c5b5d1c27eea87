"""What the visual report shows, read from the views in one read-only connection."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from monitor.models import ReportData
from monitor.warehouse import read_only

TOP_SERIES = 6  # regions and topics drawn one per colour; the rest are summed as "other"
TOP_COUNTRIES = 15
TOP_STORIES = 10


def report_data(path: Path, days: int, until: date | None = None) -> ReportData:
    """The `days` days up to `until` (default: the newest article's day, so an idle warehouse still shows its
    last weeks)."""
    with read_only(path) as con:
        newest = con.execute("SELECT max(day) FROM article_days").fetchone()[0]
        last = until or newest
        sources = _dicts(con, """
            SELECT h.source, h.health, h.last_status, h.last_success, h.items_per_day, h.last_error,
                   q.articles, q.success_rate, q.fallbacks, q.missing_date, q.empty_bodies
            FROM feed_health h LEFT JOIN extraction_quality q USING (source) ORDER BY h.source""")
        if last is None:
            return ReportData(None, None, sources=sources)
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
        stories = _dicts(con, """
            WITH m AS (
                SELECT cluster_id, count(*) AS articles, count(DISTINCT source) AS outlets,
                       list(DISTINCT source ORDER BY source) AS outlet_names, min(day) AS first_day
                FROM article_days WHERE day BETWEEN ? AND ? GROUP BY cluster_id)
            SELECT m.*, r.title, r.countries FROM m JOIN cluster_reach r USING (cluster_id)
            ORDER BY outlets DESC, articles DESC, first_day DESC, cluster_id LIMIT ?""", window + [TOP_STORIES])
        spikes = _dicts(con, """SELECT day, dimension, value, articles, mean_28d, z FROM spikes
                                WHERE day BETWEEN ? AND ? AND dimension IN ('country', 'topic')
                                ORDER BY day DESC, articles DESC LIMIT 12""", window)
    return ReportData(first, last, span, totals, regions, topics, [tuple(c) for c in countries], stories, spikes,
                      sources)


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
