"""A run's counts as records: each counted outcome of the run (`Outcome`) and each source's figures
(`SourceCounts`), together a `RunCounts`, the `counts` of its `models.RunRecord`. Counted in `outcomes`, stored as
rows of `run_outcomes` and `run_sources` (warehouse/runs.py), printed by the run summary and `monitor status`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """How many times a run met one outcome: `n` of `kind` at `stage`, for a `reason` ("" when it has none).

    stage "feed": kind is a fetch's status ("ok", "not-modified", "unchanged", "error"), "bozo", "failing" (feeds
    failing now) or "skipped" (reason "not-due", "dead"); "entries": "seen", "pickup", "duplicate", "deferred"
    (reason "since", "limit"); "pages": "requested", "fetched"; "articles": "extracted", "new", "duplicate" (reason:
    how it matched), "untagged" (reason: the tags' status); a rejection: its stage ("feed", "fetch", "extract"),
    kind "rejected", its reason."""

    stage: str
    kind: str
    n: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SourceCounts:
    """One source's figures in a run: a row of the run's summary."""

    source: str
    entries: int = 0  # entries its feeds listed
    new_entries: int = 0  # entries whose page was not done before this run
    new_articles: int = 0
    duplicates: int = 0  # a link listed twice, or a new article that copies another
    pickups: int = 0  # a page that is an article already stored, or another outlet's page stored this run
    deferred: int = 0  # entries left for a later run by `since` or `limit`
    errors: int = 0  # rejections, at any stage
    untagged: int = 0  # new articles stored untagged: a language the tagger does not read


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a run counted: the run's outcomes, and each source's figures."""

    outcomes: tuple[Outcome, ...] = ()
    sources: tuple[SourceCounts, ...] = ()

    def count(self, stage: str | None = None, kind: str | None = None, reason: str | None = None) -> int:
        """The run's count of an outcome, summed over whatever is left None (`count(kind="rejected")`)."""
        return sum(o.n for o in self.outcomes if (stage is None or o.stage == stage)
                   and (kind is None or o.kind == kind) and (reason is None or o.reason == reason))

    def of(self, source: str) -> SourceCounts:
        """One source's figures (zeros for a source the run did not count)."""
        return next((s for s in self.sources if s.source == source), SourceCounts(source))
