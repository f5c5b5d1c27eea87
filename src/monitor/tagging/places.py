"""Tag a document with the countries it mentions and is about, its world regions and IPTC topics.

Only the text we are given is tagged (title, body, captions): the extractor has already removed navigation,
related links and footers, so countries named only there are never tagged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections import Counter
from itertools import accumulate, compress, filterfalse
from dataclasses import dataclass

import numpy as np

from monitor import __version__
from monitor.config import Regions, TaggingSettings, Topics
from monitor.metadata import detect_language
from monitor.models import Article, Tags, TopicScore
from monitor.tagging import gazetteer, topicmodel
from monitor.tagging.gazetteer_i18n import LANGUAGE_LEADS, LANGUAGE_WORDS, LANGUAGES

_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*(?:\.[^\W\d_]+)*\.?|\d+")
_TOKEN_PARTS = re.compile(f"({_TOKEN.pattern})")  # the same words, for re.split
_POSSESSIVE = re.compile(r"['’]s?$")
_COMMA = re.compile(r"\s*,\s*")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")  # a word for the keyword rules: "record-breaking" is one
MAX_PHRASE_TOKENS = 5  # "Democratic Republic of the Congo" is the longest common form we need
# Names that are also people, birds or words: taken as places only where nothing marks them as a name.
PERSON_PRONE = frozenset({"Jordan", "Chad", "Georgia", "Israel", "Paris", "Washington", "Sydney", "Florence",
                          "Austin", "Houston", "Kenya", "Turkey", "Victoria", "Lincoln", "Jackson", "Diet",
                          "Hamilton", "Charlotte", "Lafayette", "Columbus", "Orlando", "Phoenix", "Dallas"})
# Prepositions and articles after which a capitalised place name is a place, not part of a person's name.
PLACE_LEADS = frozenset({"in", "to", "from", "of", "and", "or", "at", "with", "by", "for", "across", "near",
                         "into", "on", "against", "between", "the", "over", "via", "toward", "towards", "as"})
# How a city name is resolved among same-named places: log10(population), plus these for what the text says.
# One mention of the city's own state or province ("Tenn.") outweighs the prominence of Paris, France
# (log10 67M - log10 25k = 3.4), and so do three of places in its country ("Edgar County" three times); a
# country's name counts a quarter of that, so "Biden flew to Paris" stays French.
REGION_BONUS = 4.0
COUNTRY_BONUS = 2.0  # times log2(1 + evidence for the country elsewhere in the text)
COUNTRY_LEVEL_EVIDENCE = 0.25  # "US" or "American" says less about a town's country than a county or state does
# Focus ("about"): at most this many countries; a city's mention counts this much of a country name's, so a passing
# "Paris" does not make France the story's focus; and a country outside the title and lead needs this many
# (weighted) mentions. Chosen on the multilingual development set (docs/benchmarks.md).
MAX_ABOUT = 3
# Text given to the language detector when the caller names no language: its cost grows with the length, and the
# title and first paragraph say the language as surely as the whole text for what the tagger does with it.
DETECT_CHARS = 400
CITY_FOCUS_WEIGHT = 0.5
ABOUT_MIN_MENTIONS = 2.0


def _is_sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"“'‘(")
    return not before or before[-1] in ".!?\n:;—–-"


@dataclass(frozen=True, slots=True)
class _Match:
    code: str
    phrase: str
    start: int
    kind: str = "country"  # the kind of name that made it: country, demonym, admin or city


@dataclass(frozen=True, slots=True)
class _Mention:
    places: tuple[gazetteer.Place, ...]
    phrase: str
    start: int
    qualifier: tuple[tuple[str, str], ...]  # what ", Tenn." or ", Ontario" after the name says
    end: int = -1


# Words right before a place name that make it part of an organisation's name ("Real Madrid", "Air France"), and
# capitalised words right after it that do ("Deutsche Bank", "Dynamo Kyiv" is caught by the first list).
ORG_LEADS = frozenset({"Real", "Atlético", "Atletico", "Athletic", "Air", "Inter", "Olympique", "Racing", "Sporting",
                       "Dynamo", "Dinamo", "Динамо", "Lokomotiv", "Локомотив", "Spartak", "Спартак", "Zenit", "Зенит",
                       "Galatasaray", "Borussia", "Eintracht", "Hertha", "Union", "Werder", "Stade", "Club", "Radio"})
ORG_TAILS = frozenset({"Times", "Post", "Bank", "Airlines", "Airways", "Telecom", "Telekom", "Bahn", "Welle", "Today",
                       "Herald", "Journal", "Tribune", "Gazette", "Motors", "FC", "SC", "AG", "GmbH", "SA", "Ltd", "Inc",
                       "Express", "Daily", "Zeitung", "Rundschau", "Allgemeine", "Presse", "Börse", "Versicherung",
                       "Energie", "Press", "Mail", "Standard", "Monde", "Figaro", "Soir", "Libération",
                       # football clubs named after their city ("Manchester United", "Aston Villa")
                       "United", "City", "Villa", "Hotspur", "Rovers", "Wanderers", "Albion"})
_SENTENCE_END = frozenset(".!?\n:;»«\"“”")


def find_countries(text: str, language: str | None = None) -> list[_Match]:
    """Every country reference in `text` (names, aliases, demonyms, metonyms, states, provinces, counties and
    cities, in every language the gazetteer has), each resolved to one country with the rest of the text as context.
    `language` (ISO 639-1) is the text's own: English spellings are read with English's guards for words and people's
    names everywhere, and the other languages' names are matched in any text, so mixed-language text works."""
    mentions = _merge(_find_mentions(text, language), _find_foreign(text, language))
    evidence = _evidence(mentions)
    return [m for m in (_resolve(x, evidence) for x in mentions) if m is not None]


def _merge(english: list[_Mention], foreign: list[_Mention]) -> list[_Mention]:
    """Both lists in text order. The same words found by both matchers are one mention with the places of both
    ("Andalucía": a Colombian town in English, Spain's region elsewhere); a mention that overlaps a longer (or
    earlier) one is dropped, except the several countries of one CJK compound ("日米")."""
    if not foreign:
        return english
    by_span = {(m.start, m.end): k for k, m in enumerate(english)}
    merged = list(english)
    rest = []
    for m in foreign:
        k = by_span.get((m.start, m.end))
        if k is None:
            rest.append(m)
            continue
        codes = {p.code for p in merged[k].places}
        places = merged[k].places + tuple(p for p in m.places if p.code not in codes)
        merged[k] = dataclasses.replace(merged[k], places=tuple(sorted(places, key=lambda p: -p.population)))
    ordered = sorted(merged + rest, key=lambda m: (m.start, -(m.end - m.start)))
    out: list[_Mention] = []
    for m in ordered:
        if out and m.start < out[-1].end and (m.start, m.end) != (out[-1].start, out[-1].end):
            continue
        out.append(m)
    return out


def _find_foreign(text: str, language: str | None = None) -> list[_Mention]:
    """Names in the languages beyond English: word n-grams over scripts with spaces, substrings over Han, kana and
    Hangul. A name (not an adjective) must be capitalised where its script has capitals, and is not taken when the
    same word is used in lower case elsewhere in the text ("la réunion" makes "Réunion" a meeting too). In an English
    text only names in other scripts are read: a Latin-script spelling that English lacks is there far more often a
    word or a surname ("Valley", "Manning") than German or Polish for a place."""
    index = gazetteer.foreign()
    words, first_words = index.words, index.first_words
    english = language == "en"
    # Only German capitalises every noun, so only there (or when the language is unknown) does a capitalised
    # adjective before a capitalised word mid-sentence mark an organisation ("die Deutsche Bank")
    org_adjectives = language in (None, "de")
    if english and not _BEYOND_LATIN.search(text):
        return []  # English text is read here only for names in other scripts, and this one has no such letter
    english_index = gazetteer.places()
    lowered = text.lower()
    found: list[_Mention] = []
    # The words' bounds are the same in the text and its lower case when the lengths are: lower-casing keeps a
    # character a word character or not (tests/test_tagging.py checks every code point)
    if len(lowered) != len(text):  # a capital whose lower case is longer ("İ"): fold word by word
        folded, bounds = _split(_FOREIGN_PARTS, text)
        folded = [gazetteer.fold(w) for w in folded]
    else:
        folded, bounds = _split(_FOREIGN_PARTS, lowered)
        if "ё" in lowered:
            folded = [w.replace("ё", "е") for w in folded]
    if not english:
        for start, end in _in_a_word(text, bounds):
            # an English-index name written into a word: the first part of a compound ("US-Wahlen",
            # "Ukraine-Krieg"), after an elided article ("l'Ukraine", "l'Élysée") or before a Turkish suffix
            # ("Türkiye'de"): the English matcher reads these as one word and finds nothing
            held = english_index.get(text[start:end])
            if held and all(p.kind == "country" for p in held):
                found.append(_Mention(held, text[start:end], start, (), end))
    opening = first_words.intersection(folded)  # each distinct word looked up once in the large index
    starts = list(compress(range(len(folded)), map(opening.__contains__, folded))) if opening else []
    if not starts:
        found += _find_wide(text, index)
        return found
    tokens = _Tokens(text, bounds)
    prefixes = index.prefixes
    taken = {(m.start, m.end) for m in found}
    lowercase: set[str] | None = None
    count = len(tokens)
    resume = 0
    lower_first = gazetteer.foreign_lower_first_words()
    for i in starts:
        key = folded[i]
        if i < resume:
            continue
        first = text[bounds[2 * i]]
        if (english and first < "\u0250") or (first.islower() and first < "\u0590" and key not in lower_first):
            continue  # in lower case ("de", "la") only a name that may be written so can start here
        candidates = [(1, key)] if key in words else []
        n, k = 1, key
        while k in prefixes and i + n < count:
            longer = f"{k} {folded[i + n]}"
            if (longer not in prefixes and longer not in words) or not _joined(text, tokens, i + n - 1, 2):
                break
            k, n = longer, n + 1
            if k in words:
                candidates.append((n, k))
        for n, k in reversed(candidates):
            held, lower_ok = words[k]
            word = tokens[i][0]
            if not lower_ok and word[0].islower() and word[0] < "\u0590":  # Georgian letters are all "lower"
                continue
            if n > 1 and k in index.capitalised_last and tokens[i + n - 1][0][0].islower():
                continue  # "la réunion" is a meeting, "La Réunion" the island
            if lower_ok and held[0].kind == "demonym":
                if language and language not in index.demonym_languages.get(k, (language,)):
                    continue  # another language's adjective ("chino" in German text)
                if not _demonym_plausible(text, tokens, folded, i, n, org_adjectives):
                    continue
            elif n == 1 and word[0].isupper() and not word.isupper():
                if lowercase is None:  # every word as the text writes it: a lower-case key found here is lower there
                    lowercase = set(_FOREIGN_WORDS.findall(text))
                if key in lowercase:
                    continue
            resume = i + n
            start, end = tokens[i][1], tokens[i + n - 1][2]
            if not _in_organisation(text, tokens, i, n) and (start, end) not in taken:
                found.append(_Mention(held, text[start:end], start, (), end))
            break
    found += _find_wide(text, index)
    return found


def _in_a_word(text: str, bounds: list[int]) -> list[tuple[int, int]]:
    """The spans _IN_A_WORD finds in `text`, from its words' bounds (see `_split`): a word (opening with a letter)
    joined to the next by one hyphen or apostrophe and not itself after one, or following a word and one
    apostrophe. Only the few hyphens and apostrophes are visited, not every word."""
    joiners = [j.start() for j in _JOINER.finditer(text)]
    if not joiners:
        return []
    count = len(bounds) // 2  # bounds ends with the end of the text
    ends = dict(zip(bounds[1::2], range(count)))  # where a word ends -> which word
    spans = set()
    for at in joiners:
        j = ends.get(at)
        if j is None or j + 1 >= count or bounds[2 * j + 2] != at + 1:
            continue  # not between two words
        start, end = bounds[2 * j], at
        if _LETTER.match(text, start) and (start == 0 or text[start - 1] not in "'’-"):
            spans.add((start, end))
        if text[at] in "'’" and _LETTER.match(text, at + 1):
            spans.add((at + 1, bounds[2 * j + 3]))
    return sorted(spans)


_JOINER = re.compile(r"[-'’]")
_LETTER = re.compile(r"[^\W\d_]")


class _Tokens:
    """The words of a text as (word, start, end), each made only when asked for: a name is looked for at few of
    them, and building all would cost more than the search. Word j runs from bounds[2j] to bounds[2j+1]."""

    __slots__ = ("text", "bounds", "words")

    def __init__(self, text: str, bounds: list[int], words: list[str] | None = None) -> None:
        self.text, self.bounds, self.words = text, bounds, words

    def __len__(self) -> int:
        return len(self.bounds) // 2

    def __getitem__(self, j: int) -> tuple[str, int, int]:
        start, end = self.bounds[2 * j], self.bounds[2 * j + 1]
        return (self.words[j] if self.words is not None else self.text[start:end]), start, end


def _joined(text: str, tokens: list, i: int, n: int) -> bool:
    """Whether tokens[i:i+n] are written as one name: separated by single spaces or hyphens only."""
    for j in range(i, i + n - 1):
        gap = text[tokens[j][2] : tokens[j + 1][1]]
        if gap not in (" ", "-", "\u00a0", "‑", "'", "’"):
            return False
    return True


def _demonym_plausible(text: str, tokens: list, folded: list, i: int, n: int, org_adjectives: bool) -> bool:
    """An adjective or demonym is a place unless it names a language ("русский язык", "en français") or starts an
    organisation's name mid-sentence ("die Deutsche Bank": capitalised, not first in its sentence, a capitalised
    word right after)."""
    after = i + n
    if after < len(tokens) and folded[after] in LANGUAGE_WORDS:
        return False
    if i > 0 and folded[i - 1] in LANGUAGE_LEADS and text[tokens[i - 1][2] : tokens[i][1]] == " ":
        return False
    word = tokens[i][0]
    if org_adjectives and word[0].isupper() and not word.isupper() and after < len(tokens) \
            and tokens[after][0][0].isupper():
        before = text[: tokens[i][1]].rstrip(" \t(")
        if before and before[-1] not in _SENTENCE_END and text[tokens[after - 1][2] : tokens[after][1]] == " ":
            return False
    return True


def _in_organisation(text: str, tokens: list, i: int, n: int) -> bool:
    end = i + n
    if i > 0 and tokens[i - 1][0] in ORG_LEADS and text[tokens[i - 1][2] : tokens[i][1]] == " ":
        return True
    return end < len(tokens) and tokens[end][0] in ORG_TAILS and text[tokens[end - 1][2] : tokens[end][1]] == " "


_FOREIGN_WORDS = re.compile(r"\w+")  # the words of gazetteer.key(), so text and names split alike
_FOREIGN_PARTS = re.compile(r"(\w+)")  # the same words, for re.split
# A capitalised word joined to the next by a hyphen or apostrophe, or following an apostrophe: "US-Wahlen",
# "Türkiye'de", "l'Ukraine".
_IN_A_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]\w*(?=[-'’]\w)|(?<=\w['’])[^\W\d_]\w*")
# Any character past Latin (U+0250 on) other than general punctuation (quotes, dashes): a text without one has no
# word in another script. Punctuation is excluded because English news is full of curly quotes and dashes.
_BEYOND_LATIN = re.compile(r"[^\u0000-\u024f\u2000-\u206f]")
_KATAKANA = re.compile(r"[\u30a0-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def _find_wide(text: str, index: gazetteer.ForeignIndex) -> list[_Mention]:
    """Names inside runs of Han, kana and Hangul, longest first at each position. A katakana name must not be part
    of a longer katakana word ("インド" in "インドア"), and a Hangul name must start a word (particles follow it)."""
    found: list[_Mention] = []
    wide, first, lengths = index.wide, index.wide_first, index.wide_lengths
    for run in gazetteer.WIDE_RUN.finditer(text):
        s, base = run.group(), run.start()
        i, size = 0, len(s)
        while i < size:
            if s[i] not in first:
                i += 1
                continue
            step = 1
            for length in lengths:
                if length > size - i:
                    continue
                name = s[i : i + length]
                held = wide.get(name)
                if held is None:
                    continue
                if _KATAKANA.fullmatch(name[-1]) and i + length < size and _KATAKANA.match(s[i + length]):
                    continue
                if _KATAKANA.fullmatch(name[0]) and i > 0 and _KATAKANA.match(s[i - 1]):
                    continue
                if _HANGUL.match(name[0]) and i > 0 and _HANGUL.match(s[i - 1]):
                    continue
                start = base + i
                if held == ():  # a compound naming one or two countries
                    for code in index.compounds[name]:
                        place = gazetteer.Place(code, gazetteer.COUNTRY_POPULATION, "country")
                        found.append(_Mention((place,), name, start, (), start + length))
                else:
                    found.append(_Mention(held, name, start, (), start + length))
                step = length
                break
            i += step
    return found


def _find_mentions(text: str, language: str | None = None) -> list[_Mention]:
    index, quals = gazetteer.places(), gazetteer.qualifiers()
    words, bounds = _split(_TOKEN_PARTS, text)
    distinct = set(words)
    cased = set(filterfalse(str.islower, distinct))  # the few not in lower case, picked out in C
    starts = _STARTS
    starters = {w for w in cased if (starts.get(w) if w in starts else _learn_start(w))}
    if not starters:
        return []
    tokens = _Tokens(text, bounds, words)
    prefixes = gazetteer.name_prefixes()
    found: list[_Mention] = []
    count = len(words)
    resume = 0
    # only the words that can open a name are visited (found in C, not by a Python walk over every word)
    for i in compress(range(count), map(starters.__contains__, words)):
        if i < resume:
            continue
        # the longest phrase from here whose words before the last open some name: longer ones cannot match
        limit, longest, opening = min(MAX_PHRASE_TOKENS, count - i), 1, words[i]
        while longest < limit and (opening in prefixes or opening.title() in prefixes):
            opening = f"{opening} {words[i + longest]}"
            longest += 1
        for n in range(longest, 0, -1):
            last = words[i + n - 1]
            if "'" in last or "’" in last:  # "Armenia's"
                last = _POSSESSIVE.sub("", last)
            phrase = f"{' '.join(words[i : i + n - 1])} {last}" if n > 1 else last
            held = _lookup(phrase, index)
            if held is None:
                continue
            if held == ():  # "South America", "Voice of America": consumed, not a country
                resume = i + n
                break
            held = _plausible(held, phrase, text, tokens, i, n, distinct, language)
            if held and _in_organisation(text, tokens, i, n):  # "Air India", "Paris SA"
                resume = i + n
                break
            if held:
                # only a town or a state is qualified: "Slovenia, Croatia and Denmark" is a list
                town = all(p.kind in ("city", "admin") for p in held)
                qualifier = _qualifier(text, tokens, i + n, quals) if town else ()
                found.append(_Mention(held, phrase, tokens[i][1], qualifier, tokens[i + n - 1][2]))
                resume = i + n
                break
    return found


def _split(parts: re.Pattern, text: str) -> tuple[list[str], list[int]]:
    """The words `parts` (a pattern in one capturing group) finds in `text`, and their bounds: word j runs from
    bounds[2j] to bounds[2j+1]. Split and summed in C: a Python loop over match objects costs several times more."""
    pieces = parts.split(text)
    return pieces[1::2], list(accumulate(map(len, pieces)))


# Remembered per distinct word or phrase (the gazetteer never changes in a process); bounds memory only.
MAX_CACHED_NAMES = 200_000
_STARTS: dict[str, bool] = {}  # token -> whether it may start a name
_LOOKUPS: dict[str, tuple | None] = {}


def _learn_start(token: str) -> bool:
    """Whether `token` may start a name (capitalised, and `_may_start_a_name`), remembered."""
    if len(_STARTS) > MAX_CACHED_NAMES:
        _STARTS.clear()
    may = _STARTS[token] = token[0].isupper() and _may_start_a_name(token, gazetteer.first_words())
    return may


def _may_start_a_name(token: str, starts: frozenset[str]) -> bool:
    """Whether any form `_lookup` tries for a phrase opening with `token` can begin a name (most capitalised words,
    "He", "Mr", "Monday", cannot: skipping them spares five lookups in six on real articles)."""
    word = token.lower()
    bare = _POSSESSIVE.sub("", word)
    return any(form in starts or form[:-1] in starts
               for form in {word, bare, word.rstrip("."), bare.rstrip(".")})


def _lookup(phrase: str, index: dict) -> tuple | None:
    held = _LOOKUPS.get(phrase, _UNKNOWN)
    if held is _UNKNOWN:
        if len(_LOOKUPS) > MAX_CACHED_NAMES:
            _LOOKUPS.clear()
        held = _LOOKUPS[phrase] = _lookup_forms(phrase, index)
    return held


_UNKNOWN = object()


def _lookup_forms(phrase: str, index: dict) -> tuple | None:
    candidates = [phrase, phrase.rstrip(".")]
    if phrase.isupper() and len(phrase) > 3:  # datelines: "YEREVAN, Nov 16 (Reuters)"
        candidates.append(phrase.title())
    for form in candidates:
        if form in index:
            return index[form]
        if form.endswith("s") and form[:-1] in gazetteer.demonym_forms():  # "Armenians", "Azeris"
            return index[form[:-1]]
    return None


def _plausible(held: tuple, phrase: str, text: str, tokens: list, i: int, n: int, words: set,
               language: str | None = None) -> tuple:
    """The places `phrase` can still mean here: none when it is a person's name, a word or a currency. `words` is
    every word of the text, as written."""
    end = tokens[i + n - 1][2]
    if text[end : end + 1] == "$":  # "US$2.4 million"
        return ()
    if n == 1 and (low := phrase.lower()) in words and low.islower():  # the text uses it as a word: "police"
        held = tuple(p for p in held if p.kind != "city")
        if phrase in PERSON_PRONE:
            return ()
    if n > 1 or (phrase not in PERSON_PRONE and all(p.kind != "city" for p in held)):
        return held
    if _inside_a_name(text, tokens, i, n, language in (None, "en")):  # "Chad Smith", "Michael Jordan"
        return () if phrase in PERSON_PRONE else tuple(p for p in held if p.kind != "city")
    if phrase == "Turkey" and re.search(r"\bThanksgiving\b", text):
        return ()
    return held


def _inside_a_name(text: str, tokens: list, i: int, n: int, english: bool = True) -> bool:
    """Whether the words at tokens[i:i+n] sit inside a longer capitalised name, joined by a single space. A
    capitalised word after the name says so only in English: German capitalises every noun ("in London Gold")."""
    if english and i + n < len(tokens):
        nxt = tokens[i + n]
        if nxt[0][:1].isupper() and text[tokens[i + n - 1][2] : nxt[1]] == " ":
            return True
    if i > 0:
        prev = tokens[i - 1]
        if prev[0][:1].isupper() and prev[0].lower() not in PLACE_LEADS and text[prev[2] : tokens[i][1]] == " ":
            return True
    return False


def _qualifier(text: str, tokens: list, j: int, quals: dict) -> tuple:
    """The state, province or country named right after a comma: "Paris, Tenn." -> (("US", "TN"),)."""
    if j >= len(tokens) or not _COMMA.fullmatch(text[tokens[j - 1][2] : tokens[j][1]]):
        return ()
    for n in range(min(3, len(tokens) - j), 0, -1):
        phrase = " ".join(tokens[k][0] for k in range(j, j + n))
        for form in (phrase, phrase.rstrip(".")):
            if form in quals:
                return quals[form]
    return ()


def _evidence(mentions: list[_Mention]) -> Counter:
    """What the unambiguous mentions say: weight per country and per (country, region)."""
    evidence: Counter = Counter()
    for m in mentions:
        qualified = _qualified(m)
        if qualified is None and not _unambiguous(m):
            continue
        code, region = qualified or (m.places[0].code, m.places[0].region)
        local = qualified is not None or m.places[0].kind in ("admin", "city")
        evidence[code] += 1.0 if local else COUNTRY_LEVEL_EVIDENCE
        if region:
            evidence[(code, region)] += 1.0
    return evidence


def _unambiguous(m: _Mention) -> bool:
    top = m.places[0]
    if top.kind in ("admin", "country"):  # a region's name is not made ambiguous by a small town of that name
        codes = {p.code for p in m.places if p.kind != "city" or p.population >= gazetteer.MIN_STANDALONE_CITY}
    else:
        codes = {p.code for p in m.places}
    return len(codes) == 1 and (top.kind != "city" or top.population >= gazetteer.MIN_STANDALONE_CITY)


def _qualified(m: _Mention) -> tuple[str, str] | None:
    """The (country, region) a qualifier gives the mention: "Athens, Ga." is the Athens in Georgia, US."""
    for code, region in m.qualifier:
        if any(p.code == code and (not region or p.region == region) for p in m.places):
            return code, region
    for code, region in m.qualifier:
        if any(p.code == code for p in m.places):
            return code, ""
    if m.qualifier and all(p.kind == "city" for p in m.places):  # a small town we do not list, in a state we do
        return m.qualifier[0]
    return None


def _resolve(m: _Mention, evidence: Counter) -> _Match | None:
    """One country for a mention: its qualifier, else the likeliest place given the rest of the text."""
    qualified = _qualified(m)
    if qualified is not None:
        return _Match(qualified[0], m.phrase, m.start, "city")

    def score(p: gazetteer.Place) -> float:
        bonus = COUNTRY_BONUS * math.log2(1 + evidence[p.code])
        if p.region and evidence[(p.code, p.region)]:
            bonus += REGION_BONUS
        return math.log10(max(p.population, 1)) + bonus

    places = m.places
    if places[0].kind != "city":  # a country or state name means a town only in the town's own state's news
        places = tuple(p for p in places if p.kind != "city" or evidence[(p.code, p.region)]) or places
    best = max(places, key=score)
    if best.kind == "city" and best.population < gazetteer.MIN_STANDALONE_CITY and not evidence[best.code]:
        return None  # a small town's name with nothing in the text to place it: too often a word or a person
    return _Match(best.code, m.phrase, m.start, best.kind)


TAGGER = "monitor-tagger"


def tagger_version(regions: Regions, topics: Topics, settings: TaggingSettings) -> str:
    """Names what tagged a row: the code's release, and a digest of the model, the rules and the settings, so a
    re-tag after any of them changes is told apart from the last (`monitor retag`)."""
    digest = hashlib.sha1(topicmodel.load().digest.encode())
    digest.update(gazetteer.digest().encode())  # new names or rules re-tag too
    for part in (regions, topics, settings):
        digest.update(part.model_dump_json().encode())
    return f"{TAGGER}/{__version__}+{digest.hexdigest()[:10]}"


class Tagger:
    """Country, region and topic tagging configured once from `config/`."""

    def __init__(self, regions: Regions, topics: Topics, settings: TaggingSettings) -> None:
        self.settings = settings
        self.region_of = _region_index(regions)
        self.topics = topics
        self.version = tagger_version(regions, topics, settings)
        self.topic_codes = [topic.code for topic in topics.topic]
        self.topic_labels = {topic.code: topic.label for topic in topics.topic}
        self.keywords = KeywordIndex(topics)
        codes = topicmodel.lexicon().codes
        # Lexicon hits land on the configured topics they name; a topic missing from config/topics.toml is ignored.
        self.lexicon_columns = np.array([codes.index(code) if code in codes else len(codes)
                                         for code in self.topic_codes])
        # the classifier's column of each configured topic, when it knows them all
        classes = topicmodel.load().classes
        self.model_columns = np.array([classes.index(code) for code in self.topic_codes]) \
            if set(self.topic_codes) <= set(classes) else None

    def tag(self, doc_id: str, title: str, body: str, captions: tuple[str, ...] = (),
            language: str | None = None, every_topic: bool = False) -> Tags:
        """Tag one document from its title, body and caption texts: places, then topics. `language` is the article's
        (ISO 639-1, as extraction found it); without it the tagger detects it from the text."""
        places = self.tag_places(doc_id, title, body, captions, language)
        # the language read for places tells the topic blend how much of the English classifier to hear
        topics = self.score_topics(title, body + "\n" + "\n".join(captions), places.language, every_topic)
        return dataclasses.replace(places, topics=topics)

    def tag_places(self, doc_id: str, title: str, body: str, captions: tuple[str, ...] = (),
                   language: str | None = None) -> Tags:
        """Countries (mentioned, about, in captions) and regions, without topics."""
        language = (language or "").replace("_", "-").split("-")[0].lower() \
            or detect_language(f"{title}\n{body[:DETECT_CHARS]}")  # "pt_BR", "de-DE" -> "pt", "de"
        status = "ok" if language is None or language in LANGUAGES else "unsupported-language"
        paragraphs = [p for p in body.split("\n") if p.strip()]
        lead, rest = (paragraphs[0], "\n".join(paragraphs[1:])) if paragraphs else ("", "")
        sections = [(title, self.settings.title_weight), (lead, self.settings.lead_weight), (rest, 1.0)]
        sections += [(caption, 1.0) for caption in captions]
        # One text, so each name is resolved with the whole article as context ("Paris" near "Henry County")
        text, bounds, offset = "", [], 0
        for section, weight in sections:
            bounds.append((offset + len(section), weight))
            text += section + "\n\n"
            offset = len(text)
        lead_end = len(title) + len(lead) + 4
        captions_start = sum(len(s) + 2 for s, _ in sections[:3])
        weights: Counter[str] = Counter()
        focus: Counter[str] = Counter()
        prominent: set[str] = set()
        caption_codes: set[str] = set()
        for match in find_countries(text, language):
            weight = next(w for end, w in bounds if match.start < end)
            weights[match.code] += weight
            # a city stands for its country's focus less than the country's name does ("one passing Paris")
            focus[match.code] += weight * (CITY_FOCUS_WEIGHT if match.kind == "city" else 1.0)
            if match.start < lead_end:
                prominent.add(match.code)
            if match.start >= captions_start:
                caption_codes.add(match.code)
        mentions = dict(weights)
        countries = tuple(sorted(weights))
        total = sum(weights.values()) or 1.0
        focus_total = sum(focus.values()) or 1.0
        about = tuple(c for c, w in focus.most_common(MAX_ABOUT)
                      if w / focus_total >= self.settings.about_min_share
                      and (c in prominent or weights[c] >= ABOUT_MIN_MENTIONS))
        confidence = {c: round(w / total, 4) for c, w in weights.items()}
        region_share: Counter[str] = Counter()
        for c in countries:
            for region in self.region_of.get(c, ()):
                region_share[region] += confidence[c]
        regions_about = tuple(sorted({r for c in about for r in self.region_of.get(c, ())}))
        confidence.update({r: round(min(share, 1.0), 4) for r, share in region_share.items()})
        return Tags(doc_id, countries, about, tuple(sorted(region_share)), (), mentions,
                    tuple(sorted(caption_codes)), confidence, self.version, language=language, status=status,
                    regions_about=regions_about)

    def score_topics(self, title: str, text: str, language: str | None = None, every: bool = False
                     ) -> tuple[TopicScore, ...]:
        """Topic probabilities from the shipped classifier and the keyword rules, best first: the confident ones
        (`tagging.max_topics` at most, each at least `tagging.min_topic_score`), or with `every` all 17 top-level
        topics, each with its score; then the narrower topics of the confident ones.

        The English-trained classifier speaks in proportion to how English the text is (`language` when given,
        else the share of English function words); the rules of topics.toml and the multilingual lexicon always."""
        codes = self.topic_codes
        model = topicmodel.load()
        if language is None:
            english = topicmodel.english_share(title + "\n" + text)
        else:
            english = 1.0 if language == "en" else 0.0
        title_words, text_words = _TextWords(title), _TextWords(text)
        evidence = self.rule_evidence(title, text, (title_words, text_words))
        rules = evidence + RULE_PRIOR
        combined = np.log(rules / rules.sum())
        if english > 0:
            learned = model.log_probabilities(title + "\n" + title + "\n" + text)  # the title counts twice
            if self.model_columns is not None:
                learned = learned[self.model_columns]
            else:  # a configured topic the classifier does not know gets a uniform share
                by_code = dict(zip(model.classes, learned))
                uniform = -math.log(len(codes))
                learned = np.array([by_code.get(code, uniform) for code in codes])
            share = english * (1 - RULES_SHARE) * RULES_HALF / (RULES_HALF + evidence.sum())
            combined = share * learned + (1 - share) * combined
        probability = np.exp(combined - combined.max())
        probability /= probability.sum()
        ranked = np.argsort(-probability, kind="stable").tolist()  # best first, ties in config order
        scores, labels = probability.tolist(), self.topic_labels

        def scored(k: int) -> TopicScore:
            return TopicScore(codes[k], labels[codes[k]], round(scores[k], 4))

        # Rounding keeps the order, so the confident topics are a prefix of the ranking: only those are made
        kept = []
        for k in ranked[: self.settings.max_topics]:
            topic = scored(k)
            if topic.score < self.settings.min_topic_score:
                break
            kept.append(topic)
        kept = (kept or [scored(ranked[0])])[: self.settings.max_topics]
        out = [scored(k) for k in ranked] if every else kept
        # the narrower topics' words of title, title and text are those of each: "\n" joins no word
        words = title_words.words + title_words.words + text_words.words
        return tuple(out) + self.narrower_topics(kept, title + "\n" + title + "\n" + text, words)

    def narrower_topics(self, top: list[TopicScore], text: str, words: list[str] | None = None
                        ) -> tuple[TopicScore, ...]:
        """For each confident top-level topic, its second-level topic whose labels the text uses most, if any
        is used at least NARROWER_MIN_HITS times; scored as the parent's score times its share of those hits.
        `words`, when given, are the words of `text` as `topicmodel.narrower` splits them."""
        narrower = topicmodel.narrower()
        hits = narrower.evidence(text, words)
        out = []
        for parent in top:
            if parent.score < NARROWER_MIN_PARENT:
                continue
            children = {code: n for code, n in hits.items() if narrower.parent[code] == parent.code}
            if not children:
                continue
            best = max(children, key=lambda code: (children[code], code))
            if children[best] >= NARROWER_MIN_HITS:
                share = children[best] / sum(children.values())
                out.append(TopicScore(best, narrower.labels[best], round(parent.score * share, 4), level=2))
        return tuple(out)

    def rule_evidence(self, title: str, text: str, words: tuple[_TextWords, _TextWords] | None = None
                      ) -> np.ndarray:
        """Keyword evidence per topic (in `topic_codes` order), the title counting double. `words` are those of
        title and text, split once for the keyword rules and the lexicon alike."""
        title_words, text_words = words or (_TextWords(title), _TextWords(text))
        rules = 2.0 * self.keywords.evidence(title, title_words.glued) + self.keywords.evidence(text, text_words.glued)
        lexicon = topicmodel.lexicon()
        found = np.add(np.multiply(lexicon.evidence(title, title_words.plain), 2.0),
                       lexicon.evidence(text, text_words.plain))
        return rules + np.append(found, 0.0)[self.lexicon_columns]  # the appended 0 is for unknown codes


class KeywordIndex:
    """The keyword rules of topics.toml as lookups over a text's words, one pass per text.

    A keyword is one or more words, matched whole and case-insensitively; a trailing * matches any ending of the
    last word ("elect*" matches election); a keyword in capitals matches only in capitals ("WHO", "AIDS"). A weak
    keyword adds WEAK_WEIGHT instead of 1."""

    def __init__(self, topics: Topics) -> None:
        self.size = len(topics.topic)
        self.exact: dict[tuple[str, ...], list[tuple[int, float]]] = {}
        self.prefix: dict[tuple[str, ...], list[tuple[int, float]]] = {}
        self.capitals: dict[str, list[tuple[int, float]]] = {}
        for k, topic in enumerate(topics.topic):
            for keywords, weight in ((topic.keywords, 1.0), (topic.weak_keywords, WEAK_WEIGHT)):
                for keyword in keywords:
                    if keyword.isupper() and len(keyword) > 1 and " " not in keyword:
                        self.capitals.setdefault(keyword, []).append((k, weight))
                        continue
                    table = self.prefix if keyword.endswith("*") else self.exact
                    words = tuple(_WORD.findall(keyword.rstrip("*").lower()))
                    if words:
                        table.setdefault(words, []).append((k, weight))
        self.longest = max((len(w) for w in (*self.exact, *self.prefix)), default=1)
        self.prefix_lengths = sorted({len(w[-1]) for w in self.prefix}, reverse=True)
        self.first_words = {w[0] for w in (*self.exact, *self.prefix) if len(w) > 1}
        self.memo: tuple[dict, dict, set] = ({}, {}, set())  # see _memo
        # any capitals keyword written anywhere, even inside a word: a text without one needs no word split for them
        self.capital_letters = re.compile("|".join(map(re.escape, self.capitals)) or "(?!)")

    def _entries(self, phrase: tuple[str, ...]) -> list[tuple[int, float]]:
        """Every (topic, weight) whose keyword matches exactly this phrase."""
        found = list(self.exact.get(phrase, ()))
        last = phrase[-1]
        for length in self.prefix_lengths:
            if length <= len(last):
                found += self.prefix.get((*phrase[:-1], last[:length]), ())
        return found

    def _memo(self) -> tuple[dict, dict, set]:
        """The single-word matches remembered: every word looked up -> its matches, the words that match -> theirs,
        and those words as a set (a set meets a set in C). Replaced whole when full, never cleared, so a text
        (or another thread) reading the old one still reads a consistent one."""
        memo = self.memo
        if len(memo[0]) > MAX_CACHED_WORDS:
            memo = self.memo = ({}, {}, set())
        return memo

    def evidence(self, text: str, words: list[str] | None = None) -> np.ndarray:
        """Evidence per topic in `text`; `words`, when given, are its lower-cased words as _WORD finds them."""
        # Only the distinct words with a match are visited, found by set operations in C. The sums are of
        # quarters and whole numbers, exact in floating point, so the order they are added in changes nothing.
        scores = [0.0] * self.size  # a list: adding to a numpy element one at a time costs ~10x more
        capitals = self.capitals
        if self.capital_letters.search(text):
            cased = _WORD.findall(text)
            for word in capitals.keys() & set(cased):
                count = cased.count(word)
                for k, weight in capitals[word]:
                    scores[k] += weight * count
        if words is None:
            words = _WORD.findall(text.lower())
        counts = Counter(words)
        distinct = set(counts)
        cache, hits, hit_words = self._memo()
        for word in distinct.difference(cache):  # words not seen before (a dict argument is looked up, not walked)
            found = self._entries((word,))
            if found:
                hits[word] = found
                hit_words.add(word)
            cache[word] = found  # last: a word in `cache` is already in `hits`
        for word in distinct & hit_words:
            count = counts[word]
            for k, weight in hits[word]:
                scores[k] += weight * count
        first_words = self.first_words
        if not first_words.isdisjoint(counts):
            for i in compress(range(len(words)), map(first_words.__contains__, words)):
                for n in range(min(self.longest, len(words) - i), 1, -1):
                    for k, weight in self._entries(tuple(words[i : i + n])):
                        scores[k] += weight
        return np.array(scores)


class _TextWords:
    """The lower-cased words of a text, split once for every topic reader that can use them: `words` as \\w+ finds
    them (the narrower topics), `plain` the same when they are the lexicon's (no "_" to split at, no Turkish
    dotted capital I) else None, `glued` joined at single hyphens and apostrophes as _WORD finds them (the
    keyword rules)."""

    __slots__ = ("words", "plain", "glued")

    def __init__(self, text: str) -> None:
        lowered = text.lower()
        pieces = _WORD_PARTS.split(lowered)  # separator, word, separator, ..., word, separator
        self.words = words = pieces[1::2]
        self.plain = words if "_" not in lowered and "\u0307" not in lowered else None
        # _WORD runs on over one "-", "'" or "’" between words; every other separator ends a word
        joins = list(compress(range(len(words) - 1), map(_WORD_JOINS.__contains__, pieces[2:-1:2])))
        if not joins:
            self.glued = words
            return
        glued, last, j = [], 0, 0
        while j < len(joins):
            first = end = joins[j]
            while j + 1 < len(joins) and joins[j + 1] == end + 1:
                j, end = j + 1, end + 1
            glued += words[last:first]
            glued.append("".join(pieces[2 * first + 1 : 2 * end + 4]))  # words first .. end+1 and their joins
            last, j = end + 2, j + 1
        self.glued = glued + words[last:]


_WORD_PARTS = re.compile(r"(\w+)")
_WORD_JOINS = frozenset({"-", "'", "’"})


def tag_articles(articles: list[Article], regions: Regions, topics: Topics, settings: TaggingSettings) -> list[Tags]:
    """Tag a batch of articles from their title, body and captions."""
    tagger = Tagger(regions, topics, settings)
    return [tagger.tag(a.article_id, a.title, a.body, tuple(c.text for c in a.captions), a.language)
            for a in articles]


# A weak keyword ("officials", "talks") adds a quarter of a keyword: it leans, it does not decide.
WEAK_WEIGHT = 0.25
# A second-level topic is named only under a top-level one this likely, and only when the text uses its labels
# (or its descendants' labels) this often, the title counting twice: one stray "disaster" names nothing.
NARROWER_MIN_PARENT = 0.3
NARROWER_MIN_HITS = 2
# Distinct words whose keyword matches are remembered; news vocabulary is far smaller, this only bounds memory.
MAX_CACHED_WORDS = 200_000
# Added to every topic's keyword evidence, so no keyword hit is a gentle "less likely", not "impossible".
RULE_PRIOR = 0.5
# The keyword rules' say in the final score for English text with no keyword hits; the classifier has the rest.
# Chosen on AG News, where rules alone scored macro-F1 0.77, the classifier alone 0.87 and this blend 0.89
# (docs/benchmarks.md). For text that is not English the rules and the multilingual lexicon have all the say.
RULES_SHARE = 0.35
# The classifier's say shrinks as keyword evidence piles up: at RULES_HALF hits it has half its share. It learned
# from short 2004-05 BBC texts and knows only 5 of the 17 topics from articles, so a long current article with
# twenty topic words is better read by the words (masakhane-dev English accuracy 0.754 -> 0.837), while a
# two-sentence AG News item, with few hits, is still read mostly by the classifier (0.875 -> 0.870).
RULES_HALF = 20.0


def _region_index(regions: Regions) -> dict[str, tuple[str, ...]]:
    """ISO2 -> every region it belongs to: its M49 sub-region, that region's ancestors, and custom groups."""
    parent = {name: region.parent for name, region in regions.m49.items()}
    index: dict[str, set[str]] = {}
    for name, region in regions.m49.items():
        for code in region.countries:
            chain, node = index.setdefault(code, set()), name
            while node is not None and node not in chain:  # "not in chain" guards against a cycle in config
                chain.add(node)
                node = parent.get(node)  # continents are parents only, so the walk ends there
    for name, group in regions.group.items():
        for code in group.countries:
            index.setdefault(code, set()).add(name)
    return {code: tuple(sorted(names)) for code, names in index.items()}
