"""Deduplication quality and scale, one summary line.

1. Wire copies: originals (the corpus's news texts from ../shared/corpus/dedup, or generated text without it) each
   get 1-3 syndicated copies with the edits outlets make: a dateline and agency tag, a byline, boilerplate, a
   rewritten headline, truncation, small word edits and reordered paragraphs. Scored pairwise (score.py's
   score_clusters) over everything: copies of one original must share a cluster, different originals must not.
2. SemEval-2022 Task 8 pairs through `monitor dedup --jsonl` and score.py (same *story*, not same text, so a copy
   detector links few of them: watch precision).
3. Scaling: `dedup.cluster` over 10k, 100k and (with --full) 1M generated articles, a fifth of them copies, each
   size in its own process: articles/s and peak RSS.

Usage: .venv/bin/python benchmarks/dedup.py [--corpus ../shared/corpus] [--full] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from monitor.dedup import cluster  # noqa: E402
from monitor.models import DedupDoc  # noqa: E402

AGENCIES = ("Reuters", "AP", "AFP", "dpa", "EFE")
CITIES = ("BAKU", "YEREVAN", "TBILISI", "BERLIN", "NAIROBI", "LIMA", "SEOUL")
BOILERPLATE = (
    "Sign up for our morning newsletter to get the day's top stories in your inbox.",
    "Copyright 2026 The Associated Press. All rights reserved. This material may not be published or broadcast.",
    "Follow us on social media for the latest updates and breaking news alerts from our newsroom.",
)


def wire_copy(text: str, rng: random.Random) -> str:
    """One outlet's copy of a wire story, with a random mix of what syndication does to it."""
    paragraphs = [p for p in text.split("\n") if p.strip()] or [text]
    if len(paragraphs) < 4:  # flat texts: split into sentences-sized paragraphs so reordering means something
        words = text.split()
        paragraphs = [" ".join(words[i : i + 40]) for i in range(0, len(words), 40)]
    if rng.random() < 0.5 and len(paragraphs) > 3:  # reorder two paragraphs after the lead
        i, j = rng.sample(range(1, len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
    if rng.random() < 0.5:  # truncation to 60-90%
        keep = max(2, int(len(paragraphs) * rng.uniform(0.6, 0.9)))
        paragraphs = paragraphs[:keep]
    if rng.random() < 0.6:  # small edits: 3% of the words replaced
        words = " \n ".join(paragraphs).split(" ")
        for k in rng.sample(range(len(words)), max(1, len(words) * 3 // 100)):
            if words[k] != "\n":
                words[k] = rng.choice(("said", "reported", "officials", "Monday", "the", "according"))
        paragraphs = [p.strip() for p in " ".join(words).split("\n")]
    if rng.random() < 0.7:
        paragraphs[0] = f"{rng.choice(CITIES)} ({rng.choice(AGENCIES)}) - {paragraphs[0]}"
    if rng.random() < 0.4:
        paragraphs.insert(0, f"By {rng.choice(('Jane Doe', 'Aziz Karimov', 'Ana Lima'))}")
    if rng.random() < 0.5:
        paragraphs.append(rng.choice(BOILERPLATE))
    return "\n".join(paragraphs)


def corpus_originals(corpus: Path) -> list[str] | None:
    path = corpus / "dedup" / "semeval8_pairs.jsonl"
    if not path.exists():
        return None
    texts: dict[str, str] = {}
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        for side in ("1", "2"):
            texts.setdefault(row[f"doc_{side}"], row[f"text_{side}"] or "")
    return distinct([t for t in texts.values() if len(t.split()) >= 150])


def distinct(texts: list[str], limit: float = 0.5) -> list[str]:
    """Drop texts that are already copies of an earlier one (exact containment of word 3-grams >= limit): the
    corpus holds some stories twice, and the benchmark's gold must not call those different."""
    from collections import Counter, defaultdict

    from monitor.dedup import shingle_hashes

    postings: dict[int, list[int]] = defaultdict(list)
    kept: list[str] = []
    sizes: list[int] = []
    for text in texts:
        grams = set(shingle_hashes(text).tolist())
        overlap = Counter(k for g in grams for k in postings.get(g, ()))
        if any(shared / min(len(grams), sizes[k]) >= limit for k, shared in overlap.items()):
            continue
        for g in grams:
            postings[g].append(len(kept))
        kept.append(text)
        sizes.append(len(grams))
    return kept


def synthetic_text(rng: random.Random, vocabulary: list[str], weights: list[float], words: int) -> str:
    body = rng.choices(vocabulary, cum_weights=weights, k=words)
    return "\n".join(" ".join(body[i : i + 45]) for i in range(0, words, 45))


def synthetic_vocabulary(rng: random.Random, size: int = 50_000) -> tuple[list[str], list[float]]:
    """Made-up words with Zipf frequencies, like news text's (as cumulative weights, for random.choices)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(size)]
    return words, list(itertools.accumulate(1.0 / (rank + 1) for rank in range(size)))


def wire_quality(originals: list[str], seed: int = 7) -> dict:
    sys.path.insert(0, str(Path(args.corpus)))
    rng = random.Random(seed)
    docs, gold = [], []
    for n, text in enumerate(originals):
        docs.append(DedupDoc(f"o{n}", text))
        gold.append(n)
        if n % 3 == 0:  # a third of the originals are syndicated, 1-3 times
            for k in range(rng.randint(1, 3)):
                docs.append(DedupDoc(f"o{n}c{k}", wire_copy(text, rng)))
                gold.append(n)
    start = time.perf_counter()
    results = cluster(docs)
    elapsed = time.perf_counter() - start
    pred = [r.cluster for r in results]
    return {**score_clusters(gold, pred), "docs": len(docs), "per_s": len(docs) / elapsed}


def score_clusters(gold: list, pred: list) -> dict:
    try:
        import score  # the corpus's own metric, when ../shared is there
        return score.score_clusters(gold, pred)
    except ImportError:
        from collections import Counter
        pairs = lambda c: sum(v * (v - 1) // 2 for v in c.values())  # noqa: E731
        tp, pp, gp = pairs(Counter(zip(gold, pred))), pairs(Counter(pred)), pairs(Counter(gold))
        p, r = (tp / pp if pp else 0.0), (tp / gp if gp else 0.0)
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def generated_docs(size: int):
    """`size` generated articles, a fifth of them wire copies of a recent one, produced one at a time so the texts
    are never all in memory (as in a real run, where bodies stream from the warehouse or the extractor)."""
    rng = random.Random(size)
    vocabulary, weights = synthetic_vocabulary(rng)
    recent: list[str] = []
    for n in range(size):
        if recent and rng.random() < 0.2:
            text = wire_copy(rng.choice(recent), rng)
        else:
            text = synthetic_text(rng, vocabulary, weights, rng.randint(250, 700))
            recent.append(text)
            if len(recent) > 5000:
                recent.pop(0)
        yield DedupDoc(f"d{n}", text)


def scale_child(size: int) -> None:
    """Run in a child process: cluster `size` generated articles; the time to generate them is measured in a
    separate pass over the same generator and subtracted."""
    start = time.perf_counter()
    for _ in generated_docs(size):
        pass
    generating = time.perf_counter() - start
    start = time.perf_counter()
    results = cluster(generated_docs(size))
    elapsed = time.perf_counter() - start - generating
    clusters = len({r.cluster for r in results})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"size": size, "per_s": size / elapsed, "seconds": elapsed, "peak_mb": peak_mb,
                      "clusters": clusters, "generating_s": generating}))


def semeval(corpus: Path) -> str:
    scorer = corpus / "score.py"
    if not scorer.exists():
        return "semeval8 skipped (no corpus)"
    cli = ROOT / ".venv" / "bin" / "monitor"
    run = subprocess.run([sys.executable, str(scorer), "run", "dedup", "--cli", str(cli)], capture_output=True,
                         text=True, check=True)
    line = next(x for x in run.stdout.splitlines() if x.startswith("dedup semeval8"))
    fields = dict(f.split("=", 1) for f in line.split()[2:] if "=" in f)
    return f"semeval8 P={float(fields['precision']):.3f} R={float(fields['recall']):.3f} (same story, not copies)"


def main() -> None:
    global args
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--full", action="store_true", help="include the 1M-article run (several minutes)")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scale_child(args.child)
        return
    corpus = Path(args.corpus)
    originals = corpus_originals(corpus)
    source = "corpus originals"
    if originals is None:
        print(f"note: no corpus at {corpus}; wire copies are made from generated text", file=sys.stderr)
        rng = random.Random(1)
        vocabulary, weights = synthetic_vocabulary(rng)
        originals = [synthetic_text(rng, vocabulary, weights, rng.randint(250, 700)) for _ in range(1500)]
        source = "generated originals"
    wire = wire_quality(originals)
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.full else [])
    scaling = []
    for size in sizes:
        run = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True,
                             check=True)
        got = json.loads(run.stdout.strip().splitlines()[-1])
        scaling.append(f"{size // 1000}k {got['per_s']:.0f}/s {got['peak_mb']:.0f}MB")
    print(f"dedup wire-copies ({source}, {wire['docs']} docs) P={wire['precision']:.3f} R={wire['recall']:.3f} "
          f"F1={wire['f1']:.3f}; {semeval(corpus)}; scaling " + ", ".join(scaling))


if __name__ == "__main__":
    main()
