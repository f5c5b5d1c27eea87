"""Image captions of the article's own images, each with its photo credit split off.

Sources are <figcaption> and caption-class elements, never alt text (it describes an image for screen readers).
A caption whose image links to another page is a teaser for that page, and one outside the article container
belongs to the page around the article; both are dropped. Each rule was measured on fundus-dev
(docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from monitor.extract.bodytext import is_byline, is_dateline
from monitor.extract.htmltext import WS, text_key, classes_of, link_density, text_of, within
from monitor.fields import MAX_CAPTION_CHARS, MAX_CAPTIONS, MAX_CREDIT_CHARS, cut_text
from monitor.models import Caption

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
    r"anadolu|shutterstock|alamy|pool|quelle|imago|dpa|picture alliance)\b[^()\[\]]*))[\)\]]\s*$",
    re.I,
)
# "Photo: X", "Photograph by X", "Credit: X", "Image: X" at the end (or the whole tail).
# The label may be glued to the caption's last word ("...напряженияФото: X") when the page sets them apart by
# layout only; the labels below are "photo", "picture", "credit" and "source" in the languages we watch.
_LABELS = (r"photo(?:graph)?s?|foto|fotó|фото|bild|picture|pic|image|imagen|credits?|crédits?|source|quelle|"
           r"kilde|källa|fonte|bron|kaynak|zdjęcie|kuva|isithombe")
_CREDIT_LABEL = re.compile(
    rf"(?:^|\s+|\||(?<=[^\W\d_])(?=[A-ZА-Я]))\s*(?:{_LABELS})\s*(?::|by\b)\s*(.+)$",
    re.I,
)
# A credit printed before the caption: "BILD: SN/APA/GEORG HOCHMUTH Ex-Ministerin Raab ...": capitals and slashes,
# then the caption's first word in mixed case.
_CREDIT_LEADING = re.compile(
    rf"^(?i:{_LABELS})\s*:\s*([A-Z0-9ÄÖÜ.&'-]+(?:\s?/\s?[A-Z0-9ÄÖÜ.&'-]+|\s[A-Z0-9ÄÖÜ.&'-]+)*)\s+(?=[A-ZÄÖÜ][a-zäöüß])")
# A gallery counter ("[1/5]", "3 / 12") before the caption.
_GALLERY_COUNTER = re.compile(r"^\s*\[?\d+\s?/\s?\d+\]?\s*")
# A caption element holding only a credit ("© BART DEWAELE", "Source: Repeat Project", "Quelle: t-online").
CREDIT_ONLY = re.compile(rf"^\W{{0,2}}(?:©|\(c\)|copyright\b|(?:{_LABELS})\s*(?::|by\b))", re.I)
# "... Sussex. © Victoria Jones/PA Wire/dpa", "... officer - Copyright Fredrik Persson/AP".
_CREDIT_COPYRIGHT = re.compile(r"(?:\s+[-–|]?\s*)(?:©|\(c\)|copyright\b)\s*:?\s*(.+)$", re.I)
# " /Reuters/Aziz Karimov", " / AFP", at the end: CGTN, Xinhua and others.
_CREDIT_SLASH = re.compile(r"\s+/\s?([A-Z][^/]{1,60}(?:/[^/]{1,60})*)\s*$")
# An agency in capitals with its photographer at the end: "... Kathmandu. REUTERS/Issam Abdallah".
_CREDIT_CAPS_SLASH = re.compile(r"(?<=[.!?\"'”)])\s+([A-Z]{2,}(?:\s[A-Z]{2,})?\s?/\s?[^/]{2,60}(?:/[^/]{2,60})*)\s*$")
# Trailing agency names after the caption's last sentence: "... on Monday. AFP via Getty Images".
_CREDIT_TRAILING = re.compile(
    r"(?<=[.!?\"'”])\s*((?:[A-Z][\w.'-]*\s){0,4}(?:Getty Images|Reuters|AFP|AP|EPA|Xinhua|Shutterstock|"
    r"Alamy|Bloomberg|Anadolu Agency|Sputnik|TASS)(?:\s(?:via|/)\s[\w .'-]+)?)\s*$"
)
_COPYRIGHT = re.compile(r"^\s*(?:©|\(c\)|copyright)\s*", re.I)
# A credit element's own label: "Photo: ", "Credit - ", "Image by ".
_CREDIT_PREFIX = re.compile(r"^\s*(?:photo(?:graph)?s?|foto|picture|image|credit|source)\s*(?:[:\-–]|by\b)\s*", re.I)


def split_credit(raw: str) -> Caption:
    """Split a photo credit off a caption: '/Reuters/X', '(AP Photo/X)', 'Photo: X', trailing agency names."""
    text = _GALLERY_COUNTER.sub("", WS.sub(" ", raw).strip())
    if leading := _CREDIT_LEADING.match(text):
        return Caption(text[leading.end():].strip(), leading.group(1).strip())
    for pattern in (_CREDIT_COPYRIGHT, _CREDIT_SLASH, _CREDIT_CAPS_SLASH, _CREDIT_PAREN, _CREDIT_LABEL, _CREDIT_TRAILING):
        match = pattern.search(text)
        if match and match.start() > 0:
            credit = _COPYRIGHT.sub("", match.group(1)).strip(" .;,|")
            caption = text[: match.start()].strip(" |-–—")
            if credit and len(caption) >= MIN_CAPTION_CHARS // 2:
                return Caption(caption, credit)
    return Caption(text, None)


caption_key = text_key  # captions are compared by their words only


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
    for element, raw, credit in itertools.chain(_caption_elements(tree), _image_wrappers(tree, container)):
        if _is_teaser(element, url) or (container is not None and not within(element, container)):
            continue
        caption = split_credit(raw)
        if CREDIT_ONLY.match(caption.text) or is_dateline(raw) or is_byline(raw):
            continue  # a credit, a dateline or a byline in caption markup, not a caption
        if credit and not caption.credit:
            cleaned = _CREDIT_PREFIX.sub("", _COPYRIGHT.sub("", credit)).strip(" .;,|()")
            caption = Caption(caption.text, cleaned or None)
        key = caption_key(caption.text)
        if (len(caption.text) < MIN_CAPTION_CHARS or len(key.split()) < MIN_CAPTION_WORDS
                or any(key in s or s in key for s in seen)):
            continue
        seen.add(key)
        found.append(caption)
    return tuple(found)


def merge_captions(found: tuple[Caption, ...], more: tuple[Caption, ...]) -> tuple[Caption, ...]:
    """`found` and then those of `more` that neither print nor are printed by one already there."""
    keys = [caption_key(c.text) for c in found]
    merged = list(found)
    for caption in more:
        key = caption_key(caption.text)
        if not any(key in k or k in key for k in keys):
            keys.append(key)
            merged.append(caption)
    return tuple(merged)


def is_caption_element(element: etree._Element) -> bool:
    return element.tag == "figcaption" or bool(_CAPTION_CLASS.search(classes_of(element)))


def _caption_elements(tree: etree._Element):
    """(element, text, credit) of every outermost caption element, its credit element's text split off."""
    for element in tree.iter("figcaption", "div", "p", "span", "small", "cite"):
        if not is_caption_element(element) or any(is_caption_element(a) for a in element.iterancestors()):
            continue
        credit_el = next((d for d in element.iterdescendants() if _CREDIT_CLASS.search(classes_of(d))), None)
        credit = text_of(credit_el) if credit_el is not None else None
        text = text_of(element)
        if credit and text.endswith(credit):
            text = text[: -len(credit)].strip()
        yield element, text, credit


# An unmarked block around one image prints its caption when all its text is this short (a paragraph is longer)
# and is at least this many words (author boxes, "Share this article", "Player wird geladen" are fewer).
WRAPPER_MAX_CHARS = 300
WRAPPER_MIN_WORDS = 4
# Blocks holding any of these are teaser cards (a headline, a link), article text or widgets, not a captioned image.
_NOT_IN_WRAPPER = ("a", "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "table", "figure", "figcaption",
                   "button", "form", "iframe", "video", "time")
# An author box reads "By Jane Doe ..." / "Von Juliane Rohr 28.04.2023" (sometimes glued: "vonMichelle").
_BYLINE_START = re.compile(r"^(?i:by|von|par|por|av|door|przez|di)(?:\s|(?=[A-ZÄÖÜ]))")


def _image_wrappers(tree: etree._Element, container: etree._Element | None):
    """(element, text, None) of unmarked blocks next to the article's images: the lowest ancestor of an <img> that
    holds any text, when that text is short, the block holds that one image and no headline, paragraph, list,
    figure or other caption markup (teaser cards carry a headline; a figure is read as a figure)."""
    if container is None:
        return
    for image in container.iter("img"):
        block = image.getparent()
        while block is not None and block is not container and not "".join(block.itertext()).strip():
            block = block.getparent()
        if block is None or block is container or block.tag not in ("div", "span", "section"):
            continue
        text = text_of(block)
        if (not MIN_CAPTION_CHARS <= len(text) <= WRAPPER_MAX_CHARS or len(text.split()) < WRAPPER_MIN_WORDS
                or _BYLINE_START.match(text) or sum(1 for _ in block.iter("img")) != 1):
            continue
        if any(True for _ in block.iter(*_NOT_IN_WRAPPER)) or any(
                is_caption_element(e) for e in (block, *block.iterancestors(), *block.iterdescendants())):
            continue
        credit = _last_piece_credit(block, text)
        yield block, text[: -len(credit)].strip() if credit else text, credit


# A credit printed as its own element after the caption ("Getty Images", "REUTERS", "ES") is at most this long.
WRAPPER_CREDIT_MAX_CHARS = 40
WRAPPER_CREDIT_MAX_WORDS = 4


def _last_piece_credit(block: etree._Element, text: str) -> str | None:
    """The text of the block's last element without child elements, when it is short, closes the block's text and
    follows a caption: a credit set apart by layout only (no credit class), as `_caption_elements` splits a
    credit element off. Emphasis inside the caption (<b>, <em>) is no credit."""
    leaves = [e for e in block.iter() if isinstance(e.tag, str) and len(e) == 0 and text_of(e)]
    if not leaves or leaves[-1].tag in _EMPHASIS:
        return None
    last = text_of(leaves[-1])
    if (len(last) <= WRAPPER_CREDIT_MAX_CHARS and len(last.split()) <= WRAPPER_CREDIT_MAX_WORDS
            and text.endswith(last) and len(text) - len(last) >= MIN_CAPTION_CHARS):
        return last
    return None


_EMPHASIS = frozenset({"b", "strong", "i", "em", "u", "mark", "q", "abbr"})


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
        text = text_of(p)
        if len(text) >= BODY_PARAGRAPH_CHARS and link_density(p) <= BODY_PARAGRAPH_MAX_LINKS:
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


def bound_captions(captions: tuple[Caption, ...]) -> tuple[tuple[Caption, ...], tuple[str, ...]]:
    """At most MAX_CAPTIONS captions, each text and credit within its cap, and the names of what was cut
    ("captions" for the count, "caption" for a text, "credit" for a credit)."""
    cut: dict[str, None] = {}
    if len(captions) > MAX_CAPTIONS:
        captions, cut["captions"] = captions[:MAX_CAPTIONS], None
    bounded = []
    for caption in captions:
        text, text_cut = cut_text(caption.text, MAX_CAPTION_CHARS)
        credit, credit_cut = cut_text(caption.credit, MAX_CREDIT_CHARS)
        if text_cut:
            cut["caption"] = None
        if credit_cut:
            cut["credit"] = None
        bounded.append(Caption(text, credit) if text_cut or credit_cut else caption)
    return tuple(bounded), tuple(cut)
