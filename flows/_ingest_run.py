"""One ingest run as a loop over its in-flight work (the ingest flow's body): feeds, then pages streaming through
fetch, extraction, tagging and sketching, then deduplication and a load per finished batch.

Machinery, not wiring: it submits the tasks of flows/tasks.py and takes up their results as they finish, using
the executors of flows/_execution.py. Each step it takes is one task or one pure call into `monitor.planning` or
`monitor.outcomes`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import uuid
from collections import Counter, deque
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from flows._execution import (
    EXTRACTIONS_QUEUED, FETCHES_IN_FLIGHT, IDLE_SECONDS, Parcel, Stopwatch, choose_cpu_runner, cpu_stages,
    has_finished, progress, runner_named, submit_cpu, workers_for,
)
from flows.tasks import (
    check_watches, cluster_articles, extract_pages, fetch_feeds, fetch_pages, load, parse_feeds, prepare_warehouse, read_feed_states,
    read_known_links, read_pending, read_recent, retry_feed, sketch_articles, store_pages, tag_articles,
)
from monitor import config, dedup, fetch, health, outcomes, planning, warehouse
from monitor.models import Article, FeedFetch, FeedRequest, LoadBatch, Page, RunOptions

log = logging.getLogger("monitor.flows.ingest")


class IngestRun:
    """One ingest run as a loop over its in-flight work, so that no source waits for another: each batch of feeds
    goes on to its pages as soon as it is parsed (a slow or retrying feed delays only its own pages), pages stream
    through fetch, extraction, tagging and sketching, and every finished batch of feeds and wave of pages is
    loaded in its own transaction."""

    def __init__(self, cfg: config.Config, chosen: list, path: Path, started: datetime, options: RunOptions) -> None:
        self.cfg, self.settings, self.chosen, self.path = cfg, cfg.settings, chosen, path
        self.started, self.options, self.dry_run = started, options, options.dry_run
        self.since = planning.parse_since(options.since)
        self.run_id = uuid.uuid4().hex[:16]
        self.taxonomy = (cfg.topics.taxonomy, cfg.topics.version)
        self.runner = runner_named(options.cpu_runner)
        self.stack = ExitStack()  # the run's worker pool or Dask cluster, closed when go() returns
        self.pool = None
        self.workers = workers_for(self.runner)
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
        """Run to the end; returns the run's summary."""
        with self.stack:
            if self.runner not in (None, "auto"):
                self.pool = self.stack.enter_context(cpu_stages(self.runner))
            return self._go()

    def _go(self) -> dict:
        clock = Stopwatch()
        self.states = read_feed_states(self.path) if self.dry_run else prepare_warehouse(
            self.path, self.chosen, [s.name for s in self.cfg.sources.source])  # the others are retired
        clock.lap("prepare")
        loop_started = time.perf_counter()
        requests, self.skipped = health.plan_feeds(self.chosen, self.states, self.cfg.sources.schedule,
                                                   self.settings.feeds, self.started, self.options.force)
        if self.skipped:
            log.info("%d feeds skipped (%s)", len(self.skipped),
                     ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items())))
        self.exists = warehouse.exists(self.path)
        if self.exists:  # entries an earlier run left unfinished come first
            pending = read_pending(self.path, [s.name for s in self.chosen])
            if pending:
                self.known.update(read_known_links(self.path, quote(sorted({p[1] for p in pending}))))
                self.queue_pages(planning.plan_pages([], pending, set(self.known), self.chosen, self.since))
        self.requests = {r.source: r for r in requests}
        self.feeds_total = len(requests)
        self.feed_tasks = [fetch_feeds.submit(self.settings.http, quote(batch), self.settings.sitemaps)
                           for batch in planning.feed_batches(requests, self.settings.pipeline.feed_batch_size)]
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
        done = [f for f in self.feed_tasks if has_finished(f)]
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
        finished = [(source, f) for source, f in self.retries if has_finished(f)]
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
        entries = planning.all_entries(parses)
        links = [link for link in planning.candidate_links(entries, []) if link not in self.known]
        if links and self.exists:
            self.known.update(read_known_links(self.path, quote(links)))
        states = health.advance_all(self.states, fetches, parses, planning.new_entries_by_source(entries, self.known),
                                    self.bases, self.settings.feeds, datetime.now(timezone.utc))
        self.fetches += fetches
        self.parses += parses
        self.entries += entries
        self.feed_states += states
        self.feeds_settled += len(fetches)
        progress("feeds", self.feeds_settled, self.feeds_total)
        done = set(self.known) | self.planned
        self.deferred.update(planning.deferred_by_since(entries, done, self.since))
        self.queue_pages(planning.plan_pages(entries, [], done, self.chosen, self.since))
        self.write(outcomes.feed_batch(self.run_id, fetches, parses, self.known, states))

    # --- pages ---------------------------------------------------------------------------------------------

    def queue_pages(self, requests: list) -> None:
        limit = self.options.limit
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
        self.waiting.extend(planning.page_batches(requests, self.settings.pipeline.page_batch_size, self.workers))
        progress("pages", self.pages_done, self.pages_total)

    def step_pages(self) -> bool:
        """Move the page stream on by what has finished; True if anything moved."""
        settings, moved = self.settings, False
        while len(self.fetching) < FETCHES_IN_FLIGHT and self.waiting:
            self.fetching.append(fetch_pages.submit(settings.http, quote(self.waiting.popleft())))
            moved = True
        # A finished extraction is taken up first, so its tagging queues behind the extractions already waiting,
        # not behind all of them: otherwise the run ends with every batch's tagging still to do.
        if self.extracting and has_finished(self.extracting[0][0]):
            future, size = self.extracting.popleft()
            articles, rejected = planning.split(future.result(), Article)
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
        elif self.fetching and has_finished(self.fetching[0]) and len(self.extracting) < EXTRACTIONS_QUEUED:
            got, rejected = planning.split(self.fetching.popleft().result(), Page)
            self.fetched += len(got)
            self.ready_rejections += rejected
            if got and self.settings.pages.store and not self.dry_run:
                self.storing.append(store_pages.submit(quote(got), settings.pages, self.path))
            self.extracting.append((submit_cpu(self.pool, extract_pages, pages=Parcel(got),
                                               min_body_chars=settings.pipeline.min_body_chars),
                                    len(got) + len(rejected)))
            moved = True
        while self.finishing and has_finished(self.finishing[0][1]) and has_finished(self.finishing[0][2]):
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
        sketches = outcomes.first_per_article(sketch_list, unique)
        tags = outcomes.first_per_article(tag_list, unique)
        if self.prior is None:
            self.prior = read_recent(self.path, self.settings.dedup.window_days) if unique and self.exists else []
        clusters = (cluster_articles(quote(unique), quote(self.prior), self.settings.dedup, quote(sketches))
                    if unique else [])
        self.prior += outcomes.as_prior(unique, clusters, sketches)
        self.seconds["dedup"] += time.perf_counter() - began
        self.extracted += extracted
        self.unique += unique
        self.clusters += clusters
        self.tags += tags
        self.rejections += rejections
        self.write(outcomes.page_wave(self.run_id, self.entries, extracted, unique, clusters, tags, rejections,
                                      self.taxonomy), self.cluster_check())

    def cluster_check(self) -> warehouse.ClusterCheck:
        """What the load needs to settle this wave's stories against other writers' commits (issue 23)."""
        s = self.settings.dedup
        match = functools.partial(dedup.rematch, shingle_size=s.shingle_size, threshold=s.near_threshold,
                                  min_shingles=s.min_shingles)
        return warehouse.ClusterCheck(frozenset(d.doc_id for d in self.prior), s.window_days, match)

    # --- the end -------------------------------------------------------------------------------------------

    def write(self, batch: LoadBatch, check: warehouse.ClusterCheck | None = None) -> None:
        if self.dry_run:
            return
        began = time.perf_counter()
        load(self.path, quote(outcomes.with_retry_waits(batch, self.settings.pipeline)), quote(check))
        self.exists = True
        self.seconds["load"] += time.perf_counter() - began

    def finish(self, clock: Stopwatch) -> dict:
        for stored in self.storing:  # a page store that cannot be written fails its task, not the run
            stored.result(raise_on_failure=False)
        rejections = (self.rejections + outcomes.entry_rejections(self.entries)
                      + outcomes.feed_rejections(self.fetches, self.parses))
        inputs = outcomes.RunInputs(
            run_id=self.run_id, flow_run_id=_flow_run_id(), started_at=self.started, sources=self.chosen,
            fetches=self.fetches, parses=self.parses, known=self.known, pages_fetched=self.fetched,
            extracted=self.extracted, articles=self.unique, clusters=self.clusters, tags=self.tags,
            rejections=rejections, feed_states=tuple(self.feed_states), skipped=self.skipped,
            stage_seconds=clock.laps, parameters=dataclasses.asdict(self.options), deferred=dict(self.deferred),
        )
        record = outcomes.run_record(inputs, datetime.now(timezone.utc))
        self.write(LoadBatch(run=record))
        watched = {} if self.dry_run else check_watches(self.path, quote(self.cfg), record.run_id, self.started)
        progress("load", 1, 1)
        elapsed = (datetime.now(timezone.utc) - self.started).total_seconds()
        return {"run_id": record.run_id, "warehouse": str(self.path), "counts": record.counts,
                "sources": [s.name for s in self.chosen], "skipped": self.skipped, "elapsed_s": round(elapsed, 3),
                "stage_seconds": clock.laps, "dry_run": self.dry_run, "watches": watched}


def _flow_run_id() -> str | None:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # noqa: BLE001 - outside a flow run there is no id to record
        return None
