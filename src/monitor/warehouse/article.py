"""One stored article with everything the warehouse knows of it (`monitor show`): dates and where they came from,
captions and credits, countries, regions, topics, its story's other members and the wire agencies it credits."""

from __future__ import annotations

import duckdb

_ARTICLE_COLUMNS = ("article_id", "title", "source", "url", "canonical_url", "published", "published_source",
                    "modified", "first_seen", "date_flags", "language", "language_declared", "language_detected",
                    "author", "site_name", "extraction_method", "truncated", "lead_image", "body")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def resolve(con: duckdb.DuckDBPyConnection, ident: str) -> str | None:
    """The article id that `ident` names: an article id, a story id (its first member), the article's URL or
    canonical URL, or a feed entry's link to it."""
    ident = ident.strip()
    row = con.execute(
        """SELECT article_id FROM (
               SELECT article_id, 1 AS rank FROM articles WHERE article_id = ?
               UNION ALL SELECT article_id, 2 FROM articles WHERE url = ? OR canonical_url = ?
               UNION ALL SELECT article_id, 3 FROM entries WHERE (link = ? OR raw_link = ?) AND article_id IS NOT NULL)
           ORDER BY rank, article_id LIMIT 1""", [ident] * 5).fetchone()
    return row[0] if row else None


def article(con: duckdb.DuckDBPyConnection, ident: str) -> dict | None:
    """Everything stored about the article `ident` names (see `resolve`), or None."""
    article_id = resolve(con, ident)
    if article_id is None:
        return None
    found = _rows(con, f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM articles WHERE article_id = ?", [article_id])[0]
    found["captions"] = _rows(con, "SELECT position, text, credit FROM captions WHERE article_id = ? "
                                   "ORDER BY position", [article_id])
    found["countries"] = _rows(con, """SELECT country, mentions, is_about, in_caption, confidence
                                       FROM article_countries WHERE article_id = ?
                                       ORDER BY is_about DESC, mentions DESC, country""", [article_id])
    found["regions"] = _rows(con, """SELECT region, coalesce(is_about, false) AS is_about, confidence
                                     FROM article_regions WHERE article_id = ?
                                     ORDER BY is_about DESC, confidence DESC NULLS LAST, region""", [article_id])
    found["topics"] = _rows(con, """SELECT code, label, score, rank, level FROM article_topics
                                    WHERE article_id = ? ORDER BY rank""", [article_id])
    found["tagging"] = (_rows(con, "SELECT language, status, tagger_version, tagged_at FROM article_tagging "
                                   "WHERE article_id = ?", [article_id]) or [None])[0]
    found["agencies"] = _rows(con, "SELECT agency, found_in FROM article_agencies WHERE article_id = ? "
                                   "ORDER BY agency, found_in", [article_id])
    story = con.execute("SELECT cluster_id, duplicate_of, match, similarity FROM article_clusters "
                        "WHERE article_id = ?", [article_id]).fetchone()
    found["story"] = None
    if story is not None:
        members = _rows(con, """SELECT a.article_id, a.source, a.url, a.title, a.published, k.match, k.similarity,
                                       k.duplicate_of
                                FROM article_clusters k JOIN articles a USING (article_id)
                                WHERE k.cluster_id = ? AND k.article_id <> ?
                                ORDER BY coalesce(a.published, a.first_seen), a.article_id""", [story[0], article_id])
        agencies = [r[0] for r in con.execute(
            """SELECT DISTINCT g.agency FROM article_agencies g JOIN article_clusters k USING (article_id)
               WHERE k.cluster_id = ? AND g.found_in IN ('dateline', 'body') ORDER BY 1""", [story[0]]).fetchall()]
        found["story"] = {"story_id": story[0], "duplicate_of": story[1], "match": story[2], "similarity": story[3],
                          "members": members, "wire_agencies": agencies}
    return found
