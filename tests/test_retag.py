"""`monitor retag` over a real warehouse made by a real ingest run: tag rows are replaced, versioned, counted."""

import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from monitor import config, warehouse
from monitor.cli import cli
from monitor.models import Tags
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
    assert result.output == (f"Error: no warehouse at {tmp_path / 'none.duckdb'}; run `monitor run` or "
                             "`monitor demo` first, or pass --warehouse\n")


OLD_VERSION = "monitor-tagger/0.0.1+older"


def copy_with_one_older_article(seed_warehouse: Path, tmp_path: Path) -> tuple[Path, str]:
    """The seed warehouse with one article's tags as an older tagger wrote them (hand-built: France, no topic)."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(seed_warehouse, path)
    (article_id,) = rows(path, "SELECT min(article_id) FROM articles")[0]
    warehouse.replace_tags(path, [Tags(article_id, countries=("FR",), tagger_version=OLD_VERSION)], "IPTC", "")
    return path, article_id


def test_retag_older_rewrites_only_what_another_tagger_version_wrote(seed_warehouse, tmp_path):
    path, article_id = copy_with_one_older_article(seed_warehouse, tmp_path)
    untouched = rows(path, f"SELECT article_id, tagged_at FROM article_tagging WHERE article_id <> '{article_id}'")
    cfg = config.load(CONFIG)
    version = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging).version
    assert retag("--older", "--warehouse", str(path)) == (
        f"re-tagged 1 articles with {version}: countries changed in 1, top topic changed in 1\n")
    for table in ("article_countries", "article_regions", "article_topics", "article_tagging"):
        assert rows(path, f"SELECT DISTINCT tagger_version FROM {table}") == [(version,)], table
    assert rows(path, f"SELECT article_id, tagged_at FROM article_tagging WHERE article_id <> '{article_id}'") == \
        untouched
    assert tag_counts(path) == tag_counts(seed_warehouse)  # the seed's own tags are back
    assert retag("--older", "--warehouse", str(path)).startswith("re-tagged 0 articles")


def test_retag_by_tagger_version_selects_that_version_only(seed_warehouse, tmp_path):
    path, article_id = copy_with_one_older_article(seed_warehouse, tmp_path)
    assert retag("--tagger-version", "monitor-tagger/none-such", "--warehouse", str(path)).startswith(
        "re-tagged 0 articles")
    assert retag("--tagger-version", OLD_VERSION, "--warehouse", str(path)).startswith("re-tagged 1 articles")
    assert rows(path, f"SELECT count(*) FROM article_tagging WHERE tagger_version = '{OLD_VERSION}'") == [(0,)]


def test_retag_older_picks_up_articles_tagged_before_versions_were_recorded(seed_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(seed_warehouse, path)
    with duckdb.connect(str(path)) as con:  # what migration 005 records for an article tagged before 002
        con.execute("UPDATE article_tagging SET tagger_version = NULL WHERE article_id = (SELECT min(article_id) "
                    "FROM articles)")
    assert retag("--older", "--warehouse", str(path)).startswith("re-tagged 1 articles")
