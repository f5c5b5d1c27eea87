"""The bookkeeping of `monitor reextract`, as pure functions over records: which stored pages to read, each new
extraction under its stored article's identity, which bodies changed (only those are compared for duplicates
again), and the run's report.

An article keeps its id, URL, source and first-seen time through a re-extraction, even when the page's canonical
URL now reads differently: other tables and users' links refer to that id.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace

from monitor.urls import site_of as host_of
from monitor.models import Article, DedupDoc, Rejection, text_hash

# What a re-extraction reports, in this order: articles rewritten, then how many changed in each field.
REPORTED = ("articles", "bodies", "titles", "dates", "captions", "countries", "topics")


def plan(candidates: list[tuple[str, str]], stored: dict, batch_size: int
         ) -> tuple[list[list[tuple[str, object]]], int]:
    """(batches of (article_id, stored page), how many candidates have no page in the store any more)."""
    found = [(article_id, stored[sha]) for article_id, sha in candidates if sha in stored]
    return [found[i: i + batch_size] for i in range(0, len(found), batch_size)], len(candidates) - len(found)


def hosts(batches: list[list[tuple[str, object]]]) -> list[str]:
    """The sites the planned pages belong to, in order of first appearance."""
    return list(dict.fromkeys(host_of(item.url) for batch in batches for _, item in batch))


def reidentify(results: list[Article | Rejection], ids: list[str], sources: list[str | None]
               ) -> tuple[list[Article], list[Rejection]]:
    """The new extractions (in the order of the pages read, one per id) under the stored articles' ids and sources.
    A page that no longer yields an article leaves its stored article as it was (a Rejection, counted)."""
    articles, rejected = [], []
    for result, article_id, source in zip(results, ids, sources):
        if isinstance(result, Article):
            articles.append(replace(result, article_id=article_id, source=source or result.source))
        else:
            rejected.append(result)
    return articles, rejected


def changed_bodies(articles: list[Article], stored_hashes: dict[str, str | None]) -> list[Article]:
    """The articles whose body is not the one stored: only they are compared for duplicates again (an unchanged
    body keeps its cluster, so a story's members do not shuffle on every re-extraction)."""
    return [a for a in articles if stored_hashes.get(a.article_id) != text_hash(a.body)]


def prior_without(prior: list[DedupDoc], articles: list[Article]) -> list[DedupDoc]:
    """The warehouse's recent documents without these articles' stored selves (a body is no copy of its past)."""
    ids = {a.article_id for a in articles}
    return [doc for doc in prior if doc.doc_id not in ids]


def summary_line(counts: Counter, rejected: int, missing: int, version: str) -> str:
    """One line: what was re-extracted with which version, and what changed."""
    changed = ", ".join(f"{name} {counts.get(name, 0)}" for name in REPORTED[1:])
    extra = "".join([f"; {rejected} pages no longer yield an article (kept as they were)" if rejected else "",
                     f"; {missing} articles' pages are not in the page store" if missing else ""])
    return f"re-extracted {counts.get('articles', 0)} articles with {version}; changed: {changed}{extra}"


def tally() -> Counter:
    """The counts of a re-extraction or an import, by outcome."""
    return Counter()


def import_run_id() -> str:
    """The run id a WARC import's rows carry: its own, so its batches are told apart from ingest runs'."""
    return f"import-{uuid.uuid4().hex[:9]}"


def import_summary(counts: Counter, source: str, files: int) -> str:
    """The one line a WARC import ends with."""
    skipped = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("skipped:"))
    return (f"imported {counts['articles']} articles of {source} from {counts['pages']} HTML pages in {files} WARC "
            f"files: {counts['duplicates']} duplicates of other articles, {counts['same-article']} pages of an "
            f"article already seen, {counts['rejected']} rejected; records skipped: {skipped or 'none'}")
