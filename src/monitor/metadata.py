"""Article metadata, each value with where it came from: JSON-LD, meta tags, the URL, a language detector."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from lxml import etree

from monitor.htmltext import WS
from monitor.once import once
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


# The detector decides only when it is this sure (normalised probability), and only on this much text.
LANGUAGE_MIN_PROBABILITY = 0.9
LANGUAGE_MIN_CHARS = 40
LANGUAGE_SAMPLE_CHARS = 1000  # 3,000 took 2.3x longer and changed 1 of 427 corpus pages (unsure -> "de")
@once
def _identifier():
    """The language model: loading it takes ~0.5 s, so only when the first article needs it, and only once."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language (py3langid, shipped with its model), or None when unsure."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if len(sample.strip()) < LANGUAGE_MIN_CHARS:
        return None
    code, probability = _identifier().classify(sample)
    return code if probability >= LANGUAGE_MIN_PROBABILITY else None


# The detector names a macro-language where pages declare a specific one (Bokmål and Nynorsk are "no").
_MACRO_LANGUAGE = {"nb": "no", "nn": "no"}


def choose_language(declared: str | None, detected: str | None) -> str | None:
    """The text decides when the detector is sure (templates often declare one language for every edition);
    the declaration wins when both name the same language, as it can be more specific."""
    if declared and (detected is None or _MACRO_LANGUAGE.get(declared, declared) == detected):
        return declared
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
    declared = tree.get("lang") or meta(tree, "og:locale", "content-language", "language", "inLanguage")
    if not declared:
        return None
    code = declared.strip().replace("_", "-").split("-")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None
