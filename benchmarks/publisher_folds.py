"""Extraction quality cross-validated by publisher: the development pages (../shared/corpus/extraction) split into
folds by publisher (fundus-dev's `publisher`, the host for trafilatura-eval-sample), so that no publisher is in
two folds; each fold is extracted as its own `monitor extract --jsonl` batch (site furniture is learned from the
batch itself) with and without `--no-site-furniture`, and scored with the corpus's own metrics (score.py).

A fold's figures are what a change does on publishers the rest of the data never showed; the spread across folds
says how far a dev gain can be trusted on unseen publishers. The corpus is third-party text and is only read here.

Usage: .venv/bin/python benchmarks/publisher_folds.py [--corpus ../shared/corpus] [--folds 2]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SETS = ("fundus-dev", "trafilatura-eval-sample", "fundus-dev-captions")


def _publisher(row: dict) -> str:
    return row.get("publisher") or (urlsplit(row.get("url") or "").hostname or "").removeprefix("www.")


def _fold(publisher: str, folds: int) -> int:
    return hashlib.sha1(publisher.encode()).digest()[0] % folds  # fixed: the same split every time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--cli", default=str(ROOT / ".venv" / "bin" / "monitor"))
    parser.add_argument("--folds", type=int, default=2)
    args = parser.parse_args()
    scorer_path = args.corpus / "score.py"
    if not scorer_path.exists():
        print(f"publisher_folds: corpus not found at {args.corpus}; nothing measured")
        return 0
    spec = importlib.util.spec_from_file_location("corpus_score", scorer_path)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    parts = []
    with tempfile.TemporaryDirectory(prefix="monitor-bench-folds-") as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, str(scorer_path), "inputs", str(work), *SETS], check=True,
                       capture_output=True)
        for dataset in SETS:
            rel, kind = scorer.DATASETS[dataset]
            gold = scorer.read_jsonl(args.corpus / rel)
            inputs = {str(json.loads(line)["id"]): line for line in
                      (work / f"{dataset}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
            for fold in range(args.folds):
                rows = [g for g in gold if _fold(_publisher(g), args.folds) == fold]
                fold_in = work / f"{dataset}.fold{fold}.jsonl"
                fold_in.write_text("".join(inputs[str(g["id"])] + "\n" for g in rows), encoding="utf-8")
                figures = []
                for label, flag in (("before", ["--no-site-furniture"]), ("after", [])):
                    out = work / f"{dataset}.fold{fold}.{label}.out.jsonl"
                    subprocess.run([args.cli, "extract", "--jsonl", str(fold_in), "--out", str(out), *flag],
                                   check=True, capture_output=True)
                    preds, _ = scorer.read_predictions(out)
                    res = scorer.evaluate(kind, rows, preds)
                    figures.append(f"P={res['cap_precision']:.3f}/R={res['cap_recall']:.3f}" if kind == "captions"
                                   else f"F1={res['f1']:.3f}")
                publishers = len({_publisher(g) for g in rows})
                parts.append(f"{dataset}[fold {fold}: {len(rows)} pages, {publishers} publishers] "
                             f"{figures[0]} -> {figures[1]}")
    print("publisher folds (no-furniture -> furniture learned per batch): " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
