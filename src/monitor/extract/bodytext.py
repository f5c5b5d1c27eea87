"""Line-level cleaning of an extracted body: what survives trafilatura but is not the article's text.

A helper of `extract` (like `htmltext`): the title printed again, a dateline or byline line, "Read also: ..."
teasers in any of the languages we watch, the link list under a "More on this" label, widget labels and
copyright lines. Each rule is narrow on purpose: a body line is only dropped when it has a known shape.
"""

from __future__ import annotations

import re

from monitor.extract.htmltext import text_key

# Phrases that open a teaser or a block of links to other articles, in the languages of the outlets we watch.
# Multi-word phrases are unambiguous; the single words ("related", "ähnliche") only count as a label (alone on
# their line or followed by a colon), because "Related to this, the minister said ..." is prose.
LEADIN_PHRASES = (
    # English
    "read more", "read also", "also read", "see also", "more on this", "more from", "you may also like",
    "you might also like", "related stories", "related articles", "related coverage", "related content",
    "related news", "more stories", "most read", "don't miss", "sign up", "subscribe to",
    # German
    "lesen sie auch", "lesen sie mehr", "lesen sie hier", "auch interessant", "mehr zum thema", "weitere artikel",
    "ähnliche artikel", "weiterführende links", "mehr themen", "das könnte sie auch interessieren",
    # French, Spanish, Italian, Portuguese
    "à lire aussi", "a lire aussi", "lire aussi", "voir aussi", "sur le même sujet", "lire la suite",
    "leer también", "lee también", "lea también", "noticia relacionada", "noticias relacionadas",
    "te puede interesar", "leggi anche", "potrebbe interessarti", "articoli correlati", "leia também",
    "leia mais", "veja também", "ler também",
    # Dutch, Scandinavian, Polish, Turkish, Russian, Indonesian
    "lees ook", "lees meer", "les også", "les mer", "läs också", "läs mer", "læs også", "læs mere",
    "czytaj też", "czytaj także", "czytaj więcej", "zobacz też", "zobacz także", "ilgili haberler",
    "bunlar da ilginizi çekebilir", "читайте также", "смотрите также", "baca juga",
)
LEADIN_WORDS = ("related", "recommended", "trending", "ähnliche", "subscribe", "newsletter")
_PHRASES = "|".join(re.escape(p) for p in sorted(LEADIN_PHRASES, key=len, reverse=True))
_WORDS = "|".join(re.escape(w) for w in LEADIN_WORDS)
# A block or line that opens like this is a teaser or a link-list label.
LEADIN = re.compile(rf"^\s*(?:{_PHRASES})\b|^\s*(?:{_WORDS})\s*(?:[:»›>|–—-]|$)", re.I)
# First words of every lead-in: most text nodes are ruled out by one set lookup before the regex runs (matching the
# regex on every text node of a page cost 6 ms).
_FIRST_WORDS = frozenset(phrase.split()[0] for phrase in LEADIN_PHRASES + LEADIN_WORDS)
_WORD_END = ":»›>|–—-"


def opens_with_leadin(text: str) -> bool:
    """True when `text` opens with a teaser or link-list phrase ("Read also", "Lesen Sie auch", "Related:")."""
    words = text[:48].lower().split(None, 1)
    return bool(words) and words[0].rstrip(_WORD_END) in _FIRST_WORDS and bool(LEADIN.match(text))


# A label line ("Auch interessant", "Mehr zum Thema finden Sie hier:") introduces a list; a line this long
# that opens with a lead-in phrase is still a teaser ("Les også: <headline>").
LEADIN_LINE_MAX_CHARS = 200

# Lines that are the label of a page widget, never prose (compared lower-cased, without end punctuation).
WIDGET_LINES = frozenset({
    "embed", "advertisement", "anzeige", "werbung", "publicidad", "publicité", "passer la publicité", "annonse",
    "annons", "reklame", "mehr infos", "kommentar abgeben", "kommentare", "comments", "subscribe now",
    "suscríbete", "suscribete", "share", "share this article", "teilen", "artikel teilen", "print", "drucken",
    "listen to this article", "artikel anhören", "copy link", "link kopiert",
})

# A dateline or byline is looked for only this near the start or end of the body.
EDGE_LINES = 4
_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|"
    "september|october|november|december|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|"
    "mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|"
    "julio|agosto|septiembre|octubre|noviembre|diciembre"
)
_WEEKDAYS = (
    "mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|"
    "mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
)
_DATE_WORDS = (
    "stand|uhr|updated|update|published|posted|aktualisiert|veröffentlicht|erstellt|am|um|at|on|last|min|"
    "jst|gmt|utc|cet|cest|bst|est|edt|pst|pdt|am|pm|mis à jour|publié le|le|à|"
    # reading-time notes printed beside the date ("16:24 Uhr • Lesezeit: 5 Minuten", "5 min read")
    "lesezeit|minuten|minutes|reading|read|time"
)
_DATE_TOKEN = re.compile(rf"\b(?:{_MONTHS}|{_WEEKDAYS}|{_DATE_WORDS})\b\.?|\d+|[^\w\s]|_", re.I)
# "By Jane Doe", "Von Nina Magoley und Max Muster": a byline word, then up to five capitalised names.
_NAME = r"[A-ZÀ-ÖØ-ÞА-Я][\w.'’-]*"
_BYLINE = re.compile(
    rf"^(?i:by|von|av|par|por|di|door|af|przez|from)\s+{_NAME}(?:\s+(?:(?:und|and|og|et|y|e|i)\s+)?{_NAME}){{0,4}}$")
_COPYRIGHT = re.compile(r"^\W{0,2}(?:©|\(c\)|ⓒ|copyright\b)", re.I)
COPYRIGHT_MAX_CHARS = 200
_LIST_ITEM = re.compile(r"^\s*[-•–*]\s")


def is_leadin_line(line: str) -> bool:
    """A teaser ("Read also: ...") or the label of a list of links."""
    return len(line) <= LEADIN_LINE_MAX_CHARS and opens_with_leadin(line)


def is_dateline(line: str) -> bool:
    """A line that is only a date and time ("Stand: 22.04.2024, 06:00 Uhr", "17:41 JST, October 13, 2024")."""
    return any(ch.isdigit() for ch in line) and not _DATE_TOKEN.sub(" ", line).strip()


def is_byline(line: str) -> bool:
    """A short "By Jane Doe" / "Von Nina Magoley" line."""
    return bool(_BYLINE.match(line.strip()))


def is_title_line(line: str, title: str) -> bool:
    """The headline printed again, maybe with a kicker before it or the site's name after it."""
    line_key, title_key = text_key(line), text_key(title)
    if not line_key or not title_key:
        return False
    if line_key == title_key:
        return True
    # A kicker or a site suffix makes the line longer, never more than twice the headline.
    return len(title_key) >= 20 and title_key in line_key and len(line_key) <= 2 * len(title_key)


def clean_body(body: str, title: str = "") -> str:
    """Drop the lines of an extracted body that are page furniture, keeping the order of the rest."""
    lines = [line for line in body.split("\n") if line.strip()]
    kept: list[str] = []
    in_link_list = False
    last = len(lines) - 1
    for index, line in enumerate(lines):
        text = line.strip()
        near_edge = index < EDGE_LINES or index > last - EDGE_LINES
        if in_link_list and _LIST_ITEM.match(text):
            continue  # an item of the link list under a lead-in label
        in_link_list = False
        if is_leadin_line(text):
            in_link_list = True
            continue
        if text_key(text) in WIDGET_LINES:
            continue
        if _COPYRIGHT.match(text) and len(text) <= COPYRIGHT_MAX_CHARS:
            continue
        if index < EDGE_LINES and title and is_title_line(text, title):
            continue
        if near_edge and (is_dateline(text) or is_byline(text)):
            continue
        kept.append(line)
    return "\n".join(kept).strip()
