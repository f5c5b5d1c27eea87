"""The re-extraction flow: stored pages -> extraction with the current code -> dedup of changed bodies -> tags ->
each batch swapped into the warehouse in one transaction, with a report of what changed.

Only articles that another extractor version made are selected, and every batch lands whole with the current
version, so a run that is killed is continued by the next one and a finished one leaves nothing to do.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from monitor import config, dedup, extract, pagestore, reextraction, tagging, warehouse
from monitor.warehouse import pages as stored_pages

log = logging.getLogger("monitor.flows.reextract")
if logging.getLogger("monitor").level == logging.NOTSET:  # as in flows/ingest.py: library INFO lines reach the run
    logging.getLogger("monitor").setLevel(logging.INFO)
task = partial(task, cache_policy=NO_CACHE)  # batches of records: the warehouse, not a task cache, makes reruns cheap
# Articles per batch (one transaction each): what a kill can cost, against ~30 ms of task bookkeeping per task.
BATCH_SIZE = 200


def progress(stage: str, done: int, total: int) -> None:
    """Report progress as a log record the CLI turns into a progress bar."""
    log.info("%s: %d/%d", stage, done, total, extra={"progress": (stage, done, total)})


@task(name="select-articles")
def select_articles(path: Path, since: datetime | None, source: str | None, version: str) -> list:
    return stored_pages.reextract_candidates(path, since, source, version)


@task(name="read-page-index")
def read_page_index(root: Path) -> dict:
    return pagestore.index(root)


@task(name="read-recent-articles")
def read_recent(path: Path, window_days: int) -> list:
    return warehouse.recent_docs(path, window_days)


@task(name="read-pages")
def read_pages(root: Path, items: list) -> list:
    return pagestore.load_pages(root, items)


@task(name="extract-pages")
def extract_pages(pages: list, min_body_chars: int) -> list:
    return extract.extract_pages(pages, min_body_chars, learn_furniture=True)


@task(name="read-body-hashes")
def read_body_hashes(path: Path, ids: list[str]) -> dict:
    return stored_pages.body_hashes(path, ids)


@task(name="tag")
def tag_articles(articles: list, cfg: config.Config) -> list:
    return tagging.tag_articles(articles, cfg.regions, cfg.topics, cfg.settings.tagging)


@task(name="dedup")
def cluster_articles(articles: list, prior: list, settings: config.DedupSettings) -> list:
    return dedup.cluster_articles(articles, prior, shingle_size=settings.shingle_size,
                                  threshold=settings.near_threshold, min_shingles=settings.min_shingles)


@task(name="replace")
def replace_batch(path: Path, articles: list, tags: list, clusters: list, taxonomy: tuple[str, str]) -> dict:
    return stored_pages.replace_extractions(path, articles, tags, clusters, *taxonomy)


@flow(name="reextract", log_prints=False)
def reextract(warehouse_path: str | None = None, config_dir: str | None = None, since: str | None = None,
              source: str | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Extract the stored pages of the articles an older extractor made again with the current code (published
    on or after `since`, an ISO date; of `source` when given), compare changed bodies for duplicates again, re-tag,
    and swap each batch into the warehouse. Returns the counts of what changed and the summary line."""
    cfg = config.load(config_dir)
    path = cfg.warehouse_path(warehouse_path)
    root = cfg.settings.pages.store_dir(path)
    cutoff = datetime.fromisoformat(since).replace(tzinfo=timezone.utc) if since else None
    if source:
        cfg.select_sources([source])  # an unknown name stops here with the list of known ones
    version = extract.SITE_EXTRACTOR_VERSION
    with warehouse.run_lock(path):
        candidates = select_articles(path, cutoff, source, version)
        batches, missing = reextraction.plan(candidates, read_page_index(root) if candidates else {}, batch_size)
        prior = read_recent(path, cfg.settings.dedup.window_days) if batches else []
        total = sum(len(b) for b in batches)
        counts: Counter = Counter()
        rejected = done = 0
        progress("reextract", 0, total)
        for batch in batches:
            ids = [article_id for article_id, _ in batch]
            pages = read_pages(root, quote([item for _, item in batch]))
            articles, failed = reextraction.reidentify(
                extract_pages(quote(pages), cfg.settings.pipeline.min_body_chars), ids, [i.source for _, i in batch])
            changed = reextraction.changed_bodies(articles, read_body_hashes(path, ids))
            clusters = cluster_articles(quote(changed), quote(reextraction.prior_without(prior, changed)),
                                        cfg.settings.dedup) if changed else []
            tags = tag_articles(quote(articles), quote(cfg))
            counts.update(replace_batch(path, quote(articles), quote(tags), quote(clusters),
                                        (cfg.topics.taxonomy, cfg.topics.version)))
            rejected += len(failed)
            done += len(batch)
            progress("reextract", done, total)
    line = reextraction.summary_line(counts, rejected, missing, version)
    log.info("%s", line)
    return {"counts": dict(counts), "rejected": rejected, "missing": missing, "version": version,
            "summary": line, "warehouse": str(path)}
