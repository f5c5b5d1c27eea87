"""The ingest flow: feeds -> entries -> pages -> articles -> clusters -> tags -> one load into DuckDB.

Each task is one call into `monitor`; tasks work on a feed or a chunk of pages, never one article each.
Network I/O is separate from parsing, so each can be retried on its own. Only feed fetches retry:
expected failures are values, and a feed that still fails after its retries is recorded, not raised.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from pathlib import Path

from functools import partial

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from monitor import config, dedup, extract, feeds, fetch, pipeline, tagging, warehouse
from monitor.models import Article, FeedFetch, Page

log = logging.getLogger("monitor.flows.ingest")
# Inputs are batches of records: hashing them for Prefect's cache would cost more than the work, and the
# warehouse, not a task cache, is what makes a re-run cheap.
task = partial(task, cache_policy=NO_CACHE)


def progress(stage: str, done: int, total: int) -> None:
    """Report progress as a log record the CLI turns into a progress bar."""
    log.info("%s: %d/%d", stage, done, total, extra={"progress": (stage, done, total)})


@task(name="prepare-warehouse")
def prepare_warehouse(path: Path, sources: list[config.Source]) -> None:
    warehouse.init(path)
    warehouse.upsert_sources(path, sources)


@task(name="read-feed-state")
def read_feed_state(path: Path) -> dict:
    return warehouse.feed_validators(path)


@task(name="fetch-feed")
def fetch_feed(http: config.HttpSettings, source: config.Source, validators: tuple) -> FeedFetch:
    return fetch.fetch_feed(http, source.name, source.url, *validators)


@task(name="parse-feeds")
def parse_feeds(fetches: list[FeedFetch], max_entries: int) -> list:
    return feeds.parse_fetches(fetches, max_entries)


@task(name="read-pending")
def read_pending(path: Path, names: list[str]) -> list:
    return warehouse.pending_entries(path, names)


@task(name="read-known-links")
def read_known_links(path: Path, links: list[str]) -> dict:
    return warehouse.link_articles(path, links)


@task(name="fetch-pages")
def fetch_pages(requests: list, http: config.HttpSettings) -> list:
    return fetch.fetch_pages(requests, http)


@task(name="extract-pages")
def extract_pages(pages: list, min_body_chars: int) -> list:
    return extract.extract_pages(pages, min_body_chars)


@task(name="read-recent-articles")
def read_recent(path: Path, window_days: int) -> list:
    return warehouse.recent_docs(path, window_days)


@task(name="dedup")
def cluster_articles(articles: list, prior: list, settings: config.DedupSettings) -> list:
    return dedup.cluster_articles(articles, prior, shingle_size=settings.shingle_size,
                                  threshold=settings.near_threshold, min_shingles=settings.min_shingles)


@task(name="tag")
def tag_articles(articles: list, cfg: config.Config) -> list:
    return tagging.tag_articles(articles, cfg.regions, cfg.topics, cfg.settings.tagging)


@task(name="load")
def load(path: Path, batch) -> None:
    warehouse.load(path, batch)


def _feed_results(futures: list, sources: list[config.Source]) -> list[FeedFetch]:
    """Collect feed fetches; one that failed after its retries becomes an error value, not a failed run."""
    results = []
    for future, source in zip(futures, sources):
        outcome = future.result(raise_on_failure=False)  # the exception itself when the task failed
        if not isinstance(outcome, FeedFetch):
            outcome = FeedFetch(source.name, source.url, "error", error=f"transient: {outcome}"[:300])
        results.append(outcome)
        progress("feeds", len(results), len(sources))
    return results


@flow(name="ingest", log_prints=False)
def ingest(sources: list[str] | None = None, warehouse_path: str | None = None,
           config_dir: str | None = None) -> dict:
    """Fetch the sources' feeds, extract new articles, deduplicate, tag and load them; returns the summary."""
    started = datetime.now(timezone.utc)
    cfg = config.load(config_dir)
    chosen = cfg.select_sources(sources or [])
    path = cfg.warehouse_path(warehouse_path)
    settings = cfg.settings
    prepare_warehouse(path, chosen)

    validators = read_feed_state(path)
    retrying_fetch = fetch_feed.with_options(
        retries=settings.http.retries,
        retry_delay_seconds=[settings.http.retry_delay_seconds * 2**i for i in range(settings.http.retries)],
    )
    futures = [retrying_fetch.submit(settings.http, s, validators.get(s.name, (None, None, None))) for s in chosen]
    fetches = _feed_results(futures, chosen)
    parses = parse_feeds(fetches, settings.pipeline.max_entries_per_feed)

    entries = pipeline.all_entries(parses)
    pending = read_pending(path, [s.name for s in chosen])
    known = read_known_links(path, pipeline.candidate_links(entries, pending))
    requests = pipeline.plan_pages(entries, pending, set(known), chosen)
    progress("pages", 0, len(requests))

    pages, extracted, rejections, done = [], [], [], 0
    batches = pipeline.chunks(requests, settings.pipeline.page_batch_size)
    fetched = [fetch_pages.submit(batch, settings.http) for batch in batches]
    extracting = []
    for future in fetched:
        got, rejected = pipeline.split(future.result(), Page)
        pages += got
        rejections += rejected
        extracting.append(extract_pages.submit(got, settings.pipeline.min_body_chars))
    for future, batch in zip(extracting, batches):
        articles, rejected = pipeline.split(future.result(), Article)
        extracted += articles
        rejections += rejected
        done += len(batch)
        progress("pages", done, len(requests))

    unique = dedup.unique_articles(extracted)
    clusters = cluster_articles(unique, read_recent(path, settings.dedup.window_days), settings.dedup)
    tag_futures = [tag_articles.submit(chunk, cfg) for chunk in pipeline.chunks(unique, settings.pipeline.page_batch_size)]
    tags = [t for f in tag_futures for t in f.result()]

    rejections += pipeline.entry_rejections(entries) + pipeline.feed_rejections(fetches, parses)
    inputs = pipeline.RunInputs(
        run_id=uuid.uuid4().hex[:16], flow_run_id=_flow_run_id(), started_at=started, sources=chosen,
        fetches=fetches, parses=parses, known=known, pages=pages, extracted=extracted, articles=unique,
        clusters=clusters, tags=tags, rejections=rejections,
    )
    batch = pipeline.assemble(inputs, datetime.now(timezone.utc))
    load(path, batch)
    progress("load", 1, 1)
    return {"run_id": batch.run.run_id, "warehouse": str(path), "counts": batch.run.counts,
            "sources": [s.name for s in chosen]}


def _flow_run_id() -> str | None:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # noqa: BLE001 - outside a flow run there is no id to record
        return None


if __name__ == "__main__":
    print(ingest())
