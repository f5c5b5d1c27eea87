"""Golden extraction cases: each layout's HTML against its expected JSON (written by tests/golden/regenerate.py,
never by hand), plus the intent the regenerating script checks, so neither can drift alone."""

import json

import pytest

from tests.golden.regenerate import CASES_DIR, cases, problems, snapshot

CASES = {case.name: case for case in cases()}


def test_every_case_has_a_snapshot_and_there_are_at_least_twenty():
    on_disk = {p.stem for p in CASES_DIR.glob("*.json")}
    assert on_disk == set(CASES) and len(CASES) >= 20


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_case(name):
    case = CASES[name]
    record = json.loads((CASES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert (CASES_DIR / f"{name}.html").read_text(encoding="utf-8") == case.html, "HTML changed: regenerate"
    got = snapshot(case)
    assert problems(case, got) == []
    assert got == record["expected"]
