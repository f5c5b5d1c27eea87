"""Bounds and normal forms of the fields we store, shared by the stages that read them from untrusted input
(`feeds` from feed items, `extract` from pages): length caps, the window of believable dates, one code per
language, and titles without HTML entities. A leaf module like `urls`, so stages need not import each other.

A cut is never silent: each helper returns what it kept and whether it cut, and the records name the fields that
were cut (`Article.truncated`, `Entry.truncated`) and the dates that were rejected (`date_flags`).
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

# Caps on stored text, in characters, each well above the longest real value and far below what a hostile page or
# feed can send (issue 16: a 2 MB title was stored whole).
# Headlines run to about 150 characters; the longest in the extraction corpus are under 300 (live blogs).
MAX_TITLE_CHARS = 500
# Author lists: JSON-LD can name dozens of contributors, joined by ", " (30 names of 20 characters = 660).
MAX_AUTHOR_CHARS = 1000
# A site name is a brand: "The Namibian", "Neue Zürcher Zeitung".
MAX_SITE_NAME_CHARS = 200
# Captions describe one photo: a few sentences. Long gallery descriptions reach about 1,000 characters.
MAX_CAPTION_CHARS = 2000
# A credit names agencies and photographers: "Victoria Jones/PA Wire/dpa".
MAX_CREDIT_CHARS = 300
# An article's own images; a photo gallery page has dozens. The rest are dropped (and "captions" is flagged).
MAX_CAPTIONS = 200
# RFC 9110 asks servers to accept request lines of at least 8,000 octets and common servers refuse longer
# (Apache 8,190, nginx 8 KB buffers), so a longer URL cannot be fetched anyway. URLs are never cut (a cut URL is
# another URL): a longer one is dropped and the field flagged.
MAX_URL_CHARS = 8000
# A GUID is an identifier; the entry id hashes the whole of it, the stored copy is cut.
MAX_GUID_CHARS = 2000
# The longest real articles (transcripts, judgments, live blogs) are a few hundred thousand characters; pages are
# capped at 10 MB of HTML before extraction, so this bounds what one article row can hold.
MAX_BODY_CHARS = 1_000_000
# Feed summaries are teasers (they were cut at this length before these bounds were named).
MAX_SUMMARY_CHARS = 2000

# Dates outside [EARLIEST_DATE, fetch time + LATEST_AHEAD] are CMS defaults or typos (0001-01-01, 9999-12-31,
# 1970-01-01 from a zero timestamp), never a news article's publication: kept, they stretched the analytics'
# date ranges over millennia (issue 16: a spikes query from 0.36 s to 42 s). No news site predates the web (1991).
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=timezone.utc)
# Two days ahead covers every time zone's tomorrow (UTC+14) and embargoed articles dated a little ahead.
LATEST_AHEAD = timedelta(days=2)
# A date written without a zone offset is local time somewhere between UTC-12 and UTC+14: read as UTC, it lies at
# most this far from the true instant.
NAIVE_BEHIND = timedelta(hours=14)
NAIVE_AHEAD = timedelta(hours=12)


def cut_text(value: str | None, limit: int) -> tuple[str | None, bool]:
    """The value cut to at most `limit` characters (at a word boundary, marked with an ellipsis); True if cut."""
    if value is None or len(value) <= limit:
        return value, False
    head = value[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:  # a word boundary not too far back
        head = head[:space]
    return head.rstrip() + "…", True


def bounded_url(value: str | None) -> tuple[str | None, bool]:
    """The URL if it is at most MAX_URL_CHARS long, else None; True if dropped."""
    if value is None or len(value) <= MAX_URL_CHARS:
        return value, False
    return None, True


def in_date_window(value: datetime, fetched_at: datetime) -> bool:
    """True for a date a news item can have: from 1990 up to two days after it was fetched."""
    return EARLIEST_DATE <= value <= fetched_at + LATEST_AHEAD


def naive_agrees(naive: datetime, aware: datetime, date_only: bool = False) -> bool:
    """True when a zone-aware instant is one a zone-less date (read as UTC) can mean in some time zone; a date
    without a time means any time of that day."""
    day = timedelta(days=1) if date_only else timedelta(0)
    return naive - NAIVE_BEHIND <= aware <= naive + day + NAIVE_AHEAD


# Deprecated or macro-language codes, each mapped to the one code we store. Norwegian is declared as nb (Bokmål),
# nn (Nynorsk) or no, and py3langid answers no or nn: one language for the analyst, stored as "no". The detector
# also names Arabic and Chinese varieties (ary, arz, yue, wuu) that pages declare as ar and zh, and Filipino as tl;
# iw, in and ji are the pre-1989 codes of Hebrew, Indonesian and Yiddish that some templates still declare.
LANGUAGE_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "ji": "yi", "fil": "tl", "ary": "ar",
                    "arz": "ar", "yue": "zh", "wuu": "zh", "uzs": "uz"}
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def normalize_language(code: str | None) -> str | None:
    """One lower-case ISO 639 code per language: region and script subtags dropped (en-GB, pt_BR, zh-Hant),
    aliases merged (nb, nn -> no); None for anything that is not a language code."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    if not _LANGUAGE_CODE.fullmatch(primary):
        return None
    return LANGUAGE_ALIASES.get(primary, primary)


# An entity with its semicolon: named (&amp;), decimal (&#039;) or hex (&#x2019;). Legacy entities without a
# semicolon are left alone, so "AT&T" and "Smith&nothing" stay as written.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Titles escaped twice ("&amp;#039;") need two rounds; more is no longer a title.
ENTITY_ROUNDS = 3
_SPACES = re.compile(r"\s+")


def unescape_entities(text: str) -> str:
    """Text with HTML entities decoded, also when escaped twice (`&amp;#039;` -> `'`); whitespace collapsed."""
    for _ in range(ENTITY_ROUNDS):
        if "&" not in text:
            break
        decoded = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if decoded == text:
            break
        text = decoded
    return _SPACES.sub(" ", text.replace("\xad", "")).strip()  # soft hyphens are layout, not text
