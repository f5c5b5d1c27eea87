"""monitor: a media-monitoring pipeline (feeds -> articles and captions -> dedup -> tags -> DuckDB)."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
