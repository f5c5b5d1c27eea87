"""The only DuckDB code: one short write transaction per run, read-only connections for everything else.

Rows go in through Arrow tables and inserts that skip keys already held, so loading the same batch twice adds
nothing. The warehouse is a DuckDB file, or a DuckLake catalog ("ducklake:<catalog>") for many readers and writers.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from monitor.config import Source
from monitor.models import Article, Caption, DedupDoc, FeedState, LoadBatch, Tags, text_hash  # noqa: F401
from monitor.warehouse import connection  # noqa: F401 - `warehouse.connection` for callers and tests
from monitor.warehouse.clusters import ClusterCheck, settle, stored_docs
from monitor.warehouse.connection import (  # noqa: F401 - the package's API, re-exported
    QueryError, WarehouseError, _connect, _first_line, _open_for_writing, _rollback, _sandbox, exists, migrate,
    migrations, read_only, require, run_lock, schema_version, transaction)
from monitor.warehouse.tables import (  # noqa: F401 - Arrow shapes and writes, importable from here as before
    _B, _COLUMNS, _F, _I, _S, _T, _WRITES, KEYS, NOT_FOUND_RETRY, TRANSIENT_RETRY, _arrow, _first_retry, _insert_new,
    _regions, _tables, _tag_rows, _unique)
from monitor.warehouse.runs import stored_runs, write_run  # noqa: F401 - a run's own rows, `stored_runs` for the CLI

log = logging.getLogger(__name__)

UNSUPPORTED_LANGUAGE = "unsupported-language"  # the `Tags.status` of an article in a language the tagger cannot read


def init(path: Path) -> None:
    """Create the warehouse file and apply the schema (idempotent)."""
    _open_for_writing(path).close()


def prepare(path: Path, sources: list[Source], configured: list[str] | None = None) -> dict[str, FeedState]:
    """A run's start, in one connection: apply the schema, record the sources as configured now, retire the
    recorded sources not among `configured` (every name in sources.toml; None: retire nothing), and return
    every feed's polling state."""
    with _open_for_writing(path) as con:
        try:
            def record(c: duckdb.DuckDBPyConnection) -> None:
                _upsert_sources(c, sources)
                if configured is not None:  # configured again (put back in the file): active again
                    c.execute("UPDATE sources SET retired_at = NULL WHERE list_contains(?, name)", [configured])
                    _retire(c, "NOT list_contains(?, name)", [configured])

            transaction(con, path, record)
        except duckdb.Error as exc:
            raise WarehouseError(f"recording the sources in {path} failed and was rolled back ({_first_line(exc)})"
                                 ) from None
        return _feed_states(con)


def _retire(con: duckdb.DuckDBPyConnection, where: str, params: list) -> list[str]:
    # selected, then updated: DuckLake has no UPDATE ... RETURNING
    names = sorted(r[0] for r in con.execute(
        f"SELECT name FROM sources WHERE retired_at IS NULL AND {where}", params).fetchall())
    if names:
        con.execute("UPDATE sources SET retired_at = now() WHERE list_contains(?, name)", [names])
        log.info("retired sources no longer configured: %s", ", ".join(names))
    return names


def retire_sources(path: Path, names: list[str]) -> dict[str, int]:
    """Mark these sources retired (no longer configured): their rows stay, the views of active sources leave them
    out. Returns, for each source retired now, how many articles it keeps in the warehouse."""
    with _open_for_writing(path) as con:
        retired = _retire(con, "list_contains(?, name)", [names])
        rows = con.execute("SELECT source, count(*) FROM articles WHERE list_contains(?, source) GROUP BY source",
                           [retired]).fetchall()
    kept = dict(rows)
    return {name: kept.get(name, 0) for name in retired}


def retired_sources(path: Path) -> dict[str, datetime]:
    """Every retired source with when it was retired."""
    with read_only(path) as con:
        return dict(con.execute("SELECT name, retired_at FROM sources WHERE retired_at IS NOT NULL").fetchall())


def feed_states(path: Path) -> dict[str, FeedState]:
    """Every feed's polling state, read-only; empty when there is no warehouse yet (a dry run's view)."""
    if not exists(path):
        return {}
    with read_only(path) as con:
        return _feed_states(con)


def _feed_states(con: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    names = [name for name, _ in _COLUMNS["feed_state"]]
    rows = con.execute(f"SELECT {', '.join(names)} FROM feed_state").fetchall()  # names are ours
    return {row[0]: FeedState(**dict(zip(names, row))) for row in rows}


def feed_health(path: Path) -> dict[str, dict]:
    """The `feed_health` view, one dict per source name."""
    columns, rows = query(path, "SELECT * FROM feed_health ORDER BY source")
    return {row[0]: dict(zip(columns, row)) for row in rows}


# A rejection holds its page back while its next attempt is in the future, or for good when it has none.
HELD_BACK = "(next_attempt IS NULL OR next_attempt > now())"


def retry_rejected(path: Path, sources: list[str]) -> int:
    """Make the rejected pages of these sources due now, final ones included; returns how many."""
    with _open_for_writing(path) as con:
        (count,) = transaction(con, path, lambda c: c.execute(
            "UPDATE rejections SET next_attempt = now() WHERE stage <> 'feed' AND list_contains(?, source)",
            [sources]).fetchone())
    return count


def link_articles(path: Path, links: list[str]) -> dict[str, str | None]:
    """The links already done, each with its article id (None when the link was rejected and is not due again)."""
    if not links:
        return {}
    candidates = pa.table({"link": pa.array(sorted(set(links)), pa.string())})
    with read_only(path) as con:
        con.register("candidates", candidates)
        rows = con.execute(
            f"""SELECT c.link, any_value(a.article_id) FROM candidates c
               LEFT JOIN articles a ON c.link = a.url OR c.link = a.canonical_url
               WHERE a.article_id IS NOT NULL OR c.link IN (SELECT url FROM rejections WHERE {HELD_BACK})
               GROUP BY c.link"""
        ).fetchall()
    return dict(rows)


def pending_entries(path: Path, sources: list[str]) -> list[tuple[str, str, str | None]]:
    """(source, link, entry_id) of entries stored without an article and not rejected until later (or for good),
    so a crashed or partly failed run is finished by the next one even when the feed has not changed."""
    with read_only(path) as con:
        return con.execute(
            f"""SELECT e.source, e.link, e.entry_id FROM entries e
               WHERE e.article_id IS NULL AND e.link IS NOT NULL AND list_contains(?, e.source)
                 AND e.link NOT IN (SELECT url FROM rejections WHERE {HELD_BACK})""",
            [sources],
        ).fetchall()


def recent_docs(path: Path, window_days: int) -> list[DedupDoc]:
    """Articles first seen within the window, with their clusters and stored signatures, for cross-run dedup.

    Bodies are read only for articles stored before signatures were (their signature is computed once more).
    """
    since = datetime.now(timezone.utc) - timedelta(days=window_days)
    with read_only(path) as con:
        return stored_docs(con, "a.first_seen >= ?", [since])


def _upsert_sources(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> None:
    """Record the registry as configured now: its rows are replaced (delete, then insert), so the caller runs this
    in a transaction, or a failed insert would leave those sources unrecorded."""
    now = datetime.now(timezone.utc)
    table = pa.table({
        "name": [s.name for s in sources], "url": [s.url for s in sources], "site": [s.site for s in sources],
        "language": [s.language_label for s in sources], "country": [s.country for s in sources],
        "tags": pa.array([list(s.tags) for s in sources], pa.list_(pa.string())),
        "schedule": [s.schedule for s in sources], "updated_at": pa.array([now] * len(sources), pa.timestamp("us", "UTC")),
        "retired_at": pa.array([None] * len(sources), pa.timestamp("us", "UTC")),  # configured again: active
    })
    con.register("src", table)
    con.execute("DELETE FROM sources WHERE name IN (SELECT name FROM src)")
    con.execute("INSERT INTO sources SELECT * FROM src")
    con.unregister("src")


def load(path: Path, batch: LoadBatch, check: ClusterCheck | None = None) -> None:
    """Write one batch of a run in a single transaction: all of it lands, or none of it. With `check`, the batch's
    story clusters are settled in that transaction against what other writers committed meanwhile
    (warehouse/clusters.py), so runs writing at once never split one story into two clusters."""
    began = time.perf_counter()
    now = datetime.now(timezone.utc)
    tables = _tables(batch, now)
    run, run_id = batch.run, batch.run_id or (batch.run.run_id if batch.run else "")
    from monitor.warehouse import search_index

    def write(con: duckdb.DuckDBPyConnection) -> None:
        for name, table in tables.items():
            if table.num_rows:
                con.register(f"{name}_in", table)
                for statement in _WRITES[name]:
                    con.execute(statement)
                con.unregister(f"{name}_in")
        if check is not None and tables["article_clusters"].num_rows:
            clusters = tables["article_clusters"]
            settle(con, clusters["article_id"].to_pylist(), clusters["cluster_id"].to_pylist(), check)
        if indexing:  # the search index takes in this batch's articles (and any the index lacks) with them,
            while search_index.index_new(con, at_most=search_index.INDEX_CHUNK):  # a chunk at a time (memory)
                pass
        # Entries stored earlier without an article (a failed or interrupted run) get it once it exists;
        # only this run's articles can be new to them (older ones were known when the entries were stored).
        con.execute("""UPDATE entries SET article_id = a.article_id FROM articles a
                       WHERE entries.article_id IS NULL AND a.run_id = ?
                         AND entries.link IN (a.url, a.canonical_url)""", [run_id])
        if run is not None:
            write_run(con, run, {**run.stage_seconds, "load": round(time.perf_counter() - began, 3)})

    with _connect(path, read_only=False) as con:
        indexing = search_index.load_fts(con)  # without it articles stay unindexed and search scans (a logged warning)
        try:
            transaction(con, path, write)
        except duckdb.Error as exc:
            raise WarehouseError(f"load into {path} failed, all or nothing of this batch stored "
                                 f"({_first_line(exc)}); fix the cause and run again to complete it") from None
    log.info("loaded run %s batch: %d articles, %d entries, %d rejections",
             run_id, len(batch.articles), len(batch.entries), len(batch.rejections))


def articles_for_tagging(path: Path, since: datetime | None, batch_size: int, not_version: str | None = None,
                         version: str | None = None):
    """Stored articles published (or, undated, first seen) on or after `since`, as batches of `Article`s with
    what tagging reads (title, body, captions, language), in article_id order so memory stays at one batch.

    `not_version` keeps only articles whose tagging record names another tagger version (or none: tagged before
    versions were recorded, or never); `version` keeps only those that version tagged."""
    after = ""
    while True:
        with read_only(path) as con:
            rows = con.execute(
                """SELECT a.article_id, a.url, a.canonical_url, coalesce(a.title, ''), coalesce(a.body, ''),
                          coalesce(list(c.text ORDER BY c.position) FILTER (WHERE c.text IS NOT NULL), []),
                          a.language, a.source
                   FROM articles a LEFT JOIN captions c USING (article_id)
                   LEFT JOIN article_tagging g USING (article_id)
                   WHERE a.article_id > ? AND (? IS NULL OR coalesce(a.published, a.first_seen) >= ?)
                     AND (? IS NULL OR g.tagger_version IS DISTINCT FROM ?) AND (? IS NULL OR g.tagger_version = ?)
                   GROUP BY ALL ORDER BY a.article_id LIMIT ?""",
                [after, since, since, not_version, not_version, version, version, batch_size]).fetchall()
        if not rows:
            return
        yield [Article(r[0], r[1], r[2], r[3], r[4], captions=tuple(Caption(text) for text in r[5]), language=r[6],
                       source=r[7]) for r in rows]
        after = rows[-1][0]


def replace_tags(path: Path, tags: list[Tags], taxonomy: str, taxonomy_version: str) -> dict[str, int]:
    """Swap the stored tags and tagging records of these articles for `tags` in one transaction; count what
    changed."""
    ids = [t.doc_id for t in tags]
    now = datetime.now(timezone.utc)
    tables = {name: _arrow(name, rows) for name, rows in _tag_rows(tags, taxonomy, taxonomy_version, now).items()}

    def swap(con: duckdb.DuckDBPyConnection) -> dict:
        before = _tag_sets(con, ids)
        for name, table in tables.items():
            _replace_rows(con, name, ids, table)
        return before

    with _connect(path, read_only=False) as con:
        try:
            before = transaction(con, path, swap)
        except duckdb.Error as exc:
            raise WarehouseError(f"re-tag in {path} failed, all or nothing of this batch stored ({_first_line(exc)}); "
                                 "run it again") from None
    return {
        "articles": len(tags),
        "countries_changed": sum(before["countries"].get(t.doc_id, set()) != set(t.countries) for t in tags),
        "topics_changed": sum(before["topics"].get(t.doc_id) != _top_topic(t) for t in tags),
        "unsupported_language": sum(t.status == UNSUPPORTED_LANGUAGE for t in tags),
    }


def _replace_rows(con: duckdb.DuckDBPyConnection, name: str, ids: list[str], table: pa.Table) -> None:
    """Replace the rows of these articles in table `name` (ours) by `table`'s, inside the caller's transaction."""
    con.execute(f"DELETE FROM {name} WHERE article_id IN (SELECT unnest(?))", [ids])
    if table.num_rows:
        con.register(f"{name}_in", table)
        for statement in _WRITES[name]:
            con.execute(statement)
        con.unregister(f"{name}_in")


def _top_topic(t: Tags) -> str | None:
    return t.topics[0].code if t.topics else None


def _tag_sets(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, dict]:
    countries: dict[str, set[str]] = {}
    for article_id, country in con.execute(
            "SELECT article_id, country FROM article_countries WHERE article_id IN (SELECT unnest(?))", [ids]).fetchall():
        countries.setdefault(article_id, set()).add(country)
    topics = dict(con.execute(
        "SELECT article_id, code FROM article_topics WHERE rank = 1 AND article_id IN (SELECT unnest(?))", [ids]).fetchall())
    return {"countries": countries, "topics": topics}


def query(path: Path, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    """Run SQL on a read-only, sandboxed connection; returns (column names, rows). Bad SQL raises QueryError."""
    if not sql.strip():
        raise QueryError("the query is empty: give a SQL statement, for example \"SELECT count(*) FROM articles\"")
    with read_only(path) as con:
        _sandbox(con, path)
        try:
            cursor = con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise QueryError(str(exc).strip()) from None
        if cursor is None or cursor.description is None:  # a statement that returns nothing
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


def query_to_parquet(path: Path, sql: str, out: Path) -> int:
    """Run SQL read-only and write the result to a Parquet file; returns the row count. Bad SQL raises QueryError."""
    import pyarrow.parquet as pq

    if not sql.strip():
        raise QueryError("the query is empty: give a SQL statement, for example \"SELECT count(*) FROM articles\"")
    with read_only(path) as con:
        _sandbox(con, path)
        try:
            table = con.execute(sql).fetch_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(str(exc).strip()) from None
    try:
        pq.write_table(table, out)
    except OSError as exc:
        raise WarehouseError(f"cannot write {out}: {exc}") from None
    return table.num_rows


def table_counts(path: Path) -> dict[str, int]:
    """Row counts of every base table."""
    with read_only(path) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # names from the catalog
