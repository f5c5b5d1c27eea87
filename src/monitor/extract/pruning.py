"""Pruning before trafilatura reads the page: figures, navigation, related/read-more link blocks, newsletter, share
and cookie boxes are removed from the tree (a helper of `extract`, pure like it). Each rule was measured on
fundus-dev (docs/benchmarks.md, "Extraction")."""

from __future__ import annotations

import re

from lxml import etree

from monitor.extract.bodytext import opens_with_leadin
from monitor.extract.htmltext import WS, classes_of, link_density, prose_chars, text_of

# A block opening with "Read more", "Related", "Also read" is a link block when this share of it is links,
# or when it is this short (a label over a list).
LEADIN_LINK_DENSITY = 0.3
LEADIN_MAX_CHARS = 120
# The block after such a label is its list of links when it is a list or at least this share links.
LINK_LIST_DENSITY = 0.5
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


def prune_boilerplate(tree: etree._Element) -> int:
    """Remove figures, navigation, related/read-more link blocks, newsletter, share and cookie boxes in place;
    returns the characters of paragraph prose the page had before.

    Caption blocks outside <figure> stay in the tree (removing them moved trafilatura off the article on some
    pages); their lines are filtered from the body after extraction instead.
    """
    doomed: list[etree._Element] = list(tree.iter("figure", "figcaption", "nav", "footer", "button"))
    page_prose = prose_chars(tree) or 1
    # <noscript> usually holds a tracking pixel or an image; some blogs put the whole post there for readers
    # without JavaScript, so one holding a real share of the page's prose stays.
    doomed += [el for el in tree.iter("noscript") if prose_chars(el) <= BOILERPLATE_MAX_PROSE_SHARE * page_prose]
    for element in tree.iter(*_BLOCK_TAGS):
        # A class name alone never removes the block that holds most of the article's prose.
        if _BOILERPLATE_TOKENS.search(classes_of(element)) and prose_chars(element) <= BOILERPLATE_MAX_PROSE_SHARE * page_prose:
            doomed.append(element)
    doomed += _leadin_blocks(tree)
    for element in doomed:
        _drop(element)
    return page_prose


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
        if element.text and opens_with_leadin(element.text):
            openings.append((element, element.text))
        if element.tail and opens_with_leadin(element.tail) and element.getparent() is not None:
            openings.append((element.getparent(), element.tail))  # tail text flows in the parent
    for owner, opening in openings:
        first = opening.strip()[:LEADIN_PROBE_CHARS // 2]
        for block in [owner, *owner.iterancestors()]:
            if not _leading_text(block).startswith(first):
                break
            if block.tag in _BLOCK_TAGS:
                text = text_of(block)
                if link_density(block) > LEADIN_LINK_DENSITY or len(text) < LEADIN_MAX_CHARS:
                    found.append(block)
                    # A label ("More on this:") introduces the list of links printed right after it.
                    listing = block.getnext()
                    if len(text) < LEADIN_MAX_CHARS and listing is not None and (
                            listing.tag in ("ul", "ol") or link_density(listing) > LINK_LIST_DENSITY):
                        found.append(listing)
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
    return WS.sub(" ", "".join(parts)).strip()


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
