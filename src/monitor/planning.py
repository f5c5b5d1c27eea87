"""Planning a run, as pure functions over records: which feed entries' pages to fetch (new links only, `since`,
`limit` left to the flow, pending ones first), in what order and in what batches. Flows call these; no I/O."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timezone

from monitor.config import Source
from monitor.models import Entry, FeedParse, FeedRequest, PageRequest, Rejection
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
    language = {s.name: s.fallback_language for s in sources}
    by_link: dict[str, PageRequest] = {}
    for entry in entries:
        if since and entry.published and entry.published < since:
            continue
        if entry.link and entry.link not in known and entry.link not in by_link:
            by_link[entry.link] = PageRequest(entry.link, entry.source, entry.published,
                                              entry.language or language.get(entry.source))
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


# A feed that fails transiently (timeout, reset, 5xx, 429) is tried again within the run, `http.retries` times:
# the first after `http.retry_delay_seconds`, each later one after twice the wait before it, so that a host that
# blipped is back soon and a host that is down is asked less and less. This is the one schedule: the flow holds a
# feed for the first wait before its retry task starts (Prefect cannot delay a task's first attempt) and gives the
# later waits to Prefect as that task's retry delays; the fetch itself never sleeps.
RETRY_GROWTH = 2
# Feeds that failed together (one host down) do not come back together: every wait is spread by up to this factor.
RETRY_JITTER = 0.5


def feed_retry_waits(retries: int, first_seconds: float) -> list[float]:
    """The seconds to wait before each of a feed's retries in this run (see RETRY_GROWTH), before jitter."""
    return [first_seconds * RETRY_GROWTH ** attempt for attempt in range(retries)]


def page_batches(requests: list[PageRequest], largest: int, workers: int) -> list[list[PageRequest]]:
    """The requests, interleaved across hosts, in batches of at most `largest`: smaller when the run is small."""
    size = max(1, min(largest, -(-len(requests) // (BATCHES_PER_WORKER * max(1, workers)))))
    return chunks(interleave_hosts(requests), size)


def chunks(items: list, size: int) -> list[list]:
    """Fixed-size batches: tasks work on batches, never one item each."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def deferred_by_since(entries: list[Entry], known: set[str], since: datetime | None) -> Counter:
    """Per ("since", source), the entries `plan_pages` leaves for a later run: published before `since`."""
    return Counter(("since", e.source) for e in entries
                   if since and e.link and e.link not in known and e.published and e.published < since)
