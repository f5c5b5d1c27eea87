"""Search filters: the values a user typed (codes or names, any case) resolved to what the warehouse stores, and
the SQL that narrows a search to them. An unknown value is a one-line QueryError naming what was meant."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from monitor import query as ql
from monitor.models import SearchFilters  # noqa: F401 - the record the filters arrive in, importable from here
from monitor.warehouse.connection import QueryError
from monitor.warehouse.search_index import STEMMERS

# English names of the languages a filter may name (ISO 639-1 codes are accepted as they are).
LANGUAGE_NAMES = {"arabic": "ar", "basque": "eu", "catalan": "ca", "danish": "da", "dutch": "nl", "english": "en",
                  "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "hindi": "hi", "hungarian": "hu",
                  "indonesian": "id", "irish": "ga", "italian": "it", "lithuanian": "lt", "nepali": "ne",
                  "norwegian": "no", "portuguese": "pt", "romanian": "ro", "russian": "ru", "serbian": "sr",
                  "spanish": "es", "swedish": "sv", "tamil": "ta", "turkish": "tr", "chinese": "zh", "japanese": "ja",
                  "korean": "ko", "ukrainian": "uk", "polish": "pl", "czech": "cs", "bulgarian": "bg",
                  "belarusian": "be", "azerbaijani": "az", "armenian": "hy", "georgian": "ka", "persian": "fa",
                  "hebrew": "he", "swahili": "sw", "hausa": "ha", "amharic": "am", "vietnamese": "vi", "thai": "th",
                  "malay": "ms", "urdu": "ur", "bengali": "bn", "croatian": "hr", "slovak": "sk", "slovenian": "sl"}


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Country names in every language the gazetteer has (lower case) and ISO codes -> ISO code."""
    names: dict[str, str] = {}
    with open(_data("place_names.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if "\tcountry\t" not in line:  # most of the file is cities and provinces
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2] == "country":
                names.setdefault(parts[0].lower(), parts[1])
                names[parts[1].lower()] = parts[1]
    return names


def _data(name: str) -> Path:
    return Path(__file__).resolve().parents[1] / "data" / name


@functools.lru_cache(maxsize=1)
def _iptc() -> dict[str, str]:
    """IPTC Media Topics: code -> label."""
    concepts = json.loads(_data("iptc_mediatopics.json").read_text(encoding="utf-8"))["concepts"]
    return {c["qcode"]: c["label"] for c in concepts}


def _unknown(kind: str, value: str, hint: str) -> QueryError:
    return QueryError(f"{kind} {value!r} matches nothing known: {hint}")


def _resolve_countries(values: Sequence[str], kind: str) -> list[str]:
    names = _country_names()
    codes = []
    for value in values:
        code = names.get(value.strip().lower())
        if code is None:
            raise _unknown(kind, value, "give an ISO 3166 code (DE) or a country's name (Germany)")
        codes.append(code)
    return codes


def _resolve_topics(con: duckdb.DuckDBPyConnection, values: Sequence[str]) -> list[str]:
    known = dict(_iptc())
    try:
        known.update(con.execute("SELECT DISTINCT code, label FROM article_topics").fetchall())
    except duckdb.Error:
        pass
    codes: list[str] = []
    for value in values:
        v = value.strip().lower()
        found = [c for c, label in known.items() if v in (c.lower(), c.lower().removeprefix("medtop:"), label.lower())]
        if v and not v.startswith("medtop:"):  # words of labels: "crime" is every crime topic, "crime, law and
            word = re.compile(r"\b" + re.escape(v) + r"\b")  # justice" (the top-level one) included
            found += [c for c, label in known.items() if word.search(label.lower())]
        if not found:
            raise _unknown("topic", value, "give an IPTC code (medtop:02000000) or label (crime, law and justice)")
        codes += found
    return sorted(set(codes))


def _resolve_known(con: duckdb.DuckDBPyConnection, values: Sequence[str], kind: str, sql: str, hint: str) -> list[str]:
    try:
        known = {str(v).lower(): v for (v,) in con.execute(sql).fetchall() if v is not None}
    except duckdb.Error:
        known = {}
    out = []
    for value in values:
        match = known.get(value.strip().lower())
        if match is None:
            sample = ", ".join(sorted(known.values())[:8])
            raise _unknown(kind, value, hint + (f" (known: {sample}{', ...' if len(known) > 8 else ''})"
                                                if sample else " (the warehouse has none yet)"))
        out.append(match)
    return out


def _resolve_languages(con: duckdb.DuckDBPyConnection, values: Sequence[str]) -> list[str]:
    codes = []
    for value in values:
        v = value.strip().lower()
        code = LANGUAGE_NAMES.get(v, v if v in LANGUAGE_NAMES.values() or v in STEMMERS else None)
        if code is None:
            stored = {c for (c,) in con.execute("SELECT DISTINCT language FROM articles").fetchall() if c}
            if v not in stored:
                raise _unknown("language", value, "give an ISO 639-1 code (de) or an English name (German)")
            code = v
        codes.append(code)
    return codes


def _filter_sql(con: duckdb.DuckDBPyConnection, filters: SearchFilters, fields: Sequence[tuple[str, str]]
                ) -> tuple[str, list]:
    """The filters (from options and from field:value in the query) as SQL over `a` (articles), with parameters."""
    by_field: dict[str, list[str]] = {name: [] for name in ql.FIELDS}
    for name, value in fields:
        by_field[name].append(value)
    sources = list(filters.sources) + by_field["source"]
    languages = list(filters.languages) + by_field["language"]
    countries = list(filters.countries) + by_field["country"]
    about = list(filters.about) + by_field["about"]
    regions = list(filters.regions) + by_field["region"]
    topics = list(filters.topics) + by_field["topic"]
    clauses, params = [], []
    if sources:
        clauses.append("list_contains(?, a.source)")
        params.append(_resolve_known(con, sources, "source",
                                     "SELECT name FROM sources UNION SELECT DISTINCT source FROM articles",
                                     "give a source's name as in sources.toml"))
    if languages:
        clauses.append("list_contains(?, lower(split_part(a.language, '-', 1)))")
        params.append(_resolve_languages(con, languages))
    for codes, about_only in ((countries, False), (about, True)):
        if codes:
            clauses.append("EXISTS (SELECT 1 FROM article_countries x WHERE x.article_id = a.article_id AND "
                           f"list_contains(?, x.country){' AND x.is_about' if about_only else ''})")
            params.append(_resolve_countries(codes, "about" if about_only else "country"))
    if regions:
        clauses.append("EXISTS (SELECT 1 FROM article_regions x WHERE x.article_id = a.article_id "
                       "AND list_contains(?, x.region))")
        params.append(_resolve_known(con, regions, "region", "SELECT DISTINCT region FROM article_regions",
                                     "give a region of regions.toml"))
    if topics:
        clauses.append("EXISTS (SELECT 1 FROM article_topics x WHERE x.article_id = a.article_id "
                       "AND list_contains(?, x.code))")
        params.append(_resolve_topics(con, topics))
    if filters.since is not None:
        clauses.append("coalesce(a.published, a.first_seen) >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("coalesce(a.published, a.first_seen) <= ?")
        params.append(filters.until)
    return (" AND ".join(clauses) or "true"), params
