from datetime import datetime, timezone

from monitor.dedup import cluster, cluster_articles, containment, shingles, unique_articles
from monitor.extract import extract
from monitor.models import DedupDoc, text_hash

WORDS = ("the council approved a new budget for schools roads and hospitals after a long debate in which "
         "members argued about taxes spending and the future of public transport across the region").split()


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
    assert text_hash("Hello,   World!") == text_hash("hello world") == "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"
    assert containment(shingles("a b c d e"), shingles("a b c d e f g")) == 1.0


def test_unique_articles_keeps_first_per_id(seed_html):
    a = extract(seed_html["armenia-ceasefire.html"], "http://127.0.0.1:9/x.html")
    b = extract(seed_html["armenia-ceasefire.html"], "http://127.0.0.1:9/y.html")
    assert a.article_id == b.article_id and unique_articles([a, b]) == [a]
