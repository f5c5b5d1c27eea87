"""Models of watches.toml: saved searches and spike watches."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import field_validator, model_validator

from monitor.config.base import _Strict
from monitor.models import FILTER_FIELDS, Filters


WATCH_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class Watch(_Strict):
    """A saved search: `query` in the search language plus filters (raw values: codes or names, any case), or with
    `spikes = true` the spikes view narrowed by countries and topics. `notify` is a webhook URL.

    watches.toml writes the filters flat beside the query (`countries = ["AM"]`), as it always has; they are read
    into `filters`, the record a search takes (models.Filters). `filters = {countries = ["AM"]}` works too."""

    query: str = ""
    spikes: bool = False
    filters: Filters = Filters()
    notify: str | None = None

    # what an unknown key's message lists in place of `filters`: the flat keys it is written as
    flat_keys: ClassVar[dict[str, tuple[str, ...]]] = {"filters": FILTER_FIELDS}

    @model_validator(mode="before")
    @classmethod
    def _flat_filters(cls, data: Any) -> Any:
        flat = [k for k in FILTER_FIELDS if k in data] if isinstance(data, dict) else []
        if not flat:
            return data
        if "filters" in data:
            raise ValueError(f"give the filters flat ({', '.join(flat)} = [...]) or in filters = {{...}}, not both")
        return {k: v for k, v in data.items() if k not in flat} | {"filters": {k: data[k] for k in flat}}

    @field_validator("notify")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+\S*", value):
            raise ValueError("use an http:// or https:// webhook URL, e.g. \"https://hooks.example.org/monitor\"")
        return value

    @model_validator(mode="after")
    def _what(self) -> "Watch":
        f = self.filters
        if self.spikes and (self.query or f.sources or f.languages or f.regions):
            raise ValueError("a spikes watch takes only countries, about and topics: drop query, sources, languages "
                             "and regions, or set spikes = false")
        if not self.spikes and not self.query.strip():
            raise ValueError('give a query (e.g. query = "ceasefire Karabakh") or set spikes = true')
        return self


class Watches(_Strict):
    watch: dict[str, Watch] = {}

    @field_validator("watch")
    @classmethod
    def _names(cls, value: dict[str, Watch]) -> dict[str, Watch]:
        for name in value:
            if not re.match(WATCH_NAME, name):
                raise ValueError(f"watch name {name!r}: use lower-case letters, digits, - and _ (e.g. [watch.karabakh])")
        return value
