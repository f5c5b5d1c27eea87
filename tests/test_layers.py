"""The architecture, checked: who may import what (docs/architecture.md, "Layers")."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "src" / "monitor"
STAGES = {"feeds", "extract", "dedup", "tagging"}
# Each third-party library belongs to one module.
OWNERS = {"httpx": {"fetch"}, "duckdb": {"warehouse"}, "feedparser": {"feeds"}, "trafilatura": {"extract"}}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_import_direction():
    problems = []
    for path in LIB.rglob("*.py"):
        module = path.relative_to(LIB).parts[0].removesuffix(".py")  # a package (warehouse/) is one module
        for name in _imports(path):
            top, _, rest = name.partition(".")
            if top in ("prefect", "flows") and not module.startswith("cli"):  # the commands that start flows
                problems.append(f"{path.name} imports {name}")
            if top in OWNERS and module not in OWNERS[top]:
                problems.append(f"{path.name} imports {top}, owned by {OWNERS[top]}")
            sub = rest.split(".")[0]
            if top == "monitor" and module in STAGES and (sub in STAGES - {module} or sub in {"fetch", "warehouse", "cli"}):
                problems.append(f"stage {module} imports {name}")
            if top == "monitor" and sub == "cli" and module != "cli":
                problems.append(f"{path.name} imports the CLI")
    assert problems == []


# A flow file wires: Prefect, monitor, the other flow modules, and the few standard modules its signatures and
# logging need. The execution machinery (worker pools, parcels, the run's loop) is in the flows/_*.py modules,
# which may use the standard library too, but no other third-party library than Prefect's.
WIRING = {"__future__", "prefect", "monitor", "flows", "logging", "datetime", "pathlib", "functools", "dataclasses"}
MACHINERY_THIRD_PARTY = {"prefect", "prefect_dask", "monitor", "flows"}


def test_flows_only_wire():
    import sys

    for path in (ROOT / "flows").glob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if path.name.startswith("_") and path.name != "__init__.py":
                assert top in MACHINERY_THIRD_PARTY or top in sys.stdlib_module_names, f"{path.name} imports {name}"
            else:
                assert top in WIRING, f"{path.name} imports {name}"
