"""Sitemaps as a source of article URLs: a news sitemap (Google News <news:news>), a plain sitemap, or an index of
them, gzipped or not. Pure functions over fetched bytes, producing the entries a feed produces.

The XML parser resolves no entities, loads no DTD and opens no connection; gzip is inflated under a cap, so a
gzip bomb stops there. Every refusal is a SitemapError with one line naming the sitemap and what is wrong.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from monitor.fields import (
    MAX_TITLE_CHARS, bounded_url, cut_text, in_date_window, normalize_language, unescape_entities,
)
from monitor.models import Entry, FeedParse, stable_id
from monitor.urls import normalize_url

GZIP_MAGIC = b"\x1f\x8b"
# The protocol's own cap on one sitemap file, uncompressed (sitemaps.org): 50 MB.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.I | re.M)


class SitemapError(ValueError):
    """The bytes are not a usable sitemap; the message is one line naming it and what is wrong."""


@dataclass(frozen=True, slots=True)
class SitemapItem:
    """One <url> of a sitemap, with what its <news:news> (else <lastmod>) says."""

    loc: str
    title: str = ""
    published: datetime | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: an index (`children` are sitemap URLs) or a URL set (`items`)."""

    url: str
    children: tuple[str, ...] = ()
    items: tuple[SitemapItem, ...] = ()

    @property
    def is_index(self) -> bool:
        return bool(self.children)


def inflate(content: bytes, url: str, cap: int = MAX_SITEMAP_BYTES) -> bytes:
    """The bytes themselves, or, when gzipped (a .xml.gz served as is), inflated to at most `cap` bytes."""
    if not content.startswith(GZIP_MAGIC):
        return content
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(content, cap + 1)
    except zlib.error as exc:
        raise SitemapError(f"sitemap {url} is gzipped but corrupt ({exc})") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise SitemapError(f"sitemap {url} inflates to more than {cap} bytes; refused")
    if not inflater.eof:
        raise SitemapError(f"sitemap {url} is gzipped but corrupt (truncated)")
    return out


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def _local(element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def _child_text(element, name: str) -> str:
    for child in element:
        if _local(child) == name:
            return " ".join((child.text or "").split())
    return ""


def _date(value: str, now: datetime) -> datetime | None:
    """A W3C datetime ("2026-11-28", "2026-11-28T10:00:00+01:00", "...Z") as aware UTC, within the believable window."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    parsed = parsed.astimezone(timezone.utc)
    return parsed if in_date_window(parsed, now) else None


def read_sitemap(content: bytes, url: str, max_urls: int, now: datetime | None = None) -> Sitemap:
    """Parse one sitemap's bytes (gzipped or not). Raises SitemapError for what is not a sitemap, for more than
    `max_urls` URLs or child sitemaps, and for an index that lists itself."""
    now = now or datetime.now(timezone.utc)
    content = inflate(content, url)
    if not content.strip():
        raise SitemapError(f"sitemap {url} is empty")
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise SitemapError(f"sitemap {url} is not well-formed XML ({exc.msg})") from None
    kind = _local(root)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"{url} is XML but not a sitemap (its root is <{kind}>, not <urlset> or <sitemapindex>)")
    entries = [e for e in root if _local(e) in ("url", "sitemap")]
    if len(entries) > max_urls:
        raise SitemapError(f"sitemap {url} lists {len(entries)} URLs, more than the {max_urls} allowed "
                           "(settings: sitemaps.max_urls); refused")
    if kind == "sitemapindex":
        children = tuple(dict.fromkeys(loc for e in entries if (loc := _child_text(e, "loc"))))
        if url in children:
            raise SitemapError(f"sitemap index {url} lists itself; refused")
        if not children:
            raise SitemapError(f"sitemap index {url} lists no sitemaps")
        return Sitemap(url, children=children)
    items = []
    for element in entries:
        loc = _child_text(element, "loc")
        if not loc:
            continue
        news = next((c for c in element if _local(c) == "news"), None)
        title = published = language = None
        if news is not None:
            title = _child_text(news, "title")
            published = _date(_child_text(news, "publication_date"), now)
            publication = next((c for c in news if _local(c) == "publication"), None)
            if publication is not None:
                language = normalize_language(_child_text(publication, "language"))
        items.append(SitemapItem(loc, title or "", published or _date(_child_text(element, "lastmod"), now),
                                 language))
    return Sitemap(url, items=tuple(items))


def to_entries(source: str, sitemaps: list[Sitemap], max_entries: int) -> tuple[Entry, ...]:
    """The sitemaps' URLs as feed entries, newest first, each once (the URL is its GUID), at most `max_entries`."""
    items: dict[str, SitemapItem] = {}
    for sitemap in sitemaps:
        for item in sitemap.items:
            items.setdefault(item.loc, item)
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    ordered = sorted(items.values(), key=lambda i: i.published or oldest, reverse=True)[:max_entries]
    entries = []
    for item in ordered:
        raw, long_link = bounded_url(item.loc)
        link, _ = bounded_url(normalize_url(raw, base=raw)) if raw else (None, False)
        if not raw or not link or not link.startswith(("http://", "https://")):
            continue
        title, long_title = cut_text(unescape_entities(item.title), MAX_TITLE_CHARS)
        truncated = tuple(name for name, cut in (("link", long_link), ("title", long_title)) if cut)
        entries.append(Entry(entry_id=stable_id(source, raw), source=source, guid=raw, link=link, raw_link=raw,
                             title=title, published=item.published, truncated=truncated, language=item.language))
    return tuple(entries)


def parse_sitemaps(source: str, url: str, parts: tuple[tuple[str, bytes], ...], max_entries: int,
                   max_urls: int = 50_000, fetched_at: datetime | None = None) -> FeedParse:
    """A sitemap source's poll, as a feed's: `parts` are the URL sets fetched (the source's own sitemap, or an
    index's children). A part that is not a usable sitemap makes the whole poll the source's failure."""
    try:
        sitemaps = [read_sitemap(content, part_url, max_urls, fetched_at) for part_url, content in parts]
    except SitemapError as exc:
        return FeedParse(source, (), error=str(exc))
    if any(s.is_index for s in sitemaps):
        return FeedParse(source, (), error=f"sitemap index {url}: its child sitemaps were not fetched")
    entries = to_entries(source, sitemaps, max_entries)
    if not entries:
        return FeedParse(source, (), error="no-entries")
    languages = {e.language for e in entries if e.language}
    return FeedParse(source, entries, title="", language=languages.pop() if len(languages) == 1 else None)


def dated_since(sitemaps: list[Sitemap], since: datetime) -> list[Sitemap]:
    """The sitemaps with only their URLs dated (news date, else lastmod) on or after `since`: what a backfill
    fetches. An undated URL is left out: an archive's undated entries are section and tag pages as often as not."""
    return [Sitemap(s.url, s.children, tuple(i for i in s.items if i.published and i.published >= since))
            for s in sitemaps]


def robots_sitemaps(robots_txt: str) -> list[str]:
    """The sitemaps a robots.txt declares ("Sitemap: URL" lines), in order, each once."""
    return list(dict.fromkeys(u for u in _ROBOTS_SITEMAP.findall(robots_txt) if u.startswith(("http://", "https://"))))
