"""Turn page HTML into an Article (clean body, captions with credits, metadata) or a Rejection.

trafilatura extracts the body; around it we (1) harvest image captions ourselves (`captions`), because
trafilatura drops <figure>, (2) prune related-link, newsletter, share and cookie blocks before it sees the page,
and (3) read metadata with its provenance (`metadata`). When trafilatura yields too little, other readers run
(JSON-LD articleBody, article HTML inside a script's JSON, loose paragraphs) and the method is recorded.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
import sys
from dataclasses import replace
from datetime import datetime, timezone

import trafilatura
from lxml import etree

from monitor.extract.boilerplate import strip_site_furniture
from monitor.extract.bodytext import clean_body
from monitor.extract.captions import (
    bound_captions, caption_key, harvest_captions, is_caption_element, merge_captions, split_credit)
from monitor.extract.htmltext import WS, parse_html, text_of
from monitor.extract.metadata import choose_language, declared, ld_text, meta, read
from monitor.extract.pruning import prune_boilerplate
from monitor.fields import (
    MAX_AUTHOR_CHARS, MAX_BODY_CHARS, MAX_SITE_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS, bounded_url, cut_text,
    normalize_language,
)
from monitor.language import detect_language
from monitor.models import Article, Page, Rejection, page_hash, stable_id
from monitor.urls import normalize_url

log = logging.getLogger(__name__)


def _extractor_version() -> str:
    """Names the code that extracted an article: the release, trafilatura's version and a digest of the source of
    every module extraction runs through, so `monitor reextract` can tell which stored articles an older extractor
    made (any edit to these modules is a new version)."""
    from monitor import __version__

    digest = hashlib.sha1(trafilatura.__version__.encode())
    for name in sorted(_EXTRACTION_MODULES & set(sys.modules)):  # all imported by the time extract has loaded
        path = getattr(sys.modules[name], "__file__", None)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return f"monitor-extract/{__version__}+{digest.hexdigest()[:10]}"


# The modules whose code decides what extraction yields (by name: they may move into a package later).
_EXTRACTION_MODULES = frozenset(
    f"monitor.{name}" for name in ("extract.article", "extract.bodytext", "extract.captions", "extract.htmltext",
                                   "extract.metadata", "extract.boilerplate", "extract.pruning",
                                   "language", "fields", "urls", "models"))

# A page over 10 MB of HTML is a data dump or an attack, never an article (fetch caps bytes the same way).
MAX_HTML_CHARS = 10_000_000
# Elements in one page. Real news pages have about 1,000 (median on fundus-dev; the largest 4,100); 300,000
# spans took 9.5 s and 550 MB to extract, so a page this crowded is rejected before extraction starts.
MAX_ELEMENTS = 50_000


# A page's description shorter than this is a slogan, not a standfirst.
STANDFIRST_MIN_CHARS = 40
# The description is matched on this many leading characters (descriptions are often cut short with "...").
STANDFIRST_PROBE_CHARS = 30
# Inline elements are climbed out of to reach the block that prints the standfirst.
_INLINE_TAGS = frozenset({"span", "strong", "b", "em", "i", "a", "font"})


def _standfirst(tree: etree._Element, ld: dict, body: str) -> str:
    """The standfirst (the summary under the headline) when the page prints it and the body lacks it.

    trafilatura often skips it because it sits in the header, apart from the text; news readers count it as
    the article's first paragraph. It is recognised as the visible block that starts like the page's
    description, and is at most about twice as long.
    """
    description = WS.sub(" ", ld_text(ld, "description") or meta(tree, "og:description", "description") or "").strip()
    if len(description) < STANDFIRST_MIN_CHARS or caption_key(description)[:50] in caption_key(body):
        return ""
    probe = caption_key(description)[:STANDFIRST_PROBE_CHARS]
    first_word = description.split(None, 1)[0].lower()  # a cheap test before normalising each text node
    page_body = tree.find("body")
    for element in page_body.iter() if page_body is not None else ():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "template"):
            continue
        text = element.text
        if (text and len(text) >= STANDFIRST_PROBE_CHARS and first_word in text[:80].lower()
                and caption_key(text).startswith(probe)):
            while element.tag in _INLINE_TAGS and element.getparent() is not None:
                element = element.getparent()
            text = text_of(element)
            if caption_key(text).startswith(probe) and len(text) <= 2 * len(description) + STANDFIRST_MIN_CHARS:
                return text
    return ""


# Below this many characters trafilatura has probably missed the article, and the other readers are tried.
FALLBACK_BELOW_CHARS = 200
# A JSON string holding article HTML is at least this long (shorter ones are teasers, labels, ads).
EMBEDDED_MIN_CHARS = 500
# Scripts over this size are not searched for embedded article HTML (bounded time on hostile pages).
EMBEDDED_MAX_SCRIPT_CHARS = 3_000_000
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.){%d,})"' % EMBEDDED_MIN_CHARS)


def _ld_article_body(ld: dict) -> str:
    """JSON-LD articleBody, one paragraph per line."""
    text = ld_text(ld, "articleBody") or ""
    return "\n".join(line for line in (WS.sub(" ", part).strip() for part in text.splitlines()) if line)


def _embedded_html(scripts: list[str]) -> tuple[str, etree._Element | None]:
    """The longest article HTML held in a JSON string inside a script (Next.js, Nuxt and similar pages render the
    article from JSON): its paragraphs, one per line, and its parsed tree (where its captions are)."""
    best, best_root = "", None
    for script in scripts:
        if len(script) > EMBEDDED_MAX_SCRIPT_CHARS or ("\\u003cp" not in script and "<p" not in script):
            continue
        for literal in _JSON_STRING.finditer(script):
            raw = literal.group(1)
            if "\\u003cp" not in raw and "<p" not in raw:
                continue
            try:
                fragment = json.loads(f'"{raw}"')
                root = parse_html(f"<html><body>{fragment}</body></html>")
            except (ValueError, etree.ParserError):
                continue
            lines = [text_of(p) for p in root.iter("p") if not is_caption_element(p) and not any(
                is_caption_element(a) for a in p.iterancestors())]
            text = "\n".join(line for line in lines if line)
            if len(text) > len(best):
                best, best_root = text, root
    return best, best_root


def _paragraph_fallback(tree: etree._Element) -> str:
    """Every substantial <p> in the main/article container (or the page), one per line."""
    scope = next(iter(tree.xpath("//article | //main")), tree)
    lines = [text_of(p) for p in scope.iter("p")]
    return "\n".join(line for line in lines if len(line) > 40)


# trafilatura's full mode checks its own result against two other extractors (readability, jusText), which costs
# about a third of its time. Its fast mode gives the same text on 402 of the 427 corpus pages; the others are nearly
# all pages where fast mode found a short body or much less than the page's paragraphs hold, so the full mode runs
# only then (12% of pages). Measured on both body sets: F1 within 0.001 of always running the full mode (0.956 and
# 0.926 against 0.956 and 0.927), where fast mode alone lost nearly a point (0.948 and 0.918).
FULL_EXTRACTION_BELOW_CHARS = 1000
FULL_EXTRACTION_BELOW_PROSE_SHARE = 0.5


def _trafilatura_body(tree: etree._Element, url: str, page_prose: int) -> str:
    options = dict(url=url, include_comments=False, include_tables=True, include_images=False, output_format="txt")
    body = trafilatura.extract(tree, fast=True, **options) or ""
    if len(body) < FULL_EXTRACTION_BELOW_CHARS or len(body) < FULL_EXTRACTION_BELOW_PROSE_SHARE * page_prose:
        body = trafilatura.extract(tree, **options) or ""
    return body


def extract(html: str, url: str, *, min_body_chars: int = 200, source: str | None = None,
            fallback_published: datetime | None = None, fallback_language: str | None = None,
            fetched_at: datetime | None = None) -> Article | Rejection:
    """Extract an Article from page HTML, or say why not. Dates later than two days after `fetched_at` (default:
    now) or before 1990 are set aside (`fields.in_date_window`)."""
    fetched_at = fetched_at or datetime.now(timezone.utc)
    if not html or not html.strip():
        return Rejection(url, "extract", "empty-page", source=source)
    if len(html) > MAX_HTML_CHARS:
        return Rejection(url, "extract", "too-large", detail=f"{len(html)} chars > {MAX_HTML_CHARS}", source=source)
    if len(url) > MAX_URL_CHARS:  # no server answers such a URL; its record keeps the start of it
        return Rejection(url[:MAX_URL_CHARS], "extract", "url-too-long", detail=f"{len(url)} chars > {MAX_URL_CHARS}",
                         source=source)
    if "\x00" in html[:4096] or "<" not in html[:65536]:
        return Rejection(url, "extract", "not-html", source=source)
    try:
        tree = parse_html(html)
    except (ValueError, etree.ParserError) as exc:
        return Rejection(url, "extract", "unparseable", detail=str(exc)[:200], source=source)
    if any(True for _ in itertools.islice(tree.iter(), MAX_ELEMENTS, None)):
        return Rejection(url, "extract", "too-complex", detail=f"more than {MAX_ELEMENTS} elements", source=source)
    stated = declared(tree, url)  # before captions and pruning touch the tree
    captions = harvest_captions(tree, url)
    scripts = [script.text for script in tree.iter("script") if script.text and len(script.text) > EMBEDDED_MIN_CHARS]
    page_prose = prune_boilerplate(tree)
    page = read(tree, url, stated, fetched_at=fetched_at, feed_published=fallback_published)
    title, ld = page.title, page.ld
    body = _trafilatura_body(tree, url, page_prose)
    method = "trafilatura"
    body = clean_body(body, title)
    if body and (lead := _standfirst(tree, ld, body)):
        body = f"{lead}\n{body}"
    if len(body) < max(min_body_chars, FALLBACK_BELOW_CHARS):
        # trafilatura found (almost) nothing: the article may live in JSON (a client-rendered page) or in
        # markup it did not recognise. The longest of the other readers wins, and says which it was.
        embedded, embedded_tree = _embedded_html(scripts)
        candidates = [(_ld_article_body(ld), "json-ld"), (embedded, "embedded-json")]
        if len(body) < min_body_chars:  # loose paragraphs only when the body would be rejected otherwise
            candidates.append((_paragraph_fallback(tree), "paragraphs"))
        fallback, name = max(candidates, key=lambda c: len(c[0]))
        if len(fallback) > len(body):
            body, method = fallback, name
            if name == "embedded-json":  # the article's own HTML, so the captions in it are its images' captions
                captions = merge_captions(captions, harvest_captions(embedded_tree, url))
    if len(body) < min_body_chars:
        return Rejection(url, "extract", "too-short", detail=f"{len(body)} chars < {min_body_chars}", source=source)
    body = _without_captions(body, {caption_key(c.text) for c in captions})
    detected = detect_language(f"{title}\n{body}")
    return _bounded(Article(
        article_id=stable_id(page.canonical_url),
        url=normalize_url(url),
        canonical_url=page.canonical_url,
        title=title,
        body=body,
        captions=captions,
        published=page.published,
        language=choose_language(page.language_declared, detected) or normalize_language(fallback_language),
        author=page.author,
        site_name=page.site_name,
        extraction_method=method,
        source=source,
        published_source=page.published_source,
        modified=page.modified,
        language_declared=page.language_declared,
        language_detected=detected,
        lead_image=page.lead_image,
        date_flags=page.date_flags,
        extractor_version=EXTRACTOR_VERSION,
    ), cut_before=("title",) if page.title_cut else ())


# Text fields of an article and their caps (`monitor.fields`); URLs are dropped rather than cut.
_TEXT_CAPS = (("title", MAX_TITLE_CHARS), ("author", MAX_AUTHOR_CHARS), ("site_name", MAX_SITE_NAME_CHARS),
              ("body", MAX_BODY_CHARS))


def _bounded(article: Article, cut_before: tuple[str, ...] = ()) -> Article:
    """The article with every field within its cap, the fields cut or dropped named in `truncated`.

    An over-long canonical URL is replaced by the page's URL (and the id follows it); an over-long lead image is
    dropped. Captions are bounded in number and length (`captions.bound_captions`)."""
    changes: dict[str, object] = {}
    for name, limit in _TEXT_CAPS:
        value, cut = cut_text(getattr(article, name), limit)
        if cut:
            changes[name] = value
    if bounded_url(article.canonical_url)[1]:
        changes.update(canonical_url=article.url, article_id=stable_id(article.url))
    if bounded_url(article.lead_image)[1]:
        changes["lead_image"] = None
    captions, cut_captions = bound_captions(article.captions)
    if cut_captions:
        changes["captions"] = captions
    cut = [*cut_before, *(name for name in changes if name not in ("article_id", "captions")), *cut_captions]
    return replace(article, **changes, truncated=tuple(dict.fromkeys(cut))) if cut else article


def _without_captions(body: str, caption_keys: set[str]) -> str:
    """The body without the lines that print a harvested caption (with or without its credit).

    A line can print a caption only if its words contain the caption's words, a cheap test that spares most lines
    the credit splitting (six regular expressions, about 60 us a line).
    """
    if not caption_keys:
        return body
    kept = []
    for line in body.split("\n"):
        key = caption_key(line)
        if any(k in key for k in caption_keys) and caption_key(split_credit(line).text) in caption_keys:
            continue
        kept.append(line)
    return "\n".join(kept)


def extract_pages(pages: list[Page], min_body_chars: int = 200, fetched_at: datetime | None = None,
                  learn_furniture: bool = False, furniture: dict[str, frozenset[str]] | None = None,
                  site_version: bool = True) -> list[Article | Rejection]:
    """Extract every fetched page, using what its feed entry said as the fallback date, language and source; each
    article names its page's address in the page store. A page's own `fetched_at` (an archived page), else
    `fetched_at` (default: now, as pages are extracted as soon as they are fetched) bounds believable dates.
    Site furniture (`boilerplate`) is removed when given (`furniture`: per host, learned from the site's stored
    pages by `monitor reextract`, or known to the warehouse) or with `learn_furniture`, learned from this batch
    grouped by host; the articles then name SITE_EXTRACTOR_VERSION, unless `site_version` is False."""
    fetched_at = fetched_at or datetime.now(timezone.utc)
    results: list[Article | Rejection] = []
    for page in pages:
        hint = page.request
        found = extract(
            page.html, page.url, min_body_chars=min_body_chars,
            source=hint.source if hint else None,
            fallback_published=hint.published if hint else None,
            fallback_language=hint.language if hint else None,
            fetched_at=page.fetched_at or fetched_at,
        )
        if isinstance(found, Article):
            found = replace(found, page_sha=page_hash(page.html))
        results.append(found)
    if furniture is None and not learn_furniture:
        return results
    stripped = strip_site_furniture(results, furniture)
    if not site_version:
        return stripped
    return [replace(r, extractor_version=SITE_EXTRACTOR_VERSION) if isinstance(r, Article) else r for r in stripped]


def extract_with_furniture(pages: list[Page], min_body_chars: int, furniture: dict[str, frozenset[str]]
                           ) -> list[Article | Rejection]:
    """The ingest flow's extraction: pages of many sites, each stripped of the furniture the warehouse knows of its
    site (learned from the site's stored stories). The articles keep EXTRACTOR_VERSION: `monitor reextract` still
    learns their sites' furniture from the stored pages themselves."""
    return extract_pages(pages, min_body_chars, furniture=furniture, site_version=False)


EXTRACTOR_VERSION = _extractor_version()
# Articles whose site furniture was learned from many pages of their site (`monitor reextract`) name this version:
# the ingest flow extracts page by page (removing only what the warehouse knows of each site), so its articles are
# what a later `monitor reextract` picks up.
SITE_EXTRACTOR_VERSION = f"{EXTRACTOR_VERSION}+site"
