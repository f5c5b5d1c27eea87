"""Site furniture learned from the site's own pages: body lines and captions that recur on many of one site's
pages ("Our Standards: The Thomson Reuters Trust Principles.", "Log in or create an account to continue", a
newsletter pitch, the author's headshot caption) are the site's, not the article's, and are removed.

Nothing here names a site: what is furniture is counted per host over a batch of that host's extracted pages
(`monitor extract --jsonl` groups its batch by host; `monitor reextract` reads stored pages host by host; after an
ingest run, the warehouse hands over each site's newest stored stories, `learn_stored`).
The recall guard: a line counts as furniture only when it is on at least MIN_PAGES pages of the host AND on at
least MIN_SHARE of them, and is short (MAX_LINE_CHARS). A sentence two articles quote is on two pages: kept.
A long paragraph repeated across a running story's articles (the background paragraph) is article text: kept.
A helper of `extract`, pure like it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

from monitor.extract.htmltext import text_key
from monitor.models import Article
from monitor.urls import site_of as host_of

# A line must recur on this many of a host's pages: two articles quoting the same sentence is news, three pages
# carrying the same short line is the page's frame (with MIN_SHARE below).
MIN_PAGES = 3
# ...and on this share of the host's pages in the batch, so that in a batch of 200 pages of one site a phrase that
# three stories share ("The ceasefire took effect at midnight.") is not taken for furniture; furniture is on most
# pages (a newsletter box, a standards line), sometimes on one template's pages only (a quarter of them).
MIN_SHARE = 0.25
# Furniture lines are labels, pitches and notices; longer lines are paragraphs, which a site repeats only as
# article text (a running story's background paragraph).
MAX_LINE_CHARS = 250
# Lines shorter than this (a key of one or two words: "Advertisement", "Share") are widget labels that
# `bodytext.clean_body` already knows; counting them would also remove one-word lines such as a name.
MIN_KEY_CHARS = 12
# The ingest flow strips what it learned from a site's stored stories from every later page of the site, until
# `monitor reextract` learns from the pages again: so it learns only from sites with this many stored stories (one
# article per story). A line must then be on at least 5 stories (MIN_SHARE of 20): a sentence that a few stories
# of a running event quote, or a liveblog's updates repeat, stays news.
MIN_STORED_STORIES = 20


def _keys(lines) -> set[str]:
    return {key for line in lines if len(line) <= MAX_LINE_CHARS and len(key := text_key(line)) >= MIN_KEY_CHARS}


def learn(articles: list[Article]) -> dict[str, frozenset[str]]:
    """Per host, the keys (`htmltext.text_key`) of the body lines and captions that are that site's furniture
    (Rejections among `articles` are no page of the site's to count)."""
    pages: Counter = Counter()
    seen: dict[str, Counter] = defaultdict(Counter)
    for article in (a for a in articles if isinstance(a, Article)):
        host = host_of(article.url)
        pages[host] += 1
        seen[host].update(_keys(article.body.split("\n")) | _keys(c.text for c in article.captions))
    furniture = {}
    for host, counts in seen.items():
        if not host:
            continue  # pages without a URL are no one site
        need = max(MIN_PAGES, MIN_SHARE * pages[host])
        found = frozenset(key for key, n in counts.items() if n >= need)
        if found:
            furniture[host] = found
    return furniture


def learn_stored(articles: list[Article]) -> dict[str, frozenset[str]]:
    """As `learn`, over stored stories (one article each), for every site with at least MIN_STORED_STORIES of them:
    each such site is answered for, with no keys when it has no furniture."""
    articles = [a for a in articles if isinstance(a, Article)]
    stories = Counter(host_of(a.url) for a in articles)
    enough = [a for a in articles if stories[host_of(a.url)] >= MIN_STORED_STORIES]
    found = learn(enough)
    return {host: found.get(host, frozenset()) for host in sorted({host_of(a.url) for a in enough} - {""})}


def strip(article: Article, furniture: frozenset[str]) -> Article:
    """The article without its site's furniture lines and captions (unchanged when it has none)."""
    if not furniture:
        return article
    lines = article.body.split("\n")
    kept = [line for line in lines if len(line) > MAX_LINE_CHARS or text_key(line) not in furniture]
    captions = tuple(c for c in article.captions if text_key(c.text) not in furniture)
    if len(kept) == len(lines) and len(captions) == len(article.captions):
        return article
    return replace(article, body="\n".join(kept), captions=captions)


def strip_site_furniture(results: list, furniture: dict[str, frozenset[str]] | None = None) -> list:
    """Articles among `results` (Rejections pass through) without their site's furniture: `furniture` when given
    (learned from more of the site's pages), else learned from these same pages grouped by host. An article whose
    body would be emptied keeps it: that page is all furniture to us, and extraction's length checks passed on it."""
    if furniture is None:
        furniture = learn([r for r in results if isinstance(r, Article)])
    if not furniture:
        return results
    out = []
    for result in results:
        if isinstance(result, Article):
            stripped = strip(result, furniture.get(host_of(result.url), frozenset()))
            result = stripped if stripped.body.strip() else result
        out.append(result)
    return out
