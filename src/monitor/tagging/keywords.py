"""The keyword rules of config/topics.toml over a text's words (one of the tagger's three topic readers)."""

from __future__ import annotations

import re
from collections import Counter
from itertools import compress

import numpy as np

from monitor.config import Topics

_WORD = re.compile(r"\w+(?:[-'’]\w+)*")  # a word for the keyword rules: "record-breaking" is one

# A weak keyword ("officials", "talks") adds a quarter of a keyword: it leans, it does not decide.
WEAK_WEIGHT = 0.25
# Distinct words whose keyword matches are remembered; news vocabulary is far smaller, this only bounds memory.
MAX_CACHED_WORDS = 200_000


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
        # the words before the last of every phrase: only the last word may be a stem, so a phrase whose other words
        # are none of these matches nothing
        self.heads = frozenset(w[:-1] for w in (*self.exact, *self.prefix) if len(w) > 1)
        # first word -> the second words of its phrases, one of which a text must hold for them to match; None when
        # one of them is a stem ("climate chang*"): its phrases are then always tried
        self.seconds: dict[str, frozenset[str] | None] = {}
        for first in self.first_words:
            after = [w[1:] for w in (*self.exact, *self.prefix) if len(w) > 1 and w[0] == first]
            stem = any(w[0] == first and len(w) == 2 for w in self.prefix)
            self.seconds[first] = None if stem else frozenset(rest[0] for rest in after)
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
        return np.array(self.scores(text, words))

    def scores(self, text: str, words: list[str] | None = None) -> list[float]:
        """`evidence` as a list (the tagger adds it up in Python: 17 numbers are summed faster so)."""
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
        heads, seconds = self.heads, self.seconds
        # the first words here that may open a phrase here (a phrase's second word is whole unless it is its last)
        first_words = {w for w in self.first_words.intersection(distinct)
                       if seconds[w] is None or not seconds[w].isdisjoint(distinct)}
        if first_words:
            for i in compress(range(len(words)), map(first_words.__contains__, words)):
                for n in range(min(self.longest, len(words) - i), 1, -1):
                    if tuple(words[i : i + n - 1]) not in heads:
                        continue
                    for k, weight in self._entries(tuple(words[i : i + n])):
                        scores[k] += weight
        return scores


class _TextWords:
    """The lower-cased words of a text, split once for every topic reader that can use them: `words` as \\w+ finds
    them (the narrower topics), `plain` the same when they are the lexicon's (no "_" to split at, no Turkish
    dotted capital I) else None, `glued` joined at single hyphens and apostrophes as _WORD finds them (the
    keyword rules), `quoted` joined only where a lone "'" stands between them (the classifier's stretches of text:
    its `[a-z]+(?:'[a-z]+)?` words never cross any other gap between words)."""

    __slots__ = ("words", "plain", "glued", "quoted")

    def __init__(self, text: str) -> None:
        lowered = text.lower()
        pieces = _WORD_PARTS.split(lowered)  # separator, word, separator, ..., word, separator
        self.words = words = pieces[1::2]
        self.plain = words if "_" not in lowered and "\u0307" not in lowered else None
        self.glued = self.quoted = words
        # _WORD runs on over one "-", "'" or "’" between words; every other separator ends a word
        if "'" in lowered or "-" in lowered or "’" in lowered:  # else no joiner at all (found by memchr)
            joins = list(compress(range(len(words) - 1), map(_WORD_JOINS.__contains__, pieces[2:-1:2])))
            self.glued = _glue(words, pieces, joins)
            self.quoted = _glue(words, pieces, [i for i in joins if pieces[2 * i + 2] == "'"])


def _glue(words: list[str], pieces: list[str], joins: list[int]) -> list[str]:
    """`words` with each run of words joined at the separators after the words numbered in `joins` made one word,
    its separators kept (`pieces` are the words and the separators around and between them)."""
    if not joins:
        return words
    glued, last, j = [], 0, 0
    while j < len(joins):
        first = end = joins[j]
        while j + 1 < len(joins) and joins[j + 1] == end + 1:
            j, end = j + 1, end + 1
        glued += words[last:first]
        glued.append("".join(pieces[2 * first + 1 : 2 * end + 4]))  # words first .. end+1 and their joins
        last, j = end + 2, j + 1
    return glued + words[last:]


_WORD_PARTS = re.compile(r"(\w+)")
_WORD_JOINS = frozenset({"-", "'", "’"})
