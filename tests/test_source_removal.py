"""A removed source is retired: no longer configured or polled, its history kept, the active views without it."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import config, warehouse
from monitor.cli import cli
from tests.conftest import write_config

SOURCES = '''# my outlets
[schedule.hourly]
interval_minutes = 60

[[source]]
name = "alpha"   # the first
url = "https://alpha.example/feed"
tags = ["a"]

# beta comes next
[[source]]
name = "beta"
url = "https://beta.example/feed"
language = ["en", "fr"]

[[source]]
name = "gamma"
url = "https://gamma.example/feed"
# trailing notes stay
'''


def _health(path: Path, view: str) -> list[tuple]:
    return warehouse.query(path, f"SELECT source FROM {view} ORDER BY source")[1]


def test_remove_source_keeps_the_files_comments_and_retires_it_in_the_warehouse(tmp_path: Path):
    directory = write_config(tmp_path / "c", SOURCES)
    path = tmp_path / "w.duckdb"
    warehouse.prepare(path, list(config.load(directory).sources.source))
    result = CliRunner().invoke(cli, ["--config", str(directory), "remove-source", "beta", "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"removed source 'beta' from {directory / 'sources.toml'}; its 0 articles stay in {path}\n"
    text = (directory / "sources.toml").read_text()
    assert text == SOURCES.replace('# beta comes next\n[[source]]\nname = "beta"\nurl = "https://beta.example/feed"\n'
                                   'language = ["en", "fr"]\n\n', "")
    assert [s.name for s in config.load(directory).sources.source] == ["alpha", "gamma"]
    assert _health(path, "feed_health") == [("alpha",), ("gamma",)]
    assert _health(path, "feed_health_all") == [("alpha",), ("beta",), ("gamma",)]
    assert _health(path, "extraction_quality") == [("alpha",), ("gamma",)]
    listing = CliRunner().invoke(cli, ["--config", str(directory), "sources", "--warehouse", str(path), "--all",
                                       "--format", "csv"])
    assert [line.split(",")[:2] for line in listing.output.splitlines()[1:]] == [
        ["alpha", "never fetched"], ["gamma", "never fetched"], ["beta", listing.output.split("beta,")[1][:24]]]
    assert "beta,retired 20" in listing.output
    unknown = CliRunner().invoke(cli, ["--config", str(directory), "remove-source", "beta"])
    assert (unknown.exit_code, unknown.output) == (1, f"Error: no source 'beta' in {directory / 'sources.toml'}; "
                                                      "known sources: alpha, gamma\n")


def test_a_source_taken_out_of_the_file_is_retired_by_the_next_run_and_revived_when_put_back(tmp_path: Path):
    directory = write_config(tmp_path / "c", SOURCES)
    path = tmp_path / "w.duckdb"
    every = list(config.load(directory).sources.source)
    warehouse.prepare(path, every, [s.name for s in every])
    config.remove_source(directory, "gamma")
    now = list(config.load(directory).sources.source)
    warehouse.prepare(path, now[:1], [s.name for s in now])  # a run of alpha alone still retires gamma
    assert sorted(warehouse.retired_sources(path)) == ["gamma"]
    warehouse.prepare(path, now[:1], [s.name for s in every])
    assert warehouse.retired_sources(path) == {}


def test_remove_source_refuses_a_table_it_cannot_delimit_and_leaves_the_file(tmp_path: Path):
    tangled = SOURCES.replace('name = "gamma"\n', '# gamma, by hand\nname = "gamma"\n')
    directory = write_config(tmp_path / "c", tangled)
    with pytest.raises(config.ConfigError, match="cannot tell source 'gamma' apart .* by hand$"):
        config.remove_source(directory, "gamma")
    assert (directory / "sources.toml").read_text() == tangled
