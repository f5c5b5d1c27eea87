"""Models of settings.toml: the warehouse, HTTP, pipeline, feed, sitemap, dedup, tagging, page and lake settings."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, NamedTuple

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from monitor.config.base import _HASHED, LAKE_PREFIX, _Strict


class AllowedHost(NamedTuple):
    """One `http.allow_hosts` entry: a network (a single address is a /32 or /128) or a host name, and a port."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    name: str | None
    port: int


def parse_allowed(entry: str) -> AllowedHost:
    """Parse "HOST:PORT" (HOST an address, a CIDR network, "[IPv6]" or a name); ValueError says what is wrong."""
    host, sep, port = entry.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError(f"{entry!r} is not HOST:PORT (e.g. \"127.0.0.1:8080\", \"10.0.0.0/8:443\", \"intranet:80\")")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise ValueError(f"{entry!r}: write an IPv6 address or network in brackets, e.g. \"[::1]:8080\"")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return AllowedHost(ipaddress.ip_network(host, strict=True), None, int(port))
    except ValueError as exc:
        if "/" in host or ":" in host or re.fullmatch(r"[\d.]+", host):
            raise ValueError(f"{entry!r}: {host!r} is not an address or network ({exc})") from None
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", host.lower().rstrip(".")):
        raise ValueError(f"{entry!r}: {host!r} is not a host name")
    return AllowedHost(None, host.lower().rstrip("."), int(port))


class WarehouseSettings(_Strict):
    # A DuckDB file, or "ducklake:<catalog>" (a local catalog file, or "ducklake:postgres:dbname=... host=...");
    # relative paths resolve against the project root.
    path: str = "warehouse/monitor.duckdb"
    # Where a DuckLake warehouse keeps its Parquet files: a folder every writer reaches (a shared disk; object
    # storage such as "s3://..." would need DuckDB's httpfs extension, which is not shipped). Needed with a Postgres
    # catalog, which records it the first time; later writers read it there. Empty: beside a local catalog file.
    # Relative to the project root.
    lake_data_path: str = ""


class HttpSettings(_Strict):
    # Named in every request's User-Agent so a site's operator can reach whoever runs this crawler.
    contact_url: str = Field("https://github.com/monitor-news/monitor", pattern=r"^(https?://|mailto:)\S+$")
    connect_timeout: float = Field(5.0, gt=0)  # seconds to open a connection
    read_timeout: float = Field(15.0, gt=0)  # seconds between bytes
    total_timeout: float = Field(30.0, gt=0)  # seconds for a whole response, slow bodies included
    max_bytes: int = Field(10_000_000, gt=0)  # response size cap: a 10 MB page is never an article
    max_redirects: int = Field(5, ge=0)
    per_host_limit: int = Field(2, ge=1)  # concurrent requests to one host
    max_connections: int = Field(16, ge=1)  # concurrent requests in all
    retries: int = Field(2, ge=0)  # Prefect retries of a feed fetch after a transient failure
    retry_delay_seconds: float = Field(5.0, ge=0)  # wait before each retry (doubles each time)
    min_host_interval: float = Field(0.5, ge=0)  # seconds between request starts to one host
    obey_robots: bool = True  # robots.txt is honoured for article pages (feeds are published to be polled)
    max_crawl_delay: float = Field(10.0, ge=0)  # a robots.txt Crawl-delay above this is capped, not obeyed
    max_host_wait: float = Field(60.0, ge=0)  # a host that asks us to wait longer is retried next run instead
    # Non-public addresses (loopback, private, link-local, CGNAT, cloud metadata) are refused: a feed could point
    # us at a router or a metadata service. Each entry here allows one "HOST:PORT" where HOST is an IP address
    # ("127.0.0.1", "[::1]"), a network ("10.1.0.0/16", "[fd00::/8]") or a name ("intranet"); link-local and
    # metadata addresses pass only when listed as a single address or by name. Checked on every redirect hop.
    allow_hosts: tuple[str, ...] = ()
    # A forward proxy ("http://proxy.example:3128") for every request; empty: HTTPS_PROXY, HTTP_PROXY and
    # ALL_PROXY from the environment, with NO_PROXY bypassing it in both cases. "direct" ignores the environment.
    proxy: str = ""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "allow_private_addresses" in data:
            raise ValueError("allow_private_addresses was replaced by allow_hosts: list each private server as "
                             'HOST:PORT, e.g. allow_hosts = ["127.0.0.1:8080", "10.1.0.0/16:443"]')
        return data

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str) -> str:
        if value not in ("", "direct") and not re.fullmatch(r"https?://[^\s/]+/?", value):
            raise ValueError('use an http:// or https:// proxy URL such as "http://proxy.example:3128", "direct" '
                             '(no proxy) or "" (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY from the environment)')
        return value

    @field_validator("allow_hosts")
    @classmethod
    def _entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parse_allowed(entry)
        return value

    @property
    def user_agent(self) -> str:
        """One user agent naming the project, its version and the contact URL."""
        from monitor import __version__

        return f"monitor/{__version__} (+{self.contact_url})"


class PipelineSettings(_Strict):
    # The most pages per fetch/extract/tag task. Each Prefect task costs ~30 ms of bookkeeping (most of it in the
    # server recording task runs): at 25 pages that was a fifth of a 5,000-page run. Small runs get smaller batches
    # so that every worker still has several (pipeline.page_batches).
    page_batch_size: int = Field(100, ge=1)
    feed_batch_size: int = Field(50, ge=1)  # feeds per fetch task (a retrying task is added only for failures)
    min_body_chars: int = Field(200, ge=0)  # shorter bodies are rejected as "too-short"
    max_entries_per_feed: int = Field(500, ge=1)
    # Pages are deduplicated and loaded in waves of about this many articles, each in its own transaction, so a run
    # that dies late keeps what it finished. Each wave compares its articles with the warehouse's recent ones:
    # fewer, larger waves cost less comparing, smaller ones put less work at risk.
    load_wave_articles: int = Field(500, ge=1)
    # A rejected page is fetched again by a later run: after a timeout, 5xx or 429 this long first (each wait twice
    # the last, at most a day); after a 404 this long first, then seven times that (sites do fix links, rarely within
    # hours). A 410 and other final outcomes are never fetched again unless `monitor run --retry-rejected`.
    retry_transient_minutes: float = Field(15.0, gt=0)
    retry_not_found_hours: float = Field(24.0, gt=0)


class FeedSettings(_Strict):
    dead_after_failures: int = Field(10, ge=1)  # consecutive failures before a feed is marked dead
    backoff_base_minutes: float = Field(15.0, gt=0)  # wait after the first failure; doubles with each one
    backoff_max_minutes: float = Field(1440.0, gt=0)  # the backoff never exceeds a day
    max_poll_minutes: float = Field(360.0, gt=0)  # caps the stretched interval, a feed's <ttl> and max-age
    idle_stretch: float = Field(1.5, ge=1)  # poll interval growth after a poll that brought nothing new
    cron_poll_minutes: float = Field(60.0, gt=0)  # base poll interval of sources on a cron schedule


class SitemapSettings(_Strict):
    # Limits on what one poll of a sitemap source reads, so a hostile or broken sitemap costs a bounded amount.
    max_depth: int = Field(2, ge=1, le=5)  # levels of sitemap index, the source's own counting as one
    max_children: int = Field(50, ge=1)  # child sitemaps read per index: a news index lists a handful
    # URLs in one sitemap: Google News sitemaps hold at most 1,000; more (up to the protocol's 50,000) is an
    # archive sitemap, read only by `monitor backfill`, or a bomb
    max_urls: int = Field(1000, ge=1, le=50_000)
    # URLs in one sitemap read by `monitor backfill` (an archive sitemap): the protocol's own limit
    archive_max_urls: int = Field(50_000, ge=1, le=50_000)


class DedupSettings(_Strict):
    shingle_size: int = Field(3, ge=1, le=8)  # word n-grams; 3 measured best on wire copies (see issue 5)
    near_threshold: float = Field(0.6, gt=0, le=1)  # containment at which two bodies are copies
    min_shingles: int = Field(20, ge=1)  # bodies shorter than this are never near-matched
    window_days: int = Field(30, ge=1)  # how far back a new article is compared


class TaggingSettings(_Strict):
    about_min_share: float = Field(0.2, gt=0, le=1)  # a country is "about" at this share of weighted mentions
    title_weight: float = Field(3.0, ge=0)
    lead_weight: float = Field(2.0, ge=0)
    max_topics: int = Field(3, ge=1)
    min_topic_score: float = Field(0.15, ge=0, le=1)


class PageSettings(_Strict):
    # Keep the fetched HTML of every article page (WARC files beside the warehouse), so that a better extractor can
    # be run again over what is already stored (`monitor reextract`) and archives can be handed on.
    store: bool = True
    # The page store's folder; empty: beside the warehouse file ("monitor.duckdb" -> "monitor.pages/").
    dir: str = ""
    # Days a stored page is kept; 0 keeps every page for good (the default: pages are what re-extraction needs).
    keep_days: int = Field(0, ge=0)

    def store_dir(self, warehouse_path: Path) -> Path:
        """The page store's folder for this warehouse (a relative `dir` is taken from the warehouse's folder)."""
        if self.dir:
            chosen = Path(self.dir).expanduser()
            return chosen if chosen.is_absolute() else warehouse_path.parent / chosen
        text = str(warehouse_path)
        if text.startswith(LAKE_PREFIX):  # a DuckLake catalog: beside its catalog file, or in the working directory
            catalog = text[len(LAKE_PREFIX):]
            base = Path(catalog) if not re.match(r"^[a-z]+:", catalog) else Path.cwd() / "monitor"
            return base.with_suffix(".pages")
        return warehouse_path.with_suffix(".pages")


class LakeSettings(_Strict):
    # When `monitor serve` tends a DuckLake warehouse (flows/maintenance.py): 03:30 UTC, between the night's runs.
    maintenance_cron: str = "30 3 * * *"
    # Snapshots older than this are expired: time travel reaches back this far, no further.
    expire_snapshots_days: float = Field(7.0, ge=0)
    # Files no live snapshot uses are deleted after this long; a reader still on an old snapshot needs them meanwhile.
    cleanup_files_days: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _cron(self) -> "LakeSettings":
        if not croniter.is_valid(self.maintenance_cron) or any(_HASHED.match(f) for f in self.maintenance_cron.split()):
            raise ValueError(f"maintenance_cron {self.maintenance_cron!r} is not a cron expression: use five fields, "
                             "for example '30 3 * * *' (03:30 every day)")
        return self


class Settings(_Strict):
    warehouse: WarehouseSettings = WarehouseSettings()
    lake: LakeSettings = LakeSettings()
    http: HttpSettings = HttpSettings()
    pipeline: PipelineSettings = PipelineSettings()
    feeds: FeedSettings = FeedSettings()
    sitemaps: SitemapSettings = SitemapSettings()
    dedup: DedupSettings = DedupSettings()
    tagging: TaggingSettings = TaggingSettings()
    pages: PageSettings = PageSettings()
