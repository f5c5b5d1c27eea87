"""Small helpers over lxml trees, shared by the extraction modules (`extract`, `captions`, `metadata`)."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

WS = re.compile(r"\s+")


def text_of(element: etree._Element) -> str:
    return WS.sub(" ", element.text_content()).strip()


def classes_of(element: etree._Element) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def link_density(element: etree._Element) -> float:
    total = len(text_of(element)) or 1
    linked = sum(len(text_of(a)) for a in element.iter("a"))
    return linked / total


_NON_WORD = re.compile(r"\W+")


def text_key(text: str) -> str:
    """Lower-case words only: how two renderings of the same text (a caption twice, a headline again) compare."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def prose_chars(element: etree._Element) -> int:
    """Characters of paragraph text that is not mostly links."""
    return sum(len(text_of(p)) for p in element.iter("p") if link_density(p) < 0.5)


def parse_html(html: str) -> etree._Element:
    """Parse HTML (str) into an lxml tree; raises ValueError when there is nothing to parse."""
    data = html.encode("utf-8", errors="replace")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    tree = lxml.html.fromstring(data, parser=parser)
    if tree is None:
        raise ValueError("no document")
    return tree.getroottree().getroot()


def within(element: etree._Element, container: etree._Element) -> bool:
    """True when `element` is `container` or inside it."""
    return element is container or any(a is container for a in element.iterancestors())
