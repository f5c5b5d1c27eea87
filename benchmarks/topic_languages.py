"""Topic quality per language and per class, in one process, one summary line.

Reads the development corpus at run time (../shared/corpus/topic/masakhane-dev.jsonl, geo/multilingual-dev.jsonl
and topic/ag_news.jsonl) and tags each text with `Tagger.tag` exactly as `monitor tag --jsonl` does (title and
text, no declared language, every topic scored). The pick and the metric are score.py's own (`pick_topic`,
`score_topics`), imported from the corpus folder. masakhane-dev is scored per language over that language's own
classes, and for English and French also per class, with the commonest confusions (gold -> picked) when
`--confusion` is given: the labels only, never the texts (the corpus is for measuring, not for copying or
training). The issue's BBC World Service bars (English >= 0.85, French >= 0.80 macro-F1) are judged on held-out
texts; masakhane-dev English and French are their nearest dev proxies.

Usage: .venv/bin/python benchmarks/topic_languages.py [--corpus ../shared/corpus] [--confusion]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor import config  # noqa: E402
from monitor.tagging import Tagger  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from geo_languages import read  # noqa: E402  (the corpus's JSON Lines, read as geo_languages reads them)

DETAILED = ("eng", "fra")  # the languages of the BBC World Service bars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--confusion", action="store_true", help="print English and French per class and confusions")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    spec = importlib.util.spec_from_file_location("corpus_score", corpus / "score.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    cfg = config.load()
    tagger = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)
    labels = {t.code: t.label for t in cfg.topics.topic}

    def topics(rows: list[dict]) -> list[list[dict]]:
        return [[{"code": t.code, "score": t.score}
                 for t in tagger.tag(str(r["id"]), r.get("title") or "", r["text"], (), None, every_topic=True).topics]
                for r in rows]

    def scored(rows: list[dict], predicted: list[list[dict]]) -> tuple[dict, list]:
        gold = [r["iptc_qcode"] for r in rows]
        codes = set(gold)
        picks = [score.pick_topic(t, codes) for t in predicted]
        return score.score_topics(gold, picks, codes), picks

    fields = []
    masakhane = read(corpus / "topic" / "masakhane-dev.jsonl")
    predicted = topics(masakhane)
    result, _ = scored(masakhane, predicted)
    fields.append(f"masakhane-dev={result['accuracy']:.3f}/{result['macro_f1']:.3f}")
    by_language = defaultdict(list)
    for k, row in enumerate(masakhane):
        by_language[row["language"]].append(k)
    for language in (*DETAILED, *sorted(set(by_language) - set(DETAILED))):
        rows = [masakhane[k] for k in by_language[language]]
        result, picks = scored(rows, [predicted[k] for k in by_language[language]])
        fields.append(f"{language}={result['macro_f1']:.3f}")
        if args.confusion and language in DETAILED:
            per_class = ", ".join(f"{labels.get(c, c)} {f:.3f}" for c, f in result["per_class_f1"].items())
            print(f"{language} accuracy {result['accuracy']:.3f} macro-F1 {result['macro_f1']:.3f}: {per_class}")
            wrong = Counter((labels.get(r["iptc_qcode"]), labels.get(p)) for r, p in zip(rows, picks)
                            if p != r["iptc_qcode"])
            print(f"  confused (gold -> picked): {wrong.most_common(8)}")
    for name, path in (("multilingual-dev", corpus / "geo" / "multilingual-dev.jsonl"),
                       ("ag_news", corpus / "topic" / "ag_news.jsonl")):
        rows = [r for r in read(path) if r.get("iptc_qcode")]
        result, _ = scored(rows, topics(rows))
        fields.append(f"{name}={result['accuracy']:.3f}/{result['macro_f1']:.3f}")
    print("topics (macro-F1; accuracy/macro-F1 for whole sets) " + " ".join(fields))


if __name__ == "__main__":
    main()
