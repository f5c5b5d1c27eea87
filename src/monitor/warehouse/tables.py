"""The loaded tables as Arrow: column names and types, a batch's rows, and the statements that write them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pyarrow as pa

from monitor.models import LoadBatch, Tags, text_hash

log = logging.getLogger("monitor.warehouse")  # the name these messages had before the split (issue 22)

# When a rejected page is fetched again (issue 18). A transient failure (timeout, 5xx, 429, a busy host) is retried
# by later runs, the first after 15 minutes, each wait twice the last, never more than a day (96 x 15 min); a 404
# waits a day, then a week (sites do fix links, rarely within hours); anything else (410 gone, not HTML, too short)
# is final. `monitor run --retry-rejected` makes every one due now. Attempt k waits FIRST * GROWTH^(k-1), capped.
TRANSIENT_RETRY = (timedelta(minutes=15), 2, 96)  # (first wait, growth per attempt, cap as a multiple of the first)
NOT_FOUND_RETRY = (timedelta(days=1), 7, 7)


def _first_retry(transient: bool, reason: str, now: datetime,
                 waits: tuple[timedelta, timedelta] | None = None) -> datetime | None:
    """When a page rejected for the first time may be fetched again; None for never. `waits` are the first waits
    of a transient failure and of a 404 (the settings' `pipeline.retry_transient_minutes` and
    `pipeline.retry_not_found_hours`); later waits grow from them."""
    transient_wait, not_found_wait = waits or (TRANSIENT_RETRY[0], NOT_FOUND_RETRY[0])
    if transient:
        return now + transient_wait
    return now + not_found_wait if reason == "http-404" else None


_S, _I, _F, _B, _T = pa.string(), pa.int32(), pa.float64(), pa.bool_(), pa.timestamp("us", "UTC")
# Arrow columns per table, in the order the migrations leave them (the inserts are `SELECT *`).
_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "feed_fetches": [("run_id", _S), ("source", _S), ("url", _S), ("fetched_at", _T), ("status", _S),
                     ("http_status", _I), ("etag", _S), ("last_modified", _S), ("body_hash", _S), ("entries", _I),
                     ("new_entries", _I), ("bozo", _B), ("error", _S), ("elapsed_ms", _I)],
    "entries": [("entry_id", _S), ("source", _S), ("guid", _S), ("link", _S), ("raw_link", _S), ("title", _S),
                ("published", _T), ("first_seen", _T), ("article_id", _S)],
    "articles": [("article_id", _S), ("url", _S), ("canonical_url", _S), ("source", _S), ("title", _S),
                 ("published", _T), ("first_seen", _T), ("language", _S), ("author", _S), ("site_name", _S),
                 ("body", _S), ("body_hash", _S), ("extraction_method", _S), ("run_id", _S),
                 ("published_source", _S), ("modified", _T), ("language_declared", _S), ("language_detected", _S),
                 ("lead_image", _S), ("truncated", pa.list_(_S)), ("date_flags", pa.list_(_S)), ("page_sha", _S),
                 ("extractor_version", _S)],
    "captions": [("article_id", _S), ("position", _I), ("text", _S), ("credit", _S)],
    "article_countries": [("article_id", _S), ("country", _S), ("mentions", _F), ("is_about", _B), ("in_caption", _B),
                          ("confidence", _F), ("tagger_version", _S), ("language", _S)],
    "article_regions": [("article_id", _S), ("region", _S), ("confidence", _F), ("tagger_version", _S),
                        ("language", _S), ("is_about", _B)],
    "article_topics": [("article_id", _S), ("code", _S), ("label", _S), ("score", _F), ("rank", _I),
                       ("taxonomy", _S), ("taxonomy_version", _S), ("level", _I), ("tagger_version", _S),
                       ("language", _S)],
    "article_tagging": [("article_id", _S), ("language", _S), ("status", _S), ("tagger_version", _S),
                        ("tagged_at", _T)],
    "article_clusters": [("article_id", _S), ("cluster_id", _S), ("duplicate_of", _S), ("match", _S), ("similarity", _F),
                         ("signature", pa.binary()), ("shingle_count", _I)],
    "article_agencies": [("article_id", _S), ("agency", _S), ("found_in", _S)],
    "feed_state": [("source", _S), ("url", _S), ("etag", _S), ("last_modified", _S), ("body_hash", _S),
                   ("last_status", _S), ("last_error", _S), ("last_attempt", _T), ("last_success", _T),
                   ("consecutive_failures", _I), ("poll_minutes", _F), ("next_check", _T), ("dead", _B),
                   ("last_entries", _I), ("last_new_entries", _I), ("idle_polls", _I)],
    "rejections": [("url", _S), ("stage", _S), ("reason", _S), ("detail", _S), ("source", _S), ("transient", _B),
                   ("first_seen", _T), ("last_seen", _T), ("run_id", _S), ("attempts", _I), ("next_attempt", _T)],
}


def _arrow(name: str, rows: list[tuple]) -> pa.Table:
    """Row tuples as an Arrow table with the warehouse table's column names and types."""
    fields = _COLUMNS[name]
    columns = list(zip(*rows)) if rows else [() for _ in fields]
    return pa.table({column: pa.array(list(values), kind) for (column, kind), values in zip(fields, columns)})


def _tag_rows(tags: list[Tags], taxonomy: str, taxonomy_version: str, now: datetime) -> dict[str, list[tuple]]:
    """Rows of the three tag tables, each naming the tagger's version, its confidence and the language the text
    was read as; plus one tagging record per article, so an article left untagged (unsupported-language) shows."""
    return {
        "article_countries": [(t.doc_id, c, float(t.mentions.get(c, 0)), c in t.about, c in t.caption_countries,
                               t.confidence.get(c), t.tagger_version, t.language) for t in tags for c in t.countries],
        "article_regions": [(t.doc_id, r, t.confidence.get(r), t.tagger_version, t.language, r in t.regions_about)
                            for t in tags for r in _regions(t)],
        "article_topics": [(t.doc_id, s.code, s.label, s.score, rank, taxonomy, taxonomy_version, s.level,
                            t.tagger_version, t.language) for t in tags for rank, s in enumerate(t.topics, 1)],
        "article_tagging": [(t.doc_id, t.language, t.status, t.tagger_version, now) for t in tags],
    }


def _regions(t: Tags) -> tuple[str, ...]:
    """Every region mentioned, and any region the article is about that the tagger did not also list as mentioned
    (`regions_about` should be a subset of `regions`; a row for each keeps the focus from being lost if not)."""
    return t.regions + tuple(sorted(set(t.regions_about) - set(t.regions)))


def _tables(batch: LoadBatch, now: datetime) -> dict[str, pa.Table]:
    """The batch as one Arrow table per warehouse table, each row's key once (see `_unique`)."""
    run_id = batch.run_id or (batch.run.run_id if batch.run else "")
    rows: dict[str, list[tuple]] = {
        "feed_fetches": [
            (run_id, f.source, f.url, now, f.status, f.http_status, f.etag, f.last_modified, f.body_hash,
             len(p.entries) if p else None, batch.new_entries.get(f.source, 0), p.bozo if p else None,
             f.error or (p and (p.error or p.bozo_reason)) or None, f.elapsed_ms)
            for f, p in batch.feed_fetches],
        "entries": [(e.entry_id, e.source, e.guid, e.link, e.raw_link, e.title, e.published, now, article_id)
                    for e, article_id in batch.entries],
        "articles": [(a.article_id, a.url, a.canonical_url, a.source, a.title, a.published, now, a.language, a.author,
                      a.site_name, a.body, text_hash(a.body), a.extraction_method, run_id, a.published_source,
                      a.modified, a.language_declared, a.language_detected, a.lead_image, list(a.truncated),
                      list(a.date_flags), a.page_sha, a.extractor_version) for a in batch.articles],
        "captions": [(a.article_id, i, c.text, c.credit) for a in batch.articles for i, c in enumerate(a.captions)],
        **_tag_rows(batch.tags, batch.taxonomy, batch.taxonomy_version, now),
        "article_clusters": [(c.doc_id, c.cluster, c.duplicate_of, c.match, c.similarity, c.signature, c.shingle_count)
                             for c in batch.clusters],
        "article_agencies": [(c.doc_id, agency, where) for c in batch.clusters for agency, where in c.agencies],
        "rejections": [(r.url, r.stage, r.reason, r.detail, r.source, r.transient, now, now, run_id, 1,
                        _first_retry(r.transient, r.reason, now, batch.retry_waits)) for r in batch.rejections],
        "feed_state": [tuple(getattr(state, name) for name, _ in _COLUMNS["feed_state"])
                       for state in batch.feed_states],
    }
    return {name: _arrow(name, _unique(name, table_rows)) for name, table_rows in rows.items()}


def _unique(name: str, rows: list[tuple]) -> list[tuple]:
    """The rows with each key once, the last one winning (a later row is newer news of the same thing).

    The inserts skip keys the table holds already, but not keys repeated inside the batch itself, and before this
    one repeated key from the outside world (two feed items with one GUID, two feeds rejecting the same link-less
    GUID) failed the whole load on a duplicate key, run after run. Keys come from data, so they are made unique
    here, by design, whatever the stages upstream let through."""
    positions = [i for i, (column, _) in enumerate(_COLUMNS[name]) if column in KEYS[name]]
    keyed = {tuple(row[i] for i in positions): row for row in rows}
    if len(keyed) < len(rows):
        log.info("%s: %d rows repeated a key within one load; the last of each kept", name, len(rows) - len(keyed))
    return list(keyed.values())


# Each table's key: what makes a row the same row again. The writes below rely on these, not on constraints, so
# they run the same on a DuckDB file (which also has the keys as PRIMARY KEYs) and on DuckLake (which has none).
KEYS: dict[str, tuple[str, ...]] = {
    "feed_fetches": ("run_id", "source"), "entries": ("entry_id",), "articles": ("article_id",),
    "captions": ("article_id", "position"), "article_countries": ("article_id", "country"),
    "article_regions": ("article_id", "region"), "article_topics": ("article_id", "code"),
    "article_tagging": ("article_id",),
    "article_clusters": ("article_id",), "article_agencies": ("article_id", "agency", "found_in"),
    "feed_state": ("source",), "rejections": ("url", "stage"),
}


def _insert_new(name: str) -> str:
    """Insert the batch's rows whose key the table does not hold yet: loading a batch twice adds nothing."""
    match = " AND ".join(f"o.{k} = n.{k}" for k in KEYS[name])
    return f"INSERT INTO {name} SELECT * FROM {name}_in n WHERE NOT EXISTS (SELECT 1 FROM {name} o WHERE {match})"


# Statements per table, in order; names and keys are ours, values come from the registered Arrow batch.
_WRITES: dict[str, tuple[str, ...]] = {
    **{name: (_insert_new(name),) for name in KEYS},
    # an entry stored before its article existed gets the article's id once it does
    "entries": ("""UPDATE entries SET article_id = n.article_id FROM entries_in n
                   WHERE entries.entry_id = n.entry_id AND entries.article_id IS NULL AND n.article_id IS NOT NULL""",
                _insert_new("entries")),
    # a feed's polling state is replaced as a whole
    "feed_state": ("DELETE FROM feed_state WHERE source IN (SELECT source FROM feed_state_in)",
                   "INSERT INTO feed_state SELECT * FROM feed_state_in"),
    # a failure seen again keeps its first_seen, takes the latest reason, counts the attempt and waits longer
    "rejections": (f"""UPDATE rejections SET reason = n.reason, detail = n.detail, transient = n.transient,
                          last_seen = n.last_seen, run_id = n.run_id, attempts = coalesce(rejections.attempts, 1) + 1,
                          next_attempt = n.last_seen + (n.next_attempt - n.last_seen) * CASE WHEN n.transient
                              THEN least({TRANSIENT_RETRY[1]} ** coalesce(rejections.attempts, 1), {TRANSIENT_RETRY[2]})
                              ELSE least({NOT_FOUND_RETRY[1]} ** coalesce(rejections.attempts, 1), {NOT_FOUND_RETRY[2]})
                              END::BIGINT
                      FROM rejections_in n WHERE rejections.url = n.url AND rejections.stage = n.stage""",
                   _insert_new("rejections")),
}
