"""Tag a document with the countries it mentions and is about, its world regions and IPTC topics.

Only the text we are given is tagged (title, body, captions): the extractor has already removed navigation,
related links and footers, so countries named only there are never tagged.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter

import numpy as np

from monitor import __version__
from monitor.config import Regions, TaggingSettings, Topics
from monitor.language import detect_language
from monitor.models import Article, Tags, TopicScore
from monitor.tagging import gazetteer, topicmodel
from monitor.tagging.gazetteer_i18n import LANGUAGES
from monitor.tagging.keywords import KeywordIndex, _TextWords
from monitor.tagging.places import find_countries

# Focus ("about"): at most this many countries; a city's mention counts this much of a country name's, so a passing
# "Paris" does not make France the story's focus; and a country outside the title and lead needs this many
# (weighted) mentions. Chosen on the multilingual development set (docs/benchmarks.md).
MAX_ABOUT = 3
# Text given to the language detector when the caller names no language: its cost grows with the length, and the
# title and first paragraph say the language as surely as the whole text for what the tagger does with it.
DETECT_CHARS = 400
CITY_FOCUS_WEIGHT = 0.5
ABOUT_MIN_MENTIONS = 2.0
# A second-level topic is named only under a top-level one this likely, and only when the text uses its labels
# (or its descendants' labels) this often, the title counting twice: one stray "disaster" names nothing.
NARROWER_MIN_PARENT = 0.3
NARROWER_MIN_HITS = 2
# Added to every topic's keyword evidence, so no keyword hit is a gentle "less likely", not "impossible".
RULE_PRIOR = 0.5
# The keyword rules' say in the final score for English text with no keyword hits; the classifier has the rest.
# Chosen on AG News, where rules alone scored macro-F1 0.77, the classifier alone 0.87 and this blend 0.89
# (docs/benchmarks.md). For text that is not English the rules and the multilingual lexicon have all the say (the
# rules only where they cannot misread the language's own words: topicmodel.RULES_SILENT_LANGUAGES).
RULES_SHARE = 0.35
# The classifier's say shrinks as keyword evidence piles up: at RULES_HALF hits it has half its share. It learned
# from short 2004-05 BBC texts and knows only 5 of the 17 topics from articles, so a long current article with
# twenty topic words is better read by the words (masakhane-dev English accuracy 0.754 -> 0.837), while a
# two-sentence AG News item, with few hits, is still read mostly by the classifier (0.875 -> 0.870).
RULES_HALF = 20.0


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
        self.lexicon_slots = [codes.index(code) if code in codes else len(codes) for code in self.topic_codes]
        # the classifier's column of each configured topic, when it knows them all
        classes = topicmodel.load().classes
        self.model_columns = np.array([classes.index(code) for code in self.topic_codes]) \
            if set(self.topic_codes) <= set(classes) else None

    def tag(self, doc_id: str, title: str, body: str, captions: tuple[str, ...] = (),
            language: str | None = None, every_topic: bool = False) -> Tags:
        """Tag one document from its title, body and caption texts: places, then topics. `language` is the article's
        (ISO 639-1, as extraction found it); without it the tagger detects it from the text."""
        language = self._language(title, body, language)
        # the language read for places tells the topic blend how much of the English classifier to hear
        topics = self.score_topics(title, body + "\n" + "\n".join(captions), language, every_topic)
        return self._tag_places(doc_id, title, body, captions, language, topics)

    def tag_places(self, doc_id: str, title: str, body: str, captions: tuple[str, ...] = (),
                   language: str | None = None) -> Tags:
        """Countries (mentioned, about, in captions) and regions, without topics."""
        return self._tag_places(doc_id, title, body, captions, self._language(title, body, language))

    @staticmethod
    def _language(title: str, body: str, language: str | None) -> str | None:
        """The given language's ISO 639-1 code ("pt_BR", "de-DE" -> "pt", "de"), else the one detected."""
        return (language or "").replace("_", "-").split("-")[0].lower() \
            or detect_language(f"{title}\n{body[:DETECT_CHARS]}")

    def _tag_places(self, doc_id: str, title: str, body: str, captions: tuple[str, ...], language: str | None,
                    topics: tuple[TopicScore, ...] = ()) -> Tags:
        """`tag_places` for a language already read, with `topics` when they are known (one record made)."""
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
        return Tags(doc_id, countries, about, tuple(sorted(region_share)), topics, mentions,
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
        # the keyword rules are English words: silent in the languages whose own words they would match
        rules_weight = 0.0 if language in topicmodel.RULES_SILENT_LANGUAGES else 1.0
        evidence = self._rule_evidence(title, text, (title_words, text_words), rules_weight)
        # the evidence is whole numbers and quarters, so these sums are exact in any order
        hits = sum(evidence)
        rules = np.array(evidence) + RULE_PRIOR
        combined = np.log(rules / (hits + RULE_PRIOR * len(evidence)))
        doubled = title + "\n" + title + "\n" + text  # the title counts twice
        if english > 0:
            # "\n" ends every stretch: those of title, title and text are the doubled text's
            learned = model.log_probabilities(doubled, title_words.quoted + title_words.quoted + text_words.quoted)
            if self.model_columns is not None:
                learned = learned[self.model_columns]
            else:  # a configured topic the classifier does not know gets a uniform share
                by_code = dict(zip(model.classes, learned))
                uniform = -math.log(len(codes))
                learned = np.array([by_code.get(code, uniform) for code in codes])
            # a numpy float64, not a Python float: the classifier's scores are float32, and with a Python float the
            # blend would be computed in float32
            share = english * (1 - RULES_SHARE) * RULES_HALF / np.float64(RULES_HALF + hits)
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
        return tuple(out) + self.narrower_topics(kept, doubled, words)

    def narrower_topics(self, top: list[TopicScore], text: str, words: list[str] | None = None
                        ) -> tuple[TopicScore, ...]:
        """For each confident top-level topic, its second-level topic whose labels the text uses most, if any
        is used at least NARROWER_MIN_HITS times; scored as the parent's score times its share of those hits.
        `words`, when given, are the words of `text` as `topicmodel.narrower` splits them."""
        if all(parent.score < NARROWER_MIN_PARENT for parent in top):
            return ()  # no parent to name one under: the text need not be read
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

    def rule_evidence(self, title: str, text: str, words: tuple[_TextWords, _TextWords] | None = None,
                      rules_weight: float = 1.0) -> np.ndarray:
        """Keyword evidence per topic (in `topic_codes` order), the title counting double: the rules of
        topics.toml times `rules_weight`, plus the lexicon. `words` are those of title and text, split once for
        the keyword rules and the lexicon alike."""
        return np.array(self._rule_evidence(title, text, words, rules_weight))

    def _rule_evidence(self, title: str, text: str, words: tuple[_TextWords, _TextWords] | None = None,
                       rules_weight: float = 1.0) -> list[float]:
        """`rule_evidence` as a list: summed in Python, as 17 numbers are added faster than numpy starts up. The
        terms are whole numbers and quarters, so the sums are exact and the same as numpy's."""
        title_words, text_words = words or (_TextWords(title), _TextWords(text))
        keywords = self.keywords.scores
        lexicon = topicmodel.lexicon()
        found = [2.0 * a + b for a, b in zip(lexicon.evidence(title, title_words.plain),
                                             lexicon.evidence(text, text_words.plain))]
        found.append(0.0)  # for a configured topic the lexicon does not name
        if not rules_weight:  # the keyword rules are silent: the lexicon alone
            return [found[k] for k in self.lexicon_slots]
        return [rules_weight * (2.0 * a + b) + found[k]
                for a, b, k in zip(keywords(title, title_words.glued), keywords(text, text_words.glued),
                                   self.lexicon_slots)]


def tag_articles(articles: list[Article], regions: Regions, topics: Topics, settings: TaggingSettings) -> list[Tags]:
    """Tag a batch of articles from their title, body and captions."""
    tagger = Tagger(regions, topics, settings)
    return [tagger.tag(a.article_id, a.title, a.body, tuple(c.text for c in a.captions), a.language)
            for a in articles]


# A few words in English, German, Russian and Chinese: tagging them builds every index the tagger builds lazily
# (the gazetteers, the foreign names, the topic classifier and lexicon), about 2 s on a 2-core machine, which a run
# pays while its feeds are being fetched instead of while its first pages wait to be tagged.
_WARM_UP = ("Armenia and the Kremlin", "Die Regierung in Berlin. Россия и Армения. 中国和日本.")


def prepare(regions: Regions, topics: Topics, settings: TaggingSettings) -> str:
    """Build the tagger's lazy indexes in this process now (they are kept per process); returns its version."""
    tagger = Tagger(regions, topics, settings)
    tagger.tag("warm-up", *_WARM_UP)
    return tagger.version


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
