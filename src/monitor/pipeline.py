"""Run bookkeeping between the stages, as pure functions over records: which pages to fetch, which entry
became which article, what one run loads, and the counts per outcome. Flows call these; they do no I/O."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from monitor.config import PipelineSettings, Source
from monitor.models import (
    Article, DedupDoc, DedupResult, Entry, FeedFetch, FeedParse, FeedRequest, FeedState, LoadBatch, PageRequest,
    Rejection,
    RunRecord, Tags,
)
from monitor.politeness import host_key


def all_entries(parses: list[FeedParse | None]) -> list[Entry]:
    """Every entry of every parsed feed, in feed order."""
    return [entry for parse in parses if parse for entry in parse.entries]


def candidate_links(entries: list[Entry], pending: list[tuple[str, str, str]]) -> list[str]:
    """Distinct links to consider this run: the feeds' entries, then entries a previous run left unfinished."""
    seen: dict[str, None] = {}
    for link in [e.link for e in entries] + [p[1] for p in pending]:
        if link:
            seen.setdefault(link, None)
    return list(seen)


def plan_pages(entries: list[Entry], pending: list[tuple[str, str, str]], known: set[str],
               sources: list[Source], since: datetime | None = None) -> list[PageRequest]:
    """One request per link not yet done, carrying its entry's source, date and the source's language. With
    `since`, entries published before it are left for a later run (undated ones are fetched)."""
    language = {s.name: s.language for s in sources}
    by_link: dict[str, PageRequest] = {}
    for entry in entries:
        if since and entry.published and entry.published < since:
            continue
        if entry.link and entry.link not in known and entry.link not in by_link:
            by_link[entry.link] = PageRequest(entry.link, entry.source, entry.published, language.get(entry.source))
    for source, link, _ in pending:
        if link not in known and link not in by_link:
            by_link[link] = PageRequest(link, source, None, language.get(source))
    return list(by_link.values())


def parse_since(since: str | None) -> datetime | None:
    """The `since` parameter as an aware datetime (a naive one is UTC); None for none; ValueError if not a date."""
    if not since:
        return None
    try:
        parsed = datetime.fromisoformat(since)
    except ValueError:
        raise ValueError(f"since={since!r} is not a date: use YYYY-MM-DD or an ISO timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def interleave_hosts(requests: list[PageRequest]) -> list[PageRequest]:
    """The requests taken round-robin across hosts, each host's own order kept. Feeds list their pages together,
    so in feed order a batch is one or two hosts that the per-host limits make wait in turn (hosts as the
    politeness gates count them); interleaved, a batch
    spans many hosts at once and comes back sooner."""
    by_host: dict[str, list[PageRequest]] = {}
    for request in requests:
        by_host.setdefault(host_key(request.url), []).append(request)
    return [r for group in itertools.zip_longest(*by_host.values()) for r in group if r is not None]


def new_entries_by_source(entries: list[Entry], known: dict[str, str | None]) -> dict[str, int]:
    """Per source, the distinct entry links whose page was not done before this run."""
    links: dict[str, set[str]] = {}
    for entry in entries:
        if entry.link and entry.link not in known:
            links.setdefault(entry.source, set()).add(entry.link)
    return {source: len(found) for source, found in links.items()}


def split(results: list, kind: type) -> tuple[list, list[Rejection]]:
    """Separate the values of one kind from the rejections."""
    return [r for r in results if isinstance(r, kind)], [r for r in results if isinstance(r, Rejection)]


# A run is cut into at least this many page batches per worker, so that fetching, extraction and tagging overlap
# and no worker waits long for the last batch.
BATCHES_PER_WORKER = 4


# Feeds are fetched in tasks of whole hosts, at most this many tasks a run: a slow or retrying host then holds back
# only the feeds of its own task, and their pages, while other tasks' feeds go on to their pages (issue 16: one
# slow feed delayed every source's pages by 113 s). Past this many hosts, tasks hold several hosts each: a task
# costs about 30 ms of Prefect bookkeeping, so 10,000 feeds on 500 hosts still make 64 tasks, not 500.
MAX_FEED_TASKS = 64


def feed_batches(requests: list[FeedRequest], largest: int) -> list[list[FeedRequest]]:
    """The feed requests in batches of whole hosts (a host with more than `largest` feeds is split), at least
    one batch per host up to MAX_FEED_TASKS, each at most `largest` feeds when hosts allow, feed order kept."""
    by_host: dict[str, list[FeedRequest]] = {}
    for request in requests:
        by_host.setdefault(host_key(request.url), []).append(request)
    groups = [group[i : i + largest] for group in by_host.values() for i in range(0, len(group), largest)]
    count = max(min(len(groups), MAX_FEED_TASKS), -(-len(requests) // max(1, largest)))
    batches: list[list[FeedRequest]] = [[] for _ in range(min(count, len(groups)))]
    for group in sorted(groups, key=len, reverse=True):  # biggest first, each into the emptiest batch
        min(batches, key=len).extend(group)
    order = {id(r): i for i, r in enumerate(requests)}
    return [sorted(b, key=lambda r: order[id(r)]) for b in batches if b]


def page_batches(requests: list[PageRequest], largest: int, workers: int) -> list[list[PageRequest]]:
    """The requests, interleaved across hosts, in batches of at most `largest`: smaller when the run is small."""
    size = max(1, min(largest, -(-len(requests) // (BATCHES_PER_WORKER * max(1, workers)))))
    return chunks(interleave_hosts(requests), size)


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


def chunks(items: list, size: int) -> list[list]:
    """Fixed-size batches: tasks work on batches, never one item each."""
    return [items[i : i + size] for i in range(0, len(items), size)]


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
    deferred: dict[str, int] | None = None  # "since:{source}" / "limit:{source}" -> entries left for a later run


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


def count_outcomes(inputs: RunInputs, entries: list[Entry], new_ids: set[str]) -> dict[str, int]:
    """Counts per (stage, outcome) label, plus per-source figures for the summary."""
    counts: Counter[str] = Counter()
    for fetch, parse in zip(inputs.fetches, inputs.parses):
        counts[f"feed:{fetch.status}"] += 1
        if parse and parse.bozo:
            counts["feed:bozo"] += 1
    for reason in (inputs.skipped or {}).values():
        counts[f"feed:{reason}"] += 1
    counts["feed:failing"] = sum(s.consecutive_failures > 0 for s in inputs.feed_states)
    counts["entries"] = len(entries)
    counts["pages:requested"] = inputs.pages_fetched + sum(r.stage == "fetch" for r in inputs.rejections)
    counts["pages:fetched"] = inputs.pages_fetched
    counts["articles:extracted"] = len(inputs.extracted)
    counts["articles:new"] = len(new_ids)
    for result in inputs.clusters:
        if result.doc_id in new_ids and result.match:
            counts[f"dup:{result.match}"] += 1
    for rejection in inputs.rejections:
        counts[f"rejected:{rejection.stage}:{rejection.reason}"] += 1
    source_of = {a.article_id: a.source for a in inputs.articles}
    for tags in inputs.tags:  # stored but left untagged (unsupported-language): in total and per source
        if tags.doc_id in new_ids and tags.status != "ok":
            counts[f"tagged:{tags.status}"] += 1
            counts[f"{tags.status}:{source_of.get(tags.doc_id)}"] += 1
    for row in summarize(inputs, entries, new_ids):
        for key in ("entries", "new_entries", "new_articles", "duplicates", "pickups", "deferred", "errors"):
            counts[f"{key}:{row['source']}"] = row[key]
        counts["entries:pickup"] += row["pickups"]
    for key, n in (inputs.deferred or {}).items():
        counts[f"entries:deferred:{key.split(':', 1)[0]}"] += n
    return dict(sorted(counts.items()))


def summarize(inputs: RunInputs, entries: list[Entry], new_ids: set[str]) -> list[dict]:
    """Per source: entries, new articles, duplicates (same page twice, or a copy), pickups (a page that is an
    article already stored, or stored this run from another outlet's page: the same canonical URL), entries left
    for a later run by `--since` or `--limit`, and errors."""
    source_of = {a.article_id: a.source for a in inputs.articles}
    stored_from = {a.article_id: a.url for a in inputs.articles}  # the page each stored article was read from
    matched = {c.doc_id: c.match for c in inputs.clusters}
    page_article = {a.url: a.article_id for a in inputs.extracted}
    deferred = inputs.deferred or {}
    rows = []
    for source in inputs.sources:
        links = [e.link for e in entries if e.source == source.name and e.link]
        new = [aid for aid in new_ids if source_of.get(aid) == source.name]
        pickups = {link for link in links if link not in inputs.known and link in page_article
                   and (page_article[link] not in new_ids or stored_from.get(page_article[link]) != link)}
        rows.append({
            "source": source.name,
            "entries": sum(e.source == source.name for e in entries),
            # entries whose page was not done before this run
            "new_entries": sum(1 for link in links if link not in inputs.known),
            "new_articles": len(new),
            "duplicates": (len(links) - len(set(links))) + sum(1 for aid in new if matched.get(aid)),
            "pickups": len(pickups),
            "deferred": deferred.get(f"since:{source.name}", 0) + deferred.get(f"limit:{source.name}", 0),
            "errors": sum(r.source == source.name for r in inputs.rejections),
        })
    return rows


def deferred_by_since(entries: list[Entry], known: set[str], since: datetime | None) -> Counter:
    """Per source, the entries `plan_pages` leaves for a later run because they were published before `since`."""
    return Counter(f"since:{e.source}" for e in entries
                   if since and e.link and e.link not in known and e.published and e.published < since)
