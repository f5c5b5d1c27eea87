"""The ingest flow: feeds -> entries -> pages -> articles -> clusters -> tags -> one load into DuckDB.

Each task is one call into `monitor`; tasks work on a feed or a chunk of pages, never one article each.
Network I/O is separate from parsing, so each can be retried on its own. Only feed fetches retry:
expected failures are values, and a feed that still fails after its retries is recorded, not raised.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import uuid
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from functools import partial

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import INPUTS, NO_CACHE, RUN_ID
from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from monitor import config, dedup, extract, feeds, fetch, health, pipeline, tagging, warehouse
from monitor.models import Article, FeedFetch, FeedRequest, Page

log = logging.getLogger("monitor.flows.ingest")
# Prefect gives the `monitor.*` loggers its run-log handler (extra_loggers) but no level, so they would inherit the
# root's WARNING and the library's INFO lines would never reach the run's log in the UI. An entry point that set
# a level (the CLI, from -v) keeps it.
if logging.getLogger("monitor").level == logging.NOTSET:
    logging.getLogger("monitor").setLevel(logging.INFO)
DASK_WORKERS = max(1, os.cpu_count() or 1)  # one worker process per core: extraction and tagging hold the GIL
# Inputs are batches of records: hashing them for Prefect's cache would cost more than the work, and the
# warehouse, not a task cache, is what makes a re-run cheap.
task = partial(task, cache_policy=NO_CACHE)
# Batches go into tasks wrapped in `quote`: Prefect otherwise walks every element of a parameter looking for
# futures, which cost 0.24 s for a list of 10,000 links (measured by benchmarks/feeds.py).


class Parcel:
    """A batch handed to a CPU-bound task as one opaque value. Prefect does not walk it looking for futures (as
    with `quote`), and Dask does not take it apart: Dask rebuilds dataclasses in task arguments as tuples.
    `workers`, when set, is the run's process pool: the task then waits while a worker process does the work."""

    __slots__ = ("items", "workers")

    def __init__(self, items: list, workers: ProcessPoolExecutor | None = None) -> None:
        self.items = items
        self.workers = workers

    def __getstate__(self):  # a pool does not travel (to Dask workers); the items do
        return {"items": self.items, "workers": None}

    def __setstate__(self, state) -> None:
        self.items, self.workers = state["items"], state["workers"]


def on_items(parcel: Parcel, function, *args):
    """Call a stage function on the parcel's items: in one of the run's worker processes if it has them."""
    if parcel.workers is not None:
        return parcel.workers.submit(function, parcel.items, *args).result()
    return function(parcel.items, *args)


@contextmanager
def cpu_stages(runner: str | None):
    """Where extraction and tagging run: this flow's threads (None), a pool of worker processes on this machine
    ("processes"), a local Dask cluster ("dask"), or a running Dask scheduler ("tcp://host:8786"). Network fetches
    always stay in this process, where the per-host politeness limits live."""
    if not runner:
        yield None
        return
    if runner == "processes":
        # spawn, not fork: this process runs Prefect's threads, and forking a process with threads can deadlock
        with ProcessPoolExecutor(DASK_WORKERS, mp_context=multiprocessing.get_context("spawn")) as workers:
            yield workers
        return
    from prefect_dask import DaskTaskRunner

    if runner == "dask":
        dask = DaskTaskRunner(cluster_kwargs={"n_workers": DASK_WORKERS, "threads_per_worker": 1, "processes": True})
    elif "://" in runner:
        dask = DaskTaskRunner(address=runner)
    else:
        raise ValueError(f"cpu_runner={runner!r}: use 'processes', 'dask' or a Dask scheduler address such as "
                         "tcp://10.0.0.5:8786")
    with dask as started:
        yield started


# "auto" (the default) moves extraction and tagging to one worker process per core once a run has this many pages:
# on 1,500 pages of 100 KB that cut the flow from 30 s to 21 s; below it, starting the workers costs more.
AUTO_PROCESSES_MIN_PAGES = 200


def choose_cpu_runner(runner: str | None, pages: int) -> str | None:
    if runner != "auto":
        return runner
    return "processes" if pages >= AUTO_PROCESSES_MIN_PAGES and DASK_WORKERS > 1 else None


def submit_cpu(pool, cpu_task, **parameters):
    """Submit a CPU-bound task: to the Dask cluster, or as a task of this flow whose work goes to the process pool
    (or stays in the task's thread when there is neither)."""
    if isinstance(pool, ProcessPoolExecutor):
        for value in parameters.values():
            if isinstance(value, Parcel):
                value.workers = pool
        return cpu_task.submit(**parameters)
    if pool is not None:  # Dask rebuilds a quote (a named tuple) as a plain tuple: hand it the value itself
        return pool.submit(cpu_task, {k: v.unquote() if isinstance(v, quote) else v for k, v in parameters.items()})
    return cpu_task.submit(**parameters)


# How far the page stream runs ahead. Fetching (about 1 ms of CPU a page) is far quicker than extraction (about
# 15 ms), so fetches are bounded by the batches waiting for extraction: enough to keep every worker busy, few enough
# that a 5,000-page run holds a few hundred pages in memory, not all of them. Until this window existed, every
# fetch batch started at once, shared the host's connections, and the first finished last: on 1,000 pages the
# workers sat idle for 11 s.
FETCHES_IN_FLIGHT = 2
EXTRACTIONS_QUEUED = 2 * DASK_WORKERS + 2


def stream_pages(batches: list[list], pool, cfg: config.Config) -> tuple[list, list, list, list, int]:
    """Fetch, extract, then tag and sketch (for dedup) batch by batch, each stage working while the others do:
    returns the articles, the rejections, the tag and sketch futures (in batch order) and the pages fetched."""
    settings = cfg.settings
    waiting, fetching, extracting = iter(batches), deque(), deque()
    extracted, rejections, tag_futures, sketch_futures = [], [], [], []
    fetched = done = 0
    total = sum(len(b) for b in batches)
    while True:
        while len(fetching) < FETCHES_IN_FLIGHT and (batch := next(waiting, None)) is not None:
            fetching.append(fetch_pages.submit(quote(batch), settings.http))
        # A finished extraction is taken up first, so its tagging queues behind the extractions already waiting,
        # not behind all of them: otherwise the run ends with every batch's tagging still to do.
        ready = bool(extracting) and extracting[0][0].wrapped_future.done()
        if fetching and len(extracting) < EXTRACTIONS_QUEUED and not ready:
            got, rejected = pipeline.split(fetching.popleft().result(), Page)
            fetched += len(got)
            rejections += rejected
            extracting.append((submit_cpu(pool, extract_pages, pages=Parcel(got),
                                          min_body_chars=settings.pipeline.min_body_chars), len(got) + len(rejected)))
        elif extracting:
            future, size = extracting.popleft()
            articles, rejected = pipeline.split(future.result(), Article)
            extracted += articles
            rejections += rejected
            if articles:
                # quoted: Prefect walking the whole configuration for futures cost about 10 ms a task (20 vs 9 ms)
                tag_futures.append(submit_cpu(pool, tag_articles, articles=Parcel(articles), cfg=quote(cfg)))
                sketch_futures.append(submit_cpu(pool, sketch_articles, articles=Parcel(articles),
                                                 shingle_size=settings.dedup.shingle_size))
            done += size
            progress("pages", done, total)
        else:
            return extracted, rejections, tag_futures, sketch_futures, fetched


def progress(stage: str, done: int, total: int) -> None:
    """Report progress as a log record the CLI turns into a progress bar."""
    log.info("%s: %d/%d", stage, done, total, extra={"progress": (stage, done, total)})


@task(name="prepare-warehouse")
def prepare_warehouse(path: Path, sources: list[config.Source]) -> dict:
    return warehouse.prepare(path, sources)


@task(name="read-feed-states")
def read_feed_states(path: Path) -> dict:
    return warehouse.feed_states(path)


# Feed fetches are the one result worth keeping: when a run fails later (a load that could not write) and Prefect
# retries it, the same flow run's fetches are read back instead of asking every feed again. Keyed by the inputs
# and the flow run, so a new run always fetches afresh; the kept results expire within the day.
FEEDS_CACHE = dict(cache_policy=INPUTS + RUN_ID, persist_result=True, cache_expiration=timedelta(hours=6))


@task(name="fetch-feeds", **FEEDS_CACHE)
def fetch_feeds(http: config.HttpSettings, requests: list[FeedRequest]) -> list[FeedFetch]:
    return fetch.fetch_feeds(http, requests)


@task(name="retry-feed", **FEEDS_CACHE)
def retry_feed(http: config.HttpSettings, request: FeedRequest) -> FeedFetch:
    return fetch.refetch_feed(http, request)


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
def extract_pages(pages: Parcel, min_body_chars: int) -> list:
    return on_items(pages, extract.extract_pages, min_body_chars)


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


@task(name="load")
def load(path: Path, batch) -> None:
    warehouse.load(path, batch)


# The key under which every ingest run publishes its counts; `monitor status` and `monitor trigger --wait` read it.
SUMMARY_ARTIFACT = "ingest-summary"


@task(name="publish-summary")
def publish_summary(summary: dict) -> dict:
    """The run's counts as a table artifact on its flow run (in the UI, and for `monitor status`); returns them."""
    create_table_artifact([{"outcome": k, "count": v} for k, v in sorted(summary["counts"].items())],
                          key=SUMMARY_ARTIFACT, description=f"run {summary['run_id']}"
                          f"{' (dry run)' if summary['dry_run'] else ''}: sources {', '.join(summary['sources'])}")
    return summary


def fetch_all_feeds(requests: list[FeedRequest], http: config.HttpSettings, batch_size: int) -> list[FeedFetch]:
    """Fetch feeds in concurrent batches; each feed that failed transiently gets its own retrying task, and
    one that still fails after its retries becomes an error value, never a failed run."""
    batches = pipeline.chunks(requests, batch_size)
    results: list[FeedFetch] = []
    for future in [fetch_feeds.submit(http, quote(batch)) for batch in batches]:
        results += future.result()
        progress("feeds", len(results), len(requests))
    retrying = retry_feed.with_options(
        retries=max(0, http.retries - 1),
        retry_delay_seconds=[http.retry_delay_seconds * 2 ** (i + 1) for i in range(max(0, http.retries - 1))],
        retry_jitter_factor=0.5,  # feeds that failed together (one host down) do not retry in lockstep
    )
    again = {i: retrying.submit(http, requests[i]) for i, r in enumerate(results)
             if r.status == "transient" and http.retries > 0}
    for i, future in again.items():
        results[i] = future.result(raise_on_failure=False)  # the exception itself when every retry failed
    return [fetch.settle(request, outcome) for request, outcome in zip(requests, results)]


@flow(name="ingest", log_prints=False)
def ingest(sources: list[str] | None = None, warehouse_path: str | None = None, config_dir: str | None = None,
           force: bool = False, limit: int | None = None, since: str | None = None, dry_run: bool = False,
           schedule: str | None = None, cpu_runner: str | None = "auto") -> dict:
    """Fetch the sources' feeds that are due, extract new articles, deduplicate, tag and load them.

    `force` fetches every chosen feed now, even dead or not yet due ones; `limit` caps the pages fetched in
    this run (the rest stay pending for the next); `since` (an ISO date) leaves entries published before it for a
    later run; `dry_run` does everything but write to the warehouse; `schedule` takes the sources of that
    schedule group of sources.toml (read at run time, so edits need no redeploy); `cpu_runner` says where
    extraction and tagging run: "auto" (worker processes for big runs), "processes", "dask", a Dask scheduler
    address, or None (this process's threads). Returns the run's summary.
    """
    started = datetime.now(timezone.utc)
    parameters = {"sources": sources, "force": force, "limit": limit, "since": since, "dry_run": dry_run,
                  "schedule": schedule, "cpu_runner": cpu_runner}
    cfg = config.load(config_dir)
    names = (sources or []) + (cfg.schedule_sources(schedule) if schedule else [])
    chosen = cfg.select_sources(names) if names or not schedule else []  # an empty group runs nothing
    path = cfg.warehouse_path(warehouse_path)
    cutoff = _parse_since(since)
    if dry_run:
        return _ingest(cfg, chosen, path, started, parameters, cutoff, dry_run=True)
    with warehouse.run_lock(path):  # overlapping runs take turns: the second plans against the first's results
        return _ingest(cfg, chosen, path, started, parameters, cutoff, dry_run=False)


def _ingest(cfg: config.Config, chosen: list, path: Path, started: datetime, parameters: dict,
            since: datetime | None, dry_run: bool) -> dict:
    with ExitStack() as stack:
        return publish_summary(_run_stages(cfg, chosen, path, started, parameters, since, dry_run, stack))


def _run_stages(cfg: config.Config, chosen: list, path: Path, started: datetime, parameters: dict,
                since: datetime | None, dry_run: bool, stack: ExitStack) -> dict:
    settings, clock = cfg.settings, Stopwatch()
    states = read_feed_states(path) if dry_run else prepare_warehouse(path, chosen)
    clock.lap("prepare")
    requests, skipped = health.plan_feeds(chosen, states, cfg.sources.schedule, settings.feeds, started,
                                          parameters["force"])
    if skipped:
        log.info("%d feeds skipped (%s)", len(skipped), ", ".join(f"{k}: {v}" for k, v in sorted(skipped.items())))
    fetches = fetch_all_feeds(requests, settings.http, settings.pipeline.feed_batch_size)
    parses = parse_feeds(quote(fetches), settings.pipeline.max_entries_per_feed)
    clock.lap("feeds")

    entries = pipeline.all_entries(parses)
    exists = warehouse.exists(path)
    pending = read_pending(path, [s.name for s in chosen]) if exists else []
    known = read_known_links(path, quote(pipeline.candidate_links(entries, pending))) if exists else {}
    requests = pipeline.plan_pages(entries, pending, set(known), chosen, since)[: parameters["limit"]]
    progress("pages", 0, len(requests))
    runner = choose_cpu_runner(parameters["cpu_runner"], len(requests))
    pool = stack.enter_context(cpu_stages(runner))
    batches = pipeline.page_batches(requests, settings.pipeline.page_batch_size, DASK_WORKERS if runner else 1)
    extracted, rejections, tag_futures, sketch_futures, fetched = stream_pages(batches, pool, cfg)
    clock.lap("pages")

    unique = dedup.unique_articles(extracted)
    sketches = pipeline.first_per_article([s for f in sketch_futures for s in f.result()], unique)
    prior = read_recent(path, settings.dedup.window_days) if unique and exists else []
    clusters = cluster_articles(quote(unique), quote(prior), settings.dedup, quote(sketches)) if unique else []
    clock.lap("dedup")
    tags = pipeline.first_per_article([t for f in tag_futures for t in f.result()], unique)
    clock.lap("tag")

    rejections += pipeline.entry_rejections(entries) + pipeline.feed_rejections(fetches, parses)
    bases = {s.name: health.base_minutes(s, cfg.sources.schedule, settings.feeds) for s in chosen}
    feed_states = health.advance_all(states, fetches, parses, pipeline.new_entries_by_source(entries, known), bases,
                                     settings.feeds, datetime.now(timezone.utc))
    inputs = pipeline.RunInputs(
        run_id=uuid.uuid4().hex[:16], flow_run_id=_flow_run_id(), started_at=started, sources=chosen,
        fetches=fetches, parses=parses, known=known, pages_fetched=fetched, extracted=extracted, articles=unique,
        clusters=clusters, tags=tags, rejections=rejections, feed_states=feed_states, skipped=skipped,
        stage_seconds=clock.laps, parameters=parameters,
    )
    batch = pipeline.assemble(inputs, datetime.now(timezone.utc), (cfg.topics.taxonomy, cfg.topics.version))
    if not dry_run:
        load(path, quote(batch))
    progress("load", 1, 1)
    elapsed = (datetime.now(timezone.utc) - started).total_seconds()
    return {"run_id": batch.run.run_id, "warehouse": str(path), "counts": batch.run.counts,
            "sources": [s.name for s in chosen], "skipped": skipped, "elapsed_s": round(elapsed, 3),
            "stage_seconds": clock.laps, "dry_run": dry_run}


class Stopwatch:
    """Seconds per stage of a run, for the runs table."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(now - self._last, 3)
        self._last = now


def _parse_since(since: str | None) -> datetime | None:
    if not since:
        return None
    try:
        parsed = datetime.fromisoformat(since)
    except ValueError:
        raise ValueError(f"since={since!r} is not a date: use YYYY-MM-DD or an ISO timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _flow_run_id() -> str | None:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # noqa: BLE001 - outside a flow run there is no id to record
        return None


if __name__ == "__main__":
    print(ingest())
