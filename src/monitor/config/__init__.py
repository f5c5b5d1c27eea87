"""Load and validate `config/*.toml` once, at the edge.

Defaults live in the models, so a partial file overrides only what it sets. Any unknown key or bad value
raises `ConfigError` with one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, NamedTuple

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/monitor (this file is monitor/config/__init__.py)
# A wheel carries config/ and warehouse/ under monitor/_data (see pyproject force-include); a checkout
# or an editable install finds them at the repository root.
RESOURCE_ROOTS = (PACKAGE_DIR / "_data", PACKAGE_DIR.parent.parent)
ENV_CONFIG_DIR = "MONITOR_CONFIG_DIR"
ENV_WAREHOUSE = "MONITOR_WAREHOUSE"
# Where a DuckLake warehouse's Parquet files go; wins over settings' `warehouse.lake_data_path` (default: a folder
# beside a local catalog file). Processes the CLI starts (workers, Dask) inherit it.
ENV_LAKE_DATA = "MONITOR_LAKE_DATA_PATH"
LAKE_PREFIX = "ducklake:"  # a warehouse path that names a DuckLake catalog instead of a DuckDB file
_CODE = re.compile(r"^[A-Z]{2}$")


class ConfigError(Exception):
    """A config file is missing, unreadable or invalid; the message is one line naming the fix."""


def resource_path(relative: str) -> Path:
    """Find a bundled resource (`config/...`, `warehouse/...`) in a wheel or a checkout."""
    for root in RESOURCE_ROOTS:
        candidate = root / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled resource {relative!r} not found under {[str(r) for r in RESOURCE_ROOTS]}")


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


_HASHED = re.compile(r"^[HR](?:\(|/|$)")  # croniter's hashed and random fields: "H", "H(0-29)", "R/5"


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


class Schedule(_Strict):
    interval_minutes: int | None = Field(None, ge=1)
    interval_seconds: int | None = Field(None, ge=5)  # for tests and very fast feeds; minutes are the norm
    cron: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "Schedule":
        if sum(x is not None for x in (self.interval_minutes, self.interval_seconds, self.cron)) != 1:
            raise ValueError("set exactly one of interval_minutes, interval_seconds or cron")
        # Checked here, with the cron library Prefect itself uses, so a typo fails `check-config` in one line instead
        # of killing `monitor serve` with a traceback; Prefect also refuses croniter's random ("R") and hashed ("H")
        # fields, so they are refused here too.
        if self.cron is not None and (not croniter.is_valid(self.cron)
                                      or any(_HASHED.match(f) for f in self.cron.split())):
            raise ValueError(f"cron {self.cron!r} is not a cron expression: use five fields, minute hour day month "
                             "weekday, for example '0 6 * * *' (06:00 every day)")
        return self

    @property
    def minutes(self) -> float | None:
        """The interval in minutes, None for a cron schedule."""
        if self.interval_seconds is not None:
            return self.interval_seconds / 60
        return self.interval_minutes

    @property
    def seconds(self) -> int | None:
        """The interval in seconds, None for a cron schedule."""
        return self.interval_seconds if self.interval_seconds is not None else (
            self.interval_minutes * 60 if self.interval_minutes is not None else None)


MULTILINGUAL = "multi"  # a source's `language` when its articles come in many languages: each page's own decides
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def parse_languages(value: str) -> str | tuple[str, ...]:
    """A command line's language: "en", "multi", or a comma-separated list ("en,fr") as a tuple."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else tuple(parts)


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    url: str = Field(pattern=r"^https?://")
    # "feed" (RSS, Atom) or "sitemap" (a news sitemap or sitemap index, gzipped or not, for an outlet without a feed)
    kind: Literal["feed", "sitemap"] = "feed"
    site: str = ""  # the outlet's home page
    # One ISO 639-1 code, a list of them (a bilingual outlet), or "multi" (many languages)
    language: str | tuple[str, ...] = "en"
    country: str | None = None
    tags: tuple[str, ...] = ()
    schedule: str = "hourly"

    @field_validator("language")
    @classmethod
    def _languages(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        codes = (value,) if isinstance(value, str) else value
        if value == MULTILINGUAL:
            return value
        if not codes or not all(_LANGUAGE.match(c) for c in codes):
            raise ValueError(f'use an ISO 639-1 code such as "en", a list of them such as ["en", "fr"], or '
                             f'"{MULTILINGUAL}" for an outlet publishing in many languages')
        return codes[0] if len(codes) == 1 else tuple(dict.fromkeys(codes))

    @field_validator("country")
    @classmethod
    def _iso2(cls, value: str | None) -> str | None:
        if value is not None and not _CODE.match(value):
            raise ValueError("must be an ISO 3166-1 alpha-2 code such as 'GB'")
        return value

    @property
    def languages(self) -> tuple[str, ...]:
        """The source's languages; empty for a multilingual ("multi") source."""
        if self.language == MULTILINGUAL:
            return ()
        return (self.language,) if isinstance(self.language, str) else self.language

    @property
    def fallback_language(self) -> str | None:
        """The language to assume for a page that neither declares one nor reads clearly as one: the source's only
        language; None for a source with several, where a guess would as often be wrong."""
        return self.languages[0] if len(self.languages) == 1 else None

    @property
    def language_label(self) -> str:
        """The language as one text ("en", "en,fr", "multi"), for the warehouse's sources table."""
        return ",".join(self.languages) or MULTILINGUAL


class Sources(_Strict):
    schedule: dict[str, Schedule] = {"hourly": Schedule(interval_minutes=60)}
    source: tuple[Source, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "Sources":
        seen_names: set[str] = set()
        seen_urls: set[str] = set()
        for src in self.source:
            if src.name in seen_names:
                raise ValueError(f"duplicate source name {src.name!r}; names must be unique")
            if src.url in seen_urls:
                raise ValueError(f"duplicate feed url {src.url!r} (source {src.name!r})")
            if src.schedule not in self.schedule:
                raise ValueError(
                    f"source {src.name!r} uses schedule {src.schedule!r}; defined: {', '.join(sorted(self.schedule))}"
                )
            seen_names.add(src.name)
            seen_urls.add(src.url)
        return self


class M49Region(_Strict):
    parent: str | None = None  # the continent-level region of a sub-region
    countries: tuple[str, ...]


class Group(_Strict):
    countries: tuple[str, ...]
    description: str = ""


class Regions(_Strict):
    m49: dict[str, M49Region] = {}
    group: dict[str, Group] = {}

    @model_validator(mode="after")
    def _codes(self) -> "Regions":
        for name, region in [*self.m49.items(), *self.group.items()]:
            bad = [c for c in region.countries if not _CODE.match(c)]
            if bad:
                raise ValueError(f"region {name!r} has codes that are not ISO alpha-2: {bad}")
        return self


class Topic(_Strict):
    code: str = Field(pattern=r"^medtop:\d{8}$")
    label: str
    parent: str | None = Field(None, pattern=r"^medtop:\d{8}$")
    keywords: tuple[str, ...] = ()
    # Words that add weight but are too loose to decide a topic alone.
    weak_keywords: tuple[str, ...] = ()


class Topics(_Strict):
    taxonomy: str = "IPTC Media Topics"
    version: str = ""
    topic: tuple[Topic, ...] = ()


WATCH_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class Watch(_Strict):
    """A saved search: `query` in the search language plus filters (raw values: codes or names, any case), or with
    `spikes = true` the spikes view narrowed by countries and topics. `notify` is a webhook URL."""

    query: str = ""
    spikes: bool = False
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # mentioned
    about: tuple[str, ...] = ()  # focus countries
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # IPTC code or label
    notify: str | None = None

    @field_validator("notify")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+\S*", value):
            raise ValueError("use an http:// or https:// webhook URL, e.g. \"https://hooks.example.org/monitor\"")
        return value

    @model_validator(mode="after")
    def _what(self) -> "Watch":
        if self.spikes and (self.query or self.sources or self.languages or self.regions):
            raise ValueError("a spikes watch takes only countries, about and topics: drop query, sources, languages "
                             "and regions, or set spikes = false")
        if not self.spikes and not self.query.strip():
            raise ValueError('give a query (e.g. query = "ceasefire Karabakh") or set spikes = true')
        return self


class Watches(_Strict):
    watch: dict[str, Watch] = {}

    @field_validator("watch")
    @classmethod
    def _names(cls, value: dict[str, Watch]) -> dict[str, Watch]:
        for name in value:
            if not re.match(WATCH_NAME, name):
                raise ValueError(f"watch name {name!r}: use lower-case letters, digits, - and _ (e.g. [watch.karabakh])")
        return value


def country_code(value: str) -> str | None:
    """The ISO 3166 alpha-2 code of a code or a country name (any case, pycountry's names); None if unknown."""
    import pycountry

    if _CODE.match(value.upper()):
        found = pycountry.countries.get(alpha_2=value.upper())
        return found.alpha_2 if found else None
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None


def country_name(code: str) -> str:
    """A country's everyday English name (pycountry's common name where it has one), or the code itself."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code.upper()) if _CODE.match(code.upper()) else None
    return getattr(found, "common_name", None) or found.name if found else code


def _country_known(value: str) -> bool:
    return country_code(value) is not None


class Config(_Strict):
    """Everything under `config/`, validated."""

    root: Path
    settings: Settings
    sources: Sources
    regions: Regions
    topics: Topics
    watches: Watches = Watches()

    def watch_problem(self, watch: Watch) -> tuple[str, str] | None:
        """What in a watch names nothing known (a country, region, topic or source), as (key, what to do); None if
        all is known. Codes and names, any case, as the search filters take them."""
        checks = (
            ("countries", watch.countries, _country_known, "an ISO 3166 code (AM) or a country name (Armenia)"),
            ("about", watch.about, _country_known, "an ISO 3166 code (AM) or a country name (Armenia)"),
            ("regions", watch.regions, lambda v: v.casefold() in {r.casefold() for r in
                                                                  (*self.regions.m49, *self.regions.group)},
             "a region of regions.toml, e.g. 'South Caucasus'"),
            ("topics", watch.topics, lambda v: v.casefold() in {t.code for t in self.topics.topic}
             | {t.label.casefold() for t in self.topics.topic}, "an IPTC code (medtop:16000000) or a label of "
             "topics.toml, e.g. 'conflict, war and peace'"),
            ("sources", watch.sources, lambda v: v in {s.name for s in self.sources.source},
             f"a source of sources.toml ({', '.join(sorted(s.name for s in self.sources.source)) or 'none yet'})"),
            ("languages", watch.languages, lambda v: re.fullmatch(r"[a-z]{2}", v.lower()) is not None,
             "a two-letter language code such as 'en'"),
        )
        for key, values, known, hint in checks:
            for value in values:
                if not known(value):
                    return key, f"{value!r} names nothing known; use {hint}"
        return None

    def warehouse_path(self, override: str | Path | None = None) -> Path:
        """The warehouse file: the CLI override, then $MONITOR_WAREHOUSE, then settings (relative to the project:
        the folder holding config/)."""
        chosen = str(override or os.environ.get(ENV_WAREHOUSE) or self.settings.warehouse.path)
        # The bundled config lives inside the installed package: never write there, use the working directory.
        project = Path.cwd() if self.root.is_relative_to(PACKAGE_DIR) else self.root.parent
        if chosen.startswith(LAKE_PREFIX):  # ducklake:<catalog file> or ducklake:postgres:...: resolve a file only
            data = self.settings.warehouse.lake_data_path
            if data and not os.environ.get(ENV_LAKE_DATA):  # the warehouse code (and every child) reads it there
                local = not re.match(r"^[a-z0-9]+://", data) and not Path(data).expanduser().is_absolute()
                os.environ[ENV_LAKE_DATA] = str(project / data) + "/" if local else data
            catalog = chosen[len(LAKE_PREFIX):]
            if re.match(r"^[a-z]+:", catalog):
                return Path(chosen)
            catalog_path = Path(catalog).expanduser()
            return Path(LAKE_PREFIX + str(catalog_path if catalog_path.is_absolute() else project / catalog_path))
        path = Path(chosen).expanduser()
        return path if path.is_absolute() else project / path

    def select_sources(self, names: tuple[str, ...] | list[str] = ()) -> list[Source]:
        """The sources named, each once however often it is named (all when none); an unknown name raises
        ConfigError."""
        if not names:
            return list(self.sources.source)
        by_name = {s.name: s for s in self.sources.source}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ConfigError(
                f"unknown source {unknown[0]!r}; known sources: {', '.join(sorted(by_name)) or '(none)'}"
            )
        return [by_name[n] for n in dict.fromkeys(names)]  # a run's own parameters may repeat a name

    def schedule_sources(self, group: str) -> list[str]:
        """The names of the sources in a schedule group; an unknown group raises ConfigError."""
        if group not in self.sources.schedule:
            raise ConfigError(f"unknown schedule {group!r}; schedules in sources.toml: "
                              f"{', '.join(sorted(self.sources.schedule)) or '(none)'}")
        return [s.name for s in self.sources.source if s.schedule == group]


FILES: dict[str, type[_Strict]] = {
    "settings.toml": Settings,
    "sources.toml": Sources,
    "regions.toml": Regions,
    "topics.toml": Topics,
    "watches.toml": Watches,
}


def default_config_dir() -> Path:
    """$MONITOR_CONFIG_DIR, else ./config when present, else the bundled config."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env)
    local = Path.cwd() / "config"
    return local if local.is_dir() else resource_path("config")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Walk `loc` through nested models to list the keys allowed where an unknown key was found."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            break
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        nested = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = nested[-1] if nested else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def format_error(filename: str, model: type[BaseModel], err: ValidationError) -> str:
    """One line for the first validation error: file, dotted key, what is wrong and what is allowed."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(model, loc)) or "none"
        return f"{filename}: unknown key '{key}'; allowed keys here: {allowed}"
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict | list | tuple) else ""
    return f"{filename}: bad value for '{key}'{shown}: {message}"


def load_file(path: Path, model: type[_Strict]) -> _Strict:
    """Parse one TOML file into its model; a missing file yields the defaults."""
    if not path.exists():
        return model()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_error(str(path), model, exc)) from None


def load(config_dir: str | Path | None = None) -> Config:
    """Load and validate every file under the config directory."""
    root = Path(config_dir) if config_dir else default_config_dir()
    if not root.is_dir():
        raise ConfigError(f"config directory {root} does not exist; pass --config DIR or set {ENV_CONFIG_DIR}")
    parts = {name.removesuffix(".toml"): load_file(root / name, model) for name, model in FILES.items()}
    loaded = Config(root=root.resolve(), **parts)
    for name, watch in loaded.watches.watch.items():  # names checked against the other files, once all are read
        problem = loaded.watch_problem(watch)
        if problem:
            key, message = problem
            raise ConfigError(f"{root / 'watches.toml'}: bad value for 'watch.{name}.{key}': {message}")
    return loaded


def _writable_sources(config_dir: str | Path) -> Path:
    root = Path(config_dir)
    if root.resolve().is_relative_to(PACKAGE_DIR):
        raise ConfigError("the bundled config is read-only; run in a project with a config/ folder or pass --config DIR")
    return root / "sources.toml"


def source_block(source: Source) -> str:
    """One `[[source]]` table in TOML, with only the keys that differ from the defaults (name and url always)."""
    fields = source.model_dump(exclude_defaults=True)
    fields.setdefault("name", source.name)
    fields.setdefault("url", source.url)
    fields = {"name": fields.pop("name"), "url": fields.pop("url"), **fields}
    lines = [f"{key} = {json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)}"
             for key, value in fields.items()]
    return "[[source]]\n" + "\n".join(lines) + "\n"


def replace_sources(config_dir: str | Path, text: str) -> Config:
    """Make `text` the new `config_dir/sources.toml` if it validates, atomically: a temporary file in the same
    folder, then a rename, so a crash or a bad value never leaves the file half-written. Returns the new config;
    ConfigError (naming sources.toml) leaves the old file as it was."""
    path = _writable_sources(config_dir)
    try:
        Sources.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: the new file would not be valid TOML ({exc}); nothing was changed") from None
    except ValidationError as exc:
        raise ConfigError(format_error(str(path), Sources, exc)) from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}; nothing was changed") from None
    return load(config_dir)


def append_sources(config_dir: str | Path, sources: list[Source]) -> Config:
    """Append `[[source]]` tables to `config_dir/sources.toml`, keeping the file's comments, all or none: if the
    result does not validate (a duplicate name or URL, an unknown schedule), the file stays as it was and
    ConfigError names the problem."""
    path = _writable_sources(config_dir)
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    blocks = "".join("\n" + source_block(s) for s in sources)
    return replace_sources(config_dir, (original.rstrip("\n") + "\n" if original.strip() else "") + blocks)


def append_source(config_dir: str | Path, source: Source) -> Config:
    """Append one `[[source]]` to `config_dir/sources.toml` (see `append_sources`)."""
    return append_sources(config_dir, [source])


_TABLE_HEADER = re.compile(r"^\s*\[")


def remove_source(config_dir: str | Path, name: str) -> Config:
    """Take the `[[source]]` named `name` out of `config_dir/sources.toml`, keeping everything else (comments
    included) as written; atomic, as `replace_sources`. ConfigError when there is no such source, or when its
    table cannot be told apart from what surrounds it (then the file is left for a hand edit)."""
    path = _writable_sources(config_dir)
    before = load(config_dir)
    if name not in {s.name for s in before.sources.source}:
        known = ", ".join(sorted(s.name for s in before.sources.source)) or "(none)"
        raise ConfigError(f"no source {name!r} in {path}; known sources: {known}")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)]
    for start in headers:
        if lines[start].strip() != "[[source]]":
            continue
        end = start + 1  # the table's keys: up to a blank line, a comment line or the next table
        while end < len(lines) and lines[end].strip() and not lines[end].lstrip().startswith(("#", "[")):
            end += 1
        if not any(re.match(rf"^\s*name\s*=\s*[\"']{re.escape(name)}[\"']\s*(#.*)?$", line) for line in lines[start:end]):
            continue
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1  # comments right above the table are about it
        if end < len(lines) and not lines[end].strip():
            end += 1  # the blank line that separated it from what comes next
        elif start > 0 and not lines[start - 1].strip():
            start -= 1  # ... or, at the end, from what came before
        text = "".join(lines[:start] + lines[end:])
        try:
            after = Sources.model_validate(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ValidationError):
            break
        if list(after.source) == [s for s in before.sources.source if s.name != name]:
            return replace_sources(config_dir, text)
        break
    raise ConfigError(f"cannot tell source {name!r} apart from its neighbours in {path} (a comment or blank line "
                      "inside its table?); remove its [[source]] table by hand")
