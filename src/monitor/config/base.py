"""What every config module shares: paths and environment names, ConfigError, the strict base model."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/monitor (this file is monitor/config/base.py)
# A wheel carries config/ and warehouse/ under monitor/_data (see pyproject force-include); a checkout
# or an editable install finds them at the repository root.
RESOURCE_ROOTS = (PACKAGE_DIR / "_data", PACKAGE_DIR.parent.parent)
ENV_CONFIG_DIR = "MONITOR_CONFIG_DIR"
ENV_WAREHOUSE = "MONITOR_WAREHOUSE"
# Where a DuckLake warehouse's Parquet files go; wins over settings' `warehouse.lake_data_path` (default: a folder
# beside a local catalog file). Processes the CLI starts (workers, Dask) inherit it.
ENV_LAKE_DATA = "MONITOR_LAKE_DATA_PATH"
LAKE_PREFIX = "ducklake:"  # a warehouse path that names a DuckLake catalog instead of a DuckDB file
_CODE = re.compile(r"^[A-Z]{2}$")
_HASHED = re.compile(r"^[HR](?:\(|/|$)")  # croniter's hashed and random fields: "H", "H(0-29)", "R/5"


class ConfigError(Exception):
    """A config file is missing, unreadable or invalid; the message is one line naming the fix."""


def resource_path(relative: str) -> Path:
    """Find a bundled resource (`config/...`, `warehouse/...`) in a wheel or a checkout."""
    for root in RESOURCE_ROOTS:
        candidate = root / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled resource {relative!r} not found under {[str(r) for r in RESOURCE_ROOTS]}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
