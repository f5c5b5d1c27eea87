"""The visual report: one self-contained HTML page (inline CSS and SVG, no script, no CDN) from ReportData, and its
compact digest variant for an e-mail body (inline styles, no chart).

Pure functions of their input, so they render the same offline, in a mail attachment or in a headless browser.
Stories link to their articles: the only URLs on the page, followed only when clicked.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from monitor.config import country_name
from monitor.models import ReportData

# Colour-blind-safe palette (Okabe-Ito), one colour per series, in order; grey is "other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER = "#999999"
ABOUT, MENTIONED = "#0072B2", "#A6CEE3"
HEALTH = {"ok": "#009E73", "failing": "#E69F00", "dead": "#D55E00", "never fetched": "#999999"}
WIDTH, HEIGHT, MARGIN = 880, 260, 40  # chart size in px; the margin holds the axes' labels

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:24px auto;max-width:960px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666}.totals{display:flex;gap:24px;margin:12px 0}.totals div{font-size:13px;color:#555}
.totals b{display:block;font-size:22px;color:#222}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}th{color:#555}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
svg text{font-size:11px;fill:#555}a{color:#0b57d0;text-decoration:none}a:hover{text-decoration:underline}
.new{display:inline-block;font-size:11px;font-weight:600;color:#fff;background:#D55E00;border-radius:3px;
padding:0 4px;margin-left:6px;vertical-align:middle}.cols{display:grid;grid-template-columns:repeat(auto-fill,
minmax(280px,1fr));gap:4px 24px}.cols h3{font-size:14px;margin:10px 0 4px}.cols ol{margin:0;padding-left:18px}
"""


def render(data: ReportData, generated: datetime) -> str:
    """The whole page as a string."""
    period = (f"{data.first_day:%d %b %Y} to {data.last_day:%d %b %Y}" if data.first_day else "no articles yet")
    parts = [f"<h1>Media monitor report</h1><p class=muted>{escape(period)} &middot; generated "
             f"{generated:%Y-%m-%d %H:%M} UTC</p>", _totals(data.totals), _unsupported(data.totals)]
    if data.days:
        parts += [
            "<h2>Volume by region</h2><p class=muted>Articles per day about a country of the region (one of the "
            "countries the article is about, not a passing mention; an article about two countries counts in each "
            "of their regions).</p>", _lines(data.days, data.regions, "region-chart"),
            "<h2>Volume by topic</h2><p class=muted>Articles per day by their first IPTC Media Topic.</p>",
            _stacked(data.days, data.topics, "topic-chart"),
            "<h2>Countries</h2><p class=muted>Articles mentioning each country, and how many are about it.</p>",
            _countries(data.countries), "<h2>Top stories</h2>", _since(data), _stories(data.stories),
            *_headline_sections(data), "<h2>Spikes</h2>", _spikes(data.spikes),
        ]
    parts += ["<h2>Sources</h2>", _sources(data.sources)]
    body = "\n".join(parts)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Media monitor report</title>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def _totals(totals: dict[str, int]) -> str:
    cells = "".join(f"<div><b>{totals.get(k, 0):,}</b>{label}</div>" for k, label in
                    (("articles", "articles"), ("stories", "stories"), ("outlets", "outlets"),
                     ("countries", "countries")))
    return f"<div class=totals>{cells}</div>"


def _unsupported(totals: dict[str, int]) -> str:
    """A note when some articles are in a language the tagger does not read: they are counted in the totals but
    in no region, topic or country chart, so the charts undercount them."""
    n = totals.get("unsupported_language", 0)
    if not n:
        return ""
    articles = "1 article is" if n == 1 else f"{n:,} articles are"
    return (f"<p class='muted unsupported'>{articles} in a language the tagger does not read: counted above, but in "
            "none of the region, topic and country charts (the <code>tagging_coverage</code> view has them by "
            "source and language).</p>")


def _colours(series: dict[str, list[int]]) -> dict[str, str]:
    return {name: OTHER if name == "other" else PALETTE[k % len(PALETTE)] for k, name in enumerate(series)}


def _legend(colours: dict[str, str]) -> str:
    return "<div class=legend>" + "".join(f"<span><i style='background:{c}'></i>{escape(n)}</span>"
                                          for n, c in colours.items()) + "</div>"


def _axes(days: list[date], top: int) -> tuple[str, float]:
    """Grid lines with y labels, x labels every few days; returns (svg, step between days)."""
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    step = inner_w / max(len(days), 1)
    out = []
    for k in range(5):
        value = top * k / 4
        y = HEIGHT - MARGIN - inner_h * k / 4
        out.append(f"<line x1={MARGIN} x2={WIDTH - MARGIN} y1={y:.1f} y2={y:.1f} stroke='#eee'/>"
                   f"<text x={MARGIN - 6} y={y + 4:.1f} text-anchor=end>{value:g}</text>")
    every = max(1, len(days) // 8)
    for k, day in enumerate(days):
        if k % every == 0:
            out.append(f"<text x={MARGIN + step * (k + 0.5):.1f} y={HEIGHT - MARGIN + 16} text-anchor=middle>"
                       f"{day:%d %b}</text>")
    return "".join(out), step


def _nice_top(value: int) -> int:
    """The axis maximum: the value rounded up to a multiple of 4, so the gridlines fall on whole numbers."""
    return max(4, -(-value // 4) * 4)


def _lines(days: list[date], series: dict[str, list[int]], element_id: str) -> str:
    if not series:
        return ("<p class=muted>No article in this period is about a country of a region (articles tagged before "
                "schema version 5 have no focus regions until <code>monitor retag --older</code>).</p>")
    colours = _colours(series)
    top = _nice_top(max(max(v) for v in series.values()))
    grid, step = _axes(days, top)
    inner_h = HEIGHT - 2 * MARGIN
    paths = []
    for name, values in series.items():
        points = " ".join(f"{MARGIN + step * (k + 0.5):.1f},{HEIGHT - MARGIN - inner_h * v / top:.1f}"
                          for k, v in enumerate(values))
        paths.append(f"<polyline class=series fill=none stroke='{colours[name]}' stroke-width=2.5 points='{points}'>"
                     f"<title>{escape(name)}</title></polyline>")
    return (f"<svg id={element_id} role=img viewBox='0 0 {WIDTH} {HEIGHT}' width={WIDTH} height={HEIGHT}>"
            f"<title>Articles per day by region</title>{grid}{''.join(paths)}</svg>{_legend(colours)}")


def _stacked(days: list[date], series: dict[str, list[int]], element_id: str) -> str:
    if not series:
        return "<p class=muted>No topics tagged in this period.</p>"
    colours = _colours(series)
    totals = [sum(v[k] for v in series.values()) for k in range(len(days))]
    top = _nice_top(max(totals))
    grid, step = _axes(days, top)
    inner_h = HEIGHT - 2 * MARGIN
    bars = []
    for k, day in enumerate(days):
        base = HEIGHT - MARGIN
        for name, values in series.items():
            if values[k]:
                h = inner_h * values[k] / top
                base -= h
                bars.append(f"<rect class=bar x={MARGIN + step * k + step * 0.15:.1f} y={base:.1f} "
                            f"width={step * 0.7:.1f} height={h:.1f} fill='{colours[name]}'>"
                            f"<title>{day:%d %b}: {escape(name)} {values[k]}</title></rect>")
    return (f"<svg id={element_id} role=img viewBox='0 0 {WIDTH} {HEIGHT}' width={WIDTH} height={HEIGHT}>"
            f"<title>Articles per day by topic</title>{grid}{''.join(bars)}</svg>{_legend(colours)}")


def _countries(countries: list[tuple[str, int, int]]) -> str:
    if not countries:
        return "<p class=muted>No countries tagged in this period.</p>"
    row_h, label_w = 20, 150  # room for "Russian Federation"
    height = row_h * len(countries) + 10
    top = max(m for _, m, _ in countries)
    scale = (WIDTH - label_w - 60) / top
    rows = []
    for k, (code, mentioned, about) in enumerate(countries):
        y = 5 + k * row_h
        name = escape(country_name(code))
        about_bar = (f"<rect class=bar x={label_w} y={y} width={about * scale:.1f} height={row_h - 6} "
                     f"fill='{ABOUT}'><title>{name}: about in {about}</title></rect>" if about else "")
        rows.append(f"<text x={label_w - 8} y={y + 13} text-anchor=end>{name}</text>"
                    f"<rect class=bar x={label_w} y={y} width={mentioned * scale:.1f} height={row_h - 6} "
                    f"fill='{MENTIONED}'><title>{name}: mentioned in {mentioned}</title></rect>{about_bar}"
                    f"<text x={label_w + mentioned * scale + 6:.1f} y={y + 13}>{mentioned} / {about}</text>")
    legend = _legend({"about": ABOUT, "mentioned": MENTIONED})
    return (f"<svg id=country-chart role=img viewBox='0 0 {WIDTH} {height}' width={WIDTH} height={height}>"
            f"<title>Articles per country</title>{''.join(rows)}</svg>{legend}")


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p class=muted>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


NEW = "<span class=new>new</span>"


def _link(story: dict, style: str = "", new: str = NEW) -> str:
    """A story's title linked to its article (its first member), with a "new" mark when it is."""
    title = escape(story.get("title") or story.get("url") or "(untitled)")
    link = f"<a href='{escape(story['url'])}'{style}>{title}</a>" if story.get("url") else title
    return link + (new if story.get("new") else "")


def _names(codes: list[str] | None) -> str:
    return escape(", ".join(country_name(c) for c in codes or []))


def _since(data: ReportData) -> str:
    new = sum(bool(s.get("new")) for s in data.stories)
    if data.previous_report is None:
        return "<p class=muted>First report of this warehouse: every story is new.</p>"
    return (f"<p class=muted>{new} of these stories are new since the previous report "
            f"({data.previous_report:%Y-%m-%d %H:%M} UTC), marked {NEW}.</p>")


def _stories(stories: list[dict]) -> str:
    rows = [[_link(s), str(s["outlets"]), str(s["articles"]), escape(", ".join(s["outlet_names"])),
             _names(s["countries"])] for s in stories]
    return _table(["story", "outlets", "articles", "carried by", "countries"], rows, "No stories in this period.")


def _headline_sections(data: ReportData) -> list[str]:
    """Top headlines per watched query, per country (of those the articles are about) and per topic."""
    out = []
    for title, note, groups, name in (
            ("Watches", "The best matches of each watch in this period.", data.watch_headlines, str),
            ("Headlines by country", "The widest-reaching stories about each of the most covered countries.",
             data.country_headlines, country_name),
            ("Headlines by topic", "The widest-reaching stories of each main topic.", data.topic_headlines, str)):
        if not groups:
            continue
        blocks = "".join(f"<div><h3>{escape(name(key))}</h3>" + (
            "<ol>" + "".join(f"<li>{_link(h)} <span class=muted>{h['outlets']} outlet"
                             f"{'s' if h['outlets'] != 1 else ''}</span></li>" for h in items) + "</ol>"
            if items else "<p class=muted>Nothing in this period.</p>") + "</div>" for key, items in groups.items())
        out += [f"<h2>{title}</h2><p class=muted>{note}</p>", f"<div class=cols>{blocks}</div>"]
    return out


def _spike_value(spike: dict) -> str:
    return country_name(spike["value"]) if spike["dimension"].startswith("country") else str(spike["value"])


def _spikes(spikes: list[dict]) -> str:
    rows = [[f"{s['day']:%d %b}", escape(s["dimension"]), escape(_spike_value(s)), str(s["articles"]),
             f"{s['mean_28d']:g}", "new" if s["z"] is None else f"{s['z']:g}"] for s in spikes]
    return _table(["day", "what", "value", "articles", "28-day mean", "z"], rows,
                  "No spikes: no country or topic rose 3 standard deviations over its 28-day mean.")


def _sources(sources: list[dict]) -> str:
    def when(value) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "never"

    rows = [[f"<span class=dot style='background:{HEALTH.get(s['health'], OTHER)}'></span>{escape(s['source'])}",
             escape(s["health"]), when(s["last_success"]), f"{s['items_per_day'] or 0:g}", str(s["articles"] or 0),
             "" if s["success_rate"] is None else f"{s['success_rate']:.0%}", str(s["fallbacks"] or 0),
             str(s["missing_date"] or 0), escape((s["last_error"] or "")[:80])] for s in sources]
    return _table(["source", "health", "last success", "items/day", "articles", "extracted", "fallbacks",
                   "no date", "last error"], rows, "No sources configured.")


# The digest is read in mail clients, which drop <style> and scripts: every style is inline, there are no charts.
_D = {"body": "font:14px/1.45 Arial,Helvetica,sans-serif;color:#222;margin:0;padding:16px;max-width:680px",
      "h2": "font-size:15px;margin:18px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px",
      "muted": "color:#666;font-size:13px", "a": " style='color:#0b57d0;text-decoration:none'",
      "li": "margin:3px 0"}
DIGEST_NEW = ("<span class=new style='font-size:11px;font-weight:600;color:#fff;background:#D55E00;border-radius:3px;"
              "padding:0 4px;margin-left:6px'>new</span>")


def render_digest(data: ReportData, generated: datetime) -> str:
    """The compact variant, fit for an e-mail body: totals, what is new, each watch's, country's and topic's top
    headlines and the top stories, every one linked; no chart, inline styles only."""
    period = (f"{data.first_day:%d %b} to {data.last_day:%d %b %Y}" if data.first_day else "no articles yet")
    t = data.totals
    new = [s for s in data.stories if s.get("new")]
    parts = [f"<h1 style='font-size:18px;margin:0 0 4px'>Media monitor digest</h1><p style='{_D['muted']}'>"
             f"{escape(period)} &middot; {t.get('articles', 0):,} articles, {t.get('stories', 0):,} stories, "
             f"{t.get('outlets', 0):,} outlets &middot; generated {generated:%Y-%m-%d %H:%M} UTC</p>"]

    def section(title: str, items: list[dict]) -> None:
        if items:
            lines = "".join(f"<li style='{_D['li']}'>{_link(h, _D['a'], DIGEST_NEW)} <span style='{_D['muted']}'>"
                            f"{h['outlets']} outlet{'s' if h['outlets'] != 1 else ''}</span></li>" for h in items)
            parts.append(f"<h2 style='{_D['h2']}'>{escape(title)}</h2><ol style='margin:0;padding-left:20px'>"
                         f"{lines}</ol>")

    since = f" since {data.previous_report:%d %b %H:%M} UTC" if data.previous_report else ""
    section(f"New{since}", new)
    for name, items in data.watch_headlines.items():
        section(f"Watch: {name}", items)
    section("Top stories", [s for s in data.stories if not s.get("new")])
    for code, items in data.country_headlines.items():
        section(country_name(code), items[:3])
    for label, items in data.topic_headlines.items():
        section(label, items[:3])
    if data.spikes:
        lines = "".join(f"<li style='{_D['li']}'>{s['day']:%d %b}: {escape(_spike_value(s))} ({escape(s['dimension'])}"
                        f"), {s['articles']} articles</li>" for s in data.spikes)
        parts.append(f"<h2 style='{_D['h2']}'>Spikes</h2><ul style='margin:0;padding-left:20px'>{lines}</ul>")
    body = "\n".join(parts)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Media monitor digest</title></head>"
            f"<body style='{_D['body']}'>\n{body}\n</body></html>\n")


def save(html: str, out) -> str:
    """Write the page to `out` (creating its folder); returns the path written."""
    from pathlib import Path

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return str(path)
