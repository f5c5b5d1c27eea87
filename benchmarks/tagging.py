"""Tagging quality and speed, one summary line.

1. Quality through the CLI and the corpus's own metric (`score.py run geo` and `run topic`): country P/R/F1 on
   GeoVirus (WikiNews, international) and LGL (US local news), and topic accuracy / macro-F1 on AG News.
2. Speed in one process on mixed-language news (the multilingual development texts in 16 languages, GeoVirus
   and LGL): articles/s for countries and regions alone (`Tagger.tag_places`), and for the whole tagger (places
   and topics). Each text's language is passed, as the pipeline passes the language extraction found: the
   multilingual texts' own label, and "en" for GeoVirus (English WikiNews) and LGL (US local news), which carry
   none. The whole tagger is also timed with no language passed ("no language"), which includes detecting it,
   as `monitor tag --jsonl` does for input without one. The best of `--rounds` runs is the measure; the whole
   tagger's median and worst runs and the 1-minute load average are printed beside it, as the machine may be shared.
   Per-language country and focus F1: benchmarks/geo_languages.py.

The corpus is read from ../shared/corpus; without it only the speed part runs, on generated text, and the line
says so.

Usage: .venv/bin/python benchmarks/tagging.py [--corpus ../shared/corpus] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor import config  # noqa: E402
from monitor.tagging import Tagger  # noqa: E402

# Place names and filler for the speed run when the corpus is absent: the rate depends on text length and on
# how many capitalised words need a lookup, which these roughly match.
PLACES = ("Armenia", "Baku", "Paris, Tenn.", "the Kremlin", "Georgia", "Henry County", "Nairobi", "Azeri")
FILLER = "officials said on Monday that the talks would resume after the border incident near the town".split()


def score(corpus: Path, stage: str) -> dict[str, str]:
    """The SUMMARY fields of `score.py run STAGE` against our CLI."""
    cli = ROOT / ".venv" / "bin" / "monitor"
    run = subprocess.run([sys.executable, str(corpus / "score.py"), "run", stage, "--cli", str(cli)],
                         capture_output=True, text=True, check=True)
    line = next(x for x in run.stdout.splitlines() if x.startswith("SUMMARY"))
    return dict(f.split("=", 1) for f in line.split()[2:])


def documents(corpus: Path) -> tuple[list[tuple[str, str, str]], str]:
    """(title, text, language) per document: the language as the pipeline would pass it."""
    geo = corpus / "geo"
    if geo.is_dir():
        docs = []
        for name in ("multilingual-dev.jsonl", "geovirus.jsonl", "lgl.jsonl"):
            with (geo / name).open(encoding="utf-8") as lines:  # not splitlines(): texts hold U+2028
                docs += [json.loads(line) for line in lines]
        # GeoVirus and LGL are English news and carry no language label
        return [(d.get("title") or "", d["text"], d.get("language") or "en") for d in docs], \
            "mixed-language geo corpus"
    rng = random.Random(1)
    texts = [" ".join(rng.choice(PLACES) if rng.random() < 0.04 else rng.choice(FILLER) for _ in range(320))
             for _ in range(800)]
    return [("Talks resume", t, "en") for t in texts], "generated text"


def rate(function, docs: list[tuple[str, str, str]], rounds: int, language: bool = True) -> float:
    """Best articles/s over `rounds` runs, each text's language passed unless `language` is False."""
    return max(rates(function, docs, rounds, language))


def rates(function, docs: list[tuple[str, str, str]], rounds: int, language: bool = True) -> list[float]:
    """Articles/s of each of `rounds` runs, each text's language passed unless `language` is False."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        for title, text, lang in docs:
            function("d", title, text, (), lang if language else None)
        out.append(len(docs) / (time.perf_counter() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--rounds", type=int, default=5, help="speed runs; the best is reported")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    cfg = config.load()
    tagger = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)
    docs, kind = documents(corpus)
    tagger.tag("warm", "up", "Armenia")  # loads the gazetteer and the model outside the timing
    places = rate(tagger.tag_places, docs, args.rounds)
    wholes = rates(tagger.tag, docs, args.rounds)
    whole = max(wholes)
    unlabelled = rate(tagger.tag, docs, args.rounds, language=False)
    # the best round is the measure; the median and worst rounds and the load average say how busy the machine was
    speed = (f"places {places:,.0f} articles/s, places+topics {whole:,.0f} articles/s "
             f"(no language: {unlabelled:,.0f}) ({kind}, {len(docs)} docs, language given; places+topics rounds "
             f"median {statistics.median(wholes):,.0f} worst {min(wholes):,.0f}, load {os.getloadavg()[0]:.1f})")
    if not (corpus / "score.py").exists():
        print(f"tagging quality skipped (no corpus at {corpus}); {speed}")
        return
    geo, topic = score(corpus, "geo"), score(corpus, "topic")
    print("tagging "
          f"geovirus P={float(geo['geovirus.precision']):.3f} R={float(geo['geovirus.recall']):.3f} "
          f"F1={float(geo['geovirus.f1']):.3f}; "
          f"lgl P={float(geo['lgl.precision']):.3f} R={float(geo['lgl.recall']):.3f} F1={float(geo['lgl.f1']):.3f}; "
          f"multilingual-dev countries F1={float(geo['multilingual-dev.f1']):.3f} "
          f"about F1={float(geo['multilingual-dev-about.f1']):.3f}; "
          f"ag_news acc={float(topic['ag_news.accuracy']):.3f} macro-F1={float(topic['ag_news.macro_f1']):.3f}; "
          f"{speed}; tagger {tagger.version}")


if __name__ == "__main__":
    main()
