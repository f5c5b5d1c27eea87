"""Politeness rules, kept apart from the network code that obeys them (`fetch`).

Per host (host[:port]) and process-wide: at most `per_host_limit` requests in flight, at least
`min_host_interval` seconds between request starts (more when robots.txt asks for a Crawl-delay), and a host
that answers 429 or 503 is left alone for its Retry-After or an exponential backoff with jitter. Also here:
reading Retry-After, Cache-Control and Expires, and robots.txt rules (parsed; fetching them is `fetch`'s job).
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from monitor.config import HttpSettings

# Backoff after a 429/503 without Retry-After: base * 2^(strikes-1), spread by a factor in [0.5, 1.5].
THROTTLE_JITTER = 0.5
ROBOTS_AGENT = "monitor"  # the product token robots.txt groups are matched against


class HostBusy(Exception):
    """The host asked us to wait longer than `max_host_wait`; the request is left for a later run."""


# --- politeness: one gate per host, shared by every batch in this process -----------------------------

class HostGate:
    """Caps concurrent requests to one host and spaces their starts; remembers when the host asked us to wait."""

    def __init__(self, limit: int) -> None:
        self.slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._next_start = 0.0  # time.monotonic() before which no request may start
        self._held_until = 0.0  # time.monotonic() until which the host asked us to wait (Retry-After, backoff)
        self._strikes = 0  # consecutive 429/503 answers

    def reserve(self, interval: float, max_wait: float) -> float | None:
        """Book the next start time; returns the seconds to wait, or None when that is over `max_wait`."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            if start - now > max_wait:
                return None
            self._next_start = start + interval
            return start - now

    def throttle(self, retry_after: float | None, base: float) -> float:
        """The host said 429/503: hold it for Retry-After, else an exponential backoff with jitter."""
        with self._lock:
            self._strikes += 1
            delay = retry_after if retry_after is not None else (
                base * 2 ** (self._strikes - 1) * random.uniform(1 - THROTTLE_JITTER, 1 + THROTTLE_JITTER))
            self._held_until = max(self._held_until, time.monotonic() + delay)
            self._next_start = max(self._next_start, self._held_until)
            return delay

    def held(self) -> bool:
        """True while a 429/503 hold is on: a request that booked its start before the hold must book again."""
        with self._lock:
            return time.monotonic() < self._held_until

    def succeeded(self) -> None:
        """The host answered normally: the next 429/503 backoff starts from the base again."""
        with self._lock:
            self._strikes = 0


_GATES: dict[tuple[str, int], HostGate] = {}
_GATES_LOCK = threading.Lock()


def host_key(url: str) -> str:
    """host[:port], lower-cased, as written (`fetch` keys its gates by `fetch.guard.politeness_key`, which also
    merges the names of one private machine: localhost = 127.0.0.1)."""
    return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]


def host_gate(host: str, limit: int) -> HostGate:
    """The process-wide gate of one host (page batches run as concurrent tasks; the limits hold across them)."""
    with _GATES_LOCK:
        return _GATES.setdefault((host, limit), HostGate(limit))


@contextmanager
def polite(url: str, http: HttpSettings, interval: float | None = None, key: str | None = None) -> Iterator[HostGate]:
    """Hold one of the host's slots and wait for its next start time; raises HostBusy if that is too far off.

    `key` names the host (default `host_key(url)`). A Retry-After that arrives while a request waits for its start
    holds that request too: it books again after the hold."""
    host = key or host_key(url)
    gate = host_gate(host, http.per_host_limit)
    with gate.slots:
        while True:
            wait = gate.reserve(http.min_host_interval if interval is None else interval, http.max_host_wait)
            if wait is None:
                raise HostBusy(f"{host} asked us to wait more than {http.max_host_wait:g}s")
            if wait > 0:
                time.sleep(wait)
            if not gate.held():
                break
        yield gate


# --- response headers ---------------------------------------------------------------------------------

def _http_date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date); None when absent or unreadable.

    `headers` is looked up with lower-case names (httpx.Headers is case-insensitive)."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def freshness(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """How long the response says it stays fresh, in seconds: Cache-Control max-age, else Expires - Date."""
    cache_control = headers.get("cache-control", "").lower()
    if "no-cache" in cache_control or "no-store" in cache_control:
        return 0.0
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cache_control)
    if match:
        return float(match.group(1))
    expires = _http_date(headers.get("expires", ""))
    if expires is None:
        return None
    reference = _http_date(headers.get("date", "")) or now or datetime.now(timezone.utc)
    return max(0.0, (expires - reference).total_seconds())


def parse_robots(text: str) -> RobotFileParser:
    """A robots.txt body as rules (the stdlib reads only whole-second Crawl-delays; see `crawl_delay`)."""
    rules = RobotFileParser()
    rules.parse(text.splitlines())
    rules.crawl_delay_seconds = crawl_delay(text)  # type: ignore[attr-defined]
    return rules


def crawl_delay(text: str, agent: str = ROBOTS_AGENT) -> float | None:
    """The Crawl-delay of the group naming our agent, else of the `*` group; fractions allowed ("0.5")."""
    delays: dict[str, float] = {}
    group: list[str] = []
    in_rules = False
    for raw in text.splitlines():
        key, _, value = raw.split("#", 1)[0].partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if in_rules:  # a user-agent line after rules starts a new group
                group, in_rules = [], False
            group.append(value.lower())
        elif key:
            in_rules = True
            if key == "crawl-delay":
                try:
                    seconds = float(value)
                except ValueError:
                    continue
                for name in group:
                    delays.setdefault(name, seconds)
    mine = next((d for name, d in delays.items() if name != "*" and name in agent.lower()), None)
    return mine if mine is not None else delays.get("*")


def crawl_interval(rules: RobotFileParser | None, http: HttpSettings) -> float:
    """Seconds between request starts to a host: our minimum, or its Crawl-delay (capped) when longer."""
    delay = getattr(rules, "crawl_delay_seconds", None) if rules is not None else None
    return max(http.min_host_interval, min(float(delay or 0), http.max_crawl_delay))
