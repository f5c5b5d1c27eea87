"""`monitor watch`: saved searches with alerts. add / list / remove / digest."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import click

from monitor import config as config_mod
from monitor import watch as watches
from monitor.cli.common import Failure, fail_on_domain_errors, load_config
from monitor.cli.common import WAREHOUSE_OPTION
from monitor.cli.query import render
from monitor.models import FILTER_FIELDS
from monitor.warehouse import watches as store

# The option that sets each field of a watch, for errors that name what to fix.
OPTIONS = {"sources": "--source", "languages": "--language", "countries": "--country", "about": "--about",
           "regions": "--region", "topics": "--topic", "notify": "--notify", "query": "QUERY", "spikes": "--spikes"}

def _filter_options(func):
    for field, text in reversed((
            ("sources", "Only articles of this source (repeatable)."),
            ("languages", "Only articles in this language, e.g. en (repeatable)."),
            ("countries", "Only articles mentioning this country: code or name (repeatable)."),
            ("about", "Only articles about this country: code or name (repeatable)."),
            ("regions", "Only articles about a country of this region of regions.toml (repeatable)."),
            ("topics", "Only articles with this IPTC topic: label or medtop: code (repeatable)."))):
        func = click.option(OPTIONS[field], field, multiple=True, help=text)(func)
    return func


@click.group()
def watch() -> None:
    """Saved searches checked after every ingest run, with webhook alerts and digests.

    Example: monitor watch add karabakh "ceasefire Karabakh" --country AM --notify https://hooks.example.org/x
    """


@watch.command("add")
@click.argument("name")
@click.argument("query", required=False, default="")
@_filter_options
@click.option("--spikes", is_flag=True, help="Watch the spikes view instead of articles (with --country, --about, "
                                              "--topic).")
@click.option("--notify", default=None, help="Webhook URL that receives each run's new stories as JSON.")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def add(ctx: click.Context, name: str, query: str, sources, languages, countries, about, regions, topics,
        spikes: bool, notify: str | None, warehouse_path: Path | None) -> None:
    """Add a watch, kept in the warehouse (watches for everyone go in config/watches.toml). From the next ingest
    run on, every new article it matches is recorded once and sent to --notify.

    Example: monitor watch add caucasus-spikes --spikes --country AM --country AZ
    """
    cfg = load_config(ctx)
    if not re.match(config_mod.WATCH_NAME, name):
        raise Failure(f"watch name {name!r}: use lower-case letters, digits, - and _ (e.g. karabakh-ceasefire)")
    if name in cfg.watches.watch:
        raise Failure(f"watch {name!r} is defined in {cfg.root / 'watches.toml'}; choose another name")
    try:
        spec = config_mod.Watch(query=query, spikes=spikes, sources=sources, languages=languages,
                                countries=countries, about=about, regions=regions, topics=topics, notify=notify)
    except ValueError as exc:  # pydantic's ValidationError: a bad --notify, a query with --spikes
        first = exc.errors()[0]
        where = OPTIONS.get(str(first["loc"][-1]), "") if first["loc"] else ""
        raise Failure(f"watch {name}: {where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}"
                      ) from None
    problem = cfg.watch_problem(spec)
    if problem:
        raise Failure(f"watch {name}: {OPTIONS[problem[0]]} {problem[1]}")
    store.add_watch(cfg.warehouse_path(warehouse_path), name, spec)
    what = "spikes" if spikes else repr(query)
    click.echo(f"added watch {name!r} ({what}); it checks the {what if spikes else 'articles'} of every ingest run "
               "from now on"
               + (f" and POSTs new ones to {notify}" if notify else ""))


@watch.command("list")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def list_watches(ctx: click.Context, warehouse_path: Path | None) -> None:
    """Every watch, from watches.toml and the warehouse, with its hits so far.

    Example: monitor watch list
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    counts = store.hit_counts(path)
    rows = []
    for name, (spec, _, origin) in watches.all_watches(path, cfg).items():
        filters = "; ".join(f"{k}={','.join(getattr(spec.filters, k))}" for k in FILTER_FIELDS
                            if getattr(spec.filters, k))
        hits, last = counts.get(name, (0, None))
        rows.append((name, origin, "(spikes)" if spec.spikes else spec.query, filters, spec.notify or "", hits,
                     f"{last:%Y-%m-%d %H:%M}" if last else ""))
    if not rows:
        click.echo("no watches: add one with `monitor watch add NAME QUERY` or in config/watches.toml")
        return
    click.echo(render(["watch", "kept in", "query", "filters", "notify", "hits", "last hit"], rows, "table"), nl=False)


@watch.command("remove")
@click.argument("name")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def remove(ctx: click.Context, name: str, warehouse_path: Path | None) -> None:
    """Remove a watch added with `watch add`, and its hits.

    Example: monitor watch remove karabakh
    """
    cfg = load_config(ctx)
    if name in cfg.watches.watch:
        raise Failure(f"watch {name!r} is defined in {cfg.root / 'watches.toml'}: delete its [watch.{name}] table")
    path = cfg.warehouse_path(warehouse_path)
    if not (store.exists(path) and store.remove_watch(path, name)):
        raise Failure(f"no watch named {name!r}; `monitor watch list` shows them")
    click.echo(f"removed watch {name!r}")


@watch.command("digest")
@click.argument("name")
@click.option("--since", "span", default="24h", show_default=True, help="How far back: 90m, 24h, 7d, 2w.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write an HTML page fit as an e-mail body instead of printing.")
@WAREHOUSE_OPTION
@click.pass_context
@fail_on_domain_errors
def digest(ctx: click.Context, name: str, span: str, out: Path | None, warehouse_path: Path | None) -> None:
    """What a watch matched lately: each story with its outlet, date, places and URL.

    Example: monitor watch digest karabakh --since 24h --out digest.html
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    if name not in watches.all_watches(path, cfg):
        raise Failure(f"no watch named {name!r}; `monitor watch list` shows them")
    try:
        delta = watches.parse_span(span)
    except ValueError as exc:
        raise Failure(f"--since {exc}") from None
    since, hits, spikes = watches.digest(path, name, delta)
    if out is None:
        click.echo(watches.digest_text(name, since, hits, spikes), nl=False)
        return
    try:
        out.write_text(watches.digest_html(name, since, hits, spikes, datetime.now(timezone.utc)), encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot write {out}: {exc.strerror or exc}; choose another --out") from None
    click.echo(f"wrote {out}: {len(watches.stories(hits))} stories, {len(spikes)} spikes of watch {name!r}")


COMMANDS = (watch,)
