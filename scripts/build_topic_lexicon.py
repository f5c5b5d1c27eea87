"""Check the hand-written multilingual topic lexicon, src/monitor/data/topic_lexicon.toml, before it ships.

The lexicon is the data: nothing is generated or learned. Its words were written by hand by an LLM-assisted
engineer from knowledge of each language (the words news desks use for each IPTC top-level topic); they are not
derived from any corpus text, development or test set. The only inputs this script reads are the lexicon itself
and, to find words that would also fire on English text, the English vocabulary of the shipped classifier
(src/monitor/data/topic_model.npz, the GloVe 6B word list, Pennington et al. 2014, PDDL 1.0).

Checks, each printed as one line per problem:
- every table is a language with only the 17 topic keys (monitor.tagging.topicmodel.TOPIC_KEYS);
- a stem ("xyz*") of a spaced language is at least MIN_STEM letters, so it cannot swallow unrelated words;
- an entry of another language that matches one of the COMMON_ENGLISH commonest English words (a French "can"
  for the Africa Cup would fire on every English "can");
- an entry listed under two topics of one language.

Usage: .venv/bin/python scripts/build_topic_lexicon.py [--strict]   (exit 1 on any problem with --strict)
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor.tagging.topicmodel import (  # noqa: E402
    LEXICON, MODEL, PREFIX_LANGUAGES, SUBSTRING_LANGUAGES, TOPIC_KEYS, build_lexicon)

MIN_STEM = 3  # "war*" is the shortest safe stem; "ar*" would match half the words of a language
SHORT_LETTERS = re.compile(r"[a-z\u00c0-\u024f\u0400-\u04ff]+")  # alphabets of small letters (not Hangul syllables)
COMMON_ENGLISH = 8000  # English words this frequent appear in most English articles
# English words another language may share on purpose: same meaning, same topic.
SHARED_WITH_ENGLISH = frozenset(
    "film films album festival opera museum tennis golf sport rugby hockey basketball volleyball handball cricket "
    "marathon boxing football fifa uefa nba nfl nhl nasa covid ebola cholera malaria virus vaccine vaccines "
    "inflation euro euros dollar dollars bank banks hotel hotels restaurant restaurants tourism tourist tourists "
    "islam imam imams ramadan hamas hezbollah taliban mafia tsunami taxe smartphone smartphones internet robot "
    "robots software computer computers satellite satellites cyber hacker hackers app apps chip chips google "
    "apple microsoft facebook tiktok whatsapp twitter youtube instagram netflix startup startups drone drones "
    "missile missiles terror terrorism terrorist terrorists rebel rebels militia militias guerrilla invasion "
    "offensive front ceo gas club clubs team stadium finale final finals olympic olympics pandemic epidemic "
    "clinic clinics cancer diabetes patient patients migrant migrants migration protest protests asylum "
    "justice crime crimes police gang gangs bandits corruption fraud climate emissions carbon co2 pollution "
    "plastic biodiversity glacier glaciers weather temperature temperatures prince princess zoo album albums "
    "tech data crash explosion explosions accident accidents collision collisions volcano cyclone cyclones "
    "hurricane typhoon rap rapper rappers concert concerts festival festivals theatre theater music".split())


def problems(data: dict, english: list[str]) -> list[str]:
    out = []
    common = set(english[:COMMON_ENGLISH])
    by_length: dict[int, set[str]] = {}
    for word in common:
        by_length.setdefault(len(word), set()).add(word)
    for language, topics in data.items():
        if not isinstance(topics, dict):
            continue
        unknown = set(topics) - set(TOPIC_KEYS)
        if unknown:
            out.append(f"[{language}] unknown topic keys {sorted(unknown)}")
        seen: dict[str, str] = {}
        for key, entries in topics.items():
            for entry in entries:
                e = entry.lower()
                if e in seen and seen[e] != key:
                    out.append(f"[{language}] {entry!r} under both {seen[e]} and {key}")
                seen[e] = key
                if language in SUBSTRING_LANGUAGES or language == "en":
                    continue
                stem = e.endswith("*") or (language in PREFIX_LANGUAGES and not e.isascii())
                head = e.rstrip("*")
                if stem and " " not in head and len(head) < MIN_STEM and SHORT_LETTERS.fullmatch(head):
                    out.append(f"[{language}] {key}: stem {entry!r} is shorter than {MIN_STEM} letters")
                if " " in head or head in SHARED_WITH_ENGLISH:
                    continue
                if stem:
                    clash = sorted(w for w in common if w.startswith(head) and w not in SHARED_WITH_ENGLISH)[:5]
                else:
                    clash = [head] if head in common else []
                if clash:
                    out.append(f"[{language}] {key}: {entry!r} matches English {', '.join(clash)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when any problem is found")
    parser.add_argument("--lexicon", type=Path, default=LEXICON)
    args = parser.parse_args()
    data = tomllib.loads(args.lexicon.read_text(encoding="utf-8"))
    with np.load(MODEL) as model:
        english = [str(w) for w in model["words"]]
    found = problems(data, english)
    for line in found:
        print(line)
    lexicon = build_lexicon(data)
    sizes = {lang: sum(len(v) for v in t.values()) for lang, t in data.items() if isinstance(t, dict)}
    print(f"{len(lexicon.languages)} languages, {sum(sizes.values())} entries "
          f"({', '.join(f'{k} {v}' for k, v in sizes.items())}); {len(found)} problems")
    if found and args.strict:
        sys.exit(1)


if __name__ == "__main__":
    main()
