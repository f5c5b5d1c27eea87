"""OPML, the feed-list format of news readers: read one into feed records, write the registry as one.

Pure functions over bytes. The XML parser resolves no entities, loads no DTD and opens no network connection, so
a hostile file (a billion laughs, an external entity pointing at a file or a URL) is refused or read as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

# A reader's export of 10,000 feeds is about 2 MB; anything far beyond is not a feed list.
MAX_OPML_BYTES = 20_000_000
MAX_FOLDER_DEPTH = 8  # folders inside folders: readers nest one level, a few at most


class OpmlError(ValueError):
    """The bytes are not a usable OPML feed list; the message is one line naming what is wrong."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed an OPML file lists: its URL, the title and home page it gives, and its folders as tags."""

    url: str
    title: str = ""
    site: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def parse_opml(content: bytes, where: str = "the OPML file") -> list[OpmlFeed]:
    """Every feed outline (one with an xmlUrl) in document order, with the titles of the folders around it as tags
    (and any `category` it carries). Raises OpmlError for bytes that are not OPML or list no feed."""
    if len(content) > MAX_OPML_BYTES:
        raise OpmlError(f"{where} is {len(content)} bytes, more than a feed list ({MAX_OPML_BYTES}); check the file")
    if not content.strip():
        raise OpmlError(f"{where} is empty; export the feed list from your reader as OPML")
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"{where} is not well-formed XML ({exc.msg}); export it again as OPML"
                        ) from None
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise OpmlError(f"{where} is XML but not OPML (its root is <{etree.QName(root).localname}>); "
                        "export the feed list from your reader as OPML")
    body = next((child for child in root if isinstance(child.tag, str) and child.tag.lower() == "body"), None)
    if body is None:
        raise OpmlError(f"{where} has no <body>; export the feed list from your reader as OPML")
    feeds: list[OpmlFeed] = []
    _walk(body, (), feeds, 0)
    if not feeds:
        raise OpmlError(f"{where} lists no feeds (no <outline> with an xmlUrl)")
    return feeds


def _attr(element, name: str) -> str:
    for key, value in element.attrib.items():  # readers differ in case: xmlUrl, xmlurl, XMLURL
        if str(key).lower() == name.lower():
            return " ".join(str(value).split())
    return ""


def _walk(parent, folders: tuple[str, ...], out: list[OpmlFeed], depth: int) -> None:
    for outline in parent:
        if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
            continue
        label = _attr(outline, "title") or _attr(outline, "text")
        url = _attr(outline, "xmlUrl")
        if url:
            categories = [c.strip("/ ") for c in _attr(outline, "category").split(",")]
            tags = tuple(dict.fromkeys([*folders, *(c for c in categories if c)]))
            out.append(OpmlFeed(url, label, _attr(outline, "htmlUrl"), _attr(outline, "language"), tags))
        elif depth < MAX_FOLDER_DEPTH:
            _walk(outline, (*folders, label) if label else folders, out, depth + 1)


def to_opml(feeds: list[OpmlFeed], title: str = "monitor sources") -> bytes:
    """An OPML 2.0 feed list: one folder per feed's first tag (feeds without tags at the top), every tag in the
    `category` attribute, so `parse_opml` gives the same feeds back."""
    folders: dict[str, list[OpmlFeed]] = {}
    for feed in feeds:
        folders.setdefault(feed.tags[0] if feed.tags else "", []).append(feed)

    def outline(feed: OpmlFeed, indent: str) -> str:
        attrs = {"type": "rss", "text": feed.title or feed.url, "title": feed.title or feed.url, "xmlUrl": feed.url,
                 "htmlUrl": feed.site, "language": feed.language, "category": ",".join(feed.tags[1:])}
        return indent + "<outline " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items() if v) + "/>"

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
             f"  <head><title>{title}</title></head>", "  <body>"]
    for folder, members in folders.items():
        if not folder:
            lines += [outline(f, "    ") for f in members]
            continue
        lines.append(f"    <outline text={quoteattr(folder)} title={quoteattr(folder)}>")
        lines += [outline(f, "      ") for f in members]
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")
