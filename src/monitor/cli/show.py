"""`monitor show`: one article as a person reads it, with where each of its fields came from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from monitor import warehouse
from monitor.cli.common import WAREHOUSE_OPTION, Failure, existing_warehouse, fail_on_domain_errors, jsonable


@click.command()
@click.argument("ident")
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
@fail_on_domain_errors
def show(ctx: click.Context, ident: str, warehouse_path: Path | None, fmt: str) -> None:
    """Show one article: title, source, dates and where they came from, language, body, captions with credits,
    countries (with the words that named them), regions, topics, its story's other members and wire agencies.

    IDENT is an article id, a story id (shown as its first article) or the article's URL.

    Example: monitor show https://example.org/news/ceasefire-holds
    """
    from monitor.warehouse.article import article

    _, path = existing_warehouse(ctx, warehouse_path)
    with warehouse.read_only(path) as con:
        found = article(con, ident)
    if found is None:
        raise Failure(f"no article, story or URL {ident!r} in {path}: find one with `monitor search`")
    found["country_phrases"] = _country_phrases(found)
    if fmt == "json":
        click.echo(json.dumps(_plain(found), ensure_ascii=False, indent=2))
        return
    click.echo(render_article(found), nl=False)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return jsonable(value)


def _country_phrases(found: dict) -> dict[str, list[str]]:
    """The words of the article that named each stored country, as the tagger reads them now."""
    from monitor.tagging import find_countries

    stored = {c["country"] for c in found["countries"]}
    text = "\n".join([found["title"] or "", found["body"] or ""] + [c["text"] for c in found["captions"]])
    phrases: dict[str, list[str]] = {}
    for match in find_countries(text, found["language"]):
        if match.code in stored and match.phrase not in phrases.setdefault(match.code, []):
            phrases[match.code].append(match.phrase)
    return phrases


def render_article(a: dict) -> str:
    """The article as text for a terminal."""
    import pycountry

    def name(code: str) -> str:
        country = pycountry.countries.get(alpha_2=code)
        return f"{getattr(country, 'common_name', None) or country.name} ({code})" if country else code

    lines = [a["title"] or "(no title)", "=" * min(len(a["title"] or "(no title)"), 100),
             f"source     {a['source']}" + "".join(f", {label} {a[key]}" for label, key in
                                                    (("site", "site_name"), ("by", "author")) if a[key]),
             f"url        {a['url']}"]
    if a["canonical_url"] != a["url"]:
        lines.append(f"canonical  {a['canonical_url']}")
    lines += [f"article    {a['article_id']}",
              f"published  {jsonable(a['published']) or 'unknown'} (from {a['published_source'] or 'nowhere'})",
              f"modified   {jsonable(a['modified']) or '-'}",
              f"first seen {jsonable(a['first_seen'])}"]
    if a["date_flags"]:
        lines.append(f"dates set aside: {', '.join(a['date_flags'])}")
    lines.append(f"language   {a['language'] or '?'} (page says {a['language_declared'] or '-'}, detected "
                 f"{a['language_detected'] or '-'}); extracted by {a['extraction_method']}")
    phrases = a.get("country_phrases", {})
    if a["countries"]:
        lines.append("countries")
        for c in a["countries"]:
            said = ", ".join(f'"{p}"' for p in phrases.get(c["country"], []))
            lines.append(f"  {'about    ' if c['is_about'] else 'mentions '} {name(c['country'])}: {c['mentions']:g}"
                         f" mentions{', in a caption' if c['in_caption'] else ''}{' - ' + said if said else ''}")
    if a["regions"]:
        lines.append("regions    " + ", ".join(r["region"] + (" (about)" if r["is_about"] else "")
                                             for r in a["regions"]))
    if a["topics"]:
        lines.append("topics     " + ", ".join(f"{t['label']} {t['code']} {t['score']:.2f}" for t in a["topics"]))
    if a["agencies"]:
        lines.append("agencies   " + ", ".join(f"{g['agency']} ({g['found_in']})" for g in a["agencies"]))
    story = a["story"]
    if story:
        lines.append(f"story      {story['story_id']}" + (f", {story['match']} match {story['similarity']:.2f} of "
                                                           f"{story['duplicate_of']}" if story["match"] else "")
                     + (f"; wire: {', '.join(story['wire_agencies'])}" if story["wire_agencies"] else ""))
        for m in story["members"]:
            how = (m["match"] or "first") + (f" {m['similarity']:.2f}" if m["similarity"] is not None else "")
            lines.append(f"  {m['source']}  {m['url']}  ({how})")
    if a["captions"]:
        lines.append("captions")
        lines += [f"  - {c['text']}" + (f" ({c['credit']})" if c["credit"] else "") for c in a["captions"]]
    lines += ["", a["body"], ""]
    return "\n".join(lines)


COMMANDS = (show,)
