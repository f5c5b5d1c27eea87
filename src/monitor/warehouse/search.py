"""Full-text search over titles, captions and bodies, in SQL on a read-only connection.

DuckDB's fts extension is downloaded at run time, which we may not do, so terms are matched with RE2 word-boundary
patterns (bound parameters) and ranked with a BM25-like saturation: a title hit weighs most, captions next, and
repeated body hits add less and less. Filters (date, country, topic) narrow the set before any text is scanned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from monitor.warehouse import QueryError, read_only

_QUERY = re.compile(r'"([^"]+)"|(\S+)')
# Weights of a hit by field, and the saturation constant: tf / (tf + K) approaches 1, so the tenth mention of a
# word in a body adds little over the third.
TITLE_WEIGHT, CAPTION_WEIGHT, BODY_WEIGHT, SATURATION = 3.0, 1.5, 1.0, 1.5
SNIPPET_WORDS = 12  # words of context either side of the first hit in the body


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: str
    title: str
    source: str
    published: datetime | None
    url: str
    score: float
    snippet: str


def parse_query(query: str) -> list[str]:
    """Terms and "quoted phrases" -> one RE2 pattern each, case-insensitive, on word boundaries. A bare word also
    matches its plural ("cable" finds "cables"); a trailing * matches any ending ("elect*"); a phrase is exact."""
    patterns = []
    for phrase, word in _QUERY.findall(query):
        prefix = not phrase and word.endswith("*")
        words = [w for w in (re.sub(r"^\W+|\W+$", "", w) for w in (phrase or word).split()) if w]
        if not words:
            continue
        body = r"\s+".join(re.escape(w) for w in words)
        ending = r"\w*" if prefix else "" if phrase else "(?:s|es)?"
        patterns.append(r"(?i)\b" + body + ending + r"\b")
    return patterns


def search(path: Path, query: str, since: datetime | None = None, country: str | None = None,
           topic: str | None = None, limit: int = 20) -> list[Hit]:
    """Articles holding every term of `query` in their title, captions or body, best first."""
    patterns = parse_query(query)
    if not patterns:
        raise QueryError(f"nothing to search for in {query!r}: give one or more words or a \"quoted phrase\"")
    counts, score, match, params = [], [], [], []
    for k, pattern in enumerate(patterns):
        counts.append(f"len(regexp_extract_all(title, ?)) AS t{k}, len(regexp_extract_all(captions, ?)) AS c{k}, "
                      f"len(regexp_extract_all(body, ?)) AS b{k}")
        params += [pattern] * 3
        score.append(f"{TITLE_WEIGHT} * least(t{k}, 1) + {CAPTION_WEIGHT} * c{k} / (c{k} + {SATURATION})"
                     f" + {BODY_WEIGHT} * b{k} / (b{k} + {SATURATION})")
        match.append("regexp_matches(title || ' ' || captions || ' ' || body, ?)")
    sql = f"""
        WITH docs AS (
            SELECT a.article_id, coalesce(a.title, '') AS title, a.source, a.published, a.url, a.body,
                   coalesce((SELECT string_agg(c.text, ' ') FROM captions c WHERE c.article_id = a.article_id), '')
                       AS captions
            FROM articles a
            WHERE (CAST(? AS TIMESTAMPTZ) IS NULL OR coalesce(a.published, a.first_seen) >= ?)
              AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM article_countries ac
                   WHERE ac.article_id = a.article_id AND ac.country = ?))
              AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM article_topics t
                   WHERE t.article_id = a.article_id AND (t.code = ? OR lower(t.label) = lower(?))))
        ), matched AS (
            SELECT *, {', '.join(counts)}, regexp_extract(body, ?) AS snippet
            FROM docs WHERE {' AND '.join(match)}
        )
        SELECT article_id, title, source, published, url, round({' + '.join(score)}, 3) AS score, snippet
        FROM matched ORDER BY score DESC, published DESC NULLS LAST, article_id LIMIT ?"""
    snippet = (f"(?is)(?:\\S+\\s+){{0,{SNIPPET_WORDS}}}" + patterns[0].removeprefix("(?i)")
               + f"(?:\\s+\\S+){{0,{SNIPPET_WORDS}}}")
    bound = [since, since, country, country, topic, topic, topic] + params + [snippet] + patterns + [limit]
    with read_only(path) as con:
        try:
            rows = con.execute(sql, bound).fetchall()
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from None
    return [Hit(r[0], r[1], r[2], r[3], r[4], r[5], " ".join((r[6] or "").split())) for r in rows]


# --- Stand-in for the search branch's `find` (issue 19 part 1), with the agreed signature, over the regex search
# above. The search branch's warehouse/search.py replaces this file at the merge.

@dataclass(frozen=True, slots=True)
class SearchFilters:
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    about: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def find(con: duckdb.DuckDBPyConnection, query: str, filters: SearchFilters = SearchFilters(), *,
         article_ids: Sequence[str] | None = None, limit: int | None = 20) -> list[Hit]:
    """Articles holding every term of `query` and passing `filters` (codes, or country names through pycountry),
    best first; only among `article_ids` when given."""
    import pycountry

    def codes(values):
        try:
            return [pycountry.countries.lookup(v).alpha_2 for v in values] or None
        except LookupError as exc:
            raise QueryError(f"unknown country {exc}") from None

    patterns = parse_query(query)
    if not patterns:
        raise QueryError(f"nothing to search for in {query!r}")
    f = filters
    tags = ("EXISTS (SELECT 1 FROM article_countries x WHERE x.article_id = a.article_id AND list_contains(?, x.country)"
            " AND (x.is_about OR ?))")
    sql = f"""SELECT a.article_id, coalesce(a.title, ''), a.source, a.published, a.url,
                     len(regexp_extract_all(coalesce(a.title, ''), ?)) AS score, ''
              FROM articles a WHERE {' AND '.join(["regexp_matches(coalesce(a.title, '') || ' ' || a.body, ?)"]
                                                   * len(patterns))}
                AND (CAST(? AS TEXT[]) IS NULL OR list_contains(?, a.article_id))
                AND (CAST(? AS TEXT[]) IS NULL OR list_contains(?, a.source))
                AND (CAST(? AS TEXT[]) IS NULL OR list_contains(?, a.language))
                AND (CAST(? AS TEXT[]) IS NULL OR {tags}) AND (CAST(? AS TEXT[]) IS NULL OR {tags})
                AND (CAST(? AS TEXT[]) IS NULL OR EXISTS (SELECT 1 FROM article_regions r
                     WHERE r.article_id = a.article_id AND list_contains(?, lower(r.region))))
                AND (CAST(? AS TEXT[]) IS NULL OR EXISTS (SELECT 1 FROM article_topics t
                     WHERE t.article_id = a.article_id AND (list_contains(?, t.code) OR list_contains(?, lower(t.label)))))
                AND (CAST(? AS TIMESTAMPTZ) IS NULL OR coalesce(a.published, a.first_seen) >= ?)
                AND (CAST(? AS TIMESTAMPTZ) IS NULL OR coalesce(a.published, a.first_seen) < ?)
              ORDER BY score DESC, a.published DESC NULLS LAST, a.article_id LIMIT ?"""
    ids = list(article_ids) if article_ids is not None else None
    countries, about = codes(f.countries), codes(f.about)
    regions = [r.lower() for r in f.regions] or None
    topics = [t.lower() for t in f.topics] or None
    bound = [patterns[0], *patterns, ids, ids, list(f.sources) or None, list(f.sources),
             [v.lower() for v in f.languages] or None, [v.lower() for v in f.languages], countries, countries, True,
             about, about, False, regions, regions, topics, topics, topics, f.since, f.since, f.until, f.until,
             limit if limit is not None else 2**62]
    rows = con.execute(sql, bound).fetchall()
    return [Hit(*r) for r in rows]
