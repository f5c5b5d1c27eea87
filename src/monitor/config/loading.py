"""Config (everything under config/, validated), load() and the one-line validation errors."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from monitor.config.base import (
    ENV_CONFIG_DIR,
    ENV_LAKE_DATA,
    ENV_WAREHOUSE,
    LAKE_PREFIX,
    PACKAGE_DIR,
    ConfigError,
    _Strict,
    resource_path,
)
from monitor.config.settings import Settings
from monitor.config.sources import Source, Sources
from monitor.config.taxonomy import Regions, Topics, _country_known
from monitor.config.watches import Watch, Watches


class Config(_Strict):
    """Everything under `config/`, validated."""

    root: Path
    settings: Settings
    sources: Sources
    regions: Regions
    topics: Topics
    watches: Watches = Watches()

    def watch_problem(self, watch: Watch) -> tuple[str, str] | None:
        """What in a watch names nothing known (a country, region, topic or source), as (key, what to do); None if
        all is known. Codes and names, any case, as the search filters take them."""
        checks = (
            ("countries", watch.filters.countries, _country_known, "an ISO 3166 code (AM) or a country name (Armenia)"),
            ("about", watch.filters.about, _country_known, "an ISO 3166 code (AM) or a country name (Armenia)"),
            ("regions", watch.filters.regions, lambda v: v.casefold() in {r.casefold() for r in
                                                                  (*self.regions.m49, *self.regions.group)},
             "a region of regions.toml, e.g. 'South Caucasus'"),
            ("topics", watch.filters.topics, lambda v: v.casefold() in {t.code for t in self.topics.topic}
             | {t.label.casefold() for t in self.topics.topic}, "an IPTC code (medtop:16000000) or a label of "
             "topics.toml, e.g. 'conflict, war and peace'"),
            ("sources", watch.filters.sources, lambda v: v in {s.name for s in self.sources.source},
             f"a source of sources.toml ({', '.join(sorted(s.name for s in self.sources.source)) or 'none yet'})"),
            ("languages", watch.filters.languages, lambda v: re.fullmatch(r"[a-z]{2}", v.lower()) is not None,
             "a two-letter language code such as 'en'"),
        )
        for key, values, known, hint in checks:
            for value in values:
                if not known(value):
                    return key, f"{value!r} names nothing known; use {hint}"
        return None

    def warehouse_path(self, override: str | Path | None = None) -> Path:
        """The warehouse file: the CLI override, then $MONITOR_WAREHOUSE, then settings (relative to the project:
        the folder holding config/)."""
        chosen = str(override or os.environ.get(ENV_WAREHOUSE) or self.settings.warehouse.path)
        # The bundled config lives inside the installed package: never write there, use the working directory.
        project = Path.cwd() if self.root.is_relative_to(PACKAGE_DIR) else self.root.parent
        if chosen.startswith(LAKE_PREFIX):  # ducklake:<catalog file> or ducklake:postgres:...: resolve a file only
            data = self.settings.warehouse.lake_data_path
            if data and not os.environ.get(ENV_LAKE_DATA):  # the warehouse code (and every child) reads it there
                local = not re.match(r"^[a-z0-9]+://", data) and not Path(data).expanduser().is_absolute()
                os.environ[ENV_LAKE_DATA] = str(project / data) + "/" if local else data
            catalog = chosen[len(LAKE_PREFIX):]
            if re.match(r"^[a-z]+:", catalog):
                return Path(chosen)
            catalog_path = Path(catalog).expanduser()
            return Path(LAKE_PREFIX + str(catalog_path if catalog_path.is_absolute() else project / catalog_path))
        path = Path(chosen).expanduser()
        return path if path.is_absolute() else project / path

    def select_sources(self, names: tuple[str, ...] | list[str] = ()) -> list[Source]:
        """The sources named, each once however often it is named (all when none); an unknown name raises
        ConfigError."""
        if not names:
            return list(self.sources.source)
        by_name = {s.name: s for s in self.sources.source}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ConfigError(
                f"unknown source {unknown[0]!r}; known sources: {', '.join(sorted(by_name)) or '(none)'}"
            )
        return [by_name[n] for n in dict.fromkeys(names)]  # a run's own parameters may repeat a name

    def schedule_sources(self, group: str) -> list[str]:
        """The names of the sources in a schedule group; an unknown group raises ConfigError."""
        if group not in self.sources.schedule:
            raise ConfigError(f"unknown schedule {group!r}; schedules in sources.toml: "
                              f"{', '.join(sorted(self.sources.schedule)) or '(none)'}")
        return [s.name for s in self.sources.source if s.schedule == group]


FILES: dict[str, type[_Strict]] = {
    "settings.toml": Settings,
    "sources.toml": Sources,
    "regions.toml": Regions,
    "topics.toml": Topics,
    "watches.toml": Watches,
}


def default_config_dir() -> Path:
    """$MONITOR_CONFIG_DIR, else ./config when present, else the bundled config."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env)
    local = Path.cwd() / "config"
    return local if local.is_dir() else resource_path("config")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Walk `loc` through nested models to list the keys allowed where an unknown key was found."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            break
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        nested = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = nested[-1] if nested else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        flat: dict[str, tuple[str, ...]] = getattr(current, "flat_keys", {})  # a field written as several keys
        return sorted(key for name in current.model_fields for key in flat.get(name, (name,)))
    return []


def format_error(filename: str, model: type[BaseModel], err: ValidationError) -> str:
    """One line for the first validation error: file, dotted key, what is wrong and what is allowed."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(model, loc)) or "none"
        return f"{filename}: unknown key '{key}'; allowed keys here: {allowed}"
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict | list | tuple) else ""
    return f"{filename}: bad value for '{key}'{shown}: {message}"


def load_file(path: Path, model: type[_Strict]) -> _Strict:
    """Parse one TOML file into its model; a missing file yields the defaults."""
    if not path.exists():
        return model()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_error(str(path), model, exc)) from None


def load(config_dir: str | Path | None = None) -> Config:
    """Load and validate every file under the config directory."""
    root = Path(config_dir) if config_dir else default_config_dir()
    if not root.is_dir():
        raise ConfigError(f"config directory {root} does not exist; pass --config DIR or set {ENV_CONFIG_DIR}")
    parts = {name.removesuffix(".toml"): load_file(root / name, model) for name, model in FILES.items()}
    loaded = Config(root=root.resolve(), **parts)
    for name, watch in loaded.watches.watch.items():  # names checked against the other files, once all are read
        problem = loaded.watch_problem(watch)
        if problem:
            key, message = problem
            raise ConfigError(f"{root / 'watches.toml'}: bad value for 'watch.{name}.{key}': {message}")
    return loaded
