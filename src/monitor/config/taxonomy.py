"""Models of regions.toml and topics.toml, and ISO 3166 country codes and names."""

from __future__ import annotations

from pydantic import Field, model_validator

from monitor.config.base import _CODE, _Strict


class M49Region(_Strict):
    parent: str | None = None  # the continent-level region of a sub-region
    countries: tuple[str, ...]


class Group(_Strict):
    countries: tuple[str, ...]
    description: str = ""


class Regions(_Strict):
    m49: dict[str, M49Region] = {}
    group: dict[str, Group] = {}

    @model_validator(mode="after")
    def _codes(self) -> "Regions":
        for name, region in [*self.m49.items(), *self.group.items()]:
            bad = [c for c in region.countries if not _CODE.match(c)]
            if bad:
                raise ValueError(f"region {name!r} has codes that are not ISO alpha-2: {bad}")
        return self


class Topic(_Strict):
    code: str = Field(pattern=r"^medtop:\d{8}$")
    label: str
    parent: str | None = Field(None, pattern=r"^medtop:\d{8}$")
    keywords: tuple[str, ...] = ()
    # Words that add weight but are too loose to decide a topic alone.
    weak_keywords: tuple[str, ...] = ()


class Topics(_Strict):
    taxonomy: str = "IPTC Media Topics"
    version: str = ""
    topic: tuple[Topic, ...] = ()


def country_code(value: str) -> str | None:
    """The ISO 3166 alpha-2 code of a code or a country name (any case, pycountry's names); None if unknown."""
    import pycountry

    if _CODE.match(value.upper()):
        found = pycountry.countries.get(alpha_2=value.upper())
        return found.alpha_2 if found else None
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        return None


def country_name(code: str) -> str:
    """A country's everyday English name (pycountry's common name where it has one), or the code itself."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code.upper()) if _CODE.match(code.upper()) else None
    return getattr(found, "common_name", None) or found.name if found else code


def _country_known(value: str) -> bool:
    return country_code(value) is not None
