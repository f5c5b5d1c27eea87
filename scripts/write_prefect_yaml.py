"""Write prefect.yaml from the deployments defined in flows/deployments.py and config/ (the one definition).

Usage: .venv/bin/python scripts/write_prefect_yaml.py [--check]   (--check: exit 1 if the file differs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from flows.deployments import prefect_yaml  # noqa: E402
from monitor import config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether prefect.yaml is up to date")
    args = parser.parse_args()
    text = prefect_yaml(config.load(ROOT / "config"))
    target = ROOT / "prefect.yaml"
    if args.check:
        same = target.read_text(encoding="utf-8") == text
        print(f"prefect.yaml {'agrees with' if same else 'differs from'} flows/deployments.py")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
