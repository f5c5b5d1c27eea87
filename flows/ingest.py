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
from collections import Counter, deque
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

from monitor import (config, dedup, extract, feeds, fetch, health, pagestore, pipeline, polling, tagging, warehouse,
                     watch)
from monitor.models import Article, FeedFetch, FeedRequest, LoadBatch, Page

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
# The run's loop waits this long when nothing moved: far below a page's fetch time, far above the loop's own cost.
IDLE_SECONDS = 0.02


def _done(future) -> bool:
    return future.wrapped_future.done()


def progress(stage: str, done: int, total: int) -> None:
    """Report progress as a log record the CLI turns into a progress bar."""
    log.info("%s: %d/%d", stage, done, total, extra={"progress": (stage, done, total)})


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
def fetch_pages(requests: list, http: config.HttpSettings) -> list:
    return fetch.fetch_pages(requests, http)


@task(name="store-pages")
def store_pages(pages: list, settings: config.PageSettings, path: Path) -> int:
    return pagestore.store_pages(pages, settings.store_dir(path), settings.keep_days)


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


@task(name="check-watches")
def check_watches(path: Path, cfg: config.Config, run_id: str, started: datetime) -> dict:
    return watch.check_watches(path, cfg, run_id, started)


# The key under which every ingest run publishes its counts; `monitor status` and `monitor trigger --wait` read it.
SUMMARY_ARTIFACT = "ingest-summary"


@task(name="publish-summary")
def publish_summary(summary: dict) -> dict:
    """The run's counts as a table artifact on its flow run (in the UI, and for `monitor status`); returns them."""
    create_table_artifact([{"outcome": k, "count": v} for k, v in sorted(summary["counts"].items())],
                          key=SUMMARY_ARTIFACT, description=f"run {summary['run_id']}"
                          f"{' (dry run)' if summary['dry_run'] else ''}: sources {', '.join(summary['sources'])}")
    return summary


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
        return publish_summary(_Run(cfg, chosen, path, started, parameters, since, dry_run, stack).go())


class _Run:
    """One ingest run as a loop over its in-flight work, so that no source waits for another: each batch of feeds
    goes on to its pages as soon as it is parsed (a slow or retrying feed delays only its own pages), pages stream
    through fetch, extraction, tagging and sketching, and every finished batch of feeds and wave of pages is
    loaded in its own transaction."""

    def __init__(self, cfg: config.Config, chosen: list, path: Path, started: datetime, parameters: dict,
                 since: datetime | None, dry_run: bool, stack: ExitStack) -> None:
        self.cfg, self.settings, self.chosen, self.path = cfg, cfg.settings, chosen, path
        self.started, self.parameters, self.since, self.dry_run, self.stack = started, parameters, since, dry_run, stack
        self.run_id = uuid.uuid4().hex[:16]
        self.taxonomy = (cfg.topics.taxonomy, cfg.topics.version)
        self.runner = parameters["cpu_runner"]
        self.pool = None if self.runner in (None, "auto") else stack.enter_context(cpu_stages(self.runner))
        self.workers = DASK_WORKERS if self.runner else 1
        self.bases = {s.name: health.base_minutes(s, cfg.sources.schedule, self.settings.feeds) for s in chosen}
        self.states: dict = {}
        self.skipped: dict[str, str] = {}
        self.exists = False
        # feeds
        self.requests: dict[str, FeedRequest] = {}
        self.feed_tasks: list = []
        self.retries: list = []
        self.feeds_total = self.feeds_settled = 0
        self.fetches: list[FeedFetch] = []
        self.parses: list = []
        self.entries: list = []
        self.feed_states: list = []
        self.known: dict[str, str | None] = {}
        # pages
        self.planned: set[str] = set()
        self.pages_total = self.pages_done = self.fetched = 0
        self.waiting: deque = deque()
        self.fetching: deque = deque()
        self.extracting: deque = deque()
        self.finishing: deque = deque()  # (articles, tag future, sketch future) in batch order
        self.ready: tuple[list, list, list] = ([], [], [])  # articles, tags, sketches waiting for their wave
        self.ready_rejections: list = []
        self.storing: list = []  # page-store writes (threads beside the loop), awaited before the run's record
        # results
        self.prior: list | None = None
        self.seen: set[str] = set()
        self.extracted: list[Article] = []
        self.unique: list[Article] = []
        self.clusters: list = []
        self.tags: list = []
        self.rejections: list = []
        self.seconds = {"feeds": 0.0, "tag": 0.0, "dedup": 0.0, "load": 0.0}
        self.deferred: Counter = Counter()  # "since:{source}" / "limit:{source}" -> entries left for later

    def go(self) -> dict:
        clock = Stopwatch()
        self.states = read_feed_states(self.path) if self.dry_run else prepare_warehouse(
            self.path, self.chosen, [s.name for s in self.cfg.sources.source])  # the others are retired
        clock.lap("prepare")
        loop_started = time.perf_counter()
        requests, self.skipped = health.plan_feeds(self.chosen, self.states, self.cfg.sources.schedule,
                                                   self.settings.feeds, self.started, self.parameters["force"])
        if self.skipped:
            log.info("%d feeds skipped (%s)", len(self.skipped),
                     ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items())))
        self.exists = warehouse.exists(self.path)
        if self.exists:  # entries an earlier run left unfinished come first
            pending = read_pending(self.path, [s.name for s in self.chosen])
            if pending:
                self.known.update(read_known_links(self.path, quote(sorted({p[1] for p in pending}))))
                self.queue_pages(pipeline.plan_pages([], pending, set(self.known), self.chosen, self.since))
        self.requests = {r.source: r for r in requests}
        self.feeds_total = len(requests)
        self.feed_tasks = [fetch_feeds.submit(self.settings.http, quote(batch), self.settings.sitemaps)
                           for batch in pipeline.feed_batches(requests, self.settings.pipeline.feed_batch_size)]
        progress("feeds", 0, self.feeds_total)
        while True:
            moved = self.poll_feeds()
            moved = self.step_pages() or moved
            if not (self.feed_tasks or self.retries) and not self.seconds["feeds"]:
                self.seconds["feeds"] = round(time.perf_counter() - loop_started, 3)
            pages_idle = not (self.waiting or self.fetching or self.extracting or self.finishing)
            idle = pages_idle and not (self.feed_tasks or self.retries)
            # a full wave, or every page so far done (the rest may wait on a slow feed: what is done is loaded)
            wave = len(self.ready[0]) >= self.settings.pipeline.load_wave_articles
            if wave or (pages_idle and (self.ready[0] or self.ready_rejections)):
                self.load_wave()
                moved = True
            if idle:
                break
            if not moved:
                time.sleep(IDLE_SECONDS)
                if self.finishing and not (self.waiting or self.fetching or self.extracting):
                    self.seconds["tag"] += IDLE_SECONDS  # every page extracted, tagging still to finish
        clock.laps["feeds"] = self.seconds["feeds"]
        clock.laps["pages"] = round(time.perf_counter() - loop_started - self.seconds["dedup"]
                                    - self.seconds["load"] - self.seconds["tag"], 3)
        clock.laps["dedup"] = round(self.seconds["dedup"], 3)
        # tagging overlaps the pages in the workers; what it costs the run is the wait for it after the last page
        clock.laps["tag"] = round(self.seconds["tag"], 3)
        clock.laps["load"] = round(self.seconds["load"], 3)
        return self.finish(clock)

    # --- feeds ---------------------------------------------------------------------------------------------

    def poll_feeds(self) -> bool:
        """Take up every feed batch and retry that has finished; True if any had."""
        http = self.settings.http
        done = [f for f in self.feed_tasks if _done(f)]
        for future in done:
            self.feed_tasks.remove(future)
            results = future.result()
            again = [r for r in results if r.status == "transient" and http.retries > 0]
            self.settle_feeds([r for r in results if not (r.status == "transient" and http.retries > 0)])
            retrying = retry_feed.with_options(
                retries=max(0, http.retries - 1),
                retry_delay_seconds=[http.retry_delay_seconds * 2 ** (i + 1) for i in range(max(0, http.retries - 1))],
                retry_jitter_factor=0.5,  # feeds that failed together (one host down) do not retry in lockstep
            )
            self.retries += [(r.source, retrying.submit(http, self.requests[r.source], self.settings.sitemaps))
                             for r in again]
        finished = [(source, f) for source, f in self.retries if _done(f)]
        for source, future in finished:
            self.retries.remove((source, future))
            outcome = future.result(raise_on_failure=False)  # the exception itself when every retry failed
            self.settle_feeds([fetch.settle(self.requests[source], outcome)])
        return bool(done or finished)

    def settle_feeds(self, results: list[FeedFetch]) -> None:
        """Parse settled feeds, plan their new pages, and load the feeds' rows in one transaction."""
        if not results:
            return
        fetches = [fetch.settle(self.requests[r.source], r) for r in results]
        parses = parse_feeds(quote(fetches), self.settings.pipeline.max_entries_per_feed)
        entries = pipeline.all_entries(parses)
        links = [link for link in pipeline.candidate_links(entries, []) if link not in self.known]
        if links and self.exists:
            self.known.update(read_known_links(self.path, quote(links)))
        states = health.advance_all(self.states, fetches, parses, pipeline.new_entries_by_source(entries, self.known),
                                    self.bases, self.settings.feeds, datetime.now(timezone.utc))
        self.fetches += fetches
        self.parses += parses
        self.entries += entries
        self.feed_states += states
        self.feeds_settled += len(fetches)
        progress("feeds", self.feeds_settled, self.feeds_total)
        done = set(self.known) | self.planned
        self.deferred.update(pipeline.deferred_by_since(entries, done, self.since))
        self.queue_pages(pipeline.plan_pages(entries, [], done, self.chosen, self.since))
        self.write(pipeline.feed_batch(self.run_id, fetches, parses, self.known, states))

    # --- pages ---------------------------------------------------------------------------------------------

    def queue_pages(self, requests: list) -> None:
        limit = self.parameters["limit"]
        if limit is not None:
            room = max(0, limit - self.pages_total)
            self.deferred.update(f"limit:{r.source}" for r in requests[room:])
            requests = requests[:room]
        if not requests:
            return
        self.planned.update(r.url for r in requests)
        self.pages_total += len(requests)
        if self.pool is None and self.runner == "auto" and choose_cpu_runner("auto", self.pages_total):
            self.pool = self.stack.enter_context(cpu_stages("processes"))  # the run turned out big
        self.waiting.extend(pipeline.page_batches(requests, self.settings.pipeline.page_batch_size, self.workers))
        progress("pages", self.pages_done, self.pages_total)

    def step_pages(self) -> bool:
        """Move the page stream on by what has finished; True if anything moved."""
        settings, moved = self.settings, False
        while len(self.fetching) < FETCHES_IN_FLIGHT and self.waiting:
            self.fetching.append(fetch_pages.submit(quote(self.waiting.popleft()), settings.http))
            moved = True
        # A finished extraction is taken up first, so its tagging queues behind the extractions already waiting,
        # not behind all of them: otherwise the run ends with every batch's tagging still to do.
        if self.extracting and _done(self.extracting[0][0]):
            future, size = self.extracting.popleft()
            articles, rejected = pipeline.split(future.result(), Article)
            self.ready_rejections += rejected
            if articles:
                # quoted: Prefect walking the whole configuration for futures cost about 10 ms a task (20 vs 9 ms)
                self.finishing.append((
                    articles,
                    submit_cpu(self.pool, tag_articles, articles=Parcel(articles), cfg=quote(self.cfg)),
                    submit_cpu(self.pool, sketch_articles, articles=Parcel(articles),
                               shingle_size=settings.dedup.shingle_size)))
            self.pages_done += size
            progress("pages", self.pages_done, self.pages_total)
            moved = True
        elif self.fetching and _done(self.fetching[0]) and len(self.extracting) < EXTRACTIONS_QUEUED:
            got, rejected = pipeline.split(self.fetching.popleft().result(), Page)
            self.fetched += len(got)
            self.ready_rejections += rejected
            if got and self.settings.pages.store and not self.dry_run:
                self.storing.append(store_pages.submit(quote(got), settings.pages, self.path))
            self.extracting.append((submit_cpu(self.pool, extract_pages, pages=Parcel(got),
                                               min_body_chars=settings.pipeline.min_body_chars),
                                    len(got) + len(rejected)))
            moved = True
        while self.finishing and _done(self.finishing[0][1]) and _done(self.finishing[0][2]):
            articles, tags, sketches = self.finishing.popleft()
            self.ready[0].extend(articles)
            self.ready[1].extend(tags.result())
            self.ready[2].extend(sketches.result())
            moved = True
        return moved

    def load_wave(self) -> None:
        """Deduplicate the finished articles against the warehouse and the run's earlier waves, and load them."""
        began = time.perf_counter()
        extracted, tag_list, sketch_list = self.ready
        rejections, self.ready, self.ready_rejections = self.ready_rejections, ([], [], []), []
        unique = [a for a in dedup.unique_articles(extracted) if a.article_id not in self.seen]
        self.seen.update(a.article_id for a in unique)
        sketches = pipeline.first_per_article(sketch_list, unique)
        tags = pipeline.first_per_article(tag_list, unique)
        if self.prior is None:
            self.prior = read_recent(self.path, self.settings.dedup.window_days) if unique and self.exists else []
        clusters = (cluster_articles(quote(unique), quote(self.prior), self.settings.dedup, quote(sketches))
                    if unique else [])
        self.prior += pipeline.as_prior(unique, clusters, sketches)
        self.seconds["dedup"] += time.perf_counter() - began
        self.extracted += extracted
        self.unique += unique
        self.clusters += clusters
        self.tags += tags
        self.rejections += rejections
        self.write(pipeline.page_wave(self.run_id, self.entries, extracted, unique, clusters, tags, rejections,
                                      self.taxonomy))

    # --- the end -------------------------------------------------------------------------------------------

    def write(self, batch: LoadBatch) -> None:
        if self.dry_run:
            return
        began = time.perf_counter()
        load(self.path, quote(pipeline.with_retry_waits(batch, self.settings.pipeline)))
        self.exists = True
        self.seconds["load"] += time.perf_counter() - began

    def finish(self, clock: Stopwatch) -> dict:
        for stored in self.storing:  # a page store that cannot be written fails its task, not the run
            stored.result(raise_on_failure=False)
        rejections = (self.rejections + pipeline.entry_rejections(self.entries)
                      + pipeline.feed_rejections(self.fetches, self.parses))
        inputs = pipeline.RunInputs(
            run_id=self.run_id, flow_run_id=_flow_run_id(), started_at=self.started, sources=self.chosen,
            fetches=self.fetches, parses=self.parses, known=self.known, pages_fetched=self.fetched,
            extracted=self.extracted, articles=self.unique, clusters=self.clusters, tags=self.tags,
            rejections=rejections, feed_states=tuple(self.feed_states), skipped=self.skipped,
            stage_seconds=clock.laps, parameters=self.parameters, deferred=dict(self.deferred),
        )
        record = pipeline.run_record(inputs, datetime.now(timezone.utc))
        self.write(LoadBatch(run=record))
        watched = {} if self.dry_run else check_watches(self.path, quote(self.cfg), record.run_id, self.started)
        progress("load", 1, 1)
        elapsed = (datetime.now(timezone.utc) - self.started).total_seconds()
        return {"run_id": record.run_id, "warehouse": str(self.path), "counts": record.counts,
                "sources": [s.name for s in self.chosen], "skipped": self.skipped, "elapsed_s": round(elapsed, 3),
                "stage_seconds": clock.laps, "dry_run": self.dry_run, "watches": watched}


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
