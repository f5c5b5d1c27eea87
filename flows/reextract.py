"""The flows over stored pages.

`reextract`: stored pages -> extraction with the current code -> dedup of changed bodies -> tags -> each batch
swapped into the warehouse in one transaction, with a report of what changed. Only articles that another extractor
version made are selected, and every batch lands whole with the current version, so a run that is killed is
continued by the next one and a finished one leaves nothing to do.

`import_warc`: the HTML responses of WARC files -> the page store -> extraction -> dedup -> tags -> loaded as
articles of a named source, dated as fetched by the archive.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.tasks import cluster_articles as cluster_with_sketches, load, read_recent, store_pages
from monitor import config, dedup, extract, outcomes, pagestore, planning, reextraction, tagging, warehouse
from monitor.models import Article, LoadBatch
from monitor.warehouse import furniture as site_furniture, pages as stored_pages

log = logging.getLogger("monitor.flows.reextract")
if logging.getLogger("monitor").level == logging.NOTSET:  # as in flows/ingest.py: library INFO lines reach the run
    logging.getLogger("monitor").setLevel(logging.INFO)
task = partial(task, cache_policy=NO_CACHE)  # batches of records: the warehouse, not a task cache, makes reruns cheap
# Articles per batch (one transaction each): what a kill can cost, against ~30 ms of task bookkeeping per task.
BATCH_SIZE = 200
# A site's furniture is learned from up to this many of its newest stored pages (a frame that changed long ago is
# not today's); the learning pass extracts them once more, so it costs up to this many extractions a site.
LEARN_PAGES_PER_HOST = 200


def progress(stage: str, done: int, total: int) -> None:
    """Report progress as a log record the CLI turns into a progress line (on this flow's logger, which
    `monitor reextract` and `import-warc` listen to)."""
    log.info("%s: %d/%d", stage, done, total, extra={"progress": (stage, done, total)})


@task(name="select-articles")
def select_articles(path: Path, since: datetime | None, source: str | None, version: str) -> list:
    return stored_pages.reextract_candidates(path, since, source, version)


@task(name="read-page-index")
def read_page_index(root: Path) -> dict:
    return pagestore.index(root)


@task(name="read-pages")
def read_pages(root: Path, items: list) -> list:
    return pagestore.load_pages(root, items)


@task(name="extract-pages")
def extract_pages(pages: list, min_body_chars: int, furniture: dict | None = None, learn: bool = True) -> list:
    return extract.extract_pages(pages, min_body_chars, learn_furniture=learn, furniture=furniture)


@task(name="sample-site-pages")
def sample_site_pages(stored: dict, hosts: list[str]) -> list:
    return pagestore.newest_by_host(stored, hosts, LEARN_PAGES_PER_HOST)


@task(name="learn-site-furniture")
def learn_furniture(articles: list) -> dict:
    return extract.learn_furniture(articles)


@task(name="keep-site-furniture")
def keep_site_furniture(path: Path, sampled: list) -> int:
    return site_furniture.replace(path, sampled, extract.learn_stored_furniture)


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
    version = extract.SITE_EXTRACTOR_VERSION
    with warehouse.run_lock(path):
        candidates = select_articles(path, cutoff, source, version)
        stored = read_page_index(root) if candidates else {}
        batches, missing = reextraction.plan(candidates, stored, batch_size)
        prior = read_recent(path, cfg.settings.dedup.window_days) if batches else []
        # each site's furniture, learned from its own newest stored pages, so a batch's cut changes nothing
        furniture = {}
        if batches:
            sample = read_pages(root, quote(sample_site_pages(quote(stored), reextraction.hosts(batches))))
            sampled = extract_pages(quote(sample), 0, learn=False)
            furniture = learn_furniture(quote(sampled))
            keep_site_furniture(path, quote(sampled))  # what the ingest flow then removes from new pages
        total = sum(len(b) for b in batches)
        counts = reextraction.tally()
        rejected = done = 0
        progress("reextract", 0, total)
        for batch in batches:
            ids = [article_id for article_id, _ in batch]
            pages = read_pages(root, quote([item for _, item in batch]))
            articles, failed = reextraction.reidentify(
                extract_pages(quote(pages), cfg.settings.pipeline.min_body_chars, quote(furniture)), ids,
                [i.source for _, i in batch])
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


@task(name="prepare-warehouse")
def init_warehouse(path: Path) -> None:
    warehouse.init(path)


@task(name="read-warc")
def read_warc(file: Path, source: str) -> tuple:
    return pagestore.read_warc(file, source)


@task(name="sketch")
def sketch_articles(articles: list, shingle_size: int) -> list:
    return dedup.sketch_articles(articles, shingle_size)


@flow(name="import-warc", log_prints=False)
def import_warc(files: list[str], source: str, warehouse_path: str | None = None, config_dir: str | None = None,
                batch_size: int = BATCH_SIZE) -> dict:
    """Load the HTML responses of WARC files as articles of `source`: each page kept in the page store, extracted
    (dated by the archive's fetch time, site furniture learned per batch), deduplicated against the warehouse and
    the import itself, tagged, and loaded batch by batch. Returns counts per outcome."""
    cfg = config.load(config_dir)
    path = cfg.warehouse_path(warehouse_path)
    run_id = reextraction.import_run_id()
    counts = reextraction.tally()
    init_warehouse(path)
    with warehouse.run_lock(path):
        prior = read_recent(path, cfg.settings.dedup.window_days)
        seen: set[str] = {doc.doc_id for doc in prior}
        for number, file in enumerate(files, 1):
            pages, skipped = read_warc(Path(file), source)
            counts.update({f"skipped:{reason}": n for reason, n in skipped.items()})
            for batch in planning.chunks(pages, batch_size):
                if cfg.settings.pages.store:
                    store_pages(quote(batch), cfg.settings.pages, path)
                results = extract_pages(quote(batch), cfg.settings.pipeline.min_body_chars)
                articles, rejections = planning.split(results, Article)
                unique = [a for a in dedup.unique_articles(articles) if a.article_id not in seen]
                seen.update(a.article_id for a in unique)
                sketches = sketch_articles(quote(unique), cfg.settings.dedup.shingle_size)
                clusters = cluster_with_sketches(quote(unique), quote(prior), cfg.settings.dedup, quote(sketches))
                tags = tag_articles(quote(unique), quote(cfg))
                load(path, quote(LoadBatch(run_id=run_id, articles=tuple(unique), clusters=tuple(clusters),
                                           tags=tuple(tags), rejections=tuple(rejections),
                                           taxonomy=cfg.topics.taxonomy, taxonomy_version=cfg.topics.version)))
                prior += outcomes.as_prior(unique, clusters, sketches)
                counts.update({"pages": len(batch), "articles": len(unique),
                               "same-article": len(articles) - len(unique), "rejected": len(rejections),
                               "duplicates": sum(c.duplicate_of is not None for c in clusters)})
            progress("import", number, len(files))
    summary = reextraction.import_summary(counts, source, len(files))
    log.info("%s", summary)
    return {"counts": dict(counts), "summary": summary, "run_id": run_id, "warehouse": str(path)}
