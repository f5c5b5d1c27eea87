"""A run's outcomes, as pure functions over records: which entry became which article, the rows each batch of
feeds and each wave of pages loads, the rejections, and the run's record with its counts per outcome. Flows call
these; they do no I/O. What to fetch is planned in `planning`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.config import PipelineSettings, Source
from monitor.counts import Outcome, RunCounts, SourceCounts
from monitor.models import (
    Article, DedupDoc, DedupResult, Entry, FeedFetch, FeedParse, FeedState, LoadBatch, Rejection, RunRecord, Tags,
)
from monitor.planning import all_entries


def first_per_article(results: list, articles: list[Article]) -> list:
    """Per-article results (tags, dedup sketches: anything with a `doc_id`) in the order of `articles`, the first
    for each id: an article fetched twice keeps its first page's, as dedup.unique_articles keeps its first page."""
    by_id: dict[str, object] = {}
    for result in results:
        by_id.setdefault(result.doc_id, result)
    return [by_id[a.article_id] for a in articles]


def with_retry_waits(batch: LoadBatch, settings: PipelineSettings) -> LoadBatch:
    """The batch with the settings' first waits before a rejected page is fetched again (transient, 404)."""
    return replace(batch, retry_waits=(timedelta(minutes=settings.retry_transient_minutes),
                                       timedelta(hours=settings.retry_not_found_hours)))


def as_prior(articles: list[Article], clusters: list[DedupResult], sketches: list[DedupDoc]) -> list[DedupDoc]:
    """A wave's new articles as the next wave compares with them: as `warehouse.recent_docs` would read them back
    (signature, cluster and body hash, no text)."""
    return [DedupDoc(a.article_id, "", a.url, a.canonical_url, a.title, a.published, c.cluster, c.signature,
                     c.shingle_count, s.body_sha1)
            for a, c, s in zip(articles, clusters, sketches) if is_new(c)]


@dataclass(frozen=True, slots=True)
class RunInputs:
    """What a run gathered, stage by stage, before it is loaded."""

    run_id: str
    flow_run_id: str | None
    started_at: datetime
    sources: list[Source]
    fetches: list[FeedFetch]
    parses: list[FeedParse | None]
    known: dict[str, str | None]  # link -> article id (None: permanently rejected)
    pages_fetched: int
    extracted: list[Article]
    articles: list[Article]  # one per article id
    clusters: list[DedupResult]
    tags: list[Tags]
    rejections: list[Rejection]
    feed_states: tuple[FeedState, ...] = ()  # each fetched feed's state after this run
    skipped: dict[str, str] | None = None  # source -> why it was not fetched ("not-due", "dead")
    stage_seconds: dict[str, float] | None = None
    parameters: dict | None = None
    deferred: dict[tuple[str, str], int] | None = None  # (why: "since" | "limit", source) -> entries left for later


def entry_rejections(entries: list[Entry]) -> list[Rejection]:
    """Entries without a usable link are recorded, never dropped silently."""
    return [Rejection(e.guid or e.entry_id, "feed", "no-link", detail=e.title[:200], source=e.source)
            for e in entries if not e.link]


def feed_rejections(fetches: list[FeedFetch], parses: list[FeedParse | None]) -> list[Rejection]:
    """A feed that failed, or parsed to nothing, as a rejection with its reason."""
    out: list[Rejection] = []
    for fetch, parse in zip(fetches, parses):
        if fetch.status == "error":
            failure = fetch.failure
            out.append(Rejection(fetch.url, "feed", failure.reason, failure.text, fetch.source, failure.transient)
                       if failure else Rejection(fetch.url, "feed", "error", "", fetch.source))
        elif parse is not None and parse.error:
            out.append(Rejection(fetch.url, "feed", parse.error, parse.bozo_reason or "", fetch.source))
    return out


def is_new(result: DedupResult) -> bool:
    """False for an article whose canonical URL the warehouse already holds."""
    return not (result.match == "canonical" and result.duplicate_of == result.doc_id)


def feed_batch(run_id: str, fetches: list[FeedFetch], parses: list[FeedParse | None], known: dict[str, str | None],
               feed_states: tuple[FeedState, ...]) -> LoadBatch:
    """What a batch of settled feeds loads at once: their fetch log rows, entries (with the article each already
    became), rejections and next polling state. Loaded before their pages are fetched, so a run that dies later
    has still polled these feeds, and the next run finds their entries pending (`warehouse.pending_entries`)."""
    entries = all_entries(parses)
    link_article = {link: aid for link, aid in known.items() if aid}
    return LoadBatch(
        run_id=run_id, new_entries=dict(Counter(e.source for e in entries if e.link and e.link not in known)),
        feed_fetches=tuple(zip(fetches, parses)),
        entries=tuple((e, link_article.get(e.link or "")) for e in entries),
        rejections=tuple(entry_rejections(entries) + feed_rejections(fetches, parses)),
        feed_states=tuple(feed_states),
    )


def page_wave(run_id: str, entries: list[Entry], extracted: list[Article], articles: list[Article],
              clusters: list[DedupResult], tags: list[Tags], rejections: list[Rejection],
              taxonomy: tuple[str, str] = ("IPTC Media Topics", "")) -> LoadBatch:
    """What a wave of fetched pages loads: the new articles with their stories and tags, the page rejections, and
    the entries of this run that the pages completed (an entry whose page is an article stored earlier points at
    it). `articles` are the wave's distinct articles, clustered in `clusters` in the same order."""
    new_ids = {c.doc_id for c in clusters if is_new(c)}
    link_article = {a.url: a.article_id for a in extracted}
    return LoadBatch(
        run_id=run_id,
        entries=tuple((e, link_article[e.link]) for e in entries if e.link in link_article),
        articles=tuple(a for a in articles if a.article_id in new_ids),
        clusters=tuple(c for c in clusters if c.doc_id in new_ids),
        tags=tuple(t for t in tags if t.doc_id in new_ids),
        rejections=tuple(rejections),
        taxonomy=taxonomy[0],
        taxonomy_version=taxonomy[1],
    )


def run_record(inputs: RunInputs, finished_at: datetime, status: str = "completed") -> RunRecord:
    """The run's own row: when, what it was asked, counts per outcome over everything it did."""
    entries = all_entries(inputs.parses)
    new_ids = {c.doc_id for c in inputs.clusters if is_new(c)}
    return RunRecord(inputs.run_id, inputs.flow_run_id, inputs.started_at, finished_at, status,
                     tuple(s.name for s in inputs.sources), count_outcomes(inputs, entries, new_ids),
                     dict(inputs.stage_seconds or {}), dict(inputs.parameters or {}))


def count_outcomes(inputs: RunInputs, entries: list[Entry], new_ids: set[str]) -> RunCounts:
    """Counts per (stage, kind, reason) over the whole run, and each source's figures for the summary."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for fetch, parse in zip(inputs.fetches, inputs.parses):
        counts["feed", fetch.status, ""] += 1
        if parse and parse.bozo:
            counts["feed", "bozo", ""] += 1
    for reason in (inputs.skipped or {}).values():
        counts["feed", "skipped", reason] += 1
    counts["feed", "failing", ""] = sum(s.consecutive_failures > 0 for s in inputs.feed_states)
    counts["entries", "seen", ""] = len(entries)
    counts["pages", "requested", ""] = inputs.pages_fetched + sum(r.stage == "fetch" for r in inputs.rejections)
    counts["pages", "fetched", ""] = inputs.pages_fetched
    counts["articles", "extracted", ""] = len(inputs.extracted)
    counts["articles", "new", ""] = len(new_ids)
    for result in inputs.clusters:
        if result.doc_id in new_ids and result.match:
            counts["articles", "duplicate", result.match] += 1
    for rejection in inputs.rejections:
        counts[rejection.stage, "rejected", rejection.reason] += 1
    for tags in inputs.tags:  # stored but left untagged (unsupported-language)
        if tags.doc_id in new_ids and tags.status != "ok":
            counts["articles", "untagged", tags.status] += 1
    sources = summarize(inputs, entries, new_ids)
    counts["entries", "pickup", ""] = sum(s.pickups for s in sources)
    counts["entries", "duplicate", ""] = sum(s.duplicates for s in sources)
    for (reason, _), n in (inputs.deferred or {}).items():
        counts["entries", "deferred", reason] += n
    return RunCounts(tuple(Outcome(stage, kind, n, reason) for (stage, kind, reason), n in sorted(counts.items())
                           if n), tuple(sorted(sources, key=lambda s: s.source)))


def summarize(inputs: RunInputs, entries: list[Entry], new_ids: set[str]) -> list[SourceCounts]:
    """Per source: entries, new articles, duplicates (same page twice, or a copy), pickups (a page that is an
    article already stored, or stored this run from another outlet's page: the same canonical URL), entries left
    for a later run by `--since` or `--limit`, errors, and new articles left untagged."""
    source_of = {a.article_id: a.source for a in inputs.articles}
    stored_from = {a.article_id: a.url for a in inputs.articles}  # the page each stored article was read from
    matched = {c.doc_id: c.match for c in inputs.clusters}
    page_article = {a.url: a.article_id for a in inputs.extracted}
    deferred: Counter[str] = Counter()
    for (_, source), n in (inputs.deferred or {}).items():
        deferred[source] += n
    untagged = Counter(source_of.get(t.doc_id) for t in inputs.tags if t.doc_id in new_ids and t.status != "ok")
    rows = []
    for source in inputs.sources:
        links = [e.link for e in entries if e.source == source.name and e.link]
        new = [aid for aid in new_ids if source_of.get(aid) == source.name]
        pickups = {link for link in links if link not in inputs.known and link in page_article
                   and (page_article[link] not in new_ids or stored_from.get(page_article[link]) != link)}
        rows.append(SourceCounts(
            source.name,
            entries=sum(e.source == source.name for e in entries),
            new_entries=sum(1 for link in links if link not in inputs.known),
            new_articles=len(new),
            duplicates=(len(links) - len(set(links))) + sum(1 for aid in new if matched.get(aid)),
            pickups=len(pickups),
            deferred=deferred[source.name],
            errors=sum(r.source == source.name for r in inputs.rejections),
            untagged=untagged[source.name],
        ))
    return rows
