"""Place names in the languages beyond English: word n-grams over scripts with spaces, substrings over Han, kana
and Hangul (the gazetteer's foreign index)."""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import compress

from monitor.tagging import gazetteer, gazetteer_foreign
from monitor.tagging.gazetteer_i18n import LANGUAGE_LEADS, LANGUAGE_WORDS
from monitor.tagging.names import _SENTENCE_END, _in_organisation, _Mention, _split, _Tokens


def _find_foreign(text: str, language: str | None = None) -> list[_Mention]:
    """Names in the languages beyond English: word n-grams over scripts with spaces, substrings over Han, kana and
    Hangul. A name (not an adjective) must be capitalised where its script has capitals, and is not taken when the
    same word is used in lower case elsewhere in the text ("la réunion" makes "Réunion" a meeting too). In an English
    text only names in other scripts are read: a Latin-script spelling that English lacks is there far more often a
    word or a surname ("Valley", "Manning") than German or Polish for a place."""
    index = gazetteer_foreign.foreign()
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
        folded = [gazetteer_foreign.fold(w) for w in folded]
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
    lower_first = gazetteer_foreign.foreign_lower_first_words()
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
    spans = set()
    for at in joiners:
        # the word that ends here, if one does: ends sit at odd places in `bounds`, which only rises (a word is
        # never empty, so no word starts where another ends)
        p = bisect_left(bounds, at)
        if p % 2 == 0 or p >= len(bounds) or bounds[p] != at:
            continue
        j = p // 2
        if j + 1 >= count or bounds[2 * j + 2] != at + 1:
            continue  # not between two words
        start, end = bounds[2 * j], at
        if _LETTER.match(text, start) and (start == 0 or text[start - 1] not in "'’-"):
            spans.add((start, end))
        if text[at] in "'’" and _LETTER.match(text, at + 1):
            spans.add((at + 1, bounds[2 * j + 3]))
    return sorted(spans)


_JOINER = re.compile(r"[-'’]")
_LETTER = re.compile(r"[^\W\d_]")


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


_FOREIGN_WORDS = re.compile(r"\w+")  # the words of gazetteer_foreign.key(), so text and names split alike
_FOREIGN_PARTS = re.compile(r"(\w+)")  # the same words, for re.split
# A capitalised word joined to the next by a hyphen or apostrophe, or following an apostrophe: "US-Wahlen",
# "Türkiye'de", "l'Ukraine".
_IN_A_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]\w*(?=[-'’]\w)|(?<=\w['’])[^\W\d_]\w*")
# Any character past Latin (U+0250 on) other than general punctuation (quotes, dashes): a text without one has no
# word in another script. Punctuation is excluded because English news is full of curly quotes and dashes.
_BEYOND_LATIN = re.compile(r"[^\u0000-\u024f\u2000-\u206f]")
_KATAKANA = re.compile(r"[\u30a0-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def _find_wide(text: str, index: gazetteer_foreign.ForeignIndex) -> list[_Mention]:
    """Names inside runs of Han, kana and Hangul, longest first at each position. A katakana name must not be part
    of a longer katakana word ("インド" in "インドア"), and a Hangul name must start a word (particles follow it)."""
    found: list[_Mention] = []
    wide, by_first = index.wide, index.wide_lengths
    for run in gazetteer_foreign.WIDE_RUN.finditer(text):
        s, base = run.group(), run.start()
        i, size = 0, len(s)
        while i < size:
            lengths = by_first.get(s[i])
            if lengths is None:
                i += 1
                continue
            step = 1
            for length in lengths:  # only the lengths of names that start with this character, longest first
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
