"""Models of sources.toml: schedules and sources."""

from __future__ import annotations

import re
from typing import Literal

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from monitor.config.base import _CODE, _HASHED, _Strict


class Schedule(_Strict):
    interval_minutes: int | None = Field(None, ge=1)
    interval_seconds: int | None = Field(None, ge=5)  # for tests and very fast feeds; minutes are the norm
    cron: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "Schedule":
        if sum(x is not None for x in (self.interval_minutes, self.interval_seconds, self.cron)) != 1:
            raise ValueError("set exactly one of interval_minutes, interval_seconds or cron")
        # Checked here, with the cron library Prefect itself uses, so a typo fails `check-config` in one line instead
        # of killing `monitor serve` with a traceback; Prefect also refuses croniter's random ("R") and hashed ("H")
        # fields, so they are refused here too.
        if self.cron is not None and (not croniter.is_valid(self.cron)
                                      or any(_HASHED.match(f) for f in self.cron.split())):
            raise ValueError(f"cron {self.cron!r} is not a cron expression: use five fields, minute hour day month "
                             "weekday, for example '0 6 * * *' (06:00 every day)")
        return self

    @property
    def minutes(self) -> float | None:
        """The interval in minutes, None for a cron schedule."""
        if self.interval_seconds is not None:
            return self.interval_seconds / 60
        return self.interval_minutes

    @property
    def seconds(self) -> int | None:
        """The interval in seconds, None for a cron schedule."""
        return self.interval_seconds if self.interval_seconds is not None else (
            self.interval_minutes * 60 if self.interval_minutes is not None else None)


MULTILINGUAL = "multi"  # a source's `language` when its articles come in many languages: each page's own decides
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def parse_languages(value: str) -> str | tuple[str, ...]:
    """A command line's language: "en", "multi", or a comma-separated list ("en,fr") as a tuple."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else tuple(parts)


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    url: str = Field(pattern=r"^https?://")
    # "feed" (RSS, Atom) or "sitemap" (a news sitemap or sitemap index, gzipped or not, for an outlet without a feed)
    kind: Literal["feed", "sitemap"] = "feed"
    site: str = ""  # the outlet's home page
    # One ISO 639-1 code, a list of them (a bilingual outlet), or "multi" (many languages)
    language: str | tuple[str, ...] = "en"
    country: str | None = None
    tags: tuple[str, ...] = ()
    schedule: str = "hourly"

    @field_validator("language")
    @classmethod
    def _languages(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        codes = (value,) if isinstance(value, str) else value
        if value == MULTILINGUAL:
            return value
        if not codes or not all(_LANGUAGE.match(c) for c in codes):
            raise ValueError(f'use an ISO 639-1 code such as "en", a list of them such as ["en", "fr"], or '
                             f'"{MULTILINGUAL}" for an outlet publishing in many languages')
        return codes[0] if len(codes) == 1 else tuple(dict.fromkeys(codes))

    @field_validator("country")
    @classmethod
    def _iso2(cls, value: str | None) -> str | None:
        if value is not None and not _CODE.match(value):
            raise ValueError("must be an ISO 3166-1 alpha-2 code such as 'GB'")
        return value

    @property
    def languages(self) -> tuple[str, ...]:
        """The source's languages; empty for a multilingual ("multi") source."""
        if self.language == MULTILINGUAL:
            return ()
        return (self.language,) if isinstance(self.language, str) else self.language

    @property
    def fallback_language(self) -> str | None:
        """The language to assume for a page that neither declares one nor reads clearly as one: the source's only
        language; None for a source with several, where a guess would as often be wrong."""
        return self.languages[0] if len(self.languages) == 1 else None

    @property
    def language_label(self) -> str:
        """The language as one text ("en", "en,fr", "multi"), for the warehouse's sources table."""
        return ",".join(self.languages) or MULTILINGUAL


class Sources(_Strict):
    schedule: dict[str, Schedule] = {"hourly": Schedule(interval_minutes=60)}
    source: tuple[Source, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "Sources":
        seen_names: set[str] = set()
        seen_urls: set[str] = set()
        for src in self.source:
            if src.name in seen_names:
                raise ValueError(f"duplicate source name {src.name!r}; names must be unique")
            if src.url in seen_urls:
                raise ValueError(f"duplicate feed url {src.url!r} (source {src.name!r})")
            if src.schedule not in self.schedule:
                raise ValueError(
                    f"source {src.name!r} uses schedule {src.schedule!r}; defined: {', '.join(sorted(self.schedule))}"
                )
            seen_names.add(src.name)
            seen_urls.add(src.url)
        return self
