"""The only DuckDB code: one short write transaction per run, read-only connections for everything else.

Rows go in through Arrow tables and `INSERT ... ON CONFLICT`, so loading the same batch twice adds nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from monitor.config import Source, resource_path
from monitor.models import DedupDoc, LoadBatch, text_hash

log = logging.getLogger(__name__)


class WarehouseError(Exception):
    """The warehouse cannot be opened or written; the message names the file and the fix."""


class QueryError(Exception):
    """A user's SQL failed; the message is DuckDB's."""


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise WarehouseError(f"{path} is locked by another process (a running flow?); retry when it ends") from None
        raise WarehouseError(f"cannot open {path}: {first}") from None


def init(path: Path) -> None:
    """Create the warehouse file and apply the schema (idempotent)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create {path.parent}: {exc.strerror}; choose another --warehouse") from None
    with _connect(path, read_only=False) as con:
        con.execute(resource_path("warehouse/schema.sql").read_text(encoding="utf-8"))


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing warehouse."""
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}; run `monitor run` or `monitor demo` first, or pass --warehouse")
    return _connect(path, read_only=True)


def feed_validators(path: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Per source: the (etag, last_modified, body_hash) of its last successful fetch."""
    with read_only(path) as con:
        rows = con.execute(
            """SELECT source, etag, last_modified, body_hash FROM feed_fetches
               WHERE status IN ('ok', 'unchanged', 'not-modified')
               QUALIFY row_number() OVER (PARTITION BY source ORDER BY fetched_at DESC) = 1"""
        ).fetchall()
    return {source: (etag, last_modified, digest) for source, etag, last_modified, digest in rows}


def link_articles(path: Path, links: list[str]) -> dict[str, str | None]:
    """The links already done, each with its article id (None when the link was permanently rejected)."""
    if not links:
        return {}
    candidates = pa.table({"link": pa.array(sorted(set(links)), pa.string())})
    with read_only(path) as con:
        con.register("candidates", candidates)
        rows = con.execute(
            """SELECT c.link, any_value(a.article_id) FROM candidates c
               LEFT JOIN articles a ON c.link = a.url OR c.link = a.canonical_url
               WHERE a.article_id IS NOT NULL OR c.link IN (SELECT url FROM rejections WHERE NOT transient)
               GROUP BY c.link"""
        ).fetchall()
    return dict(rows)


def pending_entries(path: Path, sources: list[str]) -> list[tuple[str, str, str | None]]:
    """(source, link, entry_id) of entries stored without an article and not permanently rejected,
    so a crashed or partly failed run is finished by the next one even when the feed has not changed."""
    with read_only(path) as con:
        return con.execute(
            """SELECT e.source, e.link, e.entry_id FROM entries e
               WHERE e.article_id IS NULL AND e.link IS NOT NULL AND list_contains(?, e.source)
                 AND e.link NOT IN (SELECT url FROM rejections WHERE NOT transient)""",
            [sources],
        ).fetchall()


def recent_docs(path: Path, window_days: int) -> list[DedupDoc]:
    """Articles first seen within the window, with their clusters, for cross-run deduplication."""
    since = datetime.now(timezone.utc) - timedelta(days=window_days)
    with read_only(path) as con:
        rows = con.execute(
            """SELECT a.article_id, a.body, a.url, a.canonical_url, a.title, a.published, c.cluster_id
               FROM articles a JOIN article_clusters c USING (article_id) WHERE a.first_seen >= ?""",
            [since],
        ).fetchall()
    return [DedupDoc(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6]) for r in rows]


def upsert_sources(path: Path, sources: list[Source]) -> None:
    """Record the registry as configured now."""
    now = datetime.now(timezone.utc)
    table = pa.table({
        "name": [s.name for s in sources], "url": [s.url for s in sources], "site": [s.site for s in sources],
        "language": [s.language for s in sources], "country": [s.country for s in sources],
        "tags": pa.array([list(s.tags) for s in sources], pa.list_(pa.string())),
        "schedule": [s.schedule for s in sources], "updated_at": pa.array([now] * len(sources), pa.timestamp("us", "UTC")),
    })
    with _connect(path, read_only=False) as con:
        con.register("src", table)
        con.execute("""INSERT INTO sources SELECT * FROM src ON CONFLICT (name) DO UPDATE SET
                       url = excluded.url, site = excluded.site, language = excluded.language,
                       country = excluded.country, tags = excluded.tags, schedule = excluded.schedule,
                       updated_at = excluded.updated_at""")


def _ts(values: list) -> pa.Array:
    return pa.array(values, pa.timestamp("us", "UTC"))


def _tables(batch: LoadBatch, now: datetime) -> dict[str, pa.Table]:
    """The batch as one Arrow table per warehouse table."""
    run_id = batch.run.run_id
    fetches = [(f, p) for f, p in batch.feed_fetches]
    tables = {
        "feed_fetches": pa.table({
            "run_id": [run_id] * len(fetches), "source": [f.source for f, _ in fetches],
            "url": [f.url for f, _ in fetches], "fetched_at": _ts([now] * len(fetches)),
            "status": [f.status for f, _ in fetches], "http_status": pa.array([f.http_status for f, _ in fetches], pa.int32()),
            "etag": [f.etag for f, _ in fetches], "last_modified": [f.last_modified for f, _ in fetches],
            "body_hash": [f.body_hash for f, _ in fetches],
            "entries": pa.array([len(p.entries) if p else None for _, p in fetches], pa.int32()),
            "new_entries": pa.array([batch.run.counts.get(f"new-entries:{f.source}", 0) for f, _ in fetches], pa.int32()),
            "bozo": pa.array([p.bozo if p else None for _, p in fetches], pa.bool_()),
            "error": [f.error or (p.error if p else None) or (p.bozo_reason if p else None) for f, p in fetches],
            "elapsed_ms": pa.array([f.elapsed_ms for f, _ in fetches], pa.int32()),
        }),
        "entries": pa.table({
            "entry_id": [e.entry_id for e, _ in batch.entries], "source": [e.source for e, _ in batch.entries],
            "guid": [e.guid for e, _ in batch.entries], "link": [e.link for e, _ in batch.entries],
            "raw_link": [e.raw_link for e, _ in batch.entries], "title": [e.title for e, _ in batch.entries],
            "published": _ts([e.published for e, _ in batch.entries]),
            "first_seen": _ts([now] * len(batch.entries)), "article_id": [a for _, a in batch.entries],
        }),
        "articles": pa.table({
            "article_id": [a.article_id for a in batch.articles], "url": [a.url for a in batch.articles],
            "canonical_url": [a.canonical_url for a in batch.articles], "source": [a.source for a in batch.articles],
            "title": [a.title for a in batch.articles], "published": _ts([a.published for a in batch.articles]),
            "first_seen": _ts([now] * len(batch.articles)), "language": [a.language for a in batch.articles],
            "author": [a.author for a in batch.articles], "site_name": [a.site_name for a in batch.articles],
            "body": [a.body for a in batch.articles], "body_hash": [text_hash(a.body) for a in batch.articles],
            "extraction_method": [a.extraction_method for a in batch.articles], "run_id": [run_id] * len(batch.articles),
        }),
    }
    caps = [(a.article_id, i, c.text, c.credit) for a in batch.articles for i, c in enumerate(a.captions)]
    tables["captions"] = pa.table({k: [c[i] for c in caps] for i, k in enumerate(("article_id", "position", "text", "credit"))},
                                  schema=pa.schema([("article_id", pa.string()), ("position", pa.int32()),
                                                    ("text", pa.string()), ("credit", pa.string())]))
    countries = [(t.doc_id, c, float(t.mentions.get(c, 0)), c in t.about, c in t.caption_countries)
                 for t in batch.tags for c in t.countries]
    tables["article_countries"] = pa.table(
        {k: pa.array([r[i] for r in countries], ty) for i, (k, ty) in enumerate(
            (("article_id", pa.string()), ("country", pa.string()), ("mentions", pa.float64()),
             ("is_about", pa.bool_()), ("in_caption", pa.bool_())))})
    regions = [(t.doc_id, r) for t in batch.tags for r in t.regions]
    tables["article_regions"] = pa.table({"article_id": pa.array([r[0] for r in regions], pa.string()),
                                          "region": pa.array([r[1] for r in regions], pa.string())})
    topics = [(t.doc_id, s.code, s.label, s.score, rank, batch.taxonomy, batch.taxonomy_version)
              for t in batch.tags for rank, s in enumerate(t.topics, 1)]
    tables["article_topics"] = pa.table(
        {k: pa.array([r[i] for r in topics], ty) for i, (k, ty) in enumerate(
            (("article_id", pa.string()), ("code", pa.string()), ("label", pa.string()), ("score", pa.float64()),
             ("rank", pa.int32()), ("taxonomy", pa.string()), ("taxonomy_version", pa.string())))})
    tables["article_clusters"] = pa.table({
        "article_id": pa.array([c.doc_id for c in batch.clusters], pa.string()),
        "cluster_id": pa.array([c.cluster for c in batch.clusters], pa.string()),
        "duplicate_of": pa.array([c.duplicate_of for c in batch.clusters], pa.string()),
        "match": pa.array([c.match for c in batch.clusters], pa.string()),
        "similarity": pa.array([c.similarity for c in batch.clusters], pa.float64()),
    })
    rej = batch.rejections
    tables["rejections"] = pa.table({
        "url": pa.array([r.url for r in rej], pa.string()), "stage": pa.array([r.stage for r in rej], pa.string()),
        "reason": pa.array([r.reason for r in rej], pa.string()), "detail": pa.array([r.detail for r in rej], pa.string()),
        "source": pa.array([r.source for r in rej], pa.string()), "transient": pa.array([r.transient for r in rej], pa.bool_()),
        "first_seen": _ts([now] * len(rej)), "last_seen": _ts([now] * len(rej)), "run_id": pa.array([run_id] * len(rej), pa.string()),
    })
    return tables


# Insert statements per table: the conflict clause is what makes a repeated load a no-op.
_INSERTS = {
    "feed_fetches": "INSERT INTO feed_fetches SELECT * FROM feed_fetches_in ON CONFLICT DO NOTHING",
    "entries": """INSERT INTO entries SELECT * FROM entries_in ON CONFLICT (entry_id) DO UPDATE
                  SET article_id = coalesce(entries.article_id, excluded.article_id)""",
    "articles": "INSERT INTO articles SELECT * FROM articles_in ON CONFLICT DO NOTHING",
    "captions": "INSERT INTO captions SELECT * FROM captions_in ON CONFLICT DO NOTHING",
    "article_countries": "INSERT INTO article_countries SELECT * FROM article_countries_in ON CONFLICT DO NOTHING",
    "article_regions": "INSERT INTO article_regions SELECT * FROM article_regions_in ON CONFLICT DO NOTHING",
    "article_topics": "INSERT INTO article_topics SELECT * FROM article_topics_in ON CONFLICT DO NOTHING",
    "article_clusters": "INSERT INTO article_clusters SELECT * FROM article_clusters_in ON CONFLICT DO NOTHING",
    "rejections": """INSERT INTO rejections SELECT * FROM rejections_in ON CONFLICT (url, stage) DO UPDATE
                     SET reason = excluded.reason, detail = excluded.detail, transient = excluded.transient,
                         last_seen = excluded.last_seen, run_id = excluded.run_id""",
}


def load(path: Path, batch: LoadBatch) -> None:
    """Write one run's results in a single transaction: all of it lands, or none of it."""
    now = datetime.now(timezone.utc)
    tables = _tables(batch, now)
    run = batch.run
    with _connect(path, read_only=False) as con:
        try:
            con.execute("BEGIN TRANSACTION")
            for name, table in tables.items():
                if table.num_rows:
                    con.register(f"{name}_in", table)
                    con.execute(_INSERTS[name])
                    con.unregister(f"{name}_in")
            # Entries stored earlier without an article (a failed or interrupted run) get it once it exists.
            con.execute("""UPDATE entries SET article_id = a.article_id FROM articles a
                           WHERE entries.article_id IS NULL AND entries.link IN (a.url, a.canonical_url)""")
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [run.run_id, run.flow_run_id, run.started_at, run.finished_at, run.status,
                 list(run.sources), json.dumps(run.counts, sort_keys=True)],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"load into {path} failed and was rolled back: {str(exc).splitlines()[0]}") from exc
    log.info("loaded run %s: %d articles, %d entries, %d rejections",
             run.run_id, len(batch.articles), len(batch.entries), len(batch.rejections))


def query(path: Path, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    """Run SQL on a read-only connection; returns (column names, rows). Bad SQL raises QueryError."""
    with read_only(path) as con:
        try:
            cursor = con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise QueryError(str(exc).strip()) from None
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


def table_counts(path: Path) -> dict[str, int]:
    """Row counts of every base table."""
    with read_only(path) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # names from the catalog
