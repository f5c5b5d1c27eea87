"""The records and word helpers both name matchers share (places.py for English, foreign.py for the rest)."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import NamedTuple

from monitor.tagging import gazetteer


class _Match(NamedTuple):  # a tuple: made for every name found, and a tuple is made several times faster
    code: str
    phrase: str
    start: int
    kind: str = "country"  # the kind of name that made it: country, demonym, admin or city


class _Mention(NamedTuple):
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


def _in_organisation(text: str, tokens: list, i: int, n: int) -> bool:
    end = i + n
    if i > 0 and tokens[i - 1][0] in ORG_LEADS and text[tokens[i - 1][2] : tokens[i][1]] == " ":
        return True
    return end < len(tokens) and tokens[end][0] in ORG_TAILS and text[tokens[end - 1][2] : tokens[end][1]] == " "


def _split(parts: re.Pattern, text: str) -> tuple[list[str], list[int]]:
    """The words `parts` (a pattern in one capturing group) finds in `text`, and their bounds: word j runs from
    bounds[2j] to bounds[2j+1]. Split and summed in C: a Python loop over match objects costs several times more."""
    pieces = parts.split(text)
    return pieces[1::2], list(accumulate(map(len, pieces)))
