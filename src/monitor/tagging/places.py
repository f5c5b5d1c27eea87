"""The countries a text mentions: every place name found and resolved to one country with the text as context.

Only the text we are given is tagged (title, body, captions): the extractor has already removed navigation,
related links and footers, so countries named only there are never tagged.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import compress, filterfalse

from monitor.tagging import gazetteer
from monitor.tagging.foreign import _find_foreign
from monitor.tagging.names import _in_organisation, _Match, _Mention, _split, _Tokens

# Possessive (*+): nothing after a part can fail, so giving characters back never finds another match, and the
# engine is spared remembering where it could (the splits are the same; about a tenth faster)
_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*+(?:\.[^\W\d_]+)*+\.?|\d++")
_TOKEN_PARTS = re.compile(f"({_TOKEN.pattern})")  # the same words, for re.split
_POSSESSIVE = re.compile(r"['’]s?$")
_COMMA = re.compile(r"\s*,\s*")
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
        merged[k] = merged[k]._replace(places=tuple(sorted(places, key=lambda p: -p.population)))
    ordered = sorted(merged + rest, key=lambda m: (m.start, -(m.end - m.start)))
    out: list[_Mention] = []
    for m in ordered:
        if out and m.start < out[-1].end and (m.start, m.end) != (out[-1].start, out[-1].end):
            continue
        out.append(m)
    return out


def _find_mentions(text: str, language: str | None = None) -> list[_Mention]:
    index, quals = gazetteer.places(), gazetteer.qualifiers()
    words, bounds = _split(_TOKEN_PARTS, text)
    distinct = set(words)
    cased = set(filterfalse(str.islower, distinct))  # the few not in lower case, picked out in C
    starters = _starters(cased)
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


# Remembered per distinct word or phrase (the gazetteer never changes in a process); bounds memory only.
MAX_CACHED_NAMES = 200_000
# [(every capitalised token seen, those that may start a name)]: replaced whole when full, never cleared, so a
# text (or another thread) reading the old pair reads a consistent one
_STARTS: list[tuple[set[str], set[str]]] = [(set(), set())]
_LOOKUPS: dict[str, tuple | None] = {}


def _starters(cased: set[str]) -> set[str]:
    """The tokens of `cased` that may start a name (capitalised, and `_may_start_a_name`), remembered per token:
    only the unseen ones are tried, and the rest are found by set operations in C."""
    if len(_STARTS[0][0]) > MAX_CACHED_NAMES:
        _STARTS[0] = (set(), set())
    seen, starters = _STARTS[0]
    unseen = cased.difference(seen)
    if unseen:
        first = gazetteer.first_words()
        starters.update(t for t in unseen if t[0].isupper() and _may_start_a_name(t, first))
        seen.update(unseen)  # last: a token in `seen` is already in `starters` if it may start a name
    return cased.intersection(starters)


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
    if len(m.places) == 1:  # most names: one country, so only a small town's size can make it doubtful
        return top.kind != "city" or top.population >= gazetteer.MIN_STANDALONE_CITY
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
    best = max(places, key=score) if len(places) > 1 else places[0]  # one place needs no scoring
    if best.kind == "city" and best.population < gazetteer.MIN_STANDALONE_CITY and not evidence[best.code]:
        return None  # a small town's name with nothing in the text to place it: too often a word or a person
    return _Match(best.code, m.phrase, m.start, best.kind)
