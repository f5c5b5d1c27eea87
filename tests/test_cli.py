"""The CLI: exit codes, exact output, and the JSON Lines contract of the stage commands."""

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import CONFIG, SEED, scripted_server, write_config


def invoke(*args: str):
    return CliRunner().invoke(cli, ["--config", str(CONFIG), *args], catch_exceptions=False)


def test_check_config_prints_a_summary():
    result = invoke("check-config")
    assert result.exit_code == 0
    assert "topics: 17 (IPTC Media Topics 2019-04-06)" in result.output
    assert result.output.rstrip().endswith("config OK")


def test_a_wrong_config_key_is_one_line_and_exit_1(tmp_path):
    directory = write_config(tmp_path / "c", "", "[pipeline]\nbatch = 3\n")
    result = CliRunner().invoke(cli, ["--config", str(directory), "check-config"])
    assert result.exit_code == 1
    assert result.output == (f"Error: {directory / 'settings.toml'}: unknown key 'pipeline.batch'; allowed keys here: "
                             "feed_batch_size, load_wave_articles, max_entries_per_feed, min_body_chars, page_batch_size, "
                             "retry_not_found_hours, retry_transient_minutes\n")


def test_run_with_an_unknown_source_fails_before_starting():
    result = CliRunner().invoke(cli, ["--config", str(CONFIG), "run", "--source", "nope"])
    assert result.exit_code == 1 and result.output.startswith("Error: unknown source 'nope'; known sources: ")


def test_sql_formats(seed_warehouse):
    query = "SELECT count(*) AS n, min(language) AS lang FROM articles"
    assert invoke("sql", query, "--warehouse", str(seed_warehouse), "--format", "csv").output == "n,lang\n3,en\n"
    assert json.loads(invoke("sql", query, "--warehouse", str(seed_warehouse), "--format", "json").output) == \
        [{"n": 3, "lang": "en"}]
    table = invoke("sql", query, "--warehouse", str(seed_warehouse)).output
    assert "n" in table and "3" in table and "en" in table


def test_bad_sql_prints_duckdbs_message_and_exits_2(seed_warehouse):
    result = CliRunner().invoke(cli, ["sql", "SELECT nope FROM articles", "--warehouse", str(seed_warehouse)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: Binder Error: Referenced column \"nope\" not found")


def test_sql_is_read_only(seed_warehouse):
    result = CliRunner().invoke(cli, ["sql", "DELETE FROM articles", "--warehouse", str(seed_warehouse)])
    assert result.exit_code == 2 and "read-only" in result.output
    assert invoke("sql", "SELECT count(*) FROM articles", "--warehouse", str(seed_warehouse), "--format", "csv").output \
        == "count_star()\n3\n"


def test_sql_on_a_missing_warehouse_says_how_to_make_one(tmp_path):
    result = CliRunner().invoke(cli, ["sql", "SELECT 1", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert result.output == f"Error: no warehouse at {tmp_path / 'none.duckdb'}; run `monitor run` or `monitor demo` " \
                            "first, or pass --warehouse\n"


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path: Path) -> dict:
    return {row["id"]: row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_extract_contract(tmp_path, expected):
    src = _jsonl(tmp_path / "in.jsonl", [
        {"id": "cgtn", "url": "http://127.0.0.1/cgtn.html", "html_path": str(SEED / "cgtn-armenia-azerbaijan.html")},
        {"id": "missing", "url": "http://x/", "html_path": str(tmp_path / "nope.html")},
        "{not json",
    ])
    out = tmp_path / "out.jsonl"
    assert invoke("extract", "--jsonl", str(src), "--out", str(out)).exit_code == 0
    rows = _read(out)
    cgtn = rows["cgtn"]
    assert set(cgtn) == {"id", "title", "body", "captions", "published", "language", "canonical_url",
                         "published_source", "modified", "language_declared", "language_detected", "author",
                         "site_name", "lead_image", "extraction_method"}
    assert (cgtn["published_source"], cgtn["language_declared"], cgtn["language_detected"]) == ("json-ld", "en", "en")
    assert cgtn["captions"] == [{"text": expected["articles"]["cgtn-armenia-azerbaijan.html"]["captions_exactly"][0],
                                 "credit": "Reuters/Aziz Karimov"}]
    assert cgtn["published"] == "2021-11-16T13:04:11+00:00"
    assert rows["missing"]["error"].startswith("cannot read ")
    assert rows[None]["error"].startswith("line 3: invalid JSON")


def test_tag_contract(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "title": "Armenia and Azerbaijan clash on border",
                                          "text": "Troops from Armenia and Azerbaijan exchanged artillery fire."}])
    result = invoke("tag", "--jsonl", str(src))
    (row,) = map(json.loads, result.output.splitlines())
    assert row["countries"] == ["AM", "AZ"] and set(row["about"]) == {"AM", "AZ"}
    assert "South Caucasus" in row["regions"]
    assert row["topics"][0] == {"code": "medtop:16000000", "label": "conflict, war and peace", "level": 1,
                                "score": row["topics"][0]["score"]} and 0 < row["topics"][0]["score"] <= 1
    top = [t for t in row["topics"] if t["level"] == 1]  # a score for every top-level topic, best first
    assert len(top) == 17 and [t["score"] for t in top] == sorted((t["score"] for t in top), reverse=True)
    assert row["confidence"]["AM"] == row["confidence"]["AZ"] == 0.5 and row["tagger_version"].startswith("monitor-")


def test_dedup_contract(tmp_path):
    text = " ".join(f"word{i}" for i in range(100))
    src = _jsonl(tmp_path / "in.jsonl", [
        {"id": "a", "url": "http://h/a", "title": "A", "text": text, "published": "2026-01-01T00:00:00Z"},
        {"id": "b", "url": "http://h/b", "title": "B", "text": "(Reuters) - " + text, "published": "2026-01-02T00:00:00Z"},
        {"id": "c", "url": "http://h/a?utm_source=x", "title": "C", "text": "other", "published": None},
        {"id": "d", "url": None, "title": "D", "text": "something else entirely", "published": None},
    ])
    rows = _read(Path(tmp_path / "out.jsonl")) if invoke("dedup", "--jsonl", str(src), "--out",
                                                         str(tmp_path / "out.jsonl")).exit_code == 0 else {}
    assert rows["a"] == {"id": "a", "cluster": "a", "duplicate_of": None, "match": None, "similarity": None}
    assert (rows["b"]["cluster"], rows["b"]["match"]) == ("a", "near") and rows["b"]["similarity"] > 0.9
    assert (rows["c"]["cluster"], rows["c"]["match"], rows["c"]["similarity"]) == ("a", "url", 1.0)
    assert rows["d"]["cluster"] == "d" and rows["d"]["match"] is None


def test_an_unusable_warehouse_fails_in_one_line_before_the_flow_starts(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(cli, ["--config", str(CONFIG), "run", "--warehouse", str(blocker / "w.duckdb")])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot create {blocker}: ") and result.output.count("\n") == 1


def test_sources_lists_health_from_the_warehouse(seed_warehouse, tmp_path):
    directory = write_config(tmp_path / "c", '[[source]]\nname = "seed"\nurl = "http://127.0.0.1:9/feed.xml"\n'
                                             '[[source]]\nname = "later"\nurl = "http://127.0.0.1:9/later.xml"\n')
    # The seed warehouse fetched "seed" from another port: the view is keyed by name, as analysts name sources.
    result = CliRunner().invoke(cli, ["--config", str(directory), "sources", "--warehouse", str(seed_warehouse),
                                      "--format", "csv"])
    assert result.exit_code == 0
    header, seed, later = result.output.splitlines()
    assert header == "source,health,last_status,last_success,items_per_day,next_check,last_error"
    name, health, status, success, per_day, next_check, error = seed.split(",")
    assert (name, health, status, error) == ("seed", "ok", "ok", "") and success and next_check
    assert float(per_day) == 0.0  # the seed's stories are from 2021, outside the 7-day window
    assert later == "later,never fetched,,,,,"


def test_add_source_discovers_a_homepages_feed_and_appends_it(tmp_path):
    feed = (SEED / "feed.xml").read_bytes()
    home = b'<html><head><link rel="alternate" type="application/rss+xml" href="/news/rss.xml"></head></html>'
    routes = {"/": (200, "text/html", home), "/news/rss.xml": (200, "application/rss+xml", feed)}
    with scripted_server(routes) as base:
        directory = write_config(tmp_path / "c", '# my sources\n[[source]]\nname = "seed"\n'
                                                 'url = "http://x.example/f"\n', allow=(base,))
        result = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/", "--country", "AM"])
        again = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/news/rss.xml"])
        nothing = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/missing"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"added source '127-0-0-1': {base}/news/rss.xml (4 entries, 'Caucasus watch (sample feed)')"
                             f" to {directory / 'sources.toml'}\n")
    text = (directory / "sources.toml").read_text()
    assert text.startswith("# my sources\n") and text.endswith(
        f'[[source]]\nname = "127-0-0-1"\nurl = "{base}/news/rss.xml"\nsite = "{base}/"\n'
        'country = "AM"\n')
    assert (again.exit_code, again.output) == (1, f"Error: {base}/news/rss.xml is already configured as source "
                                                  "'127-0-0-1'\n")
    assert nothing.exit_code == 1 and nothing.output.startswith(f"Error: {base}/missing did not answer")


def test_add_source_with_a_bad_schedule_leaves_the_file_as_it_was(tmp_path):
    routes = {"/rss.xml": (200, "application/rss+xml", (SEED / "feed.xml").read_bytes())}
    with scripted_server(routes) as base:
        directory = write_config(tmp_path / "c", "", allow=(base,))
        result = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/rss.xml",
                                          "--schedule", "weekly"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {directory / 'sources.toml'}: bad value for '(top level)'")
    assert "uses schedule 'weekly'; defined: hourly" in result.output
    assert (directory / "sources.toml").read_text() == ""


def test_run_with_an_unknown_task_runner_is_one_line():
    result = CliRunner().invoke(cli, ["--config", str(CONFIG), "run", "--task-runner", "ray"])
    assert result.exit_code == 1
    assert result.output == ("Error: unknown --task-runner 'ray': use 'processes', 'dask' or a scheduler address "
                             "such as tcp://10.0.0.5:8786\n")


def test_trigger_checks_parameters_against_the_flow_before_creating_a_run(tmp_path):
    config = ["--config", str(CONFIG)]
    misspelt = CliRunner().invoke(cli, [*config, "trigger", "ingest/ingest-hourly", "--param", "lmit=5"])
    assert (misspelt.exit_code, misspelt.output) == (2, (
        "Error: flow 'ingest' has no parameter 'lmit': did you mean 'limit'? its parameters are sources, "
        "warehouse_path, config_dir, force, limit, since, dry_run, schedule, cpu_runner\n"))
    bad = CliRunner().invoke(cli, [*config, "trigger", "ingest/ingest-hourly", "--param", "limit=abc"])
    assert (bad.exit_code, bad.output) == (2, "Error: bad parameter value for flow 'ingest': limit: Input should be "
                                              "a valid integer, unable to parse string as an integer\n")
    unnamed = CliRunner().invoke(cli, [*config, "trigger", "ingest-hourly"])
    assert unnamed.exit_code == 2 and unnamed.output.count("\n") == 1
    assert unnamed.output.startswith("Error: deployment 'ingest-hourly' is not FLOW/NAME")
