"""Full-text search: an inverted index kept by every load, queried in the query language (monitor/query.py).

The index is our own postings table, not `PRAGMA create_fts_index`: that index is static (rebuilt as a whole to
take in new rows, minutes at a million articles) and lives in its own schema that a read-only reader cannot
refresh. DuckDB's fts extension (from PyPI, like DuckLake; nothing is downloaded) gives the Snowball `stem()`:
each load tokenises its new articles in SQL, stems every distinct word once in the article's language, and appends
one row per (article, word) with its weighted count: title and lead weigh more than the rest of the body. A query
stems its words in every language the index holds, reads the matching postings and ranks with BM25. Phrases are
found through their words, then checked on the text of those candidates only.

Without the extension (or while some articles are not indexed yet: a warehouse migrated since its last load),
search falls back to regular expressions over every text, with a logged warning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from monitor import query as ql
from monitor.warehouse.connection import QueryError
from monitor.warehouse.search_filters import (  # noqa: F401 - the filters' names stay importable from here
    LANGUAGE_NAMES, SearchFilters, _filter_sql)
from monitor.warehouse.search_index import (  # the index's upkeep; its names stay importable from here
    BODY_WEIGHT, CAPTION_WEIGHT, COMPACT_MEMORY, COMPACT_READ_ROWS, INDEX_CHUNK, LEAD_WEIGHT, LEAD_WORDS, MAX_WORD,
    SORTED_RUN_READ, STEMMERS, TITLE_WEIGHT, WORD_PATTERN, _compact_if_due, _stemmer_values, _warn_once, fts_extension,
    index_new, indexed, load_fts)

log = logging.getLogger(__name__)  # the same logger search_index writes to

# BM25's usual constants: term-frequency saturation and document-length normalisation.
BM25_K1, BM25_B = 1.2, 0.75
KEYS_VIEW = "search_query_keys"  # the query's (leaf, stem) pairs, registered on the connection while it runs
SNIPPET_WORDS = 12  # words of context either side of the first hit in the body
@dataclass(frozen=True, slots=True)
class Pickup:
    """Another member of a hit's story: the same news at another outlet (or the same one again)."""
    article_id: str
    source: str | None
    url: str
    published: datetime | None
    match: str | None        # url | canonical | exact | near (how dedup tied it to the story)
    similarity: float | None


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: str
    title: str
    source: str | None
    published: datetime | None
    url: str
    score: float
    snippet: str = ""
    story_id: str | None = None
    pickups: tuple[Pickup, ...] = field(default=())


# --- filters --------------------------------------------------------------------------------------------------------

# --- the query ------------------------------------------------------------------------------------------------------

def _phrase_pattern(words: Sequence[str], prefix: bool = False) -> str:
    """RE2, case-insensitive: these words in order, separated by anything that is not a word character."""
    body = r"[^\p{L}\p{N}\p{M}]+".join(re.escape(w) for w in words)
    return r"(?i)(?:^|[^\p{L}\p{N}\p{M}])" + body + (r"[\p{L}\p{N}\p{M}]*" if prefix else "") + \
        r"(?:$|[^\p{L}\p{N}\p{M}])"


def _boolean(node: ql.Node, column: dict) -> str:
    """The tree as a SQL boolean over per-leaf columns."""
    if isinstance(node, ql.Everything):
        return "true"
    if isinstance(node, ql.Term | ql.Phrase):
        return column[node]
    if isinstance(node, ql.Not):
        return f"NOT ({_boolean(node.node, column)})"
    joiner = " AND " if isinstance(node, ql.And) else " OR "
    return "(" + joiner.join(_boolean(n, column) for n in node.nodes) + ")"


_TEXT = ("(coalesce(a.title, '') || ' ' || coalesce((SELECT string_agg(c.text, ' ') FROM captions c "
         "WHERE c.article_id = a.article_id), '') || ' ' || a.body)")


def find(con: duckdb.DuckDBPyConnection, query: str, filters: SearchFilters = SearchFilters(), *,
         article_ids: Sequence[str] | None = None, limit: int | None = 20) -> list[Hit]:
    """Articles matching `query` (the query language) and `filters`, best first; only among `article_ids` when
    given; limit None = all. Raises QueryError (one line) on a bad query or a filter value that matches nothing."""
    return _find(con, query, filters, article_ids=article_ids, limit=limit, per_story=False)


def find_stories(con: duckdb.DuckDBPyConnection, query: str, filters: SearchFilters = SearchFilters(), *,
                 limit: int | None = 20) -> list[Hit]:
    """Like `find`, one hit per story (its best-ranked member), each with the story's other members as pickups."""
    return _find(con, query, filters, article_ids=None, limit=limit, per_story=True)


def _find(con, query: str, filters: SearchFilters, *, article_ids, limit, per_story: bool) -> list[Hit]:
    try:
        parsed = ql.parse(query)
    except ql.QueryError as exc:
        raise QueryError(str(exc)) from None
    where, params = _filter_sql(con, filters, parsed.fields)
    if article_ids is not None:
        where += " AND list_contains(?, a.article_id)"
        params.append(list(article_ids))
    loaded = load_fts(con)
    use_index = loaded and indexed(con)
    if not use_index:
        if loaded:
            _warn_once("some articles are not in the search index yet (it is brought up to date by the next load)"
                       "; searching by a slower scan of every text")
        ranked_sql, ranked_params = _scan_sql(parsed, where, params)
    else:
        ranked_sql, ranked_params = _index_sql(con, parsed, where, params)
    story = "coalesce(k.cluster_id, r.article_id)"
    if per_story:  # each story's best member only: the stories of every match are needed before the limit
        ranked_sql = f"""
            SELECT * FROM (
                SELECT r.*, row_number() OVER (PARTITION BY {story} ORDER BY r.score DESC, r.published NULLS LAST,
                                               r.article_id) AS in_story
                FROM ({ranked_sql}) r LEFT JOIN article_clusters k USING (article_id))
            WHERE in_story = 1"""
    snippet, snippet_params = _snippet_sql([leaf for leaf in ql.leaves(parsed.root)
                                            if leaf in set(ql.positives(parsed.root))])
    # what is shown is read for the hits kept only
    sql = f"""
        WITH top AS (SELECT article_id, score FROM ({ranked_sql}) r
                     ORDER BY score DESC, published DESC NULLS LAST, article_id {'LIMIT ?' if limit is not None else ''})
        SELECT r.article_id, a.title, a.source, a.published, a.url, r.score, {snippet}, {story}
        FROM top r JOIN articles a USING (article_id) LEFT JOIN article_clusters k USING (article_id)
        ORDER BY r.score DESC, a.published DESC NULLS LAST, r.article_id"""
    ranked_params += [limit] if limit is not None else []
    ranked_params += snippet_params
    try:
        rows = con.execute(sql, ranked_params).fetchall()
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from None
    finally:
        if use_index:
            con.unregister(KEYS_VIEW)
    pickups = _pickups(con, {r[7]: r[0] for r in rows}) if per_story else {}
    return [Hit(r[0], r[1] or "", r[2], r[3], r[4], round(float(r[5] or 0), 3), " ".join((r[6] or "").split()),
                r[7], tuple(pickups.get(r[7], ()))) for r in rows]


def _snippet_sql(leaves: Sequence[ql.Term | ql.Phrase]) -> tuple[str, list]:
    if not leaves:
        return "''", []
    first = leaves[0]
    words, prefix = (first.words, False) if isinstance(first, ql.Phrase) else ((first.word,), first.prefix)
    pattern = (f"(?is)(?:\\S+\\s+){{0,{SNIPPET_WORDS}}}\\S*" + r"[^\p{L}\p{N}\p{M}]+".join(re.escape(w) for w in words)
               + r"\S*" + f"(?:\\s+\\S+){{0,{SNIPPET_WORDS}}}")
    return "regexp_extract(a.body, ?)", [pattern]


def _scan_sql(parsed: ql.Query, where: str, params: list) -> tuple[str, list]:
    """Without the index: each leaf a regular expression over title, captions and body."""
    leaves = ql.leaves(parsed.root)
    positive = set(ql.positives(parsed.root))
    patterns = {leaf: _phrase_pattern(leaf.words) if isinstance(leaf, ql.Phrase)
                else _phrase_pattern((leaf.word,), leaf.prefix) for leaf in leaves}
    column = {leaf: f"m{k}" for k, leaf in enumerate(leaves)}
    matches = ", ".join(f"regexp_matches(text, ?) AS m{k}" for k in range(len(leaves)))
    score = " + ".join(f"(CASE WHEN m{k} THEN {TITLE_WEIGHT} * regexp_matches(coalesce(title, ''), ?)::INT + 1 "
                       "ELSE 0 END)" for k, leaf in enumerate(leaves) if leaf in positive) or "0"
    score_params = [patterns[leaf] for leaf in leaves if leaf in positive]
    sql = f"""
        SELECT article_id, published, {score} AS score FROM (
            SELECT a.article_id, a.title, a.published {', ' + matches if leaves else ''}
            FROM (SELECT a.*, {_TEXT} AS text FROM articles a WHERE {where}) a)
        WHERE {_boolean(parsed.root, column)}"""
    return sql, score_params + [patterns[leaf] for leaf in leaves] + params


def _index_sql(con, parsed: ql.Query, where: str, params: list) -> tuple[str, list]:
    """With the index: postings of each leaf's words (stemmed in every language held), BM25 over them, the boolean
    tree over per-leaf flags, phrases checked on the candidates' text."""
    leaves = ql.leaves(parsed.root)
    positive = set(ql.positives(parsed.root))
    stemmers = [s for (s,) in con.execute("SELECT DISTINCT stemmer FROM search_docs").fetchall()] or ["none"]
    keys: list[tuple[int, int, str, str]] = []  # (leaf, part, stemmer, stem)
    prefixes: list[tuple[int, str]] = []
    needed = {}
    plain = sorted({w for leaf in leaves for w in (leaf.words if isinstance(leaf, ql.Phrase) else
                                                  (() if leaf.prefix else (leaf.word,)))})
    stems = {}
    if plain:
        for word, stemmer, stem in con.execute(
                "SELECT w, s, stem(w, s) FROM unnest(?) t(w), unnest(?) u(s)", [plain, stemmers]).fetchall():
            stems[(word, stemmer)] = stem
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, ql.Term) and leaf.prefix:
            prefixes.append((k, leaf.word))
            needed[k] = 1
            continue
        parts = leaf.words if isinstance(leaf, ql.Phrase) else (leaf.word,)
        needed[k] = len(set(parts))
        for j, word in enumerate(dict.fromkeys(parts)):
            keys += [(k, j, s, stems[(word, s)]) for s in stemmers]
    table = pa.table({"leaf": pa.array([x[0] for x in keys], pa.int32()), "part": pa.array([x[1] for x in keys],
                      pa.int32()), "stemmer": pa.array([x[2] for x in keys], pa.string()),
                      "stem": pa.array([x[3] for x in keys], pa.string())})
    con.register(KEYS_VIEW, table)  # this connection's view of the Arrow table; _find unregisters it
    postings = [f"SELECT k.leaf, k.part, p.article_id, p.weight, p.length FROM search_postings p "
                f"JOIN {KEYS_VIEW} k ON p.stem = k.stem AND p.stemmer = k.stemmer"] if keys else []
    prefix_params = []
    for k, word in prefixes:
        postings.append(f"SELECT {k} AS leaf, 0 AS part, article_id, weight, length FROM search_postings "
                        "WHERE starts_with(word, ?)")
        prefix_params.append(word)
    # a phrase holds when its words do and its text has them in order; checked only where its words all are
    column = {leaf: f"coalesce(h.m{k}, false)" + (f" AND regexp_matches({_TEXT}, ?)" if isinstance(leaf, ql.Phrase)
                                                 else "") for k, leaf in enumerate(leaves)}
    column = {leaf: f"({flag})" for leaf, flag in column.items()}
    verify_params: list = []  # the phrases' patterns in the order _boolean writes their flags

    def collect(node: ql.Node) -> None:
        if isinstance(node, ql.Phrase):
            verify_params.append(_phrase_pattern(node.words))
        elif isinstance(node, ql.Not):
            collect(node.node)
        elif isinstance(node, ql.And | ql.Or):
            for n in node.nodes:
                collect(n)
    collect(parsed.root)
    (total, average) = con.execute("SELECT count(*), coalesce(avg(length), 0) FROM search_docs").fetchone()
    # The postings of the query's words, read once and grouped by article (the filters come after: applying them
    # first cost more than it saved, measured at a million articles): each leaf's weighted count (and, for a phrase, how many of its words the article holds), its flag and the
    # BM25 sum. A word's document frequency is its postings' count over all articles (a stem written two ways in
    # one article counts twice; a phrase takes its rarest word's): counted without grouping by article.
    k1, b, avgdl = BM25_K1, BM25_B, max(average, 1e-9)
    counts = ", ".join(f"sum(weight) FILTER (WHERE leaf = {k}) AS tf{k}"
                       + (f", count(DISTINCT part) FILTER (WHERE leaf = {k}) AS parts{k}" if needed[k] > 1 else "")
                       for k in range(len(leaves)))
    flags = ", ".join(f"tf{k} IS NOT NULL" + (f" AND parts{k} = {needed[k]}" if needed[k] > 1 else "") + f" AS m{k}"
                      for k in range(len(leaves)))
    dfs = ", ".join(f"min(n) FILTER (WHERE leaf = {k}) AS df{k}" for k in range(len(leaves)))
    score = " + ".join(f"CASE WHEN m{k} THEN ln(1 + greatest({total} - df{k} + 0.5, 0.5) / (df{k} + 0.5)) * tf{k} * "
                       f"{k1 + 1} / (tf{k} + {k1} * (1 - {b} + {b} * length / {avgdl})) ELSE 0 END"
                       for k, leaf in enumerate(leaves) if leaf in positive) or "0"
    everything = ql.evaluate(parsed.root, frozenset())  # true with no leaf present: start from every article
    if postings:
        per_leaf = f"""
            p AS MATERIALIZED ({' UNION ALL '.join(postings)}),
            counted AS (SELECT article_id, any_value(length) AS length, {counts}
                        FROM p GROUP BY article_id),
            df AS (SELECT {dfs} FROM (SELECT leaf, part, count(*) AS n FROM p GROUP BY leaf, part)),
            h AS (SELECT f.*, {score} AS score FROM (SELECT *, {flags} FROM counted) f, df)"""
    else:
        per_leaf = "h AS (SELECT NULL::TEXT AS article_id, 0.0 AS score)"
    base = ("articles a LEFT JOIN h USING (article_id)" if everything or not postings
            else "h JOIN articles a USING (article_id)")
    sql = f"""
        WITH {per_leaf}
        SELECT a.article_id, a.published, coalesce(h.score, 0) AS score
        FROM {base}
        WHERE {where} AND {_boolean(parsed.root, column)}"""
    # CTEs come first in the text, so their parameters do; then the filters, then the phrase checks
    return sql, prefix_params + params + verify_params


def _pickups(con: duckdb.DuckDBPyConnection, heads: dict[str, str]) -> dict[str, list[Pickup]]:
    """Each story's members other than its head hit, oldest first."""
    if not heads:
        return {}
    rows = con.execute(
        """SELECT k.cluster_id, a.article_id, a.source, a.url, a.published, k.match, k.similarity
           FROM article_clusters k JOIN articles a USING (article_id)
           WHERE list_contains(?, k.cluster_id) AND NOT list_contains(?, a.article_id)
           ORDER BY k.cluster_id, coalesce(a.published, a.first_seen), a.article_id""",
        [list(heads), list(heads.values())]).fetchall()
    found: dict[str, list[Pickup]] = {}
    for story, *rest in rows:
        found.setdefault(story, []).append(Pickup(*rest))
    return found
