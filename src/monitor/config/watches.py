"""Models of watches.toml: saved searches and spike watches."""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from monitor.config.base import _Strict


WATCH_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class Watch(_Strict):
    """A saved search: `query` in the search language plus filters (raw values: codes or names, any case), or with
    `spikes = true` the spikes view narrowed by countries and topics. `notify` is a webhook URL."""

    query: str = ""
    spikes: bool = False
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # mentioned
    about: tuple[str, ...] = ()  # focus countries
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # IPTC code or label
    notify: str | None = None

    @field_validator("notify")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+\S*", value):
            raise ValueError("use an http:// or https:// webhook URL, e.g. \"https://hooks.example.org/monitor\"")
        return value

    @model_validator(mode="after")
    def _what(self) -> "Watch":
        if self.spikes and (self.query or self.sources or self.languages or self.regions):
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
