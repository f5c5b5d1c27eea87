"""Quality on the development corpus: runs ../shared/corpus/score.py against the `monitor` CLI for every stage
and prints one summary line. The corpus is third-party text and is never copied into this repository.

Usage: .venv/bin/python benchmarks/quality.py [--corpus ../shared/corpus] [--cli .venv/bin/monitor]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("extraction", "captions", "geo", "topic", "dedup")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--cli", default=str(ROOT / ".venv" / "bin" / "monitor"))
    args = parser.parse_args()
    scorer = args.corpus / "score.py"
    if not scorer.exists():
        print(f"quality: corpus not found at {args.corpus} (it lives in ../shared/corpus beside the repo); nothing measured")
        return 0
    metrics: list[str] = []
    started = time.monotonic()
    for stage in STAGES:
        run = subprocess.run([sys.executable, str(scorer), "run", stage, "--cli", args.cli],
                             capture_output=True, text=True, check=False)
        summary = next((line for line in run.stdout.splitlines() if line.startswith("SUMMARY")), None)
        if run.returncode != 0 or summary is None:
            print(f"quality: stage {stage} failed (exit {run.returncode}): {run.stdout.strip().splitlines()[-1:]}")
            return 1
        metrics += [m for m in summary.split()[2:] if re.match(r"[\w-]+\.(f1|precision|recall|cap_\w+|accuracy|macro_f1)=", m)]
    print(f"quality {' '.join(metrics)} wall_s={time.monotonic() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
