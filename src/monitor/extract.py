"""Turn page HTML into an Article (clean body, captions with credits, metadata) or a Rejection.

trafilatura extracts the body; around it we (1) harvest image captions ourselves, because trafilatura drops
<figure>, (2) prune related-link, newsletter, share and cookie blocks before it sees the page, and (3) read
metadata from JSON-LD and meta tags first. When trafilatura yields too little, a paragraph fallback runs and
the method is recorded.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.metadata import extract_metadata

from monitor.models import Article, Caption, Page, Rejection, stable_id
from monitor.urls import normalize_url

log = logging.getLogger(__name__)

# A page over 10 MB of HTML is a data dump or an attack, never an article (fetch caps bytes the same way).
MAX_HTML_CHARS = 10_000_000
# Elements in one page. Real news pages have about 1,000 (median on fundus-dev; the largest 4,100); 300,000
# spans took 9.5 s and 550 MB to extract, so a page this crowded is rejected before extraction starts.
MAX_ELEMENTS = 50_000
# Captions shorter than this, or of one word, are labels ("Photo", "Getty"), not captions. Names alone
# ("Friedrich Merz", 14 chars) are real captions: measured on fundus-dev, 12 chars kept 4 more true captions than 25
# for 3 more false ones.
MIN_CAPTION_CHARS = 12
MIN_CAPTION_WORDS = 2
# A paragraph counts towards finding the article's body block when it is at least this long and mostly not links.
BODY_PARAGRAPH_CHARS = 60
BODY_PARAGRAPH_MAX_LINKS = 0.3
# Without a headline to anchor on, the article container is the body block's ancestor this many levels up
# (a lead image usually sits in a header beside the body block).
CONTAINER_CLIMB = 2
# A block opening with "Read more", "Related", "Also read" is a link block when this share of it is links,
# or when it is this short (a label over a list).
LEADIN_LINK_DENSITY = 0.3
LEADIN_MAX_CHARS = 120
# A block marked "share"/"related"/... by its class is removed only if it holds at most this share of the
# page's prose: wrappers such as <div class="article share-enabled"> must survive.
BOILERPLATE_MAX_PROSE_SHARE = 0.2

# Class or id tokens of blocks that are never article text. Measured on fundus-dev: broader lists ("tags",
# "social", "comments", "share") and removing <aside>/<form> cost body recall (ASP.NET pages wrap the whole
# page in a <form>; some CMSs put the standfirst in an <aside>).
_BOILERPLATE_TOKENS = re.compile(
    r"(?:^|[\s_-])(related|read-?more|readmore|also-?read|more-?stories|recommended|newsletter|subscribe|"
    r"subscription|signup|sign-up|cookie|consent|gdpr|promo|advert|outbrain|taboola|most-?read|trending|"
    r"share-?bar|share-?buttons|social-?share)(?:$|[\s_-])",
    re.I,
)
_LEADIN = re.compile(
    r"^\s*(read more|related|also read|see also|more on this|more from|recommended|you may also like|"
    r"read also|related stories|related articles|related coverage|sign up|subscribe)\b[:\s]*",
    re.I,
)
_CAPTION_CLASS = re.compile(
    r"caption|image-desc|img-desc|photo-desc|wp-caption-text|figure-text|media-?info|bildtext|legend", re.I)
# Links around an image that stay on this article: its own URL, an in-page anchor, the image file itself or
# a lightbox/attachment page. Any other link makes the image a teaser for another story.
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg)(?:\?|$)", re.I)
_LIGHTBOX_PATH = re.compile(r"/(?:attachment|photo|image|gallery|galerie|bild|bilder|foto|media)s?/", re.I)
_CREDIT_CLASS = re.compile(r"credit|copyright|photographer|byline|source", re.I)
# "(AP Photo/Jane Doe)", "(Photo: X)", "[Reuters]" at the end.
_CREDIT_PAREN = re.compile(
    r"\s*[\(\[]\s*((?:[^()\[\]]*\b(?:photo|foto|image|picture|credit|getty|reuters|ap|afp|epa|xinhua|tass|"
    r"anadolu|shutterstock|alamy|pool)\b[^()\[\]]*))[\)\]]\s*$",
    re.I,
)
# "Photo: X", "Photograph by X", "Credit: X", "Image: X" at the end (or the whole tail).
_CREDIT_LABEL = re.compile(
    r"(?:^|\s+|\|)\s*(?:photo(?:graph)?s?|foto|bild|picture|pic|image|credit|source)\s*(?::|by\b)\s*(.+)$",
    re.I,
)
# "... Sussex. © Victoria Jones/PA Wire/dpa", "... officer - Copyright Fredrik Persson/AP".
_CREDIT_COPYRIGHT = re.compile(r"(?:\s+[-–|]?\s*)(?:©|\(c\)|copyright\b)\s*:?\s*(.+)$", re.I)
# " /Reuters/Aziz Karimov", " / AFP", at the end: CGTN, Xinhua and others.
_CREDIT_SLASH = re.compile(r"\s+/\s?([A-Z][^/]{1,60}(?:/[^/]{1,60})*)\s*$")
# Trailing agency names after the caption's last sentence: "... on Monday. AFP via Getty Images".
_CREDIT_TRAILING = re.compile(
    r"(?<=[.!?\"'”])\s+((?:[A-Z][\w.'-]*\s){0,4}(?:Getty Images|Reuters|AFP|AP|EPA|Xinhua|Shutterstock|"
    r"Alamy|Bloomberg|Anadolu Agency|Sputnik|TASS)(?:\s(?:via|/)\s[\w .'-]+)?)\s*$"
)
_COPYRIGHT = re.compile(r"^\s*(?:©|\(c\)|copyright)\s*", re.I)
# A credit element's own label: "Photo: ", "Credit - ", "Image by ".
_CREDIT_PREFIX = re.compile(r"^\s*(?:photo(?:graph)?s?|foto|picture|image|credit|source)\s*(?:[:\-–]|by\b)\s*", re.I)
_WS = re.compile(r"\s+")


def _text(element: etree._Element) -> str:
    return _WS.sub(" ", element.text_content()).strip()


def _classes(element: etree._Element) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def split_credit(raw: str) -> Caption:
    """Split a photo credit off a caption: '/Reuters/X', '(AP Photo/X)', 'Photo: X', trailing agency names."""
    text = _WS.sub(" ", raw).strip()
    for pattern in (_CREDIT_COPYRIGHT, _CREDIT_SLASH, _CREDIT_PAREN, _CREDIT_LABEL, _CREDIT_TRAILING):
        match = pattern.search(text)
        if match and match.start() > 0:
            credit = _COPYRIGHT.sub("", match.group(1)).strip(" .;,|")
            caption = text[: match.start()].strip(" |-–—")
            if credit and len(caption) >= MIN_CAPTION_CHARS // 2:
                return Caption(caption, credit)
    return Caption(text, None)


def _caption_key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def harvest_captions(tree: etree._Element, url: str = "") -> tuple[Caption, ...]:
    """Captions of the article's own images, each with its credit split off; a caption printed twice counts once.

    Sources: <figcaption> and caption-class elements. Three filters, each measured on fundus-dev:
    - teasers: an image wrapped in a link to another page illustrates that page (related stories, most read);
    - outside the article: captions must sit in the article's container (headline + body block);
    - alt text is not a caption: it describes the image for screen readers, and on fundus-dev 46 alt texts
      taken as captions matched 6 gold captions.
    """
    container = article_container(tree)
    found: list[Caption] = []
    seen: set[str] = set()
    for element, raw, credit in _caption_elements(tree):
        if _is_teaser(element, url) or (container is not None and not _within(element, container)):
            continue
        caption = split_credit(raw)
        if credit and not caption.credit:
            cleaned = _CREDIT_PREFIX.sub("", _COPYRIGHT.sub("", credit)).strip(" .;,|()")
            caption = Caption(caption.text, cleaned or None)
        key = _caption_key(caption.text)
        if (len(caption.text) < MIN_CAPTION_CHARS or len(key.split()) < MIN_CAPTION_WORDS
                or any(key in s or s in key for s in seen)):
            continue
        seen.add(key)
        found.append(caption)
    return tuple(found)


def _is_caption_element(element: etree._Element) -> bool:
    return element.tag == "figcaption" or bool(_CAPTION_CLASS.search(_classes(element)))


def _caption_elements(tree: etree._Element):
    """(element, text, credit) of every outermost caption element, its credit element's text split off."""
    for element in tree.iter("figcaption", "div", "p", "span", "small", "cite"):
        if not _is_caption_element(element) or any(_is_caption_element(a) for a in element.iterancestors()):
            continue
        credit_el = next((d for d in element.iterdescendants() if _CREDIT_CLASS.search(_classes(d))), None)
        credit = _text(credit_el) if credit_el is not None else None
        text = _text(element)
        if credit and text.endswith(credit):
            text = text[: -len(credit)].strip()
        yield element, text, credit


def _stays_on_article(href: str | None, url: str) -> bool:
    """True for a link that does not lead to another story (see _LIGHTBOX_PATH)."""
    if not href or href.startswith(("#", "javascript:")) or _IMAGE_FILE.search(href):
        return True
    target, page = urlsplit(urljoin(url, href)), urlsplit(url)
    if target.netloc and page.netloc and target.netloc != page.netloc:
        return False
    own = page.path.rstrip("/")
    return target.path.rstrip("/") == own or bool(own and target.path.startswith(own)) or \
        bool(_LIGHTBOX_PATH.search(target.path))


def _is_teaser(element: etree._Element, url: str) -> bool:
    """A caption whose image links to another page: a teaser for that page, not part of this article."""
    lineage = [element, *element.iterancestors()]
    if any(a.tag == "a" and not _stays_on_article(a.get("href"), url) for a in lineage):
        return True
    figure = next((a for a in lineage if a.tag == "figure"), None)
    return figure is not None and any(
        not _stays_on_article(a.get("href"), url) and next(a.iter("img"), None) is not None for a in figure.iter("a"))


def article_container(tree: etree._Element) -> etree._Element | None:
    """The element holding the article: the lowest common ancestor of the first <h1> and the body block (the
    element whose child paragraphs hold the most prose), else the body block's ancestor a little way up."""
    prose: dict[etree._Element, int] = {}
    for p in tree.iter("p"):
        text = _text(p)
        if len(text) >= BODY_PARAGRAPH_CHARS and _link_density(p) <= BODY_PARAGRAPH_MAX_LINKS:
            parent = p.getparent()
            if parent is not None:
                prose[parent] = prose.get(parent, 0) + len(text)
    if not prose:
        return None
    block = max(prose, key=prose.__getitem__)
    headline = next(tree.iter("h1"), None)
    if headline is not None:
        lineage = {block, *block.iterancestors()}
        common = next((a for a in [headline, *headline.iterancestors()] if a in lineage), None)
        if common is not None and common.tag not in ("body", "html"):
            return common
    container = block
    for _ in range(CONTAINER_CLIMB):
        parent = container.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        container = parent
    return container


def _within(element: etree._Element, container: etree._Element) -> bool:
    return element is container or any(a is container for a in element.iterancestors())


def _link_density(element: etree._Element) -> float:
    total = len(_text(element)) or 1
    linked = sum(len(_text(a)) for a in element.iter("a"))
    return linked / total


def _prose(element: etree._Element) -> int:
    """Characters of paragraph text that is not mostly links."""
    return sum(len(_text(p)) for p in element.iter("p") if _link_density(p) < 0.5)


def prune_boilerplate(tree: etree._Element) -> None:
    """Remove figures, navigation, related/read-more link blocks, newsletter, share and cookie boxes in place.

    Caption blocks outside <figure> stay in the tree (removing them moved trafilatura off the article on some
    pages); their lines are filtered from the body after extraction instead.
    """
    doomed: list[etree._Element] = list(tree.iter("figure", "figcaption", "nav", "footer", "button", "noscript"))
    page_prose = _prose(tree) or 1
    for element in tree.iter(*_BLOCK_TAGS):
        # A class name alone never removes the block that holds most of the article's prose.
        if _BOILERPLATE_TOKENS.search(_classes(element)) and _prose(element) <= BOILERPLATE_MAX_PROSE_SHARE * page_prose:
            doomed.append(element)
    doomed += _leadin_blocks(tree)
    for element in doomed:
        _drop(element)


# Enough leading characters to recognise the longest lead-in ("you may also like") after some whitespace.
LEADIN_PROBE_CHARS = 40
_BLOCK_TAGS = ("div", "section", "ul", "ol", "p", "span", "dl", "table")


def _leadin_blocks(tree: etree._Element) -> list[etree._Element]:
    """Blocks that open with "Read more", "Related", ... and are mostly links or short.

    Found from the text nodes that open so, walking up through the blocks they open: reading the leading text
    of every block instead cost 6 us x 400 blocks a page.
    """
    found: list[etree._Element] = []
    openings: list[tuple[etree._Element, str]] = []
    for element in tree.iter():
        if element.text and _LEADIN.match(element.text):
            openings.append((element, element.text))
        if element.tail and _LEADIN.match(element.tail) and element.getparent() is not None:
            openings.append((element.getparent(), element.tail))  # tail text flows in the parent
    for owner, opening in openings:
        first = opening.strip()[:LEADIN_PROBE_CHARS // 2]
        for block in [owner, *owner.iterancestors()]:
            if not _leading_text(block).startswith(first):
                break
            if block.tag in _BLOCK_TAGS:
                text = _text(block)
                if _link_density(block) > LEADIN_LINK_DENSITY or len(text) < LEADIN_MAX_CHARS:
                    found.append(block)
    return found


def _leading_text(element: etree._Element) -> str:
    """The first few words of an element's text, without reading all of it (blocks nest deeply)."""
    parts: list[str] = []
    size = 0
    for piece in element.itertext():
        parts.append(piece)
        size += len(piece)
        if size >= LEADIN_PROBE_CHARS:
            break
    return _WS.sub(" ", "".join(parts)).strip()


def _drop(element: etree._Element) -> None:
    """Remove an element but keep its tail text."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _json_ld(tree: etree._Element) -> dict:
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


def _ld_text(ld: dict, key: str) -> str | None:
    value = ld.get(key)
    return value if isinstance(value, str) else None


def _ld_name(value) -> str | None:
    """A JSON-LD Person/Organization (or a list of them, or a plain string) as names joined by ", "."""
    items = value if isinstance(value, list) else [value]
    names = [i.get("name") if isinstance(i, dict) else i for i in items]
    names = [_WS.sub(" ", n).strip() for n in names if isinstance(n, str) and n.strip()]
    return ", ".join(dict.fromkeys(names)) or None


def _lead_image(tree: etree._Element, ld: dict, url: str) -> str | None:
    """The article's lead image: og:image, else JSON-LD image, as an absolute URL."""
    image = _meta(tree, "og:image", "twitter:image")
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


# The detector decides only when it is this sure (normalised probability), and only on this much text.
LANGUAGE_MIN_PROBABILITY = 0.9
LANGUAGE_MIN_CHARS = 40
LANGUAGE_SAMPLE_CHARS = 3000
_IDENTIFIER = None


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language (py3langid, shipped with its model), or None when unsure."""
    global _IDENTIFIER
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if len(sample.strip()) < LANGUAGE_MIN_CHARS:
        return None
    if _IDENTIFIER is None:  # loading the model takes ~0.5 s: only when the first article needs it
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    code, probability = _IDENTIFIER.classify(sample)
    return code if probability >= LANGUAGE_MIN_PROBABILITY else None


# The detector names a macro-language where pages declare a specific one (Bokmål and Nynorsk are "no").
_MACRO_LANGUAGE = {"nb": "no", "nn": "no"}


def _choose_language(declared: str | None, detected: str | None) -> str | None:
    """The text decides when the detector is sure (templates often declare one language for every edition);
    the declaration wins when both name the same language, as it can be more specific."""
    if declared and (detected is None or _MACRO_LANGUAGE.get(declared, declared) == detected):
        return declared
    return detected or declared


def _meta(tree: etree._Element, *names: str) -> str | None:
    for name in names:
        for element in tree.xpath(f'//meta[@property="{name}" or @name="{name}" or @itemprop="{name}"]'):
            content = (element.get("content") or "").strip()
            if content:
                return content
    return None


def parse_date(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as aware UTC (naive values are taken as UTC)."""
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _canonical(tree: etree._Element, url: str) -> str:
    """The page's own canonical URL (AMP and mobile pages name their main page this way), else og:url, else
    the URL itself. A canonical that points at the site's front page from an article is a CMS template bug,
    and trusting it would merge every article of the site into one, so it is ignored."""
    declared = [link.get("href") for link in tree.iter("link")
                if "canonical" in (link.get("rel") or "").lower().split() and link.get("href")]
    page = normalize_url(url)
    for candidate in [*declared, _meta(tree, "og:url")]:
        if not candidate:
            continue
        resolved = normalize_url(candidate, base=url)
        if not resolved.startswith(("http://", "https://")):
            continue
        if urlsplit(resolved).path in ("", "/") and urlsplit(page).path not in ("", "/"):
            continue
        return resolved
    return page


def _language(tree: etree._Element) -> str | None:
    declared = tree.get("lang") or _meta(tree, "og:locale", "content-language", "language", "inLanguage")
    if not declared:
        return None
    code = declared.strip().replace("_", "-").split("-")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _strip_title_line(body: str, title: str) -> str:
    """trafilatura keeps the <h1>; the body should start with the text."""
    lines = body.split("\n")
    if lines and title and _caption_key(lines[0]) == _caption_key(title):
        lines = lines[1:]
    return "\n".join(lines).strip()


# Below this many characters trafilatura has probably missed the article, and the other readers are tried.
FALLBACK_BELOW_CHARS = 200
# A JSON string holding article HTML is at least this long (shorter ones are teasers, labels, ads).
EMBEDDED_MIN_CHARS = 500
# Scripts over this size are not searched for embedded article HTML (bounded time on hostile pages).
EMBEDDED_MAX_SCRIPT_CHARS = 3_000_000
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.){%d,})"' % EMBEDDED_MIN_CHARS)


def _ld_article_body(ld: dict) -> str:
    """JSON-LD articleBody, one paragraph per line."""
    text = _ld_text(ld, "articleBody") or ""
    return "\n".join(line for line in (_WS.sub(" ", part).strip() for part in text.splitlines()) if line)


def _embedded_html_text(scripts: list[str]) -> str:
    """The longest article HTML held in a JSON string inside a script (Next.js, Nuxt and similar pages render the
    article from JSON), as paragraphs, one per line."""
    best = ""
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
            lines = [_text(p) for p in root.iter("p") if not _is_caption_element(p) and not any(
                _is_caption_element(a) for a in p.iterancestors())]
            text = "\n".join(line for line in lines if line)
            if len(text) > len(best):
                best = text
    return best


def _paragraph_fallback(tree: etree._Element) -> str:
    """Every substantial <p> in the main/article container (or the page), one per line."""
    scope = next(iter(tree.xpath("//article | //main")), tree)
    lines = [_text(p) for p in scope.iter("p")]
    return "\n".join(line for line in lines if len(line) > 40)


def parse_html(html: str) -> etree._Element:
    """Parse HTML (str) into an lxml tree; raises ValueError when there is nothing to parse."""
    data = html.encode("utf-8", errors="replace")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    tree = lxml.html.fromstring(data, parser=parser)
    if tree is None:
        raise ValueError("no document")
    return tree.getroottree().getroot()


def extract(html: str, url: str, *, min_body_chars: int = 200, source: str | None = None,
            fallback_published: datetime | None = None, fallback_language: str | None = None) -> Article | Rejection:
    """Extract an Article from page HTML, or say why not."""
    if not html or not html.strip():
        return Rejection(url, "extract", "empty-page", source=source)
    if len(html) > MAX_HTML_CHARS:
        return Rejection(url, "extract", "too-large", detail=f"{len(html)} chars > {MAX_HTML_CHARS}", source=source)
    if "\x00" in html[:4096] or "<" not in html[:65536]:
        return Rejection(url, "extract", "not-html", source=source)
    try:
        tree = parse_html(html)
    except (ValueError, etree.ParserError) as exc:
        return Rejection(url, "extract", "unparseable", detail=str(exc)[:200], source=source)
    if any(True for _ in itertools.islice(tree.iter(), MAX_ELEMENTS, None)):
        return Rejection(url, "extract", "too-complex", detail=f"more than {MAX_ELEMENTS} elements", source=source)
    ld = _json_ld(tree)
    title = _ld_text(ld, "headline") or _meta(tree, "og:title")
    dates = [(parse_date(_ld_text(ld, "datePublished")), "json-ld"),
             (parse_date(_meta(tree, "article:published_time", "datePublished", "pubdate", "date")), "meta")]
    modified = parse_date(_ld_text(ld, "dateModified")) or parse_date(
        _meta(tree, "article:modified_time", "og:updated_time", "dateModified", "last-modified"))
    canonical = _canonical(tree, url)
    declared = _language(tree)
    site_name = _meta(tree, "og:site_name") or _ld_name(ld.get("publisher"))
    author = _ld_name(ld.get("author")) or _meta(tree, "author", "article:author")
    lead_image = _lead_image(tree, ld, url)
    captions = harvest_captions(tree, url)
    scripts = [script.text for script in tree.iter("script") if script.text and len(script.text) > EMBEDDED_MIN_CHARS]
    prune_boilerplate(tree)
    if not title or not any(d for d, _ in dates):
        meta = extract_metadata(tree, default_url=url, extensive=False)
        title = title or meta.title
        guessed = parse_date(meta.date)
        # trafilatura's date heuristics read the URL too; a date that is just the URL's is labelled as such below.
        if guessed != date_from_url(url):
            dates.append((guessed, "page"))
        site_name = site_name or meta.sitename
        author = author or meta.author
    # The feed's timestamp beats a date in the URL, which has no time of day.
    dates += [(fallback_published, "feed"), (date_from_url(url), "url")]
    published, published_source = next(((d, where) for d, where in dates if d), (None, None))
    title = _WS.sub(" ", title or "").strip()
    body = trafilatura.extract(tree, url=url, include_comments=False, include_tables=False,
                               include_images=False, output_format="txt") or ""
    method = "trafilatura"
    body = _strip_title_line(body, title)
    if len(body) < max(min_body_chars, FALLBACK_BELOW_CHARS):
        # trafilatura found (almost) nothing: the article may live in JSON (a client-rendered page) or in
        # markup it did not recognise. The longest of the other readers wins, and says which it was.
        candidates = [(_ld_article_body(ld), "json-ld"), (_embedded_html_text(scripts), "embedded-json")]
        if len(body) < min_body_chars:  # loose paragraphs only when the body would be rejected otherwise
            candidates.append((_paragraph_fallback(tree), "paragraphs"))
        fallback, name = max(candidates, key=lambda c: len(c[0]))
        if len(fallback) > len(body):
            body, method = fallback, name
    if len(body) < min_body_chars:
        return Rejection(url, "extract", "too-short", detail=f"{len(body)} chars < {min_body_chars}", source=source)
    caption_keys = {_caption_key(c.text) for c in captions}
    body = "\n".join(line for line in body.split("\n") if _caption_key(split_credit(line).text) not in caption_keys)
    detected = detect_language(f"{title}\n{body}")
    return Article(
        article_id=stable_id(canonical),
        url=normalize_url(url),
        canonical_url=canonical,
        title=title,
        body=body,
        captions=captions,
        published=published,
        language=_choose_language(declared, detected) or fallback_language,
        author=author,
        site_name=site_name,
        extraction_method=method,
        source=source,
        published_source=published_source,
        modified=modified,
        language_declared=declared,
        language_detected=detected,
        lead_image=lead_image,
    )


def extract_pages(pages: list[Page], min_body_chars: int = 200) -> list[Article | Rejection]:
    """Extract every fetched page, using what its feed entry said as the fallback date, language and source."""
    results: list[Article | Rejection] = []
    for page in pages:
        hint = page.request
        results.append(extract(
            page.html, page.url, min_body_chars=min_body_chars,
            source=hint.source if hint else None,
            fallback_published=hint.published if hint else None,
            fallback_language=hint.language if hint else None,
        ))
    return results
