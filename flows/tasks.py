"""The ingest flow's tasks: each is one call into `monitor` (flows only wire). The flow is flows/ingest.py; the
loop that submits these tasks is flows/_ingest_run.py.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import INPUTS, NO_CACHE, RUN_ID

from flows._execution import Parcel, on_items
from monitor import config, dedup, extract, feeds, fetch, pagestore, polling, tagging, warehouse, watch
from monitor.models import FeedFetch, FeedRequest
from monitor.warehouse import furniture as site_furniture

# Inputs are batches of records: hashing them for Prefect's cache would cost more than the work, and the
# warehouse, not a task cache, is what makes a re-run cheap.
task = partial(task, cache_policy=NO_CACHE)
# Batches go into tasks wrapped in `quote`: Prefect otherwise walks every element of a parameter looking for
# futures, which cost 0.24 s for a list of 10,000 links (measured by benchmarks/feeds.py).


@task(name="prepare-warehouse")
def prepare_warehouse(path: Path, sources: list[config.Source], configured: list[str]) -> dict:
    return warehouse.prepare(path, sources, configured)


@task(name="read-feed-states")
def read_feed_states(path: Path) -> dict:
    return warehouse.feed_states(path)


# Feed fetches are the one result worth keeping: when a run fails later (a load that could not write) and Prefect
# retries it, the same flow run's fetches are read back instead of asking every feed again. Keyed by the inputs
# and the flow run, so a new run always fetches afresh; the kept results expire within the day.
FEEDS_CACHE = dict(cache_policy=INPUTS + RUN_ID, persist_result=True, cache_expiration=timedelta(hours=6))


@task(name="fetch-feeds", **FEEDS_CACHE)
def fetch_feeds(http: config.HttpSettings, requests: list[FeedRequest], sitemaps: config.SitemapSettings
                ) -> list[FeedFetch]:
    return polling.fetch_feeds(http, requests, sitemaps)


@task(name="retry-feed", **FEEDS_CACHE)
def retry_feed(http: config.HttpSettings, request: FeedRequest, sitemaps: config.SitemapSettings) -> FeedFetch:
    return polling.refetch_feed(http, request, sitemaps)


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
def fetch_pages(http: config.HttpSettings, requests: list) -> list:
    return fetch.fetch_pages(http, requests)


@task(name="store-pages")
def store_pages(pages: list, settings: config.PageSettings, path: Path) -> int:
    return pagestore.store_pages(pages, settings.store_dir(path), settings.keep_days)


@task(name="read-site-furniture")
def read_site_furniture(path: Path) -> dict:
    return site_furniture.known(path)


@task(name="extract-pages")
def extract_pages(pages: Parcel, min_body_chars: int, furniture: dict) -> list:
    return on_items(pages, extract.extract_with_furniture, min_body_chars, furniture)


@task(name="learn-site-furniture")
def refresh_site_furniture(path: Path, articles: list) -> int:
    return site_furniture.refresh(path, articles, extract.learn_stored_furniture)


@task(name="read-recent-articles")
def read_recent(path: Path, window_days: int) -> list:
    return warehouse.recent_docs(path, window_days)


@task(name="sketch")
def sketch_articles(articles: Parcel, shingle_size: int) -> list:
    return on_items(articles, dedup.sketch_articles, shingle_size)


@task(name="dedup")
def cluster_articles(articles: list, prior: list, settings: config.DedupSettings, sketches: list) -> list:
    return dedup.cluster_articles(articles, prior, shingle_size=settings.shingle_size,
                                  threshold=settings.near_threshold, min_shingles=settings.min_shingles,
                                  sketches=sketches)


@task(name="tag")
def tag_articles(articles: Parcel, cfg: config.Config) -> list:
    return on_items(articles, tagging.tag_articles, cfg.regions, cfg.topics, cfg.settings.tagging)


@task(name="prepare-tagger")
def prepare_tagger(cfg: config.Config) -> str:
    return tagging.prepare(cfg.regions, cfg.topics, cfg.settings.tagging)


@task(name="load")
def load(path: Path, batch, check=None) -> None:
    warehouse.load(path, batch, check)


@task(name="check-watches")
def check_watches(path: Path, cfg: config.Config, run_id: str, started: datetime) -> dict:
    return watch.check_watches(path, cfg, run_id, started)


# The key under which every ingest run publishes its counts; `monitor status` and `monitor trigger --wait` read it.
SUMMARY_ARTIFACT = "ingest-summary"


@task(name="publish-summary")
def publish_summary(summary: dict) -> dict:
    """The run's counts as a table artifact on its flow run (in the UI, and for `monitor status`); returns them."""
    create_table_artifact([dataclasses.asdict(o) for o in summary["counts"].outcomes],
                          key=SUMMARY_ARTIFACT, description=f"run {summary['run_id']}"
                          f"{' (dry run)' if summary['dry_run'] else ''}: sources {', '.join(summary['sources'])}")
    return summary
