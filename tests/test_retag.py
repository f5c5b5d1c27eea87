"""`monitor retag` over a real warehouse made by a real ingest run: tag rows are replaced, versioned, counted."""

import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from monitor import config
from monitor.cli import cli
from monitor.tagging import Tagger
from tests.conftest import CONFIG


def retag(*args: str, config_dir: Path = CONFIG) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "retag", *args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def tag_counts(path: Path) -> list[tuple]:
    return rows(path, "SELECT (SELECT count(*) FROM article_countries), (SELECT count(*) FROM article_regions), "
                      "(SELECT count(*) FROM article_topics)")


def test_retag_with_unchanged_rules_changes_nothing_but_says_so(seed_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(seed_warehouse, path)
    before = tag_counts(path)
    cfg = config.load(CONFIG)
    version = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging).version
    assert retag("--warehouse", str(path)) == (
        f"re-tagged 3 articles with {version}: countries changed in 0, top topic changed in 0\n")
    assert tag_counts(path) == before
    for table in ("article_countries", "article_regions", "article_topics"):
        assert rows(path, f"SELECT DISTINCT tagger_version FROM {table}") == [(version,)]
    assert rows(path, "SELECT count(*) FROM article_countries WHERE confidence IS NULL OR confidence > 1") == [(0,)]


def test_retag_after_a_rule_change_applies_it_under_a_new_version(seed_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(seed_warehouse, path)
    old_version = rows(path, "SELECT DISTINCT tagger_version FROM article_countries")[0][0]
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG, config_dir)
    with (config_dir / "regions.toml").open("a", encoding="utf-8") as f:
        f.write('\n[group."Armenia watch"]\ncountries = ["AM"]\n')
    retag("--warehouse", str(path), config_dir=config_dir)
    tagged = rows(path, "SELECT count(*), min(tagger_version) FROM article_regions WHERE region = 'Armenia watch'")
    assert tagged[0][0] == 3 and tagged[0][1] != old_version  # all three seed articles mention Armenia


def test_retag_since_a_future_date_touches_nothing(seed_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(seed_warehouse, path)
    assert retag("--since", "2099-01-01", "--warehouse", str(path)).startswith("re-tagged 0 articles")


def test_retag_without_a_warehouse_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["retag", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert result.output == (f"Error: no warehouse at {tmp_path / 'none.duckdb'}: run `monitor run` or "
                             "`monitor demo` first, or pass --warehouse\n")
