"""Feed health and polling policy, as pure functions over `FeedState` records.

After every attempt a feed's state advances:

- success (new bytes, a 304 or an unchanged body): failures reset; the next check is
  `max(poll interval, the feed's <ttl>, Cache-Control max-age / Expires, Retry-After)`, the Miniflux rule,
  each capped at `feeds.max_poll_minutes`. The poll interval starts at the source's schedule interval and
  stretches while polls keep bringing nothing new (Media Cloud's rss-fetcher adapts the same way); the first
  poll with new items resets it.
- failure: consecutive failures count up; the next check backs off exponentially (with jitter, capped), and
  never before a Retry-After; after `feeds.dead_after_failures` failures the feed is dead and skipped until
  a forced run succeeds. A feed that answers 410 Gone is dead at once.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from monitor.config import FeedSettings, Source
from monitor.models import FeedFetch, FeedParse, FeedRequest, FeedState

log = logging.getLogger(__name__)

# A scheduled run comes back after about one interval, give or take the scheduler's own delay: a feed
# whose next check is within this share of its interval counts as due, so a run a few seconds early does
# not skip a whole cycle.
DUE_SLACK = 0.1
# Failure backoff is spread by +-20% so feeds that failed together (one host down) do not all retry at once.
BACKOFF_JITTER = 0.2
# Quiet polls tolerated before the interval stretches: news feeds go quiet for an hour or two routinely.
IDLE_POLLS_BEFORE_STRETCH = 2
# 410 Gone: the publisher removed the feed for good (RFC 9110), so it is dead at once, not after
# `feeds.dead_after_failures` tries; a forced run that succeeds revives it as for any dead feed.
GONE = 410
# Parse outcomes that mean the bytes were not a usable feed (a valid feed with no items is not a failure).
PARSE_FAILURES = frozenset({"empty-body", "not-a-feed"})


def base_minutes(source: Source, schedules: dict, settings: FeedSettings) -> float:
    """The source's schedule interval in minutes (cron schedules use `feeds.cron_poll_minutes`)."""
    schedule = schedules.get(source.schedule)
    minutes = schedule.minutes if schedule is not None else None
    return float(minutes) if minutes else settings.cron_poll_minutes


def skip_reason(state: FeedState | None, url: str, now: datetime, base: float) -> str | None:
    """Why a feed is not fetched now ("dead" or "not-due"), or None when it is due."""
    if state is None or state.url != url:  # never fetched, or the configured URL changed
        return None
    if state.dead:
        return "dead"
    if state.next_check and state.next_check > now + timedelta(minutes=base * DUE_SLACK):
        return "not-due"
    return None


def plan_feeds(sources: list[Source], states: dict[str, FeedState], schedules: dict, settings: FeedSettings,
               now: datetime, force: bool = False) -> tuple[list[FeedRequest], dict[str, str]]:
    """The feeds to fetch now, each with its stored validators, and the skipped ones with why.

    `force` fetches every source, dead or not due, as an analyst's "refresh now" does.
    """
    requests: list[FeedRequest] = []
    skipped: dict[str, str] = {}
    for source in sources:
        state = states.get(source.name)
        reason = None if force else skip_reason(state, source.url, now, base_minutes(source, schedules, settings))
        if reason:
            skipped[source.name] = reason
            continue
        if state is not None and state.url == source.url:
            requests.append(FeedRequest(source.name, source.url, state.etag, state.last_modified, state.body_hash,
                                        source.kind))
        else:
            requests.append(FeedRequest(source.name, source.url, kind=source.kind))
    return requests, skipped


def failed(fetch: FeedFetch, parse: FeedParse | None) -> str | None:
    """The failure reason of an attempt, or None when it succeeded."""
    if fetch.status in ("error", "transient"):
        return fetch.error or fetch.status
    if parse is not None and parse.error in PARSE_FAILURES:
        return parse.error
    return None


def advance(prev: FeedState | None, fetch: FeedFetch, parse: FeedParse | None, new_entries: int, base: float,
            settings: FeedSettings, now: datetime, rng: random.Random | None = None) -> FeedState:
    """The feed's state after this attempt."""
    rng = rng or random
    if prev is not None and prev.url != fetch.url:
        prev = None  # validators and history belong to the old URL
    prev = prev or FeedState(fetch.source, fetch.url)
    retry_after = (fetch.retry_after or 0) / 60
    error = failed(fetch, parse)
    if error:
        failures = prev.consecutive_failures + 1
        backoff = min(settings.backoff_base_minutes * 2 ** (failures - 1), settings.backoff_max_minutes)
        wait = max(backoff * rng.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER), retry_after)
        gone = fetch.http_status == GONE
        dead = gone or failures >= settings.dead_after_failures
        if dead and not prev.dead:
            log.warning("feed %s is dead: %s", fetch.source,
                        "it answered 410 Gone" if gone else f"{failures} consecutive failures (last: {error})")
        return FeedState(
            fetch.source, fetch.url, prev.etag, prev.last_modified, prev.body_hash,
            last_status="error", last_error=error[:300], last_attempt=now, last_success=prev.last_success,
            consecutive_failures=failures, poll_minutes=prev.poll_minutes, next_check=now + timedelta(minutes=wait),
            dead=dead, last_entries=prev.last_entries, last_new_entries=0, idle_polls=prev.idle_polls,
        )
    entries = len(parse.entries) if parse is not None else prev.last_entries
    idle = 0 if new_entries > 0 else prev.idle_polls + 1
    poll = base * settings.idle_stretch ** max(0, idle - IDLE_POLLS_BEFORE_STRETCH)
    poll = max(base, min(poll, settings.max_poll_minutes))
    if parse is not None and entries and new_entries == entries and prev.last_success is not None:
        log.info("feed %s: all %d items were new; some may have been missed between polls", fetch.source, entries)
    advice = max((parse.ttl_minutes or 0) if parse else 0, (fetch.max_age or 0) / 60, retry_after)
    wait = max(poll, min(advice, settings.max_poll_minutes))
    return FeedState(
        fetch.source, fetch.url, fetch.etag, fetch.last_modified, fetch.body_hash or prev.body_hash,
        last_status=fetch.status, last_error=parse.bozo_reason if parse is not None and parse.bozo else None,
        last_attempt=now, last_success=now, consecutive_failures=0, poll_minutes=poll,
        next_check=now + timedelta(minutes=wait), dead=False, last_entries=entries, last_new_entries=new_entries,
        idle_polls=idle,
    )


def advance_all(states: dict[str, FeedState], fetches: list[FeedFetch], parses: list[FeedParse | None],
                new_entries: dict[str, int], bases: dict[str, float], settings: FeedSettings,
                now: datetime) -> tuple[FeedState, ...]:
    """Every fetched feed's next state (feeds skipped this run keep theirs)."""
    return tuple(
        advance(states.get(f.source), f, p, new_entries.get(f.source, 0), bases[f.source], settings, now)
        for f, p in zip(fetches, parses)
    )
