"""Watches: saved searches checked after every ingest run, their webhook alerts and their digests.

Watches come from two places: config/watches.toml (reviewed, kept in git, shared by every deployment) and the
warehouse (`monitor watch add`: an analyst's own, added without editing files). Both are checked the same way:
`check_watches` records each new match once in `watch_hits`, then POSTs what is not yet delivered to each watch's
webhook. Everything else here is pure: the webhook body, the digest as text and as HTML.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

from monitor.config import Config, Watch, country_name
from monitor.fetch.webhook import post_json
from monitor.warehouse import WarehouseError
from monitor.warehouse import watches as store

log = logging.getLogger(__name__)

_SPAN = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_span(text: str) -> timedelta:
    """ "24h", "90m", "7d", "2w" -> a timedelta; ValueError names the format."""
    found = _SPAN.match(text.strip().lower())
    if not found:
        raise ValueError(f"{text!r} is not a time span: use a number and m, h, d or w, e.g. 24h or 7d")
    return timedelta(**{_UNITS[found[2]]: int(found[1])})


def all_watches(path: Path, cfg: Config) -> dict[str, tuple[Watch, datetime | None, str]]:
    """Every watch by name: (watch, added at (None for watches.toml), where it is kept: "config" or
    "warehouse"). A stored watch never shadows one of watches.toml (`watch add` refuses the name)."""
    found: dict[str, tuple[Watch, datetime | None, str]] = {
        name: (watch, created, "warehouse") for name, (watch, created) in store.stored_watches(path).items()}
    found.update({name: (watch, None, "config") for name, watch in cfg.watches.watch.items()})
    return dict(sorted(found.items()))


def check_watches(path: Path, cfg: Config, run_id: str, started: datetime) -> dict[str, int]:
    """After a run's last load: record every watch's new hits, then deliver what is pending to the webhooks.
    Never raises: a failure is a warning, and what it left undone the next run does (hits are keyed by the data,
    undelivered ones stay pending). Returns counts: hits per watch, and deliveries made and refused."""
    counts: dict[str, int] = {}
    try:
        watches = all_watches(path, cfg)
        if not watches:
            return counts
        new = store.record_hits(path, {n: (w, since) for n, (w, since, _) in watches.items()}, run_id, started)
        counts.update({f"watch_hits:{name}": n for name, n in new.items() if n})
        counts.update(deliver(path, cfg, {n: w for n, (w, _, _) in watches.items() if w.notify}))
    except (WarehouseError, OSError) as exc:
        log.warning("watches not checked after run %s (%s); the next run checks what this one loaded", run_id, exc)
    return counts


def deliver(path: Path, cfg: Config, watches: dict[str, Watch]) -> dict[str, int]:
    """POST each watch's pending hits to its webhook, one request per watch; record deliveries and refusals."""
    if not watches:
        return {}
    hits, spikes = store.pending(path, sorted(watches))
    counts = {"notify:delivered": 0, "notify:failed": 0}
    for name, watch in watches.items():
        mine = [h for h in hits if h["watch"] == name]
        my_spikes = [s for s in spikes if s["watch"] == name]
        if not (mine or my_spikes):
            continue
        ok, detail = post_json(cfg.settings.http, watch.notify, webhook_body(name, watch, mine, my_spikes))
        store.mark_notified(path, name, [h["article_id"] for h in mine],
                            [(s["day"], s["dimension"], s["value"]) for s in my_spikes], ok)
        counts["notify:delivered" if ok else "notify:failed"] += 1
        if not ok:
            log.warning("watch %s: webhook %s failed (%s); the next run sends its %d pending again", name,
                        watch.notify, detail, len(mine) + len(my_spikes))
    return counts


def stories(hits: list[dict]) -> list[dict]:
    """Hits folded into stories, in the order of their first hit: the story's earliest published matching article
    stands for it (the original rather than a copy), with every matching article's id in "matched"."""
    by_story: dict[str, dict] = {}
    for hit in hits:
        key = hit["cluster_id"] or hit["article_id"]
        story = by_story.get(key)
        if story is None:
            by_story[key] = {**hit, "matched": [hit["article_id"]]}
            continue
        story["matched"].append(hit["article_id"])
        if hit["published"] and (story["published"] is None or hit["published"] < story["published"]):
            by_story[key] = {**hit, "matched": story["matched"]}
    return list(by_story.values())


def story_json(hit: dict) -> dict:
    """One story of a webhook body."""
    return {"title": hit["title"], "url": hit["url"], "source": hit["source"],
            "published": hit["published"].isoformat() if hit["published"] else None,
            "countries": [{"code": c, "name": country_name(c)} for c in hit["countries"]],
            "topics": list(hit["topics"]), "story_id": hit["cluster_id"], "article_id": hit["article_id"],
            "matched_articles": hit["matched"]}  # every article of the story this delivery reports


def spike_json(spike: dict) -> dict:
    name = country_name(spike["value"]) if spike["dimension"].startswith("country") else spike["value"]
    return {"day": spike["day"].isoformat(), "dimension": spike["dimension"], "value": spike["value"], "name": name,
            "articles": spike["articles"], "z": spike["z"]}


def webhook_body(name: str, watch: Watch, hits: list[dict], spikes: list[dict]) -> dict:
    """The JSON a webhook receives: the watch, and its new stories (or spikes)."""
    body = {"watch": name, "query": watch.query, "new_stories": [story_json(h) for h in stories(hits)]}
    if watch.spikes:
        body["new_spikes"] = [spike_json(s) for s in spikes]
    return body


def digest_text(name: str, since: datetime, hits: list[dict], spikes: list[dict]) -> str:
    """The digest as plain text: one block per story (title, outlet, date, URL)."""
    lines = [f"watch {name}: {len(stories(hits))} stories, {len(spikes)} spikes since {since:%Y-%m-%d %H:%M} UTC"]
    for hit in stories(hits):
        when = f"{hit['published']:%Y-%m-%d}" if hit["published"] else "undated"
        places = ", ".join(country_name(c) for c in hit["countries"][:4])
        lines += [f"- {hit['title']}", f"  {hit['source']} · {when}" + (f" · {places}" if places else ""),
                  f"  {hit['url']}"]
    for spike in spikes:
        s = spike_json(spike)
        lines.append(f"- spike {s['day']}: {s['name']} ({s['dimension']}) {s['articles']} articles, z {s['z']}")
    return "\n".join(lines) + "\n"


def digest_html(name: str, since: datetime, hits: list[dict], spikes: list[dict], generated: datetime) -> str:
    """The digest as an HTML page fit as an e-mail body: inline styles only, no script, no image, links only."""
    rows = []
    for hit in stories(hits):
        when = f"{hit['published']:%d %b %Y}" if hit["published"] else "undated"
        places = ", ".join(country_name(c) for c in hit["countries"][:4])
        topics = ", ".join(hit["topics"][:2])
        rows.append(f"<tr><td style='padding:6px 0;border-bottom:1px solid #eee'><a href='{escape(hit['url'])}' "
                    f"style='color:#0b57d0;font-weight:600;text-decoration:none'>{escape(hit['title'] or hit['url'])}"
                    f"</a><br><span style='color:#555;font-size:13px'>{escape(hit['source'] or '')} &middot; {when}"
                    f"{' &middot; ' + escape(places) if places else ''}{' &middot; ' + escape(topics) if topics else ''}"
                    "</span></td></tr>")
    for spike in spikes:
        s = spike_json(spike)
        z = "" if s["z"] is None else f", z {s['z']}"
        rows.append(f"<tr><td style='padding:6px 0;border-bottom:1px solid #eee'>Spike on {s['day']}: "
                    f"<b>{escape(s['name'])}</b> ({escape(s['dimension'])}), {s['articles']} articles{z}</td></tr>")
    empty = "<tr><td style='color:#555'>Nothing matched in this period.</td></tr>"
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Watch {escape(name)}</title></head>"
            "<body style='font:14px/1.45 Arial,Helvetica,sans-serif;color:#222;margin:0;padding:16px'>"
            f"<h1 style='font-size:18px;margin:0 0 4px'>Watch: {escape(name)}</h1>"
            f"<p style='color:#555;margin:0 0 12px'>{len(stories(hits))} stories, {len(spikes)} spikes since "
            f"{since:%Y-%m-%d %H:%M} UTC &middot; generated {generated:%Y-%m-%d %H:%M} UTC</p>"
            f"<table role=presentation style='border-collapse:collapse;width:100%;max-width:640px'>"
            f"{''.join(rows) or empty}</table></body></html>\n")


def digest(path: Path, name: str, span: timedelta, now: datetime | None = None) -> tuple[datetime, list, list]:
    """(since, hits, spike hits) of one watch over the last `span`."""
    since = (now or datetime.now(timezone.utc)) - span
    hits, spikes = store.hits_since(path, name, since)
    return since, hits, spikes
