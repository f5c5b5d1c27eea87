"""Find duplicates in layers: normalised URL, canonical URL, exact body, then near-duplicate text.

Near-duplicates are found with an inverted index over hashed word shingles and verified by containment
(|A ∩ B| / min(|A|, |B|)), which tolerates what syndication does to a wire story: an added dateline or
byline, a rewritten headline, truncation, small edits and reordered paragraphs.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from monitor.models import Article, DedupDoc, DedupResult, text_hash as body_hash
from monitor.urls import normalize_url

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)
# A shingle that occurs in this many documents is boilerplate-like ("according to the") and says nothing
# about copying; skipping it bounds the candidate search.
MAX_POSTING = 2_000


def shingles(text: str, size: int = 3) -> set[int]:
    """Hashed word n-grams of the lower-cased text (stable across processes, unlike hash())."""
    words = _WORD.findall(text.lower())
    grams = (" ".join(words[i : i + size]) for i in range(max(len(words) - size + 1, 0)))
    return {int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "big") for g in grams}


def containment(a: set[int], b: set[int]) -> float:
    """|A ∩ B| / min(|A|, |B|): 1.0 when the shorter text is wholly inside the longer one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


class Index:
    """Everything seen so far: URLs, body hashes and shingle postings, each pointing at a cluster."""

    def __init__(self, shingle_size: int, threshold: float, min_shingles: int) -> None:
        self.shingle_size = shingle_size
        self.threshold = threshold
        self.min_shingles = min_shingles
        self.by_url: dict[str, str] = {}
        self.by_hash: dict[str, str] = {}
        self.cluster_of: dict[str, str] = {}
        self.sets: dict[str, set[int]] = {}
        self.postings: dict[int, list[str]] = defaultdict(list)

    def add(self, doc: DedupDoc, cluster: str, doc_shingles: set[int]) -> None:
        """Index a document under a cluster."""
        self.cluster_of[doc.doc_id] = cluster
        for url in filter(None, (doc.url, doc.canonical_url)):
            self.by_url.setdefault(normalize_url(url), doc.doc_id)
        if doc.text.strip():
            self.by_hash.setdefault(body_hash(doc.text), doc.doc_id)
        if len(doc_shingles) >= self.min_shingles:
            self.sets[doc.doc_id] = doc_shingles
            for s in doc_shingles:
                posting = self.postings[s]
                if len(posting) < MAX_POSTING:
                    posting.append(doc.doc_id)

    def best_near(self, doc_shingles: set[int]) -> tuple[str, float] | None:
        """The indexed document with the highest containment at or above the threshold."""
        if len(doc_shingles) < self.min_shingles:
            return None
        overlap: Counter[str] = Counter()
        for s in doc_shingles:
            overlap.update(self.postings.get(s, ()))
        best: tuple[str, float] | None = None
        for other, shared in overlap.most_common():
            similarity = shared / min(len(doc_shingles), len(self.sets[other]))
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (other, similarity)
        return best

    def match(self, doc: DedupDoc) -> tuple[DedupResult, set[int]]:
        """Match one document against the index, layer by layer."""
        doc_shingles = shingles(doc.text, self.shingle_size)
        if doc.doc_id in self.cluster_of:  # the same canonical URL was stored before: the same article
            return DedupResult(doc.doc_id, self.cluster_of[doc.doc_id], doc.doc_id, "canonical", 1.0), doc_shingles
        for layer, url in (("url", doc.url), ("canonical", doc.canonical_url)):
            if url and (hit := self.by_url.get(normalize_url(url))) and hit != doc.doc_id:
                return DedupResult(doc.doc_id, self.cluster_of[hit], hit, layer, 1.0), doc_shingles
        if doc.text.strip() and (hit := self.by_hash.get(body_hash(doc.text))) and hit != doc.doc_id:
            return DedupResult(doc.doc_id, self.cluster_of[hit], hit, "exact", 1.0), doc_shingles
        near = self.best_near(doc_shingles)
        if near and near[0] != doc.doc_id:
            other, similarity = near
            return DedupResult(doc.doc_id, self.cluster_of[other], other, "near", round(similarity, 4)), doc_shingles
        return DedupResult(doc.doc_id, doc.doc_id), doc_shingles


def cluster(docs: Iterable[DedupDoc], prior: Iterable[DedupDoc] = (), *, shingle_size: int = 3,
            threshold: float = 0.6, min_shingles: int = 20) -> list[DedupResult]:
    """Assign each new document a cluster, matching it against `prior` (already clustered) and earlier docs.

    Documents are taken oldest first, so a cluster is named after its earliest member.
    """
    docs = list(docs)
    index = Index(shingle_size, threshold, min_shingles)
    for doc in prior:
        index.add(doc, doc.cluster or doc.doc_id, shingles(doc.text, shingle_size))
    ordered = sorted(docs, key=lambda d: (d.published is None, d.published or 0, d.doc_id))
    results: dict[str, DedupResult] = {}
    for doc in ordered:
        result, doc_shingles = index.match(doc)
        results[doc.doc_id] = result
        index.add(doc, result.cluster, doc_shingles)
    return [results[d.doc_id] for d in docs]


def unique_articles(articles: Iterable[Article]) -> list[Article]:
    """One article per id: pages whose canonical URLs agree are one article (the first one fetched wins)."""
    seen: dict[str, Article] = {}
    for article in articles:
        seen.setdefault(article.article_id, article)
    return list(seen.values())


def cluster_articles(articles: list[Article], prior: list[DedupDoc], *, shingle_size: int = 3,
                     threshold: float = 0.6, min_shingles: int = 20) -> list[DedupResult]:
    """Cluster extracted articles against each other and the warehouse's recent articles."""
    docs = [DedupDoc(a.article_id, a.body, a.url, a.canonical_url, a.title, a.published) for a in articles]
    return cluster(docs, prior, shingle_size=shingle_size, threshold=threshold, min_shingles=min_shingles)
