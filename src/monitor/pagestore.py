"""The page store: the fetched HTML of every article page, kept beside the warehouse so extraction can run again.

Pages are written as WARC files (ISO 28500, with `warcio`): the web archive's own format, so an archive can be
handed to other tools (pywb, Common Crawl's readers) and read back from them (`monitor import-warc`). Each call
writes one gzipped WARC file of response records (one gzip member per record) under `YYYY/MM/DD/` of the day
written, and beside it an index of one JSON line per record (content hash, offset, length, URL, date, feed hints).
A page is addressed by the sha256 of its HTML (`models.page_hash`): the warehouse records that address per article.
Files are written under a temporary name and renamed when complete, the index last, so a killed writer leaves no
half file in the index. Retention (`pages.keep_days`) deletes whole day folders.

Pages are the HTML as extraction saw it (decoded by `fetch`, stored as UTF-8), with the request's hints (source,
feed date, feed language) as extension headers, so a stored page is extracted again exactly as it was first.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.urls import site_of as host_of
from monitor.fetch.decode import decode_html, looks_like_html
from monitor.models import Page, PageRequest, page_hash

log = logging.getLogger(__name__)

INDEX_SUFFIX = ".idx"
WARC_SUFFIX = ".warc.gz"
# Extension headers of our response records (WARC allows named extension fields; other readers ignore them).
H_SHA, H_SOURCE, H_REQUEST, H_PUBLISHED, H_LANGUAGE = (
    "Monitor-Page-Sha256", "Monitor-Source", "Monitor-Request-Url", "Monitor-Feed-Published", "Monitor-Language")


# gzip level of each record: on 100 fundus-dev pages (30 MB) level 3 took a quarter of warcio's level 9 time (0.53 s
# against 2.1 s) for 22% of the size against 19.5%; storing must not slow a run down.
GZIP_LEVEL = 3


class PageStoreError(Exception):
    """The page store cannot be written or read (the message names the folder or file and what to do)."""


@dataclass(frozen=True, slots=True)
class StoredPage:
    """Where one page lives in the store, and what is known of it without reading it."""

    sha: str
    url: str  # the URL asked for (normalised)
    final_url: str
    fetched_at: datetime
    file: str  # relative to the store's root
    offset: int
    length: int
    source: str | None = None
    published: datetime | None = None  # the feed entry's date, extraction's fallback
    language: str | None = None  # the feed's language, extraction's fallback


def _encode(html: str) -> bytes:
    return html.encode("utf-8", "surrogatepass")  # as `page_hash` reads it: the stored bytes hash to the address


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def response_record(writer: WARCWriter, page: Page, fetched_at: datetime, sha: str | None = None):
    """A WARC response record of a page: an HTTP 200 with its HTML as UTF-8, dated when it was fetched."""
    payload = _encode(page.html)
    hint = page.request
    headers = {"WARC-Date": fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               H_SHA: sha or page_hash(page.html), H_REQUEST: page.url}
    if hint and hint.source:
        headers[H_SOURCE] = hint.source
    if hint and hint.published:
        headers[H_PUBLISHED] = _iso(hint.published)
    if hint and hint.language:
        headers[H_LANGUAGE] = hint.language
    http = StatusAndHeaders(f"{page.http_status or 200} OK", [
        ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
    return writer.create_warc_record(page.final_url or page.url, "response", payload=BytesIO(payload),
                                     length=len(payload), http_headers=http, warc_headers_dict=headers)


def _gzipped_record(page: Page, fetched_at: datetime, sha: str) -> bytes:
    """One response record as its own gzip member (what WARC readers expect of a .warc.gz)."""
    raw = BytesIO()
    writer = WARCWriter(raw, gzip=False)
    writer.write_record(response_record(writer, page, fetched_at, sha))
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return packer.compress(raw.getvalue()) + packer.flush()


def store_pages(pages: list[Page], root: Path, keep_days: int = 0, now: datetime | None = None) -> int:
    """Write these pages (each content once) into one new WARC file of the store, dated when each was fetched (a
    page's own `fetched_at`, else `now`); returns how many were written. With `keep_days`, day folders older than
    that are deleted first. Unwritable folders raise PageStoreError."""
    now = now or datetime.now(timezone.utc)
    if keep_days:
        prune(root, keep_days, now)
    unique: dict[str, Page] = {}
    for page in pages:
        unique.setdefault(page_hash(page.html), page)
    if not unique:
        return 0
    folder = root / now.strftime("%Y/%m/%d")
    name = f"{now.strftime('%H%M%S')}-{uuid.uuid4().hex[:12]}{WARC_SUFFIX}"
    entries: list[dict] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.part"
        with open(partial, "wb") as handle:
            for sha, page in unique.items():
                offset = handle.tell()
                handle.write(_gzipped_record(page, page.fetched_at or now, sha))
                hint = page.request
                entries.append({"sha": sha, "url": page.url, "final_url": page.final_url,
                                "fetched_at": _iso(page.fetched_at or now),
                                "offset": offset, "length": handle.tell() - offset,
                                "source": hint.source if hint else None,
                                "published": _iso(hint.published) if hint else None,
                                "language": hint.language if hint else None})
        os.replace(partial, folder / name)
        index = folder / f"{name}{INDEX_SUFFIX}"
        index.with_name(f".{index.name}.part").write_text(
            "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries), encoding="utf-8")
        os.replace(index.with_name(f".{index.name}.part"), index)
    except OSError as exc:
        raise PageStoreError(f"cannot write the page store at {root}: {exc.strerror or exc}; make the folder "
                             "writable or set pages.dir (or pages.store = false) in settings.toml") from None
    log.info("stored %d pages in %s", len(entries), folder / name)
    return len(entries)


def index(root: Path) -> dict[str, StoredPage]:
    """Every page in the store by its content address (the first file holding it wins)."""
    found: dict[str, StoredPage] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.glob(f"*/*/*/*{WARC_SUFFIX}{INDEX_SUFFIX}")):
        relative = str(path.relative_to(root))[: -len(INDEX_SUFFIX)]
        for line in path.read_text(encoding="utf-8").splitlines():
            e = json.loads(line)
            found.setdefault(e["sha"], StoredPage(
                e["sha"], e["url"], e["final_url"], _when(e["fetched_at"]), relative, e["offset"], e["length"],
                e.get("source"), _when(e.get("published")), e.get("language")))
    return found


def read_pages(root: Path, stored: Iterable[StoredPage]) -> Iterator[tuple[StoredPage, Page]]:
    """The pages themselves, read file by file; a page whose file is gone (retention) is skipped with a log line."""
    by_file: dict[str, list[StoredPage]] = {}
    for item in stored:
        by_file.setdefault(item.file, []).append(item)
    for file, items in by_file.items():
        try:
            handle = open(root / file, "rb")
        except OSError:
            log.warning("page store file %s is gone (retention?): %d pages skipped", file, len(items))
            continue
        with handle:
            for item in sorted(items, key=lambda i: i.offset):
                handle.seek(item.offset)
                record = next(iter(ArchiveIterator(BytesIO(handle.read(item.length)))))
                html = record.content_stream().read().decode("utf-8", "surrogatepass")
                request = PageRequest(item.url, item.source, item.published, item.language)
                yield item, Page(item.url, item.final_url, html, 200, request, item.fetched_at)


def prune(root: Path, keep_days: int, now: datetime | None = None) -> int:
    """Delete the day folders older than `keep_days` days; returns how many. 0 keeps everything."""
    if not keep_days or not root.is_dir():
        return 0
    cutoff = ((now or datetime.now(timezone.utc)) - timedelta(days=keep_days)).date()
    removed = 0
    for day in root.glob("*/*/*"):
        try:
            when = date(int(day.parent.parent.name), int(day.parent.name), int(day.name))
        except ValueError:
            continue  # not one of ours
        if when < cutoff:
            shutil.rmtree(day, ignore_errors=True)
            removed += 1
    return removed


def load_pages(root: Path, items: list[StoredPage]) -> list[Page]:
    """The pages of these index entries, in their order; raises PageStoreError if one has gone meanwhile."""
    found = {item.sha: page for item, page in read_pages(root, items)}
    missing = [item.file for item in items if item.sha not in found]
    if missing:
        raise PageStoreError(f"page store file {root / missing[0]} disappeared while reading it (retention?); "
                             "run the command again")
    return [found[item.sha] for item in items]


# Content types of the responses `read_warc` takes as pages; others are counted and skipped.
HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_warc(path: Path, source: str | None = None) -> tuple[list[Page], dict[str, int]]:
    """The HTML responses (HTTP 200) of a WARC file as pages of `source`, each dated by its WARC-Date, and the
    count of records skipped by reason ("not-response", "http-<status>", "not-html"). A file that is not a WARC
    raises PageStoreError naming it."""
    pages: list[Page] = []
    skipped: dict[str, int] = {}
    try:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, arc2warc=True):
                reason = _skip_reason(record)
                if reason:
                    skipped[reason] = skipped.get(reason, 0) + 1
                    continue
                content = record.content_stream().read()
                ctype = record.http_headers.get_header("Content-Type") if record.http_headers else None
                if not looks_like_html(content) and not (ctype or "").lower().startswith(HTML_TYPES):
                    skipped["not-html"] = skipped.get("not-html", 0) + 1
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                when = _when(record.rec_headers.get_header("WARC-Date"))
                pages.append(Page(url, url, decode_html(content, ctype), 200, PageRequest(url, source), when))
    except OSError as exc:
        raise PageStoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - warcio raises bare ArchiveLoadFailed / ValueError on non-WARC input
        raise PageStoreError(f"{path} is not a readable WARC file ({str(exc).splitlines()[0][:200]}); "
                             "give .warc or .warc.gz files") from None
    return pages, skipped


def _skip_reason(record) -> str | None:
    if record.rec_type != "response":
        return "not-response"
    status = record.http_headers.get_statuscode() if record.http_headers else None
    if status and status != "200":
        return f"http-{status}"
    ctype = (record.http_headers.get_header("Content-Type") or "") if record.http_headers else ""
    if ctype and not ctype.lower().startswith(HTML_TYPES):
        return "not-html"
    return None


def write_warc(out: Path, pages: Iterable[tuple[StoredPage, Page]]) -> int:
    """Write these stored pages into one gzipped WARC file at `out`, dated when each was fetched; returns how
    many."""
    count = 0
    try:
        with open(out, "wb") as handle:
            for item, stored_page in pages:
                handle.write(_gzipped_record(stored_page, item.fetched_at, item.sha))
                count += 1
    except OSError as exc:
        raise PageStoreError(f"cannot write {out}: {exc.strerror or exc}; choose another --out") from None
    return count


def newest_by_host(stored: dict[str, StoredPage], hosts: Iterable[str], per_host: int) -> list[StoredPage]:
    """Up to `per_host` of the newest stored pages of each of these sites (`boilerplate.host_of`)."""
    wanted = set(hosts)
    by_host: dict[str, list[StoredPage]] = {}
    for item in stored.values():
        host = host_of(item.url)
        if host in wanted:
            by_host.setdefault(host, []).append(item)
    return [item for items in by_host.values()
            for item in sorted(items, key=lambda i: i.fetched_at, reverse=True)[:per_host]]
