"""Stored articles and the pages they came from: what `monitor reextract` selects, and how it swaps an article's
extraction (fields, captions, tags, dedup sketch) for a new one in one transaction, counting what changed."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from monitor.models import Article, DedupResult, Tags, text_hash
from monitor.warehouse import (
    _COLUMNS, WarehouseError, _arrow, _connect, _first_line, _replace_rows, _rollback, _tag_rows, exists, read_only)

# The fields of an article a re-extraction rewrites; identity (id, URL, source, first seen, run) stays.
REWRITTEN = ("title", "published", "language", "author", "site_name", "body", "body_hash", "extraction_method",
             "published_source", "modified", "language_declared", "language_detected", "lead_image", "truncated",
             "date_flags", "page_sha", "extractor_version")
CHANGES = ("bodies", "titles", "dates", "captions", "countries", "topics")


def reextract_candidates(path: Path, since: datetime | None, source: str | None, version: str
                         ) -> list[tuple[str, str]]:
    """(article_id, page_sha) of stored articles with a stored page that another extractor version made (or none
    recorded), published (or, undated, first seen) on or after `since`, of `source` when given; by article id.
    Articles already at `version` are left out: that is what makes a re-extraction resumable and idempotent.
    They come host by host, so that a batch holds many pages of one site to learn its furniture from."""
    if not exists(path):
        return []
    with read_only(path) as con:
        return con.execute(
            """SELECT article_id, page_sha FROM articles
               WHERE page_sha IS NOT NULL AND extractor_version IS DISTINCT FROM ?
                 AND (?::TIMESTAMPTZ IS NULL OR coalesce(published, first_seen) >= ?)
                 AND (?::TEXT IS NULL OR source = ?)
               ORDER BY regexp_extract(url, '^[a-z]+://(?:www[.])?([^/:?#]+)', 1), article_id""",
            [version, since, since, source, source]).fetchall()


def _before(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, dict]:
    """What the report compares: each article's title, body hash, dates, captions, countries and top topic."""
    found: dict[str, dict] = {}
    for article_id, title, body_hash, published in con.execute(
            "SELECT article_id, title, body_hash, published FROM articles WHERE article_id IN (SELECT unnest(?))",
            [ids]).fetchall():
        found[article_id] = {"title": title, "body": body_hash, "published": published, "captions": [],
                             "countries": set(), "topic": None}
    for article_id, text, credit in con.execute(
            "SELECT article_id, text, credit FROM captions WHERE article_id IN (SELECT unnest(?)) "
            "ORDER BY article_id, position", [ids]).fetchall():
        found[article_id]["captions"].append((text, credit))
    for article_id, country in con.execute(
            "SELECT article_id, country FROM article_countries WHERE article_id IN (SELECT unnest(?))",
            [ids]).fetchall():
        found[article_id]["countries"].add(country)
    for article_id, code in con.execute(
            "SELECT article_id, code FROM article_topics WHERE rank = 1 AND article_id IN (SELECT unnest(?))",
            [ids]).fetchall():
        found[article_id]["topic"] = code
    return found


def _changed(old: dict, article: Article, tags: Tags | None) -> dict[str, bool]:
    return {"bodies": old["body"] != text_hash(article.body), "titles": old["title"] != article.title,
            "dates": old["published"] != article.published,
            "captions": old["captions"] != [(c.text, c.credit) for c in article.captions],
            "countries": tags is not None and old["countries"] != set(tags.countries),
            "topics": tags is not None and old["topic"] != (tags.topics[0].code if tags.topics else None)}


def replace_extractions(path: Path, articles: list[Article], tags: list[Tags], clusters: list[DedupResult],
                        taxonomy: str, taxonomy_version: str) -> dict[str, int]:
    """Swap these stored articles' extraction for the new one in one transaction: their fields (identity kept),
    captions, tags and tagging records, and (for `clusters`) their dedup sketch, cluster and agencies. Returns
    how many articles, and how many changed in each of `CHANGES`. Articles not in the warehouse are ignored."""
    if not articles:
        return {"articles": 0, **{name: 0 for name in CHANGES}}
    ids = [a.article_id for a in articles]
    now = datetime.now(timezone.utc)
    fields = dict(_COLUMNS["articles"])
    values = {name: [getattr(a, name, None) for a in articles] for name in REWRITTEN if name != "body_hash"}
    values["body_hash"] = [text_hash(a.body) for a in articles]
    values["truncated"] = [list(a.truncated) for a in articles]
    values["date_flags"] = [list(a.date_flags) for a in articles]
    new = pa.table({"article_id": pa.array(ids, pa.string()),
                    **{name: pa.array(values[name], fields[name]) for name in REWRITTEN}})
    tables = {
        "captions": _arrow("captions", [(a.article_id, i, c.text, c.credit) for a in articles
                                        for i, c in enumerate(a.captions)]),
        **{name: _arrow(name, rows) for name, rows in _tag_rows(tags, taxonomy, taxonomy_version, now).items()},
        "article_clusters": _arrow("article_clusters", [
            (c.doc_id, c.cluster, c.duplicate_of, c.match, c.similarity, c.signature, c.shingle_count)
            for c in clusters]),
        "article_agencies": _arrow("article_agencies", [(c.doc_id, agency, where) for c in clusters
                                                        for agency, where in c.agencies]),
    }
    tagged = {t.doc_id: t for t in tags}
    clustered = [c.doc_id for c in clusters]
    with _connect(path, read_only=False) as con:
        try:
            con.execute("BEGIN TRANSACTION")
            before = _before(con, ids)
            con.register("reextracted", new)
            assignments = ", ".join(f"{name} = n.{name}" for name in REWRITTEN)  # names are ours
            con.execute(f"UPDATE articles SET {assignments} FROM reextracted n "
                        "WHERE articles.article_id = n.article_id")
            con.unregister("reextracted")
            for name, table in tables.items():
                scope = clustered if name in ("article_clusters", "article_agencies") else (
                    ids if name == "captions" else list(tagged))
                _replace_rows(con, name, scope, table)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            _rollback(con)
            raise WarehouseError(f"re-extraction in {path} failed, all or nothing of this batch stored "
                                 f"({_first_line(exc)}); run it again to continue") from None
    counts = {"articles": len(before), **{name: 0 for name in CHANGES}}
    for article in articles:
        if article.article_id in before:
            for name, changed in _changed(before[article.article_id], article, tagged.get(article.article_id)).items():
                counts[name] += changed
    return counts


def body_hashes(path: Path, ids: list[str]) -> dict[str, str | None]:
    """The stored body hash of each of these articles."""
    with read_only(path) as con:
        return dict(con.execute("SELECT article_id, body_hash FROM articles WHERE article_id IN (SELECT unnest(?))",
                                [ids]).fetchall())


def article_sources(path: Path) -> set[str]:
    """The source names the stored articles carry (configured feeds and imported archives)."""
    if not exists(path):
        return set()
    with read_only(path) as con:
        return {row[0] for row in con.execute("SELECT DISTINCT source FROM articles WHERE source IS NOT NULL")
                .fetchall()}


def page_shas(path: Path, since: datetime | None, until: datetime | None) -> list[str]:
    """The page addresses of the articles published (or, undated, first seen) in [since, until), oldest first."""
    with read_only(path) as con:
        return [row[0] for row in con.execute(
            """SELECT page_sha FROM articles WHERE page_sha IS NOT NULL
                 AND (?::TIMESTAMPTZ IS NULL OR coalesce(published, first_seen) >= ?)
                 AND (?::TIMESTAMPTZ IS NULL OR coalesce(published, first_seen) < ?)
               GROUP BY page_sha ORDER BY min(coalesce(published, first_seen))""",
            [since, since, until, until]).fetchall()]
