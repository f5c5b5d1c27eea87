"""Full-text search over titles, captions and bodies, in SQL on a read-only connection.

DuckDB's fts extension is downloaded at run time, which we may not do, so terms are matched with RE2 word-boundary
patterns (bound parameters) and ranked with a BM25-like saturation: a title hit weighs most, captions next, and
repeated body hits add less and less. Filters (date, country, topic) narrow the set before any text is scanned.
"""

from __future__ import annotations

import re
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
