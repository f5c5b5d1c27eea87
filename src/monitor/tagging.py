"""Tag a document with the countries it mentions and is about, its world regions and IPTC topics.

Only the text we are given is tagged (title, body, captions): the extractor has already removed navigation,
related links and footers, so countries named only there are never tagged.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from monitor import gazetteer
from monitor.config import Regions, TaggingSettings, Topics
from monitor.models import Article, Tags, TopicScore

_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*(?:\.[^\W\d_]+)*\.?|\d+")
_POSSESSIVE = re.compile(r"['’]s?$")
MAX_PHRASE_TOKENS = 4  # "Democratic Republic of Congo" is the longest common form we need
# Names that are also people, birds or words: taken as places only where nothing marks them as a name.
PERSON_PRONE = frozenset({"Jordan", "Chad", "Georgia", "Israel", "Paris", "Washington", "Sydney", "Florence",
                          "Austin", "Houston", "Kenya", "Turkey", "Victoria", "Lincoln", "Jackson", "Diet"})
# Words that, near "Georgia", say it is the US state.
US_GEORGIA_CUES = re.compile(
    r"\b(Atlanta|Savannah|Macon|Augusta|Athens|Columbus|Ga\.|county|counties|Gov\.|governor|Peach State|"
    r"Alabama|Florida|Tennessee|South Carolina|North Carolina|Georgia Tech|University of Georgia|Bulldogs)\b"
)
CAUCASUS_CUES = re.compile(r"\b(Tbilisi|Georgian|Caucasus|Abkhazia|Ossetia|Batumi|Kutaisi|Saakashvili|Kremlin|Moscow)\b")
# Prepositions and articles after which a capitalised place name is a place, not part of a person's name.
PLACE_LEADS = frozenset({"in", "to", "from", "of", "and", "or", "at", "with", "by", "for", "across", "near",
                         "into", "on", "against", "between", "the", "over", "via", "toward", "towards", "as"})


def _is_sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"“'‘(")
    return not before or before[-1] in ".!?\n:;—–-"


@dataclass(frozen=True, slots=True)
class _Match:
    code: str
    phrase: str
    start: int


def find_countries(text: str) -> list[_Match]:
    """Every country reference in `text`: names, aliases, demonyms, metonyms, capitals and large cities."""
    names, adjectives, cities = gazetteer.country_names(), gazetteer.demonyms(), gazetteer.city_names()
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: list[_Match] = []
    i = 0
    while i < len(tokens):
        step = 1
        for n in range(min(MAX_PHRASE_TOKENS, len(tokens) - i), 0, -1):
            words = [t[0] for t in tokens[i : i + n]]
            words[-1] = _POSSESSIVE.sub("", words[-1])
            phrase = " ".join(words)
            code = _lookup(phrase, names, adjectives, cities)
            if code and _accept(phrase, code, text, tokens, i, n):
                found.append(_Match(_resolve(phrase, code, text), phrase, tokens[i][1]))
                step = n
                break
        i += step
    return found


def _lookup(phrase: str, names: dict, adjectives: dict, cities: dict) -> str | None:
    if not phrase or not phrase[0].isupper():
        return None
    candidates = [phrase, phrase.rstrip(".")]
    if phrase.isupper() and len(phrase) > 3:  # datelines: "YEREVAN, Nov 16 (Reuters)"
        candidates.append(phrase.title())
    for form in candidates:
        for table in (names, adjectives, cities):
            if form in table:
                return table[form]
        if form.endswith("s") and form[:-1] in adjectives:  # "Armenians", "Azeris"
            return adjectives[form[:-1]]
    return None


def _accept(phrase: str, code: str, text: str, tokens: list, i: int, n: int) -> bool:
    """Reject person-prone names that sit inside a person's or an organisation's name."""
    if phrase not in PERSON_PRONE:
        return True
    start = tokens[i][1]
    nxt = tokens[i + n][0] if i + n < len(tokens) else ""
    prev = tokens[i - 1][0] if i > 0 else ""
    if nxt[:1].isupper() and not _is_sentence_start(text, tokens[i + n][1]):
        return False  # "Chad Smith", "Jordan Peterson"
    if prev[:1].isupper() and prev.lower() not in PLACE_LEADS and not _is_sentence_start(text, start):
        return False  # "Michael Jordan", "George Washington"
    if phrase == "Turkey" and re.search(r"\bThanksgiving\b", text):
        return False
    return True


def _resolve(phrase: str, code: str, text: str) -> str:
    """Georgia the state or the country, from the words around it."""
    if phrase == "Georgia":
        us, caucasus = len(US_GEORGIA_CUES.findall(text)), len(CAUCASUS_CUES.findall(text))
        return "US" if us > caucasus else "GE"
    return code


class Tagger:
    """Country, region and topic tagging configured once from `config/`."""

    def __init__(self, regions: Regions, topics: Topics, settings: TaggingSettings) -> None:
        self.settings = settings
        self.region_of = _region_index(regions)
        self.topics = topics
        self.topic_patterns = [
            (topic, _keyword_pattern(topic.keywords), _keyword_pattern(topic.weak_keywords))
            for topic in topics.topic
        ]

    def tag(self, doc_id: str, title: str, body: str, captions: tuple[str, ...] = ()) -> Tags:
        """Tag one document from its title, body and caption texts."""
        weights: Counter[str] = Counter()
        paragraphs = [p for p in body.split("\n") if p.strip()]
        lead, rest = (paragraphs[0], "\n".join(paragraphs[1:])) if paragraphs else ("", "")
        for text, weight in ((title, self.settings.title_weight), (lead, self.settings.lead_weight), (rest, 1.0)):
            for match in find_countries(text):
                weights[match.code] += weight
        caption_codes: Counter[str] = Counter()
        for caption in captions:
            caption_codes.update(m.code for m in find_countries(caption))
        weights.update(caption_codes)
        mentions = dict(weights)
        countries = tuple(sorted(weights))
        total = sum(weights.values()) or 1.0
        about = tuple(c for c, w in weights.most_common(3) if w / total >= self.settings.about_min_share)
        regions = tuple(sorted({r for c in countries for r in self.region_of.get(c, ())}))
        topics = self.score_topics(title, body + "\n" + "\n".join(captions))
        return Tags(doc_id, countries, about, regions, topics, mentions, tuple(sorted(caption_codes)))

    def score_topics(self, title: str, text: str) -> tuple[TopicScore, ...]:
        """Keyword evidence per topic, the title counting double, as shares of all evidence."""
        raw: dict[str, float] = {}
        for topic, strong, weak in self.topic_patterns:
            score = 0.0
            for chunk, factor in ((title, 2.0), (text, 1.0)):
                if strong is not None:
                    score += factor * len(strong.findall(chunk))
                if weak is not None:
                    score += factor * WEAK_WEIGHT * len(weak.findall(chunk))
            if score >= MIN_TOPIC_EVIDENCE:
                raw[topic.code] = score
        total = sum(raw.values())
        labels = {t.code: t.label for t in self.topics.topic}
        ranked = sorted(raw.items(), key=lambda kv: -kv[1])
        out = [TopicScore(code, labels[code], round(score / total, 4)) for code, score in ranked]
        kept = [t for t in out if t.score >= self.settings.min_topic_score] or out[:1]
        return tuple(kept[: self.settings.max_topics])


def tag_articles(articles: list[Article], regions: Regions, topics: Topics, settings: TaggingSettings) -> list[Tags]:
    """Tag a batch of articles from their title, body and captions."""
    tagger = Tagger(regions, topics, settings)
    return [tagger.tag(a.article_id, a.title, a.body, tuple(c.text for c in a.captions)) for a in articles]


# A weak keyword ("officials", "talks") adds a quarter of a keyword: it leans, it does not decide.
WEAK_WEIGHT = 0.25
# One keyword hit in a body is noise; a topic needs this much weighted evidence to be considered.
MIN_TOPIC_EVIDENCE = 1.0


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    if not keywords:
        return None
    parts = [re.escape(k[:-1]) + r"\w*" if k.endswith("*") else re.escape(k) for k in keywords]
    return re.compile(r"(?<![\w-])(?:" + "|".join(sorted(parts, key=len, reverse=True)) + r")(?![\w-])", re.I)


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
