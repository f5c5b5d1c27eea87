"""Frozen records that cross stage boundaries.

Every stage takes and returns these; no stage imports another stage. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from monitor.counts import RunCounts


def stable_id(*parts: str) -> str:
    """Return a short, stable hex id for the given parts (sha1, first 16 hex chars)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    # 64 bits is plenty for collision-freedom at news scale (1e9 items -> p ~ 3e-2 over a lifetime
    # would be too high for 32 bits, negligible for 64) and keeps ids readable in SQL output.
    return digest[:16]


_WORD = re.compile(r"\w+", re.UNICODE)


def text_words(text: str) -> list[str]:
    """The lower-cased words of a text: what identity hashes and dedup shingles are built from."""
    return _WORD.findall(text.lower())


def words_hash(words: list[str]) -> str:
    """sha1 of the words joined by single spaces (`text_hash` of a text already split into words)."""
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    """sha1 of the text with case, punctuation and whitespace normalised: equal for the same text reformatted."""
    return words_hash(text_words(text))


def page_hash(html: str) -> str:
    """The content address of a page in the page store: sha256 of its HTML as UTF-8 (hex)."""
    return hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page to fetch, with what its feed entry told us about it."""

    url: str
    source: str | None = None
    published: datetime | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """One feed to fetch, with the validators of its last good fetch (sent as a conditional GET)."""

    source: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    kind: str = "feed"  # "feed" or "sitemap" (config.Source.kind)


# A feed failure's text (stored as the feed's last error and a rejection's detail) is at most this long.
MAX_FAILURE_CHARS = 300


@dataclass(frozen=True, slots=True)
class FeedFailure:
    """Why a feed request failed: a short reason ("http-404", "gone", "host-busy", "transient", ...), what the
    server or the transport said, and whether trying again later may work."""

    reason: str
    detail: str = ""
    transient: bool = False

    @property
    def text(self) -> str:
        """"reason: detail" (or the reason alone), as the warehouse stores it."""
        return (f"{self.reason}: {self.detail}" if self.detail else self.reason)[:MAX_FAILURE_CHARS]


@dataclass(frozen=True, slots=True)
class FeedFetch:
    """What one feed request returned: bytes plus validators, or a status with a reason."""

    source: str
    url: str
    status: str  # "ok" | "not-modified" | "unchanged" | "error" | "transient" (retry it)
    http_status: int | None = None
    content: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha1 of the feed's raw bytes (fetch.feed_bytes_hash), as the column is named
    failure: FeedFailure | None = None  # set when status is "error" or "transient"
    elapsed_ms: int = 0
    # What the server said about when to come back, in seconds from now (Cache-Control max-age or Expires;
    # Retry-After on a 429 or 503). The feed's health schedule honours both.
    max_age: float | None = None
    retry_after: float | None = None
    kind: str = "feed"  # the request's kind: a "sitemap" is parsed by monitor.sitemap
    # A sitemap index's child sitemaps as fetched: (URL, bytes as served, perhaps gzipped); `content` is the index
    parts: tuple[tuple[str, bytes], ...] = ()

    @property
    def error(self) -> str | None:
        """The failure as text ("blocked-address: ..."), None when the fetch succeeded."""
        return self.failure.text if self.failure else None


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed's polling state, carried from run to run: validators, health and when to look again."""

    source: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    poll_minutes: float | None = None  # the adaptive poll interval; stretches while a feed brings nothing new
    next_check: datetime | None = None
    dead: bool = False
    last_entries: int = 0
    last_new_entries: int = 0
    idle_polls: int = 0  # consecutive successful polls that brought nothing new


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item, its link resolved against the feed URL and normalised."""

    entry_id: str
    source: str
    guid: str
    link: str | None  # normalised; None when the item had no usable link
    raw_link: str | None
    title: str
    published: datetime | None
    summary: str = ""
    truncated: tuple[str, ...] = ()  # the fields cut to their cap (monitor.fields), e.g. ("title", "guid")
    # dates of the item set aside as unbelievable, e.g. ("published-out-of-window",): `published` is then the next
    # best date of the item (its updated time) or None
    date_flags: tuple[str, ...] = ()
    language: str | None = None  # the item's own language (a news sitemap's <news:language>), else the source's


@dataclass(frozen=True, slots=True)
class FeedParse:
    """The result of parsing one fetched feed."""

    source: str
    entries: tuple[Entry, ...]
    bozo: bool = False
    bozo_reason: str | None = None
    error: str | None = None  # set when the feed yielded nothing usable
    ttl_minutes: float | None = None  # the feed's own <ttl> (or sy:updatePeriod) advice on how often to poll
    title: str = ""  # the feed's own title, language and link to its site, for feed discovery
    language: str | None = None
    site: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """An article page as fetched: the final URL after redirects and the decoded HTML."""

    url: str  # the normalised URL we asked for
    final_url: str
    html: str
    http_status: int = 200
    request: PageRequest | None = None
    fetched_at: datetime | None = None  # set when the page comes from an archive (page store, WARC); None: just now


@dataclass(frozen=True, slots=True)
class Caption:
    """An image caption with its photo credit split off."""

    text: str
    credit: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A clean article extracted from a page."""

    article_id: str  # stable_id(canonical_url)
    url: str
    canonical_url: str
    title: str
    body: str
    captions: tuple[Caption, ...] = ()
    published: datetime | None = None
    language: str | None = None
    author: str | None = None
    site_name: str | None = None
    extraction_method: str = "trafilatura"
    source: str | None = None
    # Where `published` came from: "json-ld", "meta", "page" (trafilatura's date heuristics), "url" or "feed".
    published_source: str | None = None
    modified: datetime | None = None
    language_declared: str | None = None  # what the page says (<html lang>, og:locale, ...)
    language_detected: str | None = None  # what the text is, by a statistical detector (None when unsure)
    lead_image: str | None = None
    # The fields cut to their cap or dropped for length (monitor.fields), e.g. ("title", "captions").
    truncated: tuple[str, ...] = ()
    # Dates the page (or feed) gave that were set aside, as "<field>-out-of-window:<source>", e.g.
    # "published-out-of-window:json-ld"; `published_source` then names the date used instead (None: first seen).
    date_flags: tuple[str, ...] = ()
    page_sha: str | None = None  # the page's address in the page store (`page_hash`), when extracted from a page
    extractor_version: str | None = None  # the extraction code that made this record (`extract.EXTRACTOR_VERSION`)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An expected failure, recorded with a short label instead of raised."""

    url: str
    stage: str  # "feed" | "fetch" | "extract" | "dedup" | ...
    reason: str  # short label: "http-404", "bozo", "too-short", ...
    detail: str = ""
    source: str | None = None
    transient: bool = False  # True when a later run should try again


@dataclass(frozen=True, slots=True)
class DedupResult:
    """Where one document landed: its cluster, what it duplicates and how it matched."""

    doc_id: str
    cluster: str
    duplicate_of: str | None = None
    match: str | None = None  # "url" | "canonical" | "exact" | "near" | None
    similarity: float | None = None
    signature: bytes | None = None  # the document's MinHash signature, stored for later runs
    shingle_count: int = 0
    agencies: tuple[tuple[str, str], ...] = ()  # (agency, where: dateline | body | caption) credited in the text


@dataclass(frozen=True, slots=True)
class TopicScore:
    """One IPTC Media Topic with a score in [0, 1]."""

    code: str
    label: str
    score: float  # the tagger's confidence: a probability over the top-level topics
    level: int = 1  # 1 = one of the 17 top-level topics, 2 = a narrower topic under one of them


@dataclass(frozen=True, slots=True)
class Tags:
    """Countries, regions and topics for one document, with the confidence of each and the tagger's version."""

    doc_id: str
    countries: tuple[str, ...] = ()
    about: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    topics: tuple[TopicScore, ...] = ()
    mentions: dict[str, float] = field(default_factory=dict)  # weighted: title and lead count more
    caption_countries: tuple[str, ...] = ()
    confidence: dict[str, float] = field(default_factory=dict)  # country or region -> share of weighted mentions
    tagger_version: str = ""
    language: str | None = None  # the language the text was read as (ISO 639-1), declared or detected
    # "ok", or "unsupported-language" when the tagger has no names or topic words for `language`: the article is
    # stored with its language and this marker, never silently untagged
    status: str = "ok"
    regions_about: tuple[str, ...] = ()  # the regions of the focus countries (`about`), a subset of `regions`


@dataclass(frozen=True, slots=True)
class DedupDoc:
    """What deduplication needs of a document; `cluster` is set for documents already clustered."""

    doc_id: str
    text: str
    url: str | None = None
    canonical_url: str | None = None
    title: str = ""
    published: datetime | None = None
    cluster: str | None = None
    signature: bytes | None = None  # stored MinHash signature (dedup.sketch_articles); computed from `text` when None
    shingle_count: int = 0
    body_sha1: str | None = None  # stored body hash (models.text_hash); computed from `text` when None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What an ingest run was started with (the flow's parameters but the paths), recorded in its runs row."""

    sources: list[str] | None = None  # source names; None = every source (or the schedule group's)
    force: bool = False  # fetch every chosen feed now, even dead or not yet due ones
    limit: int | None = None  # at most this many pages; the rest stay pending
    since: str | None = None  # ISO date or timestamp: older entries wait for a later run
    dry_run: bool = False  # everything but the writes
    schedule: str | None = None  # a schedule group of sources.toml
    cpu_runner: str | None = "auto"  # where extraction and tagging run (flows/_execution.py)


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows the articles a search or a watch looks at: values as a person typed them (codes or names, any
    case), resolved against the warehouse when a search runs (warehouse/search_filters.py)."""

    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # mentioned
    about: tuple[str, ...] = ()  # focus countries
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # IPTC code or label

    def within(self, since: datetime | None = None, until: datetime | None = None) -> SearchFilters:
        """These filters for a search of articles published in [since, until]."""
        return SearchFilters(*(getattr(self, name) for name in FILTER_FIELDS), since=since, until=until)


FILTER_FIELDS = tuple(f.name for f in fields(Filters))  # a watch's flat keys in watches.toml, its columns


@dataclass(frozen=True, slots=True)
class SearchFilters(Filters):
    """A search's filters: the watch-like ones, and the publication dates it covers."""

    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One ingest run's outcome, as loaded into the warehouse in a single transaction."""

    run_id: str
    flow_run_id: str | None
    started_at: datetime
    finished_at: datetime
    status: str
    sources: tuple[str, ...]
    counts: RunCounts = field(default_factory=RunCounts)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage, "load" added by the load
    parameters: dict = field(default_factory=dict)  # what the run was started with (sources, since, limit, ...)


@dataclass(frozen=True, slots=True)
class LoadBatch:
    """One short transaction's worth of a run: a batch of feeds (fetch log, entries, polling state), a wave of
    pages (articles, stories, tags, the entries they complete), or the run's own record (`run`). Each lands whole
    or not at all, so a run that dies late keeps every batch it finished."""

    run: RunRecord | None = None
    run_id: str = ""  # the run the rows belong to; `run.run_id` when the record itself is in the batch
    new_entries: dict[str, int] = field(default_factory=dict)  # per source, for the feed_fetches rows
    # first waits before a rejected page is fetched again: (transient failure, 404); None: the warehouse's defaults
    retry_waits: tuple[timedelta, timedelta] | None = None
    feed_fetches: tuple[tuple[FeedFetch, FeedParse | None], ...] = ()
    entries: tuple[tuple[Entry, str | None], ...] = ()  # with the article id the entry became, if any
    articles: tuple[Article, ...] = ()
    clusters: tuple[DedupResult, ...] = ()
    tags: tuple[Tags, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    feed_states: tuple[FeedState, ...] = ()
    taxonomy: str = "IPTC Media Topics"
    taxonomy_version: str = ""


@dataclass(frozen=True)
class ReportData:
    """The numbers behind one report; `days` is the period's dates, oldest first."""

    first_day: date | None
    last_day: date | None
    days: list[date] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    regions: dict[str, list[int]] = field(default_factory=dict)  # series name -> articles per day
    topics: dict[str, list[int]] = field(default_factory=dict)
    countries: list[tuple[str, int, int]] = field(default_factory=list)  # (code, mentioned, about)
    stories: list[dict] = field(default_factory=list)
    spikes: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    # headlines (title, url, source, outlets, new) by watch name, by country code and by topic label
    watch_headlines: dict[str, list[dict]] = field(default_factory=dict)
    country_headlines: dict[str, list[dict]] = field(default_factory=dict)
    topic_headlines: dict[str, list[dict]] = field(default_factory=dict)
    previous_report: datetime | None = None  # when the last report of this kind was made: what is newer is "new"
