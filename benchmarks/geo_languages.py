"""Country and focus-country F1 per language, in one process, one summary line.

Reads the development corpus at run time (../shared/corpus/geo: multilingual-dev, and with --english also LGL and
GeoVirus) and tags each text with `Tagger.tag` exactly as `monitor tag --jsonl` does (title and text, no declared
language, so the tagger detects it). Micro P/R/F1 over (document, ISO2) pairs, the metric of `score.py`, overall
and per language; `--errors` lists each document's misses and false hits (for reading, never for copying into the
repository: the corpus is for measuring only).

Usage: .venv/bin/python benchmarks/geo_languages.py [--corpus ../shared/corpus] [--english] [--errors LANG]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor import config  # noqa: E402
from monitor.tagging import Tagger  # noqa: E402

# Languages with enough dev texts to report on their own; the rest are pooled as "other".
REPORTED = ("ru", "de", "fr", "en")


def f1(counts: list[int]) -> float:
    tp, fp, fn = counts
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:  # not splitlines(): texts hold U+2028
        return [json.loads(line) for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--english", action="store_true", help="also score LGL and GeoVirus")
    parser.add_argument("--errors", default=None, help="print misses and false hits for this language ('all')")
    args = parser.parse_args()
    geo = Path(args.corpus) / "geo"
    cfg = config.load()
    tagger = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in read(geo / "multilingual-dev.jsonl"):
        tags = tagger.tag_places(row["id"], row.get("title") or "", row["text"])
        lang = row["language"] if row["language"] in REPORTED else "other"
        for field, got in (("countries", set(tags.countries)), ("about", set(tags.about))):
            gold = set(row[field])
            for key in ((field, lang), (field, "all")):
                counts[key][0] += len(got & gold)
                counts[key][1] += len(got - gold)
                counts[key][2] += len(gold - got)
            if args.errors in (row["language"], "all") and got != gold:
                print(f"{row['id']} {row['language']} {field}: missed {sorted(gold - got)} "
                      f"extra {sorted(got - gold)} (read as {tags.language}/{tags.status})")
    parts = [f"countries F1 {f1(counts['countries', 'all']):.3f}"]
    parts += [f"{lang} {f1(counts['countries', lang]):.3f}" for lang in (*REPORTED, "other")]
    parts += [f"about F1 {f1(counts['about', 'all']):.3f}"]
    parts += [f"{lang} {f1(counts['about', lang]):.3f}" for lang in (*REPORTED, "other")]
    if args.english:
        for name in ("geovirus", "lgl"):
            c = [0, 0, 0]
            for row in read(geo / f"{name}.jsonl"):
                got, gold = set(tagger.tag_places(row["id"], row.get("title") or "", row["text"]).countries), \
                    set(row["countries"])
                c[0] += len(got & gold)
                c[1] += len(got - gold)
                c[2] += len(gold - got)
            parts.append(f"{name} F1 {f1(c):.3f}")
    print("geo by language (multilingual-dev): " + "; ".join(parts))


if __name__ == "__main__":
    main()
