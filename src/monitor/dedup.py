"""Find duplicates in layers: normalised URL, canonical URL, exact body, then near-duplicate text.

Near-duplicates: every body gets a MinHash signature over its hashed word shingles. Banding the signatures (LSH)
proposes candidate pairs; a candidate is accepted when the estimated containment |A ∩ B| / min(|A|, |B|) reaches
the threshold. Containment, not Jaccard, because syndication adds a dateline or a byline, truncates, edits and
reorders paragraphs: the shorter copy sits inside the longer one. Jaccard J is estimated as the share of equal
signature slots, and |A ∩ B| = J (|A| + |B|) / (1 + J).

Signatures (and shingle counts) are what the warehouse stores, so a new article is compared with everything of
the window without re-reading bodies. Everything here is a pure function of the texts; the hash family is fixed
(seeded), so a signature means the same in every process and every run.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from monitor.models import Article, DedupDoc, DedupResult, text_hash, text_words, words_hash
from monitor.urls import normalize_url

log = logging.getLogger(__name__)

# Signature length and banding: 64 slots in 32 bands of 2. A pair with Jaccard 0.3 (a copy cut to half its length
# with edits) shares a band with probability 1 - (1 - 0.3^2)^32 = 0.95; unrelated news (J < 0.02) with 0.013.
NUM_PERM = 64
BAND_ROWS = 2  # candidate_pairs reads a band's two uint32 slots as one uint64
# The hash family: (a * x + b) mod p over a Mersenne prime, seeded so signatures are stable across processes.
_PRIME = np.uint64((1 << 61) - 1)
_RNG = np.random.RandomState(20251114)
_A = _RNG.randint(1, 1 << 61, size=NUM_PERM, dtype=np.uint64)
_B = _RNG.randint(0, 1 << 61, size=NUM_PERM, dtype=np.uint64)
_MIX = np.uint64(1_000_003)  # combines the word hashes of one shingle
EMPTY_SLOT = np.uint32(0xFFFFFFFF)
# A band bucket holding more than this many documents is boilerplate-like (a shared standard paragraph); only
# this many earlier members are compared, which bounds the work on hostile or repetitive input.
MAX_BUCKET_PEERS = 20


class _WordHashes(dict):
    """crc32 of each word, computed once per distinct word (a Python call per word cost a third of the time)."""

    def __missing__(self, word: str) -> int:
        if len(self) >= WORD_CACHE_SIZE:
            self.clear()
        value = self[word] = zlib.crc32(word.encode("utf-8"))
        return value


# Distinct words remembered between documents; news vocabularies are far smaller, hostile input is bounded.
WORD_CACHE_SIZE = 2_000_000
_word_hashes = _WordHashes()


def _grams(words: list[str], size: int) -> np.ndarray:
    count = len(words) - size + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    ids = np.fromiter(map(_word_hashes.__getitem__, words), dtype=np.uint64, count=len(words))
    grams = ids[:count].copy()
    for k in range(1, size):
        grams = grams * _MIX ^ ids[k : k + count]
    return np.unique(grams)


def shingle_hashes(text: str, size: int = 3) -> np.ndarray:
    """The distinct 64-bit hashes of the lower-cased word n-grams of `text` (stable across processes)."""
    return _grams(text_words(text), size)


def _hashes_and_digest(text: str, size: int) -> tuple[np.ndarray, str | None]:
    """Shingle hashes and models.text_hash of one text, from a single tokenisation."""
    words = text_words(text)
    digest = words_hash(words) if text.strip() else None
    return _grams(words, size), digest


def signature(hashes: np.ndarray) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 slots) of a set of shingle hashes."""
    if not len(hashes):
        return np.full(NUM_PERM, EMPTY_SLOT, dtype=np.uint32)
    # uint64 products wrap around; that is part of the hash, as in datasketch.
    mins = ((hashes[:, None] * _A + _B) % _PRIME).min(axis=0)
    return (mins & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def estimated_containment(jaccard: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """|A ∩ B| / min(|A|, |B|) from Jaccard and the set sizes: |A ∩ B| = J (|A| + |B|) / (1 + J)."""
    shared = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return np.minimum(shared / np.maximum(np.minimum(size_a, size_b), 1), 1.0)


@dataclass
class _Docs:
    """Signatures and sizes of every document of one clustering call, prior ones first, new ones in order."""

    sigs: np.ndarray  # (n, NUM_PERM) uint32
    sizes: np.ndarray  # (n,) float64


def candidate_pairs(sigs: np.ndarray, eligible: np.ndarray, first_new: int, rank: np.ndarray | None = None
                    ) -> np.ndarray:
    """(earlier, later) row pairs that share at least one LSH band, the later one new (row >= first_new).

    `rank` is the order documents are matched in (earlier ranks first; rows by default).

    Per band, the signatures' band values are sorted; documents with equal values form a bucket, and each new
    member is paired with up to MAX_BUCKET_PEERS earlier members.
    """
    n = len(sigs)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    bands = np.ascontiguousarray(sigs).view(np.uint64)  # a band is two uint32 slots read as one uint64
    found: list[np.ndarray] = []
    index = np.arange(n)
    rank = index if rank is None else rank
    for band in range(NUM_PERM // BAND_ROWS):
        values = bands[:, band]
        keep = index[eligible]
        order = keep[np.lexsort((rank[keep], values[keep]))]  # by value, then by rank (earlier first)
        sorted_values = values[order]
        for lag in range(1, MAX_BUCKET_PEERS + 1):
            if lag >= len(order):
                break
            same = sorted_values[lag:] == sorted_values[:-lag]
            if not same.any():
                break
            later, earlier = order[lag:][same], order[:-lag][same]
            new = later >= first_new
            found.append(np.stack([earlier[new], later[new]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def near_matches(docs: _Docs, eligible: np.ndarray, first_new: int, threshold: float,
                 order: list[int]) -> dict[int, tuple[int, float]]:
    """For each new document's row, its best earlier match at or above the containment threshold.

    `order` lists the new documents (0-based among the new) in the order they are matched."""
    rank = np.arange(len(docs.sizes))
    rank[first_new + np.asarray(order, dtype=np.int64)] = first_new + np.arange(len(order))
    pairs = candidate_pairs(docs.sigs, eligible, first_new, rank)
    if not len(pairs):
        return {}
    earlier, later = pairs[:, 0], pairs[:, 1]
    jaccard = (docs.sigs[earlier] == docs.sigs[later]).mean(axis=1)
    similarity = estimated_containment(jaccard, docs.sizes[earlier], docs.sizes[later])
    ok = similarity >= threshold
    best: dict[int, tuple[int, float]] = {}
    for e, lt, s in zip(earlier[ok].tolist(), later[ok].tolist(), similarity[ok].tolist()):
        if lt not in best or s > best[lt][1]:
            best[lt] = (e, s)
    return best


def cluster(docs: Iterable[DedupDoc], prior: Iterable[DedupDoc] = (), *, shingle_size: int = 3,
            threshold: float = 0.6, min_shingles: int = 20) -> list[DedupResult]:
    """Assign each new document a cluster, matching it against `prior` (already clustered) and earlier docs.

    New documents are taken oldest first, so a cluster is named after its earliest member. A prior document
    brings its stored signature (or its text, from which one is computed).
    """
    # One pass over the texts: each document is reduced to its signature, size and body hash, and its text is
    # let go (a million bodies would not fit the memory budget; a million signatures take 256 MB).
    sig_rows: list[np.ndarray] = []
    size_list: list[int] = []

    def slim(doc: DedupDoc) -> DedupDoc:
        digest = doc.body_sha1
        if doc.signature is not None:
            sig_rows.append(np.frombuffer(doc.signature, dtype=np.uint32))
            size_list.append(doc.shingle_count)
            if digest is None and doc.text.strip():
                digest = text_hash(doc.text)
        else:
            hashes, computed = _hashes_and_digest(doc.text, shingle_size)
            sig_rows.append(signature(hashes))
            size_list.append(len(hashes))
            digest = digest or computed
        return replace(doc, text="", body_sha1=digest)

    prior = [slim(doc) for doc in prior]
    docs = [slim(doc) for doc in docs]
    first_new = len(prior)
    # New documents are matched oldest first; `position` is a document's row in the signature arrays.
    order = sorted(range(len(docs)), key=lambda i: (docs[i].published is None, docs[i].published or 0, docs[i].doc_id))
    position_of = {i: first_new + i for i in range(len(docs))}
    everything = [*prior, *docs]
    sigs_array = np.vstack(sig_rows) if sig_rows else np.empty((0, NUM_PERM), dtype=np.uint32)
    sizes = np.asarray(size_list, dtype=np.float64)
    sig_rows.clear()
    near = near_matches(_Docs(sigs_array, sizes), sizes >= min_shingles, first_new, threshold, order)

    cluster_of: dict[str, str] = {}
    by_url: dict[str, str] = {}
    by_hash: dict[str, str] = {}

    def remember(doc: DedupDoc, cluster_id: str) -> None:
        cluster_of[doc.doc_id] = cluster_id
        for url in filter(None, (doc.url, doc.canonical_url)):
            by_url.setdefault(normalize_url(url), doc.doc_id)
        if doc.body_sha1:
            by_hash.setdefault(doc.body_sha1, doc.doc_id)

    for doc in prior:
        remember(doc, doc.cluster or doc.doc_id)
    results: dict[str, DedupResult] = {}
    for index in order:
        doc, position = docs[index], position_of[index]
        result = _match(doc, cluster_of, by_url, by_hash, near.get(position), everything)
        results[doc.doc_id] = replace(result, signature=sigs_array[position].tobytes(),
                                      shingle_count=int(sizes[position]))
        remember(doc, result.cluster)
    return [results[d.doc_id] for d in docs]


def _match(doc: DedupDoc, cluster_of: dict[str, str], by_url: dict[str, str], by_hash: dict[str, str],
           near: tuple[int, float] | None, everything: list[DedupDoc]) -> DedupResult:
    """One document against what came before it, layer by layer."""
    if doc.doc_id in cluster_of:  # the same canonical URL was stored before: the same article
        return DedupResult(doc.doc_id, cluster_of[doc.doc_id], doc.doc_id, "canonical", 1.0)
    for layer, url in (("url", doc.url), ("canonical", doc.canonical_url)):
        if url and (hit := by_url.get(normalize_url(url))) and hit != doc.doc_id:
            return DedupResult(doc.doc_id, cluster_of[hit], hit, layer, 1.0)
    if doc.body_sha1 and (hit := by_hash.get(doc.body_sha1)) and hit != doc.doc_id:
        return DedupResult(doc.doc_id, cluster_of[hit], hit, "exact", 1.0)
    if near is not None:
        other = everything[near[0]].doc_id
        if other in cluster_of and other != doc.doc_id:
            return DedupResult(doc.doc_id, cluster_of[other], other, "near", round(near[1], 4))
    return DedupResult(doc.doc_id, doc.doc_id)


def rematch(docs: list[DedupDoc], others: list[DedupDoc], *, shingle_size: int = 3, threshold: float = 0.6,
            min_shingles: int = 20) -> list[DedupResult]:
    """Each of `docs` (each the first of its cluster) matched against `others` alone (already clustered, never seen
    by the clustering that put `docs` where they are), as `cluster` would have matched it had `others` come first;
    the docs that match none are left out. A load settles writers at once with this (warehouse.clusters).

    One doc at a time, so that docs never match each other: their clustering already decided that."""
    found = []
    for doc in docs:
        (result,) = cluster([doc], others, shingle_size=shingle_size, threshold=threshold, min_shingles=min_shingles)
        if result.duplicate_of is not None and result.duplicate_of != doc.doc_id:
            found.append(result)
    return found


# News agencies whose copy outlets run, by the names they are credited with. Keys are how they appear in text.
AGENCIES = {
    "Reuters": "Reuters", "REUTERS": "Reuters", "AP": "AP", "Associated Press": "AP", "AFP": "AFP",
    "Agence France-Presse": "AFP", "dpa": "dpa", "DPA": "dpa", "EFE": "EFE", "ANSA": "ANSA", "Xinhua": "Xinhua",
    "TASS": "TASS", "Interfax": "Interfax", "RIA Novosti": "RIA Novosti", "Anadolu": "Anadolu", "AA": "Anadolu",
    "Kyodo": "Kyodo", "Yonhap": "Yonhap", "PA": "PA", "Bloomberg": "Bloomberg", "UPI": "UPI", "APA": "APA",
    "Keystone-SDA": "Keystone-SDA", "PTI": "PTI", "ANI": "ANI", "IANS": "IANS", "Sputnik": "Sputnik",
    "Europa Press": "Europa Press", "Belga": "Belga", "ANP": "ANP", "NTB": "NTB", "TT": "TT", "Ritzau": "Ritzau",
    "CTK": "CTK", "PAP": "PAP", "MTI": "MTI", "Ukrinform": "Ukrinform", "APA-Turan": "Turan",
}
_AGENCY_NAMES = "|".join(re.escape(k) for k in sorted(AGENCIES, key=len, reverse=True))
# "BAKU (Reuters) -", "(AP) —", "Berlin (dpa) –" near the start of the body.
_DATELINE = re.compile(rf"^.{{0,80}}?\((?:{_AGENCY_NAMES})(?:/[^)]{{0,40}})?\)\s*[-–—:]", re.S)
# "(Reuters)", "/dpa", "- AFP", "© dpa-infocom", "Reporting by ...; (Reuters)" anywhere in the last lines.
_CREDITED = re.compile(rf"(?:\(|©\s*|/\s*|[-–—]\s+)({_AGENCY_NAMES})\b(?:[-\w]*)\)?", re.S)
# How far into the body a dateline may sit, and how much of the end is searched for a closing credit.
DATELINE_PROBE_CHARS = 200
CLOSING_PROBE_CHARS = 400


def wire_agencies(body: str, caption_credits: Iterable[str | None] = ()) -> tuple[tuple[str, str], ...]:
    """Agencies credited by the article: in its dateline, in a credit at the end of the body, or in photo credits.

    Each is (agency, where) with where one of dateline, body, caption, so "which outlets ran AFP's story" and
    "whose photos were AP's" are separate questions.
    """
    found: dict[tuple[str, str], None] = {}
    head = body[:DATELINE_PROBE_CHARS]
    if dateline := _DATELINE.match(head):
        for name in re.findall(_AGENCY_NAMES, dateline.group(0)):
            found[(AGENCIES[name], "dateline")] = None
    closing = body[max(DATELINE_PROBE_CHARS, len(body) - CLOSING_PROBE_CHARS):]  # never the dateline again
    for match in _CREDITED.finditer(closing):
        found.setdefault((AGENCIES[match.group(1)], "body"), None)
    for credit in filter(None, caption_credits):
        for name in re.findall(rf"\b(?:{_AGENCY_NAMES})\b", credit):
            found.setdefault((AGENCIES[name], "caption"), None)
    return tuple(found)


def unique_articles(articles: Iterable[Article]) -> list[Article]:
    """One article per id: pages whose canonical URLs agree are one article (the first one fetched wins)."""
    seen: dict[str, Article] = {}
    for article in articles:
        seen.setdefault(article.article_id, article)
    return list(seen.values())


def sketch_articles(articles: list[Article], shingle_size: int = 3) -> list[DedupDoc]:
    """Each article as clustering needs it: signature, shingle count and body hash, without the text. Computing
    these is most of clustering's work and needs one article at a time, so a run does it batch by batch in its
    worker processes and `cluster_articles` only compares."""
    docs = []
    for a in articles:
        hashes, digest = _hashes_and_digest(a.body, shingle_size)
        docs.append(DedupDoc(a.article_id, "", a.url, a.canonical_url, a.title, a.published,
                             signature=signature(hashes).tobytes(), shingle_count=len(hashes), body_sha1=digest))
    return docs


def cluster_articles(articles: list[Article], prior: list[DedupDoc], *, shingle_size: int = 3,
                     threshold: float = 0.6, min_shingles: int = 20,
                     sketches: list[DedupDoc] | None = None) -> list[DedupResult]:
    """Cluster extracted articles against each other and the warehouse's recent articles; `sketches` are the
    articles' `sketch_articles`, in the same order, when they were computed already."""
    docs = sketches if sketches is not None else [
        DedupDoc(a.article_id, a.body, a.url, a.canonical_url, a.title, a.published) for a in articles]
    results = cluster(docs, prior, shingle_size=shingle_size, threshold=threshold, min_shingles=min_shingles)
    return [replace(r, agencies=wire_agencies(a.body, (c.credit for c in a.captions)))
            for r, a in zip(results, articles)]
