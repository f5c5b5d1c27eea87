"""Edits of config/sources.toml: append, replace and remove sources, atomically and only when valid."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from monitor.config.base import PACKAGE_DIR, ConfigError
from monitor.config.loading import Config, format_error, load
from monitor.config.sources import Source, Sources


def _writable_sources(config_dir: str | Path) -> Path:
    root = Path(config_dir)
    if root.resolve().is_relative_to(PACKAGE_DIR):
        raise ConfigError("the bundled config is read-only; run in a project with a config/ folder or pass --config DIR")
    return root / "sources.toml"


def source_block(source: Source) -> str:
    """One `[[source]]` table in TOML, with only the keys that differ from the defaults (name and url always)."""
    fields = source.model_dump(exclude_defaults=True)
    fields.setdefault("name", source.name)
    fields.setdefault("url", source.url)
    fields = {"name": fields.pop("name"), "url": fields.pop("url"), **fields}
    lines = [f"{key} = {json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)}"
             for key, value in fields.items()]
    return "[[source]]\n" + "\n".join(lines) + "\n"


def replace_sources(config_dir: str | Path, text: str) -> Config:
    """Make `text` the new `config_dir/sources.toml` if it validates, atomically: a temporary file in the same
    folder, then a rename, so a crash or a bad value never leaves the file half-written. Returns the new config;
    ConfigError (naming sources.toml) leaves the old file as it was."""
    path = _writable_sources(config_dir)
    try:
        Sources.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: the new file would not be valid TOML ({exc}); nothing was changed") from None
    except ValidationError as exc:
        raise ConfigError(format_error(str(path), Sources, exc)) from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}; nothing was changed") from None
    return load(config_dir)


def append_sources(config_dir: str | Path, sources: list[Source]) -> Config:
    """Append `[[source]]` tables to `config_dir/sources.toml`, keeping the file's comments, all or none: if the
    result does not validate (a duplicate name or URL, an unknown schedule), the file stays as it was and
    ConfigError names the problem."""
    path = _writable_sources(config_dir)
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    blocks = "".join("\n" + source_block(s) for s in sources)
    return replace_sources(config_dir, (original.rstrip("\n") + "\n" if original.strip() else "") + blocks)


def append_source(config_dir: str | Path, source: Source) -> Config:
    """Append one `[[source]]` to `config_dir/sources.toml` (see `append_sources`)."""
    return append_sources(config_dir, [source])


_TABLE_HEADER = re.compile(r"^\s*\[")


def remove_source(config_dir: str | Path, name: str) -> Config:
    """Take the `[[source]]` named `name` out of `config_dir/sources.toml`, keeping everything else (comments
    included) as written; atomic, as `replace_sources`. ConfigError when there is no such source, or when its
    table cannot be told apart from what surrounds it (then the file is left for a hand edit)."""
    path = _writable_sources(config_dir)
    before = load(config_dir)
    if name not in {s.name for s in before.sources.source}:
        known = ", ".join(sorted(s.name for s in before.sources.source)) or "(none)"
        raise ConfigError(f"no source {name!r} in {path}; known sources: {known}")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)]
    for start in headers:
        if lines[start].strip() != "[[source]]":
            continue
        end = start + 1  # the table's keys: up to a blank line, a comment line or the next table
        while end < len(lines) and lines[end].strip() and not lines[end].lstrip().startswith(("#", "[")):
            end += 1
        if not any(re.match(rf"^\s*name\s*=\s*[\"']{re.escape(name)}[\"']\s*(#.*)?$", line) for line in lines[start:end]):
            continue
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1  # comments right above the table are about it
        if end < len(lines) and not lines[end].strip():
            end += 1  # the blank line that separated it from what comes next
        elif start > 0 and not lines[start - 1].strip():
            start -= 1  # ... or, at the end, from what came before
        text = "".join(lines[:start] + lines[end:])
        try:
            after = Sources.model_validate(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ValidationError):
            break
        if list(after.source) == [s for s in before.sources.source if s.name != name]:
            return replace_sources(config_dir, text)
        break
    raise ConfigError(f"cannot tell source {name!r} apart from its neighbours in {path} (a comment or blank line "
                      "inside its table?); remove its [[source]] table by hand")
