"""Article metadata, each value with where it came from: JSON-LD, meta tags, the URL, a language detector."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml import etree
from trafilatura.metadata import (
    META_URL, examine_meta, extract_author, extract_meta_json, extract_sitename, extract_title, extract_url,
)
from trafilatura.settings import set_date_params

from monitor.extract.htmltext import WS, text_key
from monitor.fields import MAX_TITLE_CHARS, in_date_window, naive_agrees, normalize_language, unescape_entities
from monitor.urls import normalize_url


def json_ld(tree: etree._Element) -> dict:
    """The first NewsArticle-like JSON-LD object on the page ({} if none)."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if not isinstance(item, dict):
                continue
            stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and k.endswith(("Article", "Posting", "Report")) for k in kinds):
                return item
    return {}


def ld_text(ld: dict, key: str) -> str | None:
    value = ld.get(key)
    return value if isinstance(value, str) else None


def ld_name(value) -> str | None:
    """A JSON-LD Person/Organization (or a list of them, or a plain string) as names joined by ", "."""
    items = value if isinstance(value, list) else [value]
    names = [i.get("name") if isinstance(i, dict) else i for i in items]
    names = [WS.sub(" ", n).strip() for n in names if isinstance(n, str) and n.strip()]
    return ", ".join(dict.fromkeys(names)) or None


def lead_image(tree: etree._Element, ld: dict, url: str) -> str | None:
    """The article's lead image: og:image, else JSON-LD image, as an absolute URL."""
    image = meta(tree, "og:image", "twitter:image")
    if not image:
        value = ld.get("image")
        value = value[0] if isinstance(value, list) and value else value
        image = value.get("url") if isinstance(value, dict) else value
    if not isinstance(image, str) or not image.strip():
        return None
    resolved = urljoin(url, image.strip())
    return resolved if resolved.startswith(("http://", "https://")) else None


# /2021/11/16/, /2021-11-16-, /20211116/ in a URL path; years 1995-2099 so ids are not read as dates.
_URL_DATE = re.compile(r"/((?:199[5-9]|20\d\d))[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")


def date_from_url(url: str) -> datetime | None:
    """A publication date written in the URL's path (midnight UTC), if there is one."""
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), tzinfo=timezone.utc)
    except ValueError:
        return None


def choose_language(declared: str | None, detected: str | None) -> str | None:
    """The text decides when the detector is sure (templates often declare one language for every edition),
    else the declaration. Both are normalised codes (`fields.normalize_language`), so "nb" and "no" agree."""
    return detected or declared


def meta(tree: etree._Element, *names: str) -> str | None:
    for name in names:
        for element in tree.xpath(f'//meta[@property="{name}" or @name="{name}" or @itemprop="{name}"]'):
            content = (element.get("content") or "").strip()
            if content:
                return content
    return None


def parse_date(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as aware UTC (naive values are taken as UTC)."""
    return read_date(value)[0]


def read_date(value: str | None) -> tuple[datetime | None, str]:
    """An ISO 8601 date or datetime as aware UTC, with what the text said: "aware" (it had a zone offset), "naive"
    (a time without a zone, taken as UTC) or "date" (a day only, midnight UTC)."""
    if not value:
        return None, "date"
    value = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
        kind = "date" if len(value) <= 10 else "naive"
    except ValueError:
        try:
            parsed, kind = datetime.fromisoformat(value[:10]), "date"
        except ValueError:
            return None, "date"
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc), kind
    try:
        return parsed.astimezone(timezone.utc), "aware"
    except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC time: the earliest one stands for it (or latest)
        return (datetime.min if parsed.year == 1 else datetime.max).replace(tzinfo=timezone.utc), "aware"


# One candidate date: (value, where it came from, "aware" | "naive" | "date" as `read_date` says).
DateCandidate = tuple[datetime | None, str, str]


def choose_date(field: str, candidates: list[DateCandidate], fetched_at: datetime
                ) -> tuple[datetime | None, str | None, tuple[str, ...]]:
    """The best believable date of `field` ("published", "modified") from candidates in order of trust, where it
    came from, and flags naming the candidates set aside as out of the window (`fields.in_date_window`).

    A date written without a zone (or without a time) can be hours off once read as UTC ("2024-08-05 20:59:59.0"
    from a CMS in UTC+2): when a later candidate is zone-aware and agrees with it to within the span of time zones
    (`fields.naive_agrees`: 14 hours behind to 12 ahead, plus the day of a bare date), that one is taken instead.
    One that disagrees further is another event (a feed re-dated on update) and the page's own date stands.
    """
    flags: list[str] = []
    believable: list[tuple[datetime, str, str]] = []
    for value, source, kind in candidates:
        if value is None:
            continue
        if in_date_window(value, fetched_at):
            believable.append((value, source, kind))
        else:
            flags.append(f"{field}-out-of-window:{source}")
    if not believable:
        return None, None, tuple(flags)
    value, source, kind = believable[0]
    if kind != "aware":
        for other, other_source, other_kind in believable[1:]:
            if other_kind == "aware" and naive_agrees(value, other, date_only=kind == "date"):
                return other, other_source, tuple(flags)
    return value, source, tuple(flags)


# Separators between a headline and the site's name or a date in <title> and og:title: "Headline - The Namibian",
# "Headline | DW | 28.04.2023", "Headline – Reuters". Spaces around them are required, so "Kühltürme-Streit" or
# "1-0 win" are never split.
_TITLE_SEPARATOR = re.compile(r"\s+(?:[-|–—·•]|::)\s+")
# A segment that is a date: "28.04.2023", "2023-04-28", "28 April 2023", "April 28, 2023".
_DATE_SEGMENT = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\.?|\d{1,2}\.? [^\W\d]{3,12}\.? \d{4}|"
                           r"[^\W\d]{3,12}\.? \d{1,2}, \d{4}")
# Host labels that name no site ("news.example.org" must not strip a segment "News").
_GENERIC_LABELS = frozenset({"www", "m", "amp", "mobile", "edition", "news", "com", "co", "org", "net", "gov", "edu",
                             "ac", "info", "online"})
# After stripping, a title keeps at least this many characters; otherwise the segments were the title.
MIN_STRIPPED_TITLE_CHARS = 5
# A segment longer than this many words is a headline part, not a site name, even if it contains the name.
MAX_SITE_SEGMENT_WORDS = 6


def _squash(text: str) -> str:
    return text_key(text).replace(" ", "")


# A site name inside a segment may come with this many more words ("BBC News" for "BBC", "Die Neue Südtiroler
# Tageszeitung" for tageszeitung.it).
MAX_EXTRA_SITE_WORDS = 3
_LEADING_ARTICLE = re.compile(r"^(?:the|die|der|das|le|la|les|el|il|het) ")


def _names_site(segment: str, names: list[str], labels: list[str]) -> bool:
    """True when a title segment is the site's name: equal to a declared name or a host label once case, spaces
    and a leading article are ignored ("The Namibian" for namibian.com.na, "DW" for dw.com); or one of them opens
    or closes a short segment whose other words are capitalised ("BBC News" for "BBC", "Die Neue Südtiroler
    Tageszeitung" for tageszeitung.it); or the segment is most of a declared name ("Südtiroler Tageszeitung")."""
    key = text_key(segment)
    if not key or len(key.split()) > MAX_SITE_SEGMENT_WORDS:
        return False
    squashed = {key.replace(" ", ""), _LEADING_ARTICLE.sub("", key).replace(" ", "")}
    if any(_squash(name) in squashed for name in [*names, *labels]):
        return True
    words = segment.split()
    for name in [*names, *labels]:
        name_key = text_key(name)
        if not name_key:
            continue
        if name in names and f" {key} " in f" {name_key} " and 2 * len(key.replace(" ", "")) >= len(_squash(name)):
            return True
        size = len(name.split())
        for named, extra in ((words[:size], words[size:]), (words[-size:], words[:-size])):
            if (0 < len(extra) <= MAX_EXTRA_SITE_WORDS and text_key(" ".join(named)) == name_key
                    and all(not w[0].isalpha() or w[0].isupper() for w in extra)):
                return True
    return False


def site_labels(url: str) -> list[str]:
    """The distinctive labels of a URL's host: "namibian" for www.namibian.com.na, "dw" for www.dw.com."""
    host = (urlsplit(url).hostname or "").lower()
    return [label for label in host.split(".")[:-1] if len(label) >= 2 and label not in _GENERIC_LABELS]


def clean_title(title: str, names: list[str], labels: list[str]) -> str:
    """The headline alone: HTML entities decoded (also when escaped twice) and a leading or trailing segment
    that names the site or is a date cut off ("Headline | DW | 28.04.2023" -> "Headline"). A segment that names
    nothing known stays, so a headline with a dash in it is never cut."""
    title = unescape_entities(title)
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) == 1:
        return title
    seps = _TITLE_SEPARATOR.findall(title)

    def affix(segment: str) -> bool:
        return bool(_DATE_SEGMENT.fullmatch(segment.strip())) or _names_site(segment, names, labels)

    start, end = 0, len(parts)
    while end - start > 1 and affix(parts[end - 1]):
        end -= 1
    while end - start > 1 and affix(parts[start]):
        start += 1
    kept = parts[start] + "".join(sep + part for sep, part in zip(seps[start:end - 1], parts[start + 1:end]))
    return kept if len(kept.strip()) >= MIN_STRIPPED_TITLE_CHARS else title


def canonical_url(tree: etree._Element, url: str) -> str:
    """The page's own canonical URL (AMP and mobile pages name their main page this way), else og:url, else
    the URL itself. A canonical that points at the site's front page from an article is a CMS template bug,
    and trusting it would merge every article of the site into one, so it is ignored."""
    declared = [link.get("href") for link in tree.iter("link")
                if "canonical" in (link.get("rel") or "").lower().split() and link.get("href")]
    page = normalize_url(url)
    for candidate in [*declared, meta(tree, "og:url")]:
        if not candidate:
            continue
        resolved = normalize_url(candidate, base=url)
        if not resolved.startswith(("http://", "https://")):
            continue
        if urlsplit(resolved).path in ("", "/") and urlsplit(page).path not in ("", "/"):
            continue
        return resolved
    return page


def declared_language(tree: etree._Element) -> str | None:
    """The language the page declares (<html lang>, og:locale, ...), normalised (`fields.normalize_language`)."""
    return normalize_language(tree.get("lang") or meta(tree, "og:locale", "content-language", "language",
                                                          "inLanguage"))


# --- the page's metadata, read once ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Declared:
    """What the page states about itself (JSON-LD, meta tags, <link rel=canonical>, <html lang>). Read before the
    boilerplate is pruned, so a date or name printed inside a pruned block still counts (measured on the
    development pages: reading these after pruning changed 3 of 460 pages' dates)."""

    ld: dict  # the page's NewsArticle-like JSON-LD object ({} if none)
    title: str | None
    published: list[DateCandidate]  # in order of trust (`choose_date`)
    modified: list[DateCandidate]
    canonical_url: str
    language: str | None
    publisher: str | None
    site_name: str | None
    author: str | None
    lead_image: str | None


@dataclass(frozen=True, slots=True)
class PageMeta:
    """An article's metadata, each value chosen with where it came from (`read`)."""

    title: str  # cleaned of the site's name
    title_cut: bool  # the page's title was longer than TITLE_READ_CHARS and only its start was read
    canonical_url: str
    published: datetime | None
    published_source: str | None
    modified: datetime | None
    date_flags: tuple[str, ...]
    language_declared: str | None
    author: str | None
    site_name: str | None
    lead_image: str | None
    ld: dict  # the JSON-LD object, for the body readers (standfirst, articleBody)


def declared(tree: etree._Element, url: str) -> Declared:
    """What the page states about itself; see `Declared`."""
    ld = json_ld(tree)
    published, modified = _page_dates(tree, ld)
    publisher = ld_name(ld.get("publisher"))
    return Declared(
        ld=ld, title=ld_text(ld, "headline") or meta(tree, "og:title"), published=published, modified=modified,
        canonical_url=canonical_url(tree, url), language=declared_language(tree), publisher=publisher,
        site_name=meta(tree, "og:site_name") or publisher,
        author=ld_name(ld.get("author")) or meta(tree, "author", "article:author"),
        lead_image=lead_image(tree, ld, url))


def read(tree: etree._Element, url: str, stated: Declared, *, fetched_at: datetime,
         feed_published: datetime | None = None) -> PageMeta:
    """The article's metadata: what the page states (`stated`, read before pruning), trafilatura's heuristics on
    the pruned `tree` where it states no title or no date within the window, the feed's timestamp and the URL's
    date; the title cleaned of the site's name."""
    title, author, site_name = stated.title, stated.author, stated.site_name
    dates = list(stated.published)
    if not title or not any(d and in_date_window(d, fetched_at) for d, _, _ in dates):
        found_title, found_date, found_site, found_author = _page_fallbacks(
            tree, url, want_author=not author, want_site=not site_name)
        title = title or found_title
        guessed = parse_date(found_date)
        # trafilatura's date heuristics read the URL too; a date that is just the URL's is labelled as such below.
        if guessed != date_from_url(url):
            dates.append((guessed, "page", "date"))
        site_name = site_name or found_site
        author = author or found_author
    # The feed's timestamp beats a date in the URL, which has no time of day.
    dates += [(feed_published, "feed", "aware"), (date_from_url(url), "url", "date")]
    published, published_source, date_flags = choose_date("published", dates, fetched_at)
    modified, _, modified_flags = choose_date("modified", list(stated.modified), fetched_at)
    names = [n for n in (site_name, stated.publisher, meta(tree, "application-name"),
                         (meta(tree, "twitter:site") or "").lstrip("@")) if n]
    raw_title = title or ""
    return PageMeta(
        title=clean_title(raw_title[:TITLE_READ_CHARS], names, site_labels(stated.canonical_url)),
        title_cut=len(raw_title) > TITLE_READ_CHARS, canonical_url=stated.canonical_url, published=published,
        published_source=published_source, modified=modified, date_flags=date_flags + modified_flags,
        language_declared=stated.language, author=author, site_name=site_name, lead_image=stated.lead_image,
        ld=stated.ld)


# Only this much of a title is read (cleaning a 2 MB one took half a second); `_bounded` then cuts it to its cap.
TITLE_READ_CHARS = 4 * MAX_TITLE_CHARS


def _page_dates(tree: etree._Element, ld: dict) -> tuple[list[DateCandidate], list[DateCandidate]]:
    """Candidate (published, modified) dates the page states itself, in order of trust (`metadata.choose_date`)."""
    published = [(ld_text(ld, "datePublished"), "json-ld"),
                 (meta(tree, "article:published_time", "datePublished", "pubdate", "date"), "meta")]
    modified = [(ld_text(ld, "dateModified"), "json-ld"),
                (meta(tree, "article:modified_time", "og:updated_time", "dateModified", "last-modified"), "meta")]
    return ([(value, where, kind) for text, where in published for value, kind in [read_date(text)]],
            [(value, where, kind) for text, where in modified for value, kind in [read_date(text)]])


def _page_fallbacks(tree: etree._Element, url: str, *, want_author: bool, want_site: bool
                   ) -> tuple[str | None, str | None, str | None, str | None]:
    """(title, date, site name, author) as trafilatura.extract_metadata finds them, for pages whose JSON-LD and
    meta tags lack a title or a date: its steps in its order, without the categories, tags, licence and domain
    lookups we never use (half its time: it was a tenth of extraction), and without the author and site-name
    heuristics when the page already gave them. trafilatura is pinned below 3 for these functions."""
    found = examine_meta(tree)
    if found.author and " " not in found.author:  # as extract_metadata: a one-word author is a handle
        found.author = None
    try:
        found = extract_meta_json(tree, found)
    except Exception:  # noqa: BLE001 - trafilatura's JSON-LD reader fails on odd JSON; extract_metadata also goes on
        pass
    title = found.title or extract_title(tree)
    author = (found.author or extract_author(tree)) if want_author else None
    page_url = found.url or extract_url(tree, url)
    date = find_date(tree, **{**set_date_params(False), "url": page_url})
    site = None
    if want_site:
        site = found.sitename or extract_sitename(tree)
        if site:
            site = site.lstrip("@")
            if site and "." not in site and not site[0].isupper():
                site = site.title()
        elif page_url and (match := META_URL.match(page_url)):
            site = match[1]
    return title, date, site, author
