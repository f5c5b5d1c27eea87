"""Load and validate `config/*.toml` once, at the edge.

Defaults live in the models, so a partial file overrides only what it sets. Any unknown key or bad value
raises `ConfigError` with one line naming the file, the key and what is allowed. The models and functions live in
this package's modules (base, settings, sources, taxonomy, watches, loading, editing); every name is importable from
`monitor.config`.
"""

from monitor.config.base import (
    _CODE, _HASHED, ENV_CONFIG_DIR, ENV_LAKE_DATA, ENV_WAREHOUSE, LAKE_PREFIX, PACKAGE_DIR, RESOURCE_ROOTS,
    ConfigError, _Strict, resource_path)
from monitor.config.editing import (
    _TABLE_HEADER, _writable_sources, append_source, append_sources, remove_source, replace_sources, source_block)
from monitor.config.loading import FILES, Config, _allowed_keys, default_config_dir, format_error, load, load_file
from monitor.config.settings import (
    AllowedHost, DedupSettings, FeedSettings, HttpSettings, LakeSettings, PageSettings, PipelineSettings, Settings,
    SitemapSettings, TaggingSettings, WarehouseSettings, parse_allowed)
from monitor.config.sources import _LANGUAGE, MULTILINGUAL, Schedule, Source, Sources, parse_languages
from monitor.config.taxonomy import Group, M49Region, Regions, Topic, Topics, _country_known, country_code, country_name
from monitor.config.watches import WATCH_NAME, Watch, Watches

__all__ = [
    "ENV_CONFIG_DIR", "ENV_LAKE_DATA", "ENV_WAREHOUSE", "FILES", "LAKE_PREFIX", "MULTILINGUAL", "PACKAGE_DIR",
    "RESOURCE_ROOTS", "WATCH_NAME", "AllowedHost", "Config", "ConfigError", "DedupSettings", "FeedSettings", "Group",
    "HttpSettings", "LakeSettings", "M49Region", "PageSettings", "PipelineSettings", "Regions", "Schedule", "Settings",
    "SitemapSettings", "Source", "Sources", "TaggingSettings", "Topic", "Topics", "WarehouseSettings", "Watch",
    "Watches", "append_source", "append_sources", "country_code", "country_name", "default_config_dir",
    "format_error", "load", "load_file", "parse_allowed", "parse_languages", "remove_source", "replace_sources",
    "resource_path", "source_block",
    # private, kept importable as before the split
    "_CODE", "_HASHED", "_LANGUAGE", "_TABLE_HEADER", "_Strict", "_allowed_keys", "_country_known", "_writable_sources",
]
