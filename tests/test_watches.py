"""Watches (issue 19, part 2) on real parts: the seed newsroom served on 127.0.0.1, real ingest flows under the
Prefect harness, real DuckDB files, and a webhook receiver on 127.0.0.1 that records what it is sent.

Hits are keyed by the data (watch, article), so overlapping runs, a run repeated and a retried watch step record
each match once; a failing webhook leaves its hits pending and never fails the run."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from monitor import config, warehouse, watch
from monitor.cli import cli
from monitor.demo.server import serve_handler
from monitor.fetch.webhook import post_json
from tests.conftest import serve_seed, write_config

ITEM = re.compile(r"<item>.*?</item>", re.S)


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint: /ok records each JSON body and answers 204, /fail answers 500."""

    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/fail":
            self.send_response(500)
        else:
            self.received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory):
    """The seed newsroom served once for the module, split into two feeds that share the ceasefire story: "a"
    carries the CGTN report, "b" the wire copy of it and the ceasefire. Yields (site base, webhook base, receiver)."""
    directory = tmp_path_factory.mktemp("watch-newsroom")
    receiver = type("Hook", (Receiver,), {"received": []})
    with serve_seed(directory) as (base, feed), serve_handler(receiver) as hook:
        site = directory / "site"
        text = (site / "feed.xml").read_text(encoding="utf-8")
        items = ITEM.findall(text)
        head, tail = text.split(items[0])[0], "</channel>\n</rss>\n"
        (site / "a.xml").write_text(head + items[0] + tail, encoding="utf-8")
        (site / "b.xml").write_text(head + items[2] + items[3] + tail, encoding="utf-8")
        yield base, hook, receiver


def make_config(directory: Path, base: str, hook: str, watches: str) -> Path:
    sources = "".join(f'[[source]]\nname = "{n}"\nurl = "{base}/{n}.xml"\n' for n in ("a", "b"))
    config_dir = write_config(directory, sources, allow=(hook,))
    (config_dir / "watches.toml").write_text(watches, encoding="utf-8")
    return config_dir


def rows(path: Path, sql: str, params=None) -> list[tuple]:
    return warehouse.query(path, sql, params)[1]


class Warnings(logging.Handler):
    """The warnings of the watch step, as an operator reads them in the run's log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def watched(newsroom, tmp_path_factory, prefect_harness):
    """Two ingest runs at once on one warehouse (sources "a" and "b", as a schedule and an ad hoc trigger would
    start them), then a repeated run (every feed asked again, nothing new) and the watch step of the first run
    retried. Watch "armenia" posts to a working webhook, "ceasefire" to one that answers 500."""
    from flows.ingest import ingest

    base, hook, receiver = newsroom
    receiver.received.clear()
    directory = tmp_path_factory.mktemp("watched")
    config_dir = make_config(directory / "config", base, hook,
                             f'[watch.armenia]\nquery = "Armenia"\ncountries = ["Azerbaijan"]\nnotify = "{hook}/ok"\n'
                             f'[watch.ceasefire]\nquery = "ceasefire"\nnotify = "{hook}/fail"\n')
    path = directory / "w.duckdb"
    runs: dict[str, dict] = {}
    warnings = Warnings()
    logging.getLogger("monitor.watch").addHandler(warnings)
    try:
        threads = [threading.Thread(target=lambda s=s: runs.update(
            {s: ingest(sources=[s], warehouse_path=str(path), config_dir=str(config_dir))})) for s in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        runs["again"] = ingest(warehouse_path=str(path), config_dir=str(config_dir), force=True)
        runs["retried"] = {"watches": watch.check_watches(path, config.load(config_dir), runs["a"]["run_id"],
                                                          datetime.now(timezone.utc))}
    finally:
        logging.getLogger("monitor.watch").removeHandler(warnings)
    return path, config_dir, runs, receiver.received, warnings.lines, hook


def test_overlapping_retried_and_repeated_runs_record_each_hit_once(watched):
    path, _, runs, _, _, _ = watched
    assert set(runs) == {"a", "b", "again", "retried"}
    hits = rows(path, "SELECT article_id, run_id FROM watch_hits WHERE watch = 'armenia'")
    assert len(hits) == 3 == len({h[0] for h in hits})  # every article of the seed, once
    assert {h[1] for h in hits} == {runs["a"]["run_id"], runs["b"]["run_id"]}  # found by the run that loaded it
    assert runs["a"]["watches"]["watch_hits:armenia"] + runs["b"]["watches"]["watch_hits:armenia"] == 3
    assert rows(path, "SELECT run_id FROM watch_hits WHERE watch = 'ceasefire'") == [(runs["b"]["run_id"],)]
    assert not any(k.startswith("watch_hits:") for k in (*runs["again"]["watches"], *runs["retried"]["watches"]))
    # each loaded article's run is settled for each watch: later checks do not look at them again
    assert rows(path, "SELECT count(*) FROM watch_checks") == [(4,)]


def test_the_webhook_gets_each_hit_once_with_its_stories(watched):
    path, _, _, received, _, hook = watched
    hits = [h for (h,) in rows(path, "SELECT article_id FROM watch_hits WHERE watch = 'armenia'")]
    bodies = [r["body"] for r in received]
    assert {r["path"] for r in received} == {"/ok"} and len(bodies) == 2  # one POST by each run that found some
    assert all(r["type"] == "application/json; charset=utf-8" for r in received)
    delivered = [a for b in bodies for s in b["new_stories"] for a in s["matched_articles"]]
    assert sorted(delivered) == sorted(hits)
    assert {b["watch"] for b in bodies} == {"armenia"} and {b["query"] for b in bodies} == {"Armenia"}
    urls = dict(rows(path, "SELECT article_id, url FROM articles"))
    clusters = dict(rows(path, "SELECT article_id, cluster_id FROM article_clusters"))
    for story in (s for b in bodies for s in b["new_stories"]):
        assert story["url"] == urls[story["article_id"]] and story["title"].startswith("Armenia")
        assert story["source"] in ("a", "b") and story["topics"] and story["story_id"] == clusters[story["article_id"]]
        assert {"code": "AZ", "name": "Azerbaijan"} in story["countries"]
    assert rows(path, "SELECT count(*) FROM watch_hits WHERE watch = 'armenia' AND notified_at IS NULL") == [(0,)]


def test_a_failing_webhook_never_fails_the_run_and_its_hit_stays_pending(watched):
    path, _, runs, _, warnings, hook = watched
    # the runs did the rest
    assert runs["a"]["counts"].count("articles", "new") + runs["b"]["counts"].count("articles", "new") == 3
    failed = sum(r["watches"].get("notify:failed", 0) for r in runs.values())
    assert failed >= 2  # run b found the hit and tried; each later run (a if second, again) tried once more
    assert rows(path, "SELECT notified_at, notify_attempts FROM watch_hits WHERE watch = 'ceasefire'") == \
        [(None, failed)]
    assert warnings == [f"watch ceasefire: webhook {hook}/fail failed (HTTP 500); the next run sends its 1 pending "
                        "again"] * failed


def test_the_digest_lists_the_stories_as_text_and_as_an_email_body(watched, tmp_path):
    path, config_dir, _, _, _, _ = watched
    urls = {u for (u,) in rows(path, "SELECT url FROM articles")}

    def digest(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config_dir), "watch", "digest", "armenia", *args,
                                        "--warehouse", str(path)])

    result = digest("--since", "1h")
    assert result.exit_code == 0 and result.output.startswith("watch armenia: 2 stories, 0 spikes since ")
    assert len([u for u in urls if u in result.output]) == 2  # one link per story (the wire copy is folded)
    out = tmp_path / "digest.html"
    result = digest("--out", str(out))
    assert result.exit_code == 0 and result.output == f"wrote {out}: 2 stories, 0 spikes of watch 'armenia'\n"
    page = out.read_text(encoding="utf-8")
    links = re.findall(r"<a href='([^']+)'", page)
    assert len(links) == 2 and set(links) <= urls
    assert "<script" not in page and "<style" not in page and "<img" not in page  # inline styles: fit for mail


def test_a_webhook_outside_allow_hosts_is_refused_before_any_connection(newsroom):
    _, hook, receiver = newsroom
    before = len(receiver.received)
    other = hook.replace("127.0.0.1", "127.0.0.2")  # loopback too, but not listed
    http = config.HttpSettings(allow_hosts=(hook.removeprefix("http://"),))
    ok, detail = post_json(http, f"{other}/ok", {"watch": "x"})
    assert not ok and detail.startswith("refused: ")
    assert post_json(http, f"{hook}/ok", {"watch": "x"}) == (True, "HTTP 204")
    assert [r["body"] for r in receiver.received[before:]] == [{"watch": "x"}]


@pytest.mark.parametrize(("toml", "message"), [
    ('[watch.x]\nquery = "a"\ntopics = ["crime"]\n',
     "bad value for 'watch.x.topics': 'crime' names nothing known; use an IPTC code (medtop:16000000) or a label"),
    ('[watch.x]\nquery = "a"\ncountries = ["Narnia"]\n', "bad value for 'watch.x.countries': 'Narnia' names nothing"),
    ('[watch.x]\nquery = "a"\nsources = ["nope"]\n', "bad value for 'watch.x.sources': 'nope' names nothing known"),
    ('[watch.x]\nquery = "a"\nregion = ["Europe"]\n', "unknown key 'watch.x.region'; allowed keys here: about, "),
    ('[watch.x]\nspikes = true\nquery = "a"\n', "a spikes watch takes only countries, about and topics"),
    ('[watch.x]\nregions = ["Europe"]\n', "give a query (e.g. query = \"ceasefire Karabakh\") or set spikes = true"),
    ('[watch.x]\nquery = "a"\nnotify = "mailto:me@example.org"\n', "'watch.x.notify' (got 'mailto:me@example.org'): "
     "use an http:// or https:// webhook URL"),
    ('[watch.X]\nquery = "a"\n', "watch name 'X': use lower-case letters, digits, - and _"),
])
def test_watches_toml_is_validated_with_one_line_naming_the_key(tmp_path, toml, message):
    config_dir = write_config(tmp_path / "config", '[[source]]\nname = "a"\nurl = "https://example.org/feed"\n')
    (config_dir / "watches.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(config.ConfigError) as error:
        config.load(config_dir)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith(str(config_dir / "watches.toml"))


def test_a_valid_watches_toml_loads_names_and_codes_alike(tmp_path):
    config_dir = write_config(tmp_path / "config", "")
    (config_dir / "watches.toml").write_text(
        '[watch.k]\nquery = "ceasefire"\ncountries = ["am", "Azerbaijan"]\nregions = ["south caucasus"]\n'
        'topics = ["Conflict, war and peace", "medtop:16000000"]\n[watch.s]\nspikes = true\nabout = ["GE"]\n')
    loaded = config.load(config_dir).watches.watch
    assert loaded["k"].filters.countries == ("am", "Azerbaijan") and loaded["s"].spikes


def test_watches_toml_keeps_its_flat_filter_keys_and_they_are_the_searchs_filter_record(tmp_path):
    # one filter record (models.Filters) for a watch and a search; watches.toml files written before it still load
    from monitor.models import Filters, SearchFilters

    config_dir = write_config(tmp_path / "config", "")
    (config_dir / "watches.toml").write_text(
        '[watch.flat]\nquery = "ceasefire"\ncountries = ["AM"]\nabout = ["AZ"]\ntopics = ["medtop:16000000"]\n'
        '[watch.nested]\nquery = "ceasefire"\nfilters = {countries = ["AM"], about = ["AZ"], '
        'topics = ["medtop:16000000"]}\n')
    loaded = config.load(config_dir).watches.watch
    assert loaded["flat"] == loaded["nested"]
    assert loaded["flat"].filters == Filters(countries=("AM",), about=("AZ",), topics=("medtop:16000000",))
    window = loaded["flat"].filters.within(until=datetime(2026, 11, 2, tzinfo=timezone.utc))
    assert window == SearchFilters(countries=("AM",), about=("AZ",), topics=("medtop:16000000",),
                                   until=datetime(2026, 11, 2, tzinfo=timezone.utc))
    (config_dir / "watches.toml").write_text('[watch.x]\nquery = "a"\ncountries = ["AM"]\nfilters = {about = ["AZ"]}\n')
    with pytest.raises(config.ConfigError, match=r"give the filters flat \(countries = \[...\]\) or in filters = \{...\}, not both"):
        config.load(config_dir)


def test_a_spikes_watch_records_each_spike_once(tmp_path):
    """Ten quiet days of one or two articles about Georgia, then a day of five: the spikes view has that day, and
    the watch records it once however often it is checked."""
    path = tmp_path / "w.duckdb"
    warehouse.init(path)
    first = date(2026, 11, 1)
    with duckdb.connect(str(path)) as con:
        for day in range(11):
            for k in range(5 if day == 10 else 1 + day % 2):
                when = datetime.combine(first + timedelta(days=day), datetime.min.time(), timezone.utc)
                con.execute("INSERT INTO articles (article_id, url, canonical_url, source, title, published, "
                            "first_seen, body, body_hash, extraction_method) VALUES (?, ?, ?, 's', 't', ?, ?, 'b', "
                            "'h', 'trafilatura')", [f"{day}-{k}", f"https://x.test/{day}/{k}",
                                                    f"https://x.test/{day}/{k}", when, when])
                con.execute("INSERT INTO article_countries (article_id, country, mentions, is_about, in_caption) "
                            "VALUES (?, 'GE', 1, true, false)", [f"{day}-{k}"])
    spikes = {"georgia": (config.Watch(spikes=True, countries=("Georgia",)), datetime(2026, 10, 1, tzinfo=timezone.utc)),
              "armenia": (config.Watch(spikes=True, countries=("AM",)), datetime(2026, 10, 1, tzinfo=timezone.utc))}
    from monitor.warehouse import watches as store

    assert store.record_hits(path, spikes, "r1", datetime.now(timezone.utc)) == {"georgia": 1, "armenia": 0}
    assert store.record_hits(path, spikes, "r2", datetime.now(timezone.utc)) == {"georgia": 0, "armenia": 0}
    assert rows(path, "SELECT watch, day, dimension, value, articles, run_id FROM watch_spike_hits") == \
        [("georgia", date(2026, 11, 11), "country", "GE", 5, "r1")]
    body = watch.webhook_body("georgia", spikes["georgia"][0], [], store.pending(path, ["georgia"])[1])
    assert body["new_spikes"] == [{"day": "2026-11-11", "dimension": "country", "value": "GE", "name": "Georgia",
                                   "articles": 5, "z": 7.0}]


def test_cli_add_list_remove_and_one_line_errors(tmp_path):
    config_dir = write_config(tmp_path / "config", "")
    (config_dir / "watches.toml").write_text('[watch.kept]\nquery = "Tbilisi"\n', encoding="utf-8")
    path = tmp_path / "w.duckdb"

    def run(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config_dir), "watch", *args, "--warehouse", str(path)])

    assert run("add", "mine", "ceasefire", "--about", "AM", "--notify", "http://127.0.0.1:9/x").output == (
        "added watch 'mine' ('ceasefire'); it checks the articles of every ingest run from now on and POSTs new "
        "ones to http://127.0.0.1:9/x\n")
    listed = run("list").output
    assert re.search(r"kept\s+config\s+Tbilisi", listed) and re.search(r"mine\s+warehouse\s+ceasefire\s+about=AM",
                                                                          listed)
    for args, error in [
            (("add", "mine", "x"), "Error: a watch named 'mine' exists already; `monitor watch remove mine` first"),
            (("add", "kept", "x"), "Error: watch 'kept' is defined in "),
            (("add", "new", "x", "--topic", "crime"), "Error: watch new: --topic 'crime' names nothing known; use"),
            (("add", "new", "x", "--notify", "ftp://h/x"), "Error: watch new: --notify: use an http:// or https://"),
            (("remove", "kept"), "Error: watch 'kept' is defined in "),
            (("digest", "mine", "--since", "soon"), "Error: --since 'soon' is not a time span: use a number and m,"),
    ]:
        result = run(*args)
        assert result.exit_code == 1 and result.output.startswith(error) and result.output.count("\n") == 1, \
            result.output
    assert run("remove", "mine").output == "removed watch 'mine'\n"
    assert "mine" not in run("list").output


def test_a_retry_records_the_hits_of_an_attempt_that_died_before_its_watch_step(tmp_path):
    """The state a run killed after its page waves leaves (tests/test_isolation.py makes it with a real kill):
    articles under its run id, no `runs` row, no watch step. The retry (a new run id, nothing new to load) records
    their hits; the dead attempt stays unsettled, so a wave of it committed after that check (a concurrent writer
    on a shared catalog) is still matched, and nothing is recorded twice."""
    from monitor.models import Article, LoadBatch, RunRecord

    config_dir = write_config(tmp_path / "config", "")
    (config_dir / "watches.toml").write_text('[watch.talks]\nquery = "talks"\n', encoding="utf-8")
    cfg, path = config.load(config_dir), tmp_path / "w.duckdb"
    warehouse.init(path)
    started = datetime.now(timezone.utc)

    def article(n: int, title: str) -> Article:
        return Article(f"a{n}", f"https://news.test/{n}", f"https://news.test/{n}", title, f"{title}. " * 40,
                       source="s")

    warehouse.load(path, LoadBatch(run_id="attempt-1", articles=(article(1, "Border talks resume"),
                                                                 article(2, "Harvest is early"))))
    warehouse.load(path, LoadBatch(run=RunRecord("attempt-2", None, started, datetime.now(timezone.utc),
                                                 "completed", ())))
    assert watch.check_watches(path, cfg, "attempt-2", started) == {"watch_hits:talks": 1}
    assert rows(path, "SELECT article_id, run_id FROM watch_hits") == [("a1", "attempt-2")]
    assert rows(path, "SELECT run_id FROM watch_checks") == []  # attempt-1 never finished: looked at again
    warehouse.load(path, LoadBatch(run_id="attempt-1", articles=(article(3, "Talks stall"),)))
    assert watch.check_watches(path, cfg, "attempt-3", started) == {"watch_hits:talks": 1}
    assert watch.check_watches(path, cfg, "attempt-3", started) == {}
    assert rows(path, "SELECT article_id, run_id FROM watch_hits ORDER BY 1") == [("a1", "attempt-2"),
                                                                                 ("a3", "attempt-3")]
