"""Small helpers over lxml trees, shared by the extraction modules (`extract`, `captions`, `metadata`)."""

from __future__ import annotations

import re
import threading

import lxml.html
from lxml import etree

WS = re.compile(r"\s+")


def text_of(element: etree._Element) -> str:
    return WS.sub(" ", etree.tostring(element, method="text", encoding=str, with_tail=False)).strip()


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


# lxml.html's own parser looks up each element's class through a Python callback (HtmlElementClassLookup): a
# million calls over 191 real pages, most of them inside trafilatura as it walks the tree (23.1 -> 22.6 ms a page
# over the 427 corpus pages without it).
# Every element here is a plain HtmlElement (what trafilatura requires) chosen in C; nothing we or trafilatura
# call needs lxml.html's form-element classes. Parsers are not thread-safe, so each thread gets its own.
_LOCAL = threading.local()


def _parser() -> etree.HTMLParser:
    if not hasattr(_LOCAL, "parser"):
        parser = etree.HTMLParser(encoding="utf-8", remove_comments=True)
        parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity))
        _LOCAL.parser = parser
    return _LOCAL.parser


def parse_html(html: str) -> etree._Element:
    """Parse HTML (str) into an lxml tree; raises ValueError when there is nothing to parse."""
    data = html.encode("utf-8", errors="replace")
    tree = etree.fromstring(data, parser=_parser())
    if tree is None:
        raise ValueError("no document")
    return tree.getroottree().getroot()


def within(element: etree._Element, container: etree._Element) -> bool:
    """True when `element` is `container` or inside it."""
    return element is container or any(a is container for a in element.iterancestors())
