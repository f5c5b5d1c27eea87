"""Render the demo newsroom: three outlets, each with its own markup and feed format.

- The Daily Ledger: RSS 2.0; cookie banner, inline "Related" box, figure with a credit <span>, newsletter box.
  Its feed lists one story twice, once behind a tracking-parameter link.
- Caucasus Courier: Atom; share bar, "Also read" line, caption with a "/Outlet/Photographer" credit, tag list.
- Global Wire Review: RSS with malformed XML that still yields entries; a READ MORE block, comments, and one
  entry whose page does not exist (404).
All three carry the same wire story, each with the edits syndication makes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from monitor.demo.stories import COURIER, LEDGER, STORIES, WIRE_REVIEW, WIRE_STORY

OUTLETS = {
    LEDGER: {"name": "The Daily Ledger", "country": "GB", "format": "rss"},
    COURIER: {"name": "Caucasus Courier", "country": "GE", "format": "atom"},
    WIRE_REVIEW: {"name": "Global Wire Review", "country": "US", "format": "rss-broken"},
}
MISSING_SLUG = "withdrawn-story"  # listed in a feed, never rendered: a 404
TRACKING_QUERY = "?utm_source=rss&utm_medium=feed&utm_campaign=morning"
# Pages declare a canonical URL on the outlet's own domain, and feeds give stable GUIDs, as real sites do; so
# article and entry ids do not change when the demo is served on another port.
CANONICAL_HOST = "https://{outlet}.demo.monitor.example"

# Boilerplate that names countries: the tagger must never see it.
RELATED = [("Spain's election campaign enters final week", "spain-election"),
           ("Japan's exports beat forecasts", "japan-exports"),
           ("Argentina unveils new currency plan", "argentina-currency")]


def _page_path(outlet: str, date: str, slug: str) -> str:
    return f"{outlet}/{date.replace('-', '/')}/{slug}.html"


def _paragraphs(paragraphs: list[str], insert_at: int, block: str) -> str:
    out = [f"<p>{escape(p)}</p>" for p in paragraphs]
    out.insert(min(insert_at, len(out)), block)
    return "\n".join(out)


def _figure(outlet: str, caption: str | None, credit: str | None) -> str:
    if not caption:
        return ""
    if outlet == LEDGER:
        credit_html = f' <span class="credit">{escape(credit)}</span>' if credit else ""
        return f'<figure class="lead"><img src="/img/lead.jpg" alt=""><figcaption>{escape(caption)}{credit_html}</figcaption></figure>'
    text = f"{caption} /{credit}" if credit else caption
    if outlet == COURIER:
        return (f'<figure><img src="/img/lead.jpg" alt="{escape(text)}"><figcaption>{escape(text)}</figcaption></figure>'
                f'<div class="image-caption">{escape(text)}</div>')
    return f'<div class="photo"><img src="/img/lead.jpg" alt="photo"><p class="caption">{escape(text)}</p></div>'


def render_page(base: str, outlet: str, date: str, slug: str, headline: str, dateline: str,
                paragraphs: list[str], caption: str | None, credit: str | None, byline: str = "") -> str:
    """One article page in the outlet's markup."""
    name = OUTLETS[outlet]["name"]
    url = f"{CANONICAL_HOST.format(outlet=outlet)}/{_page_path(outlet, date, slug)}"
    first = f"{dateline} - {paragraphs[0]}" if dateline and not dateline.endswith("- ") else f"{dateline}{paragraphs[0]}"
    body_paras = [first, *paragraphs[1:]]
    related = "".join(f'<li><a href="/{outlet}/{s}.html">{escape(t)}</a></li>' for t, s in RELATED)
    if outlet == LEDGER:
        inline = f'<div class="related-links"><h3>Related</h3><ul>{related}</ul></div>'
        chrome_top = ('<div class="cookie-notice">We use cookies to personalise content and ads. '
                      '<button>Accept all</button></div>'
                      '<header><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/business">Business</a>'
                      ' | <a href="/subscribe">Subscribe</a></nav></header>')
        chrome_bottom = ('<section class="newsletter">Get the Ledger Briefing in your inbox every morning. '
                         '<a href="/newsletter">Sign up</a></section>'
                         f'<footer>&copy; 2026 {name}. All rights reserved. <a href="/privacy">Privacy</a></footer>')
    elif outlet == COURIER:
        inline = f'<p class="also-read">Also read: <a href="/{outlet}/{RELATED[0][1]}.html">{escape(RELATED[0][0])}</a></p>'
        chrome_top = ('<header class="masthead"><a href="/">Caucasus Courier</a><ul class="menu"><li><a href="/armenia">Armenia</a></li>'
                      '<li><a href="/azerbaijan">Azerbaijan</a></li><li><a href="/georgia">Georgia</a></li>'
                      '<li><a href="/central-asia">Central Asia</a></li></ul></header>'
                      '<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>')
        chrome_bottom = ('<div class="article-tags">Tags: <a href="/tag/region">Region</a> <a href="/tag/news">News</a></div>'
                         f'<footer class="site-footer"><p>Copyright 2026 {name}. Reproduction without permission is prohibited.</p></footer>')
    else:
        inline = ('<div class="read-more"><p><strong>READ MORE:</strong></p>'
                  + "".join(f'<p><a href="/{outlet}/{s}.html">{escape(t)}</a></p>' for t, s in RELATED) + "</div>")
        chrome_top = ('<div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/world">World</a></div>'
                      '<nav class="topnav"><a href="/americas">Americas</a> <a href="/europe">Europe</a> '
                      '<a href="/africa">Africa</a> <a href="/asia">Asia</a></nav>')
        chrome_bottom = ('<section id="comments"><h3>Comments</h3><p>Comments are closed for this story.</p></section>'
                         f'<footer><p>{name} &middot; About &middot; Contact &middot; Terms</p></footer>')
    byline_html = f'<p class="byline">{escape(byline)}</p>' if byline else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(headline)} | {name}</title>
<meta property="og:title" content="{escape(headline)}">
<meta property="og:site_name" content="{name}">
<meta property="article:published_time" content="{date}T08:00:00Z">
<link rel="canonical" href="{url}">
</head>
<body>
{chrome_top}
<main>
<article>
<h1>{escape(headline)}</h1>
{byline_html}
{_figure(outlet, caption, credit)}
{_paragraphs(body_paras, 1, inline)}
</article>
</main>
{chrome_bottom}
</body>
</html>
"""


def _wire_versions() -> list[tuple]:
    """The wire story as each outlet ran it."""
    versions = []
    for outlet, (headline, dateline, keep) in WIRE_STORY["versions"].items():
        paragraphs = list(WIRE_STORY["paragraphs"][:keep])
        if outlet == WIRE_REVIEW:  # small edits and reordered paragraphs
            paragraphs = [p.replace("on Friday", "Friday").replace("kilometres", "km") for p in paragraphs]
            paragraphs[2], paragraphs[3] = paragraphs[3], paragraphs[2]
        versions.append((WIRE_STORY["slug"], outlet, WIRE_STORY["date"], headline, dateline, paragraphs, None, None,
                         "By Reuters staff"))
    return versions


def _rss_item(title: str, link: str, guid: str, date: str, summary: str) -> str:
    return (f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">{escape(guid)}</guid>'
            f"<pubDate>{_rfc822(date)}</pubDate><description>{escape(summary)}</description></item>")


def _rfc822(date: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(date + "T08:00:00+00:00").strftime("%a, %d %b %Y %H:%M:%S +0000")


def _feed(base: str, outlet: str, items: list[tuple[str, str, str, str, str]]) -> str:
    name = OUTLETS[outlet]["name"]
    if OUTLETS[outlet]["format"] == "atom":
        entries = "".join(
            f'<entry><title>{escape(t)}</title><link rel="alternate" href="{escape(link)}"/><id>{escape(guid)}</id>'
            f"<updated>{d}T08:00:00Z</updated><summary>{escape(s)}</summary></entry>" for t, link, guid, d, s in items)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                f'<title>{name}</title><id>{base}/{outlet}/</id><updated>2026-11-14T08:00:00Z</updated>{entries}</feed>\n')
    body = "".join(_rss_item(*item) for item in items)
    if OUTLETS[outlet]["format"] == "rss-broken":
        # A raw ampersand and a missing </channel>: the kind of XML error real CMSs ship. feedparser flags
        # it (bozo) and still yields the entries.
        body = body.replace("</description>", " Q&A inside.</description>", 1)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{name}</title>'
                f"<link>{base}/{outlet}/</link>{body}</rss>\n")
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{name}</title>'
            f"<link>{base}/{outlet}/</link><ttl>60</ttl>{body}</channel></rss>\n")


def render_site(root: Path, base: str) -> dict[str, str]:
    """Write every page and feed under `root`; returns {outlet: feed URL}."""
    items: dict[str, list] = {outlet: [] for outlet in OUTLETS}
    for story in [*STORIES, *_wire_versions()]:
        slug, outlet, date, headline, dateline, paragraphs, caption, credit, *rest = story
        page = render_page(base, outlet, date, slug, headline, dateline, paragraphs, caption, credit, *rest)
        path = root / _page_path(outlet, date, slug)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        items[outlet].append((headline, f"{base}/{_page_path(outlet, date, slug)}", f"tag:{outlet},{date}:{slug}",
                              date, paragraphs[0][:160]))
    title, link, guid, date, summary = items[LEDGER][0]
    items[LEDGER].append((title, link + TRACKING_QUERY, guid + ":social", date, summary))
    items[WIRE_REVIEW].append(("Story withdrawn", f"{base}/{_page_path(WIRE_REVIEW, '2026-11-14', MISSING_SLUG)}",
                               f"tag:{WIRE_REVIEW},2026-11-14:{MISSING_SLUG}", "2026-11-14", "This story has been withdrawn."))
    feeds = {}
    for outlet, entries in items.items():
        path = root / outlet / "feed.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_feed(base, outlet, entries), encoding="utf-8")
        feeds[outlet] = f"{base}/{outlet}/feed.xml"
    return feeds


def demo_sources_toml(feeds: dict[str, str], base: str) -> str:
    """A sources.toml registering the demo outlets."""
    lines = ["# The demo newsroom, served on 127.0.0.1 by `monitor demo`.\n",
             "[schedule.hourly]\ninterval_minutes = 60\n"]
    for outlet, url in feeds.items():
        meta = OUTLETS[outlet]
        lines.append(f'[[source]]\nname = "{outlet}"\nurl = "{url}"\nsite = "{base}/{outlet}/"\nlanguage = "en"\n'
                     f'country = "{meta["country"]}"\ntags = ["demo"]\nschedule = "hourly"\n')
    return "\n".join(lines)
