"""Extraction quality and speed: `monitor extract --jsonl` over ../shared/corpus/extraction/*, scored with the
corpus's own metrics (score.py: 4-gram shingle P/R/F1 for bodies, token-F1 >= 0.8 matching for captions), beside
plain `trafilatura.extract` on the same pages.

The corpus is third-party text and is never copied into this repository; without it this prints that and exits 0.

Usage: .venv/bin/python benchmarks/extraction.py [--corpus ../shared/corpus] [--cli .venv/bin/monitor] [--no-baseline]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY_SETS = ("fundus-dev", "trafilatura-eval-sample")
CAPTION_SET = "fundus-dev-captions"


def _score(scorer: Path, dataset: str, output: Path) -> dict[str, float]:
    run = subprocess.run([sys.executable, str(scorer), "score", dataset, str(output)], capture_output=True, text=True,
                         check=True)
    summary = next(line for line in run.stdout.splitlines() if line.startswith("SUMMARY"))
    fields = (f.split("=", 1) for f in summary.split()[1:] if f.startswith(f"{dataset}."))
    return {key.removeprefix(f"{dataset}."): float(value) for key, value in fields}


def _baseline(inputs: Path, output: Path) -> float:
    """Plain trafilatura.extract (default settings) on the same pages; returns pages/s."""
    import logging

    import trafilatura

    from monitor.fetch import decode_html

    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # its "discarding data" warnings are not results

    items = [json.loads(line) for line in inputs.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    with output.open("w", encoding="utf-8") as out:
        for item in items:
            html = decode_html(Path(item["html_path"]).read_bytes(), None)
            body = trafilatura.extract(html, url=item["url"]) or ""
            out.write(json.dumps({"id": item["id"], "body": body, "captions": []}) + "\n")
    return len(items) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--cli", default=str(ROOT / ".venv" / "bin" / "monitor"))
    parser.add_argument("--no-baseline", action="store_true", help="skip plain trafilatura")
    args = parser.parse_args()
    scorer = args.corpus / "score.py"
    if not scorer.exists():
        print(f"extraction: corpus not found at {args.corpus} (it lives in ../shared/corpus beside the repo); "
              "nothing measured")
        return 0
    parts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="monitor-bench-extract-") as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, str(scorer), "inputs", str(work), *BODY_SETS, CAPTION_SET], check=True,
                       capture_output=True)
        pages = 0
        seconds = 0.0
        peak_kb = 0
        for dataset in (*BODY_SETS, CAPTION_SET):
            inputs, output = work / f"{dataset}.jsonl", work / f"{dataset}.out.jsonl"
            started = time.perf_counter()
            subprocess.run([args.cli, "extract", "--jsonl", str(inputs), "--out", str(output)], check=True)
            elapsed = time.perf_counter() - started
            peak_kb = max(peak_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            metrics = _score(scorer, dataset, output)
            if dataset == CAPTION_SET:
                parts.append(f"captions P={metrics['cap_precision']:.3f} R={metrics['cap_recall']:.3f} "
                             f"F1={metrics['cap_f1']:.3f}")
                continue
            n = sum(1 for line in inputs.read_text(encoding="utf-8").splitlines() if line.strip())
            pages, seconds = pages + n, seconds + elapsed
            parts.append(f"{dataset} P={metrics['precision']:.3f} R={metrics['recall']:.3f} F1={metrics['f1']:.3f}")
            if not args.no_baseline:
                base_out = work / f"{dataset}.trafilatura.jsonl"
                rate = _baseline(inputs, base_out)
                base = _score(scorer, dataset, base_out)
                parts.append(f"(trafilatura F1={base['f1']:.3f} at {rate:.0f} pages/s)")
    print(f"extraction {' '.join(parts)}; monitor {pages / seconds:.0f} pages/s one process including start-up "
          f"({pages} pages), peak RSS {peak_kb // 1024} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
