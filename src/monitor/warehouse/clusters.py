"""Story clusters settled inside the write transaction (issue 23), so writers at once never split one story.

A run clusters its articles against what it read of the warehouse (`recent_docs`, once, at its first wave) and its
own earlier waves. Two runs writing at once each miss what the other commits meanwhile: each could found its own
cluster for two pickups of one story. The load's transaction, which on DuckLake first claims the `lake_writes` row
and therefore sees every commit before its own, settles that with the data:

1. a row of this batch whose cluster is named after an article now stored in another cluster (merged by an earlier
   settle) follows it there;
2. each article of this batch that founded its own cluster is compared with the window's articles the run's
   clustering never saw (ids not in `ClusterCheck.known`); on a match its whole cluster joins the match's, and the
   founder records what it duplicates, as one writer that had seen the match first would have recorded it.

Which articles match is the dedup stage's decision (`ClusterCheck.match`, pure); only the reading and the rows are
here. A run whose clustering saw everything (one writer at a time, the DuckDB file's case) finds nothing unseen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa

from monitor.models import DedupDoc, DedupResult

log = logging.getLogger("monitor.warehouse")


@dataclass(frozen=True)
class ClusterCheck:
    """What a load needs to settle its batch's clusters against articles other writers committed meanwhile."""

    known: frozenset[str]  # ids of the articles the run's clustering compared with: what it read, and its own
    window_days: int  # the dedup window, as `recent_docs` reads it
    # (founders, unseen) -> for each founder that matches an unseen article, its DedupResult naming that article
    match: Callable[[list[DedupDoc], list[DedupDoc]], list[DedupResult]]


# A cluster row as clustering reads it back; `{where}` picks the articles (our SQL, values bound).
_DOCS = """SELECT a.article_id, a.url, a.canonical_url, a.title, a.published, c.cluster_id, c.signature,
                  coalesce(c.shingle_count, 0), a.body_hash, CASE WHEN c.signature IS NULL THEN a.body ELSE '' END
           FROM articles a JOIN article_clusters c USING (article_id) WHERE {where}"""


def stored_docs(con: duckdb.DuckDBPyConnection, where: str, params: list) -> list[DedupDoc]:
    """Stored articles as clustering reads them (bodies only of those stored before their signatures were)."""
    rows = con.execute(_DOCS.format(where=where), params).fetchall()
    return [DedupDoc(r[0], r[9], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7], r[8]) for r in rows]


def settle(con: duckdb.DuckDBPyConnection, batch_ids: list[str], cluster_ids: list[str], check: ClusterCheck) -> int:
    """Steps 1 and 2 of the module's text for the articles `batch_ids` (in the clusters `cluster_ids`, as the run
    clustered them), inside the caller's write transaction; returns how many clusters were joined to another."""
    con.register("settle_batch", pa.table({"article_id": pa.array(batch_ids, pa.string())}))
    con.register("settle_known", pa.table({"article_id": pa.array(sorted(check.known), pa.string())}))
    try:
        if not set(cluster_ids) <= set(batch_ids):  # some row joined a story stored before: it may have moved
            con.execute("""UPDATE article_clusters SET cluster_id = f.cluster_id FROM article_clusters f
                           WHERE f.article_id = article_clusters.cluster_id
                             AND f.cluster_id <> article_clusters.cluster_id
                             AND article_clusters.article_id IN (SELECT article_id FROM settle_batch)""")
        since = datetime.now(timezone.utc) - timedelta(days=check.window_days)
        unseen = stored_docs(con, """a.first_seen >= ? AND a.article_id NOT IN (SELECT article_id FROM settle_known)
                               AND a.article_id NOT IN (SELECT article_id FROM settle_batch)""", [since])
        if not unseen:
            return 0
        founders = stored_docs(con, "c.cluster_id = c.article_id AND c.article_id IN (SELECT article_id FROM settle_batch)",
                         [])
        joined = 0
        for found in check.match(founders, unseen) if founders else []:
            (target,) = con.execute("SELECT cluster_id FROM article_clusters WHERE article_id = ?",
                                    [found.duplicate_of]).fetchone()
            if target == found.doc_id:
                continue  # the match is in this founder's cluster already
            con.execute("UPDATE article_clusters SET cluster_id = ? WHERE cluster_id = ?", [target, found.doc_id])
            con.execute("UPDATE article_clusters SET duplicate_of = ?, match = ?, similarity = ? WHERE article_id = ?",
                        [found.duplicate_of, found.match, found.similarity, found.doc_id])
            joined += 1
        if joined:
            log.info("%d stories this run had begun were joined to copies another writer committed meanwhile", joined)
        return joined
    finally:
        con.unregister("settle_batch")
        con.unregister("settle_known")
