"""How the ingest run executes its CPU-bound stages: where extraction and tagging run (threads, a process pool,
a Dask cluster), the parcels that carry batches to them, and the run's progress and stage clocks.

This is machinery, not a stage: it uses Prefect (task submission, `quote`), so it lives under flows/, and the
flow files themselves only wire (tests/test_layers.py). The run's loop that uses it is flows/_ingest_run.py.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from prefect.utilities.annotations import quote

log = logging.getLogger("monitor.flows.ingest")  # the CLI's progress bar listens to this logger
# One worker process per core: extraction and tagging hold the GIL, so threads would share one core.
PROCESS_WORKERS = max(1, os.cpu_count() or 1)
# A local Dask cluster ("dask") gets one single-threaded worker process per core, for the same reason.
DASK_WORKERS = max(1, os.cpu_count() or 1)


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


def runner_named(value: str | None) -> str | None:
    """The runner a `cpu_runner` parameter names: None (this process's threads) for None, "" or "threads", the
    value itself for "auto", "processes", "dask" or a scheduler address; a one-line error for anything else, before
    the run starts (a triggered run gets the same names as `monitor run --task-runner`)."""
    if value in (None, "", "threads"):
        return None
    if value in ("auto", "processes", "dask") or "://" in value:
        return value
    raise ValueError(f"cpu_runner={value!r}: use 'auto', 'processes', 'threads', 'dask' or a Dask scheduler address "
                     "such as tcp://10.0.0.5:8786")


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
        with ProcessPoolExecutor(PROCESS_WORKERS, mp_context=multiprocessing.get_context("spawn")) as workers:
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


def workers_for(runner: str | None) -> int:
    """How many workers a runner has, which sizes the run's page batches (one batch per worker at a time)."""
    if not runner:
        return 1
    return DASK_WORKERS if runner == "dask" or "://" in runner else PROCESS_WORKERS


def choose_cpu_runner(runner: str | None, pages: int) -> str | None:
    if runner != "auto":
        return runner
    return "processes" if pages >= AUTO_PROCESSES_MIN_PAGES and PROCESS_WORKERS > 1 else None


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
EXTRACTIONS_QUEUED = 2 * PROCESS_WORKERS + 2
# When a later group of pages may start its extraction beside an earlier group's CPU work: while fewer tasks than
# this per worker are in flight. Two: one running, one queued behind it, so a worker never waits on the loop's
# next submission. Threads (no worker pool) get one slot, as they share one interpreter lock.
CPU_SLOTS_PER_WORKER = 2
# The run's loop waits this long when nothing moved: far below a page's fetch time, far above the loop's own cost.
IDLE_SECONDS = 0.02
# Finished articles wait at most this long for the rest of their group before they are loaded anyway: a page that
# hangs until its time budget (http.total_timeout) then holds back its batch-mates' articles no longer than this,
# while a steady stream still loads in waves (at 50 to 100 articles a second, a wave of hundreds), not per article.
WAVE_MAX_WAIT_SECONDS = 5.0


def has_finished(future) -> bool:
    """Whether a submitted task has finished, without waiting for it."""
    return future.wrapped_future.done()


def progress(stage: str, done: int, total: int) -> None:
    """Report progress as a log record the CLI turns into a progress bar."""
    log.info("%s: %d/%d", stage, done, total, extra={"progress": (stage, done, total)})


class Stopwatch:
    """Seconds per stage of a run, for the runs table."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(now - self._last, 3)
        self._last = now
