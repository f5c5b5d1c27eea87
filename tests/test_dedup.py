from datetime import datetime, timezone

import hashlib

import numpy as np
import pytest

from monitor.dedup import (
    cluster, cluster_articles, estimated_containment, shingle_hashes, signature, sketch_articles,
    unique_articles,
)
from monitor.extract import extract
from monitor.models import DedupDoc, text_hash

WORDS = ("the council approved a new budget for schools roads and hospitals after a long debate in which "
         "members argued about taxes spending and the future of public transport across the region").split()


PINNED_SIGNATURE_SHA1 = "67fdb60662464fd726a33692da0e603e4d81151e"


def _text(seed: int, n: int = 60) -> str:
    return " ".join(WORDS[(i * seed + i // 7) % len(WORDS)] for i in range(n))


def test_seed_pages_make_two_story_clusters(seed_html, expected):
    names = ["cgtn-armenia-azerbaijan.html", "wire-armenia-azerbaijan.html", "armenia-ceasefire.html"]
    articles = [extract(seed_html[n], f"http://127.0.0.1:9/{n}") for n in names]
    results = {r.doc_id: r for r in cluster_articles(articles, [])}
    cgtn, wire, ceasefire = (results[a.article_id] for a in articles)
    assert wire.cluster == cgtn.cluster and wire.match == "near" and wire.duplicate_of == cgtn.doc_id
    assert ceasefire.cluster != cgtn.cluster and ceasefire.match is None
    assert len({r.cluster for r in results.values()}) == expected["feed"]["story_clusters"]


def test_clustering_from_sketches_made_elsewhere_gives_the_same_results(seed_html):
    """A run sketches articles batch by batch in worker processes; clustering those must change nothing."""
    names = ["cgtn-armenia-azerbaijan.html", "wire-armenia-azerbaijan.html", "armenia-ceasefire.html"]
    articles = [extract(seed_html[n], f"http://127.0.0.1:9/{n}") for n in names]
    articles.append(extract(seed_html[names[0]], "http://127.0.0.1:9/copy.html?utm_source=x"))  # the exact copy
    sketches = sketch_articles(articles[:2]) + sketch_articles(articles[2:])
    assert all(s.text == "" and s.signature and s.shingle_count and s.body_sha1 for s in sketches)
    assert cluster_articles(articles, [], sketches=sketches) == cluster_articles(articles, [])


def test_layers_url_exact_and_near():
    body = "Armenia has asked Russia to help defend its borders after a clash with Azerbaijan. " * 5
    docs = [
        DedupDoc("a", body, "http://h.example/a?utm_source=x"),
        DedupDoc("b", body.upper(), "http://h.example/b"),  # same text, different case: exact
        DedupDoc("c", "Other words entirely. " * 30, "http://h.example/a#frag"),  # same URL after normalising
    ]
    got = {r.doc_id: (r.match, r.duplicate_of) for r in cluster(docs, min_shingles=5)}
    assert got == {"a": (None, None), "b": ("exact", "a"), "c": ("url", "a")}


def test_prior_clusters_are_joined_across_runs():
    text = " ".join(f"word{i}" for i in range(80))
    prior = [DedupDoc("old", text, cluster="cluster-1")]
    edited = "DATELINE (Reuters) - " + text.replace("word40", "changed")
    (result,) = cluster([DedupDoc("new", edited)], prior)
    assert result.cluster == "cluster-1" and result.match == "near" and result.similarity > 0.9


def test_earliest_published_names_the_cluster():
    text = " ".join(f"w{i}" for i in range(60))
    late = DedupDoc("late", text, published=datetime(2026, 1, 2, tzinfo=timezone.utc))
    early = DedupDoc("early", text + " extra", published=datetime(2026, 1, 1, tzinfo=timezone.utc))
    results = {r.doc_id: r for r in cluster([late, early])}
    assert results["late"].cluster == results["early"].cluster == "early"


def test_short_texts_are_never_near_matched():
    (a, b) = cluster([DedupDoc("a", "short text here"), DedupDoc("b", "short text here too")])
    assert b.match is None


def test_fingerprints_are_pinned():
    """Stored signatures must mean the same in every later version and process: changing the hash family or the
    tokeniser needs a migration that recomputes them, and this test says so."""
    assert text_hash("Hello,   World!") == text_hash("hello world") == "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"
    hashes = shingle_hashes("Armenia has asked Russia to help defend its borders after a clash with Azerbaijan")
    stored = signature(hashes).tobytes()  # what sketch_articles stores per article
    assert len(hashes) == 12 and len(stored) == 256
    assert hashlib.sha1(stored).hexdigest() == PINNED_SIGNATURE_SHA1


def test_containment_estimate_follows_the_sets():
    a = set(shingle_hashes(_text(3, 400)).tolist())
    b = set(shingle_hashes(_text(3, 200)).tolist())  # the first half: wholly inside a
    assert b <= a
    jaccard = np.array([len(a & b) / len(a | b)])
    assert estimated_containment(jaccard, np.array([len(a)]), np.array([len(b)]))[0] == pytest.approx(1.0)


def test_unique_articles_keeps_first_per_id(seed_html):
    a = extract(seed_html["armenia-ceasefire.html"], "http://127.0.0.1:9/x.html")
    b = extract(seed_html["armenia-ceasefire.html"], "http://127.0.0.1:9/y.html")
    assert a.article_id == b.article_id and unique_articles([a, b]) == [a]


@pytest.mark.parametrize("body, credits, agencies", [
    ("BAKU (Reuters) - Armenia said on Monday it would reopen the border.", [], [("Reuters", "dateline")]),
    ("YEREVAN, March 3 (AP) — Talks resumed." + " More text." * 40 + " (AP)", ["AP Photo/Jane Doe"],
     [("AP", "dateline"), ("AP", "body"), ("AP", "caption")]),
    ("Die Regierung hat beschlossen." + " Mehr Text." * 40 + " © dpa-infocom, dpa:230428-99-483045/5", [],
     [("dpa", "body")]),
    ("The Pentagon said the AP story was wrong, and AFP did not comment." + " More." * 10, ["Getty Images"], []),
])
def test_wire_agencies_from_dateline_closing_credit_and_photo_credits(body, credits, agencies):
    from monitor.dedup import wire_agencies
    assert list(wire_agencies(body, credits)) == agencies
