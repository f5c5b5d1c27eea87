"""The search index's upkeep: the fts extension, tokenising and stemming new articles into postings, compaction."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

import duckdb

log = logging.getLogger("monitor.warehouse.search")  # the name these messages had before the split (issue 22)

# Weights of a word by where it stands: the title says what an article is about, the lead (its first words) says
# it again, captions are short and chosen; the rest of the body counts once per occurrence.
TITLE_WEIGHT, LEAD_WEIGHT, CAPTION_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.5, 1.0
LEAD_WORDS = 50  # about the first paragraph of a news article
MAX_WORD = 40  # longer "words" are URLs, hashes or base64, never searched for
# The postings are rewritten in stem order when the rows every query reads outside the sorted part would pass
# COMPACT_READ_ROWS (a few tens of milliseconds of scanning); a load's own sorted rows cost a query about two of
# DuckDB's row groups (122,880 rows each) however many there are (see _compact_if_due). With runs of a hundred
# articles (some 6,000 postings) that is a rewrite every ~60,000 articles loaded.
# Articles tokenised per step: the first load after migration 007 indexes every stored article, a chunk at a time,
# so memory stays at a chunk's words (about 50 MB per 10,000 articles), not the warehouse's.
INDEX_CHUNK = 50_000
COMPACT_READ_ROWS = 4_000_000
COMPACT_MEMORY = "2GB"  # DuckDB's memory limit while it sorts the postings (a shared machine; the rest spills)
SORTED_RUN_READ = 2 * 122_880
# A word in the index: letters, digits and combining marks (as monitor.query.words reads a query).
WORD_PATTERN = r"[\p{L}\p{N}\p{M}]+"
# ISO 639-1 -> the Snowball stemmer of that language in DuckDB's fts extension; others are indexed unstemmed.
STEMMERS = {"ar": "arabic", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch", "en": "english",
            "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian",
            "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian",
            "nb": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
            "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish"}


# --- the extension ------------------------------------------------------------------------------------------------

def fts_extension() -> Path | None:
    """The fts extension shipped on PyPI for this exact DuckDB version; None when not installed or not matching."""
    try:
        import duckdb_extension_fts
    except ImportError:
        return None
    found = Path(duckdb_extension_fts.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "fts.duckdb_extension"
    return found if found.exists() else None


def load_fts(con: duckdb.DuckDBPyConnection) -> bool:
    """Load the fts extension into this connection (any connection, read-only too); False, with a warning logged
    once per process, when it cannot be."""
    path = fts_extension()
    if path is None:
        _warn_once(f"the DuckDB fts extension is not installed (pip install duckdb-extension-fts=={duckdb.__version__})"
                   "; search falls back to a slower scan of every text")
        return False
    try:
        con.execute(f"LOAD '{str(path).replace(chr(39), chr(39) * 2)}'")
        return True
    except duckdb.Error as exc:
        _warn_once(f"the DuckDB fts extension did not load ({str(exc).splitlines()[0]}); search falls back to a "
                   "slower scan of every text")
        return False


@functools.lru_cache(maxsize=8)
def _warn_once(message: str) -> None:
    log.warning(message)


# --- keeping the index ----------------------------------------------------------------------------------------------

def _stemmer_values() -> str:
    return ", ".join(f"('{code}', '{name}')" for code, name in STEMMERS.items())  # our constants


def index_new(con: duckdb.DuckDBPyConnection, at_most: int | None = None) -> int:
    """Index every stored article the index does not hold yet (or `at_most` of them); returns how many. Runs in the
    caller's transaction (the load's), so articles and their postings land together. Needs the fts extension."""
    (missing,) = con.execute("SELECT (SELECT count(*) FROM articles) - (SELECT count(*) FROM search_docs)").fetchone()
    if missing <= 0:
        return 0
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE search_tokens AS
        WITH new AS (
            SELECT article_id FROM articles a
            WHERE NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.article_id = a.article_id)
            {f'LIMIT {int(at_most)}' if at_most else ''}
        ), caption_text AS (
            SELECT article_id, string_agg(text, ' ' ORDER BY position) AS text FROM captions
            WHERE article_id IN (SELECT article_id FROM new) GROUP BY article_id
        ), todo AS (
            SELECT a.article_id, coalesce(s.stemmer, 'none') AS stemmer,
                   regexp_extract_all(lower(coalesce(a.title, '')), '{WORD_PATTERN}') AS t,
                   regexp_extract_all(lower(a.body), '{WORD_PATTERN}') AS b,
                   regexp_extract_all(lower(coalesce(c.text, '')), '{WORD_PATTERN}') AS c
            FROM new JOIN articles a USING (article_id) LEFT JOIN caption_text c USING (article_id)
                 LEFT JOIN (VALUES {_stemmer_values()}) s(code, stemmer)
                 ON s.code = lower(split_part(a.language, '-', 1))
        ), words AS (
            SELECT article_id, stemmer, unnest(t) AS word, {TITLE_WEIGHT} AS w FROM todo
            UNION ALL SELECT article_id, stemmer, unnest(list_slice(b, 1, {LEAD_WORDS})), {LEAD_WEIGHT} FROM todo
            UNION ALL SELECT article_id, stemmer, unnest(list_slice(b, {LEAD_WORDS + 1}, len(b))), {BODY_WEIGHT}
                      FROM todo
            UNION ALL SELECT article_id, stemmer, unnest(c), {CAPTION_WEIGHT} FROM todo
        )
        SELECT t.article_id, any_value(t.stemmer) AS stemmer, w.word, sum(w.w) AS weight
        FROM (SELECT article_id, stemmer FROM todo) t LEFT JOIN words w USING (article_id)
        WHERE w.word IS NULL OR length(w.word) <= {MAX_WORD}
        GROUP BY t.article_id, w.word""")
    # On a failure the caller rolls its transaction back, and these temporary tables with it: a DROP here would
    # only fail again on the aborted transaction and hide the first error (a full disk).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE search_stems AS
        SELECT stemmer, word, stem(word, stemmer) AS stem
        FROM (SELECT DISTINCT stemmer, word FROM search_tokens WHERE word IS NOT NULL)""")
    con.execute("""
        INSERT INTO search_docs
        SELECT article_id, any_value(stemmer), coalesce(sum(weight), 0) FROM search_tokens GROUP BY article_id""")
    con.execute("""
        INSERT INTO search_postings
        SELECT t.article_id, t.word, s.stem, t.stemmer, t.weight, d.length
        FROM search_tokens t JOIN search_stems s USING (stemmer, word)
             JOIN search_docs d USING (article_id)
        ORDER BY s.stem""")
    count, added = con.execute("SELECT count(DISTINCT article_id), count(word) FROM search_tokens").fetchone()
    con.execute("DROP TABLE IF EXISTS search_tokens")
    con.execute("DROP TABLE IF EXISTS search_stems")
    _compact_if_due(con, added)
    return count


def _compact_if_due(con: duckdb.DuckDBPyConnection, added: int) -> None:
    """Rewrite the postings in stem order once the rows a query must read beyond the sorted part pass
    COMPACT_READ_ROWS. DuckDB keeps each row group's smallest and largest stem, so a query reads only the row groups
    that can hold its stems. Each load appends its rows sorted among themselves: a big load's rows span many row
    groups of which a query reads about SORTED_RUN_READ; a small run's share a row group with other loads' and are
    read in full. Those reads add up load by load until a rewrite puts everything in order again."""
    pending = (con.execute("SELECT max(pending_reads) FROM search_index_state").fetchone()[0] or 0) \
        + min(added, SORTED_RUN_READ)
    if pending < COMPACT_READ_ROWS:
        con.execute("DELETE FROM search_index_state")
        con.execute("INSERT INTO search_index_state VALUES (?, now())", [pending])
        return
    began = time.perf_counter()
    # the sorted copy is a table in the warehouse, not a temporary one (those live in memory: 11 GB at a million
    # articles), and the sort spills to disk beyond COMPACT_MEMORY
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.execute(f"SET memory_limit = '{COMPACT_MEMORY}'")
    try:
        con.execute("CREATE OR REPLACE TABLE search_postings_sorted AS SELECT * FROM search_postings ORDER BY stem")
        con.execute("DROP TABLE search_postings")
        con.execute("ALTER TABLE search_postings_sorted RENAME TO search_postings")
    finally:
        con.execute(f"SET memory_limit = '{limit}'")
    con.execute("DELETE FROM search_index_state")
    con.execute("INSERT INTO search_index_state VALUES (0, now())")
    log.info("search index: postings rewritten in stem order in %.1f s", time.perf_counter() - began)


def indexed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every stored article is in the index (so the index answers for all of them)."""
    try:
        (missing,) = con.execute(
            "SELECT (SELECT count(*) FROM articles) - (SELECT count(*) FROM search_docs)").fetchone()
    except duckdb.CatalogException:  # a warehouse from before migration 007, opened read-only
        return False
    return missing <= 0
