"""One ingest run as a loop over its in-flight work (the ingest flow's body): feeds, then pages streaming through
fetch, extraction, tagging and sketching, then deduplication and a load per finished batch.

Machinery, not wiring: it submits the tasks of flows/tasks.py and takes up their results as they finish, using
the executors of flows/_execution.py. Each step it takes is one task or one pure call into `monitor.planning` or
`monitor.outcomes`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import time
import uuid
from collections import Counter, deque
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from prefect.context import get_run_context
from prefect.utilities.annotations import quote
from prefect.utilities.math import clamped_poisson_interval

from flows._execution import (
    CPU_SLOTS_PER_WORKER, EXTRACTIONS_QUEUED, FETCHES_IN_FLIGHT, IDLE_SECONDS, WAVE_MAX_WAIT_SECONDS, Parcel, Stopwatch,
    choose_cpu_runner, cpu_stages, has_finished, progress, runner_named, submit_cpu, workers_for,
)
from flows.tasks import (
    check_watches, cluster_articles, extract_pages, fetch_feeds, fetch_pages, load, parse_feeds, prepare_tagger,
    prepare_warehouse, read_feed_states, read_known_links, read_pending, read_recent, read_site_furniture,
    refresh_site_furniture, retry_feed, sketch_articles, store_pages, tag_articles,
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
        self.cpu_slots = 1  # CPU-bound tasks at once that use the cores fully: threads share one interpreter lock
        self.bases = {s.name: health.base_minutes(s, cfg.sources.schedule, self.settings.feeds) for s in chosen}
        self.states: dict = {}
        self.skipped: dict[str, str] = {}
        self.exists = False
        # feeds
        self.requests: dict[str, FeedRequest] = {}
        self.feed_tasks: list = []
        self.held: list[tuple[float, str]] = []  # (when its retry may start, source): feeds waiting to be retried
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
        # Every page batch carries its group: the pages one batch of feeds (or the pending entries) planned.
        self.waiting: deque = deque()  # (group, requests)
        self.fetching: deque = deque()  # (group, fetch future)
        self.extracting: deque = deque()  # (group, extract future, pages)
        self.finishing: deque = deque()  # (group, articles, tag future, sketch future) in batch order
        self.ready: tuple[list, list, list] = ([], [], [])  # articles, tags, sketches waiting for their wave
        self.ready_rejections: list = []
        self.groups = itertools.count()
        self.open_batches: Counter = Counter()  # group -> its page batches not yet ready
        self.group_done = False  # a group's last batch became ready since the last wave
        self.ready_since: float | None = None  # when the oldest article waiting for a wave became ready
        self.quiet_loads: list[LoadBatch] = []  # feed batches that planned no pages, loaded once the pages are idle
        self.storing: list = []  # page-store writes (threads beside the loop), awaited before the run's record
        self.furniture: dict = {}  # per host, the site furniture the warehouse knows (removed during extraction)
        self.warming = None  # the tagger's indexes being built in this process while the first pages are fetched
        # results
        self.prior: list | None = None
        self.seen: set[str] = set()
        self.extracted: list[Article] = []
        self.unique: list[Article] = []
        self.clusters: list = []
        self.tags: list = []
        self.rejections: list = []
        self.seconds = {"feeds": 0.0, "tag": 0.0, "dedup": 0.0, "load": 0.0}
        self.deferred: Counter = Counter()  # ("since" | "limit", source) -> entries left for later

    def go(self) -> dict:
        """Run to the end; returns the run's summary."""
        with self.stack:
            if self.runner not in (None, "auto"):
                self.pool = self.stack.enter_context(cpu_stages(self.runner))
                self.cpu_slots = CPU_SLOTS_PER_WORKER * self.workers
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
        self.furniture = read_site_furniture(self.path) if self.exists else {}
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
            if not (self.feed_tasks or self.held or self.retries) and not self.seconds["feeds"]:
                self.seconds["feeds"] = round(time.perf_counter() - loop_started, 3)
            pages_idle = not (self.waiting or self.fetching or self.extracting or self.finishing)
            idle = pages_idle and not (self.feed_tasks or self.held or self.retries)
            if self.wave_due(pages_idle):
                self.load_wave()
                moved = True
            if pages_idle and self.quiet_loads:
                self.write_quiet()
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
        """Take up every feed batch and retry that has finished, and start the retries that are due; True if any."""
        http = self.settings.http
        waits = planning.feed_retry_waits(http.retries, http.retry_delay_seconds)
        done = [f for f in self.feed_tasks if has_finished(f)]
        for future in done:
            self.feed_tasks.remove(future)
            results = future.result()
            again = [r for r in results if r.status == "transient" and waits]
            self.settle_feeds([r for r in results if not (r.status == "transient" and waits)])
            now = time.perf_counter()
            self.held += [(now + clamped_poisson_interval(waits[0], planning.RETRY_JITTER), r.source) for r in again]
        due = [(when, source) for when, source in self.held if when <= time.perf_counter()]
        if due:
            retrying = retry_feed.with_options(retries=len(waits) - 1, retry_delay_seconds=waits[1:],
                                               retry_jitter_factor=planning.RETRY_JITTER)
            for held in due:
                self.held.remove(held)
                self.retries.append((held[1], retrying.submit(http, self.requests[held[1]], self.settings.sitemaps)))
        finished = [(source, f) for source, f in self.retries if has_finished(f)]
        for source, future in finished:
            self.retries.remove((source, future))
            outcome = future.result(raise_on_failure=False)  # the exception itself when every retry failed
            self.settle_feeds([fetch.settle(self.requests[source], outcome)])
        return bool(done or due or finished)

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
        planned = self.pages_total
        self.queue_pages(planning.plan_pages(entries, [], done, self.chosen, self.since))
        batch = outcomes.feed_batch(self.run_id, fetches, parses, self.known, states)
        if self.pages_total > planned:  # stored before their pages, so a run that dies finds those pending
            self.write(batch)
        else:
            # Failed, unchanged or fully known feeds plan no pages: their fetch log and polling state wait until
            # the pages in flight are done, so that a dead feed's last retry does not hold the loop (and the
            # cores) with a transaction of its own while other sources' articles are on their way.
            self.quiet_loads.append(batch)

    # --- pages ---------------------------------------------------------------------------------------------

    def queue_pages(self, requests: list) -> None:
        limit = self.options.limit
        if limit is not None:
            room = max(0, limit - self.pages_total)
            self.deferred.update(("limit", r.source) for r in requests[room:])
            requests = requests[:room]
        if not requests:
            return
        self.planned.update(r.url for r in requests)
        self.pages_total += len(requests)
        if self.pool is None and self.runner == "auto" and choose_cpu_runner("auto", self.pages_total):
            self.pool = self.stack.enter_context(cpu_stages("processes"))  # the run turned out big
            self.cpu_slots = CPU_SLOTS_PER_WORKER * self.workers
        if self.pool is None and self.warming is None:  # tagging runs in this process: build its indexes meanwhile
            self.warming = prepare_tagger.submit(self.cfg)
        group, batches = next(self.groups), planning.page_batches(requests, self.settings.pipeline.page_batch_size,
                                                                   self.workers)
        self.open_batches[group] = len(batches)
        self.waiting.extend((group, batch) for batch in batches)
        progress("pages", self.pages_done, self.pages_total)

    def step_pages(self) -> bool:
        """Move the page stream on by what has finished; True if anything moved."""
        settings, moved = self.settings, False
        while len(self.fetching) < FETCHES_IN_FLIGHT and self.waiting:
            group, batch = self.waiting.popleft()
            self.fetching.append((group, fetch_pages.submit(settings.http, quote(batch))))
            moved = True
        # A finished extraction is taken up first, so its tagging queues behind the extractions already waiting,
        # not behind all of them: otherwise the run ends with every batch's tagging still to do.
        if self.extracting and has_finished(self.extracting[0][1]):
            group, future, size = self.extracting.popleft()
            articles, rejected = planning.split(future.result(), Article)
            self.ready_rejections += rejected
            if not articles:
                self.batch_ready(group)
            else:
                # quoted: Prefect walking the whole configuration for futures cost about 10 ms a task (20 vs 9 ms)
                self.finishing.append((
                    group, articles,
                    submit_cpu(self.pool, tag_articles, articles=Parcel(articles), cfg=quote(self.cfg)),
                    submit_cpu(self.pool, sketch_articles, articles=Parcel(articles),
                               shingle_size=settings.dedup.shingle_size)))
            self.pages_done += size
            progress("pages", self.pages_done, self.pages_total)
            moved = True
        elif ((fetched := self.next_fetched()) and len(self.extracting) < EXTRACTIONS_QUEUED
              and not self.cpu_held(fetched[0])):
            self.fetching.remove(fetched)
            group, future = fetched
            got, rejected = planning.split(future.result(), Page)
            self.fetched += len(got)
            self.ready_rejections += rejected
            if got and self.settings.pages.store and not self.dry_run:
                self.storing.append(store_pages.submit(quote(got), settings.pages, self.path))
            self.extracting.append((group, submit_cpu(self.pool, extract_pages, pages=Parcel(got),
                                                      min_body_chars=settings.pipeline.min_body_chars,
                                                      furniture=quote(self.furniture)),
                                    len(got) + len(rejected)))
            moved = True
        while self.finishing and has_finished(self.finishing[0][2]) and has_finished(self.finishing[0][3]):
            group, articles, tags, sketches = self.finishing.popleft()
            self.ready[0].extend(articles)
            self.ready[1].extend(tags.result())
            self.ready[2].extend(sketches.result())
            self.batch_ready(group)
            moved = True
        return moved

    def next_fetched(self) -> tuple | None:
        """The first finished fetch batch whose group has no earlier batch still fetching. A page that hangs until
        its time budget then holds back the later batches of its own group only, not every batch fetched after it;
        within a group the batches keep their order (of two pages of one story, the first listed is the one kept)."""
        waiting: set[int] = set()
        for entry in self.fetching:
            if entry[0] not in waiting and has_finished(entry[1]):
                return entry
            waiting.add(entry[0])
        return None

    def cpu_held(self, group: int) -> bool:
        """Whether a group's fetched pages wait before extraction: while an earlier group's extraction and tagging
        fill the CPU slots. Groups take the cores in the order their feeds settled, so one batch of feeds finishes
        (and loads) before the next takes the cores from it: a hostile host's pages, planned a moment after a good
        host's, no longer share the good pages' cores and finish with them (issue 16). Pages still being fetched
        hold nothing back: the next group goes on while the earlier one waits on the network."""
        busy = [g for g, *_ in itertools.chain(self.extracting, self.finishing)]
        return any(g < group for g in busy) and len(busy) >= self.cpu_slots

    def wave_due(self, pages_idle: bool) -> bool:
        """Whether to load the finished articles now: a full wave; every page of a group of pages done (one batch
        of feeds' pages never waits for another's, such as a hostile host's bombs or a retried feed's pages); every
        page so far done (the rest may wait on a slow feed); or the oldest finished article has waited
        WAVE_MAX_WAIT_SECONDS (a page hanging until its time budget holds back its own group no longer). Rejections
        alone never call for a wave of their own: they go with the next one."""
        if not (self.ready[0] or self.ready_rejections):
            self.group_done = False
            return False
        if self.ready_since is None and self.ready[0]:
            self.ready_since = time.perf_counter()
        waited = self.ready_since is not None and time.perf_counter() - self.ready_since >= WAVE_MAX_WAIT_SECONDS
        full = len(self.ready[0]) >= self.settings.pipeline.load_wave_articles
        return full or self.group_done or pages_idle or waited

    def batch_ready(self, group: int) -> None:
        """One page batch's results are in `ready`; its group is done when it was the group's last."""
        self.open_batches[group] -= 1
        if self.open_batches[group] <= 0:
            del self.open_batches[group]
            self.group_done = True

    def load_wave(self) -> None:
        """Deduplicate the finished articles against the warehouse and the run's earlier waves, and load them."""
        began = time.perf_counter()
        extracted, tag_list, sketch_list = self.ready
        rejections, self.ready, self.ready_rejections = self.ready_rejections, ([], [], []), []
        self.group_done, self.ready_since = False, None
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

    def write_quiet(self) -> None:
        """Load the feed batches that planned no pages, in the order they settled."""
        while self.quiet_loads:
            self.write(self.quiet_loads.pop(0))

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
        self.write_quiet()
        if self.unique and not self.dry_run:  # the furniture of the sites this run touched, for the next run
            refresh_site_furniture.submit(self.path, quote(self.unique)).result(raise_on_failure=False)
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
