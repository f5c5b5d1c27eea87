"""Feed health and polling policy: pure functions over FeedState records."""

import random
from datetime import datetime, timedelta, timezone

from monitor.config import FeedSettings, Schedule, Source
from monitor.health import advance, plan_feeds, skip_reason
from monitor.models import Entry, FeedFailure, FeedFetch, FeedParse, FeedState

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
SETTINGS = FeedSettings(dead_after_failures=3, backoff_base_minutes=10, backoff_max_minutes=60,
                        max_poll_minutes=240, idle_stretch=2.0)
URL = "https://example.org/feed.xml"


def _parse(n: int, ttl: float | None = None) -> FeedParse:
    entries = tuple(Entry(str(i), "s", str(i), f"https://example.org/{i}", None, "t", None) for i in range(n))
    return FeedParse("s", entries, ttl_minutes=ttl)


def _ok(**kw) -> FeedFetch:
    return FeedFetch("s", URL, kw.pop("status", "ok"), 200, etag='"v1"', body_hash="h1", **kw)


def _minutes(state: FeedState) -> float:
    return (state.next_check - NOW).total_seconds() / 60


def test_success_follows_the_miniflux_rule():
    state = advance(None, _ok(), _parse(5), 5, 60, SETTINGS, NOW)
    assert (state.consecutive_failures, state.etag, state.body_hash, _minutes(state)) == (0, '"v1"', "h1", 60)
    # The longest of: poll interval, the feed's <ttl>, max-age, Retry-After; capped at max_poll_minutes.
    assert _minutes(advance(None, _ok(), _parse(5, ttl=90), 5, 60, SETTINGS, NOW)) == 90
    assert _minutes(advance(None, _ok(max_age=7200), _parse(5), 5, 60, SETTINGS, NOW)) == 120
    assert _minutes(advance(None, _ok(max_age=7 * 86400), _parse(5), 5, 60, SETTINGS, NOW)) == 240
    assert _minutes(advance(None, _ok(retry_after=150 * 60), _parse(5), 5, 60, SETTINGS, NOW)) == 150


def test_quiet_feeds_stretch_and_news_resets_the_interval():
    state = advance(None, _ok(), _parse(5), 5, 60, SETTINGS, NOW)
    waits = []
    for _ in range(5):  # polls that bring nothing new: 304s
        state = advance(state, FeedFetch("s", URL, "not-modified", 304, etag='"v1"', body_hash="h1"), None, 0, 60,
                        SETTINGS, NOW)
        waits.append(_minutes(state))
    assert waits == [60, 60, 120, 240, 240]  # two quiet polls tolerated, then x2 each, capped
    assert state.etag == '"v1"' and state.last_entries == 5 and state.idle_polls == 5
    state = advance(state, _ok(), _parse(6), 1, 60, SETTINGS, NOW)
    assert _minutes(state) == 60 and state.idle_polls == 0


def test_failures_back_off_exponentially_then_the_feed_is_dead():
    good = advance(None, _ok(), _parse(5), 5, 60, SETTINGS, NOW)
    state, waits = good, []
    for _ in range(3):
        state = advance(state, FeedFetch("s", URL, "error", 500, failure=FeedFailure("transient", "HTTP 500", True)), None, 0, 60, SETTINGS,
                        NOW, random.Random(1))
        waits.append(_minutes(state))
    assert all(0.8 * base <= wait <= 1.2 * base for wait, base in zip(waits, (10, 20, 40)))  # 10, 20, 40 +-20%
    assert state.dead and state.consecutive_failures == 3 and state.last_error == "transient: HTTP 500"
    assert (state.etag, state.last_success) == (good.etag, good.last_success)  # kept from the last success
    assert skip_reason(state, URL, NOW + timedelta(days=30), 60) == "dead"
    # A forced run that succeeds revives it.
    revived = advance(state, _ok(), _parse(5), 0, 60, SETTINGS, NOW)
    assert not revived.dead and revived.consecutive_failures == 0


def test_retry_after_wins_over_a_shorter_backoff_and_html_is_a_failure():
    state = advance(None, FeedFetch("s", URL, "error", 429, failure=FeedFailure("http-429"), retry_after=3 * 3600), None, 0, 60,
                    SETTINGS, NOW)
    assert _minutes(state) == 180 and state.consecutive_failures == 1
    not_a_feed = advance(None, _ok(), FeedParse("s", (), error="not-a-feed"), 0, 60, SETTINGS, NOW)
    assert not_a_feed.consecutive_failures == 1 and not_a_feed.last_error == "not-a-feed"
    empty_but_valid = advance(None, _ok(), FeedParse("s", (), error="no-entries"), 0, 60, SETTINGS, NOW)
    assert empty_but_valid.consecutive_failures == 0


def test_plan_sends_validators_and_skips_what_is_not_due():
    schedules = {"hourly": Schedule(interval_minutes=60)}
    sources = [Source(name=n, url=f"https://{n}.example/feed") for n in ("fresh", "due", "later", "moved", "dead")]
    polled = NOW - timedelta(minutes=58)  # a scheduled run comes back a little early: still due (10% slack)
    states = {
        "due": FeedState("due", "https://due.example/feed", etag='"e"', last_modified="lm", body_hash="h",
                         next_check=polled + timedelta(minutes=60)),
        "later": FeedState("later", "https://later.example/feed", next_check=NOW + timedelta(hours=2)),
        "moved": FeedState("moved", "https://old.example/feed", etag='"old"', next_check=NOW + timedelta(hours=2)),
        "dead": FeedState("dead", "https://dead.example/feed", dead=True),
    }
    requests, skipped = plan_feeds(sources, states, schedules, SETTINGS, NOW)
    assert skipped == {"later": "not-due", "dead": "dead"}
    by_name = {r.source: r for r in requests}
    assert list(by_name) == ["fresh", "due", "moved"]
    assert (by_name["due"].etag, by_name["due"].last_modified, by_name["due"].body_hash) == ('"e"', "lm", "h")
    assert by_name["moved"].etag is None  # validators of the old URL are never sent to the new one
    forced, none_skipped = plan_feeds(sources, states, schedules, SETTINGS, NOW, force=True)
    assert len(forced) == 5 and none_skipped == {}
