from pathlib import Path

import pytest

from monitor import config
from tests.conftest import CONFIG, write_config


def test_the_bundled_config_loads_and_every_source_is_valid():
    cfg = config.load(CONFIG)
    names = [s.name for s in cfg.sources.source]
    assert len(names) == len(set(names)) >= 1
    assert all(s.schedule in cfg.sources.schedule for s in cfg.sources.source)
    assert len(cfg.topics.topic) == 17 and cfg.topics.version == "2019-04-06"
    assert "South Caucasus" in cfg.regions.group and "Western Asia" in cfg.regions.m49


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path: Path):
    directory = write_config(tmp_path / "c", "", "[http]\nuser_agnt = 'x'\n")
    with pytest.raises(config.ConfigError) as err:
        config.load(directory)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{directory / 'settings.toml'}: unknown key 'http.user_agnt'; allowed keys here: ")
    assert "contact_url" in message and "connect_timeout" in message


def test_bad_value_is_one_line_with_the_constraint(tmp_path: Path):
    directory = write_config(tmp_path / "c", "", "[dedup]\nnear_threshold = 2.5\n")
    with pytest.raises(config.ConfigError, match=r"bad value for 'dedup.near_threshold' \(got 2.5\): .*less than or equal to 1"):
        config.load(directory)


def test_duplicate_source_and_unknown_schedule_are_rejected(tmp_path: Path):
    src = '[[source]]\nname = "a"\nurl = "http://x/feed"\n[[source]]\nname = "a"\nurl = "http://y/feed"\n'
    with pytest.raises(config.ConfigError, match="duplicate source name 'a'"):
        config.load(write_config(tmp_path / "c1", src))
    src = '[[source]]\nname = "a"\nurl = "http://x/feed"\nschedule = "weekly"\n'
    with pytest.raises(config.ConfigError, match="uses schedule 'weekly'; defined: hourly"):
        config.load(write_config(tmp_path / "c2", src))


def test_invalid_toml_and_missing_dir(tmp_path: Path):
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(write_config(tmp_path / "c", "[[source]\n"))
    with pytest.raises(config.ConfigError, match="does not exist"):
        config.load(tmp_path / "nope")


def test_partial_settings_override_only_what_they_set(tmp_path: Path):
    cfg = config.load(write_config(tmp_path / "c", "", "[pipeline]\npage_batch_size = 7\n"))
    assert cfg.settings.pipeline.page_batch_size == 7
    assert cfg.settings.pipeline.min_body_chars == config.PipelineSettings().min_body_chars


def test_select_sources_rejects_unknown_names():
    cfg = config.load(CONFIG)
    with pytest.raises(config.ConfigError, match="unknown source 'nope'; known sources: "):
        cfg.select_sources(["nope"])


def test_warehouse_path_resolves_against_the_project(tmp_path: Path, monkeypatch):
    cfg = config.load(write_config(tmp_path / "proj" / "config", ""))
    assert cfg.warehouse_path() == (tmp_path / "proj" / "warehouse" / "monitor.duckdb").resolve()
    assert cfg.warehouse_path("/abs/w.duckdb") == Path("/abs/w.duckdb")
    monkeypatch.setenv(config.ENV_WAREHOUSE, str(tmp_path / "env.duckdb"))
    assert cfg.warehouse_path() == tmp_path / "env.duckdb"


def test_bundled_config_never_puts_the_warehouse_inside_the_package(tmp_path: Path, monkeypatch):
    bundled = config.PACKAGE_DIR / "_data" / "config"
    monkeypatch.chdir(tmp_path)
    cfg = config.Config(root=bundled, settings=config.Settings(), sources=config.Sources(),
                        regions=config.Regions(), topics=config.Topics())
    assert cfg.warehouse_path() == tmp_path / "warehouse" / "monitor.duckdb"
