"""The shipped topic classifier: per-word weights for the 17 top-level IPTC Media Topics.

Made by scripts/train_topic_model.py (see src/monitor/data/NOTICE.md for what it learned from). Two views of a
text, averaged: complement naive Bayes over the words present, and a logistic regression over the mean of the
words' GloVe vectors, stored already multiplied out per word. Only tagging.py imports this module.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.once import once

MODEL = Path(__file__).parent / "data" / "topic_model.npz"
TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")  # as in the training script
# The two views get equal say: neither was better on its own in every class.
NB_SHARE = 0.5
EVIDENCE_WORDS = 10


@dataclass(frozen=True)
class TopicModel:
    classes: tuple[str, ...]
    index: dict[str, int]
    nb: np.ndarray  # (words, classes) complement naive Bayes weights
    lr: np.ndarray  # (words, classes) logistic regression weights folded through each word's vector
    lr_bias: np.ndarray
    rank_weight: np.ndarray  # rarer words weigh more in the mean vector, as in training
    digest: str  # names this exact model in the tagger's version

    def log_probabilities(self, text: str) -> np.ndarray:
        """Log-probability of each class (in `classes` order) for `text`; uniform when no word is known."""
        ids = [self.index[w] for w in TOKEN.findall(text.lower()) if w in self.index]
        if not ids:
            return np.full(len(self.classes), -np.log(len(self.classes)))
        present = np.unique(ids)
        # Naive Bayes counts each word as independent evidence, so a long article looks certain; past
        # EVIDENCE_WORDS distinct words its scores are scaled down to that many words' worth.
        nb = self.nb[present].sum(axis=0) * min(1.0, EVIDENCE_WORDS / len(present))
        weights = self.rank_weight[ids]
        lr = self.lr_bias + (self.lr[ids].astype(np.float32) * weights[:, None]).sum(axis=0) / weights.sum()
        return NB_SHARE * _log_softmax(nb) + (1 - NB_SHARE) * _log_softmax(lr)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


@once
def load() -> TopicModel:
    """The shipped model, read once per process."""
    with np.load(MODEL) as data:
        words = [str(w) for w in data["words"]]
        return TopicModel(
            classes=tuple(str(c) for c in data["classes"]),
            index={w: i for i, w in enumerate(words)},
            nb=data["nb"],
            lr=data["lr"],
            lr_bias=data["lr_bias"],
            rank_weight=np.log1p(np.arange(len(words)) / 100.0).astype(np.float32),
            digest=hashlib.sha1(MODEL.read_bytes()).hexdigest()[:12],
        )


VOCABULARY = Path(__file__).parent / "data" / "iptc_mediatopics.json"
_LABEL_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Narrower:
    """The second level of IPTC Media Topics, found by the labels of each second-level topic and everything
    under it ("war" and "guerrilla activity" are evidence for "armed conflict")."""

    labels: dict[str, str]  # second-level code -> its label
    parent: dict[str, str]  # second-level code -> top-level code
    phrases: dict[tuple[str, ...], str]  # label words (of it or a descendant) -> second-level code
    longest: int
    first_words: frozenset[str]  # words that start some label: the rest are skipped at once

    def evidence(self, text: str) -> dict[str, int]:
        """Hits per second-level code: each label phrase found in `text`, whole words, case-insensitive."""
        words = _LABEL_WORD.findall(text.lower())
        hits: dict[str, int] = {}
        for i, word in enumerate(words):
            if word not in self.first_words:
                continue
            for n in range(min(self.longest, len(words) - i), 0, -1):
                code = self.phrases.get(tuple(words[i : i + n]))
                if code:
                    hits[code] = hits.get(code, 0) + 1
                    break
        return hits


@once
def narrower() -> Narrower:
    """The shipped IPTC vocabulary's second level, read once per process."""
    concepts = [c for c in json.loads(VOCABULARY.read_text(encoding="utf-8"))["concepts"] if not c["retired"]]
    broader = {c["qcode"]: c["broader"] for c in concepts}
    labels, parent, phrases = {}, {}, {}
    for c in concepts:
        chain = [c["qcode"]]
        while broader.get(chain[-1]):
            chain.append(broader[chain[-1]])
        if len(chain) < 2:
            continue  # a top-level topic
        second, top = chain[-2], chain[-1]
        labels.setdefault(second, next(x["label"] for x in concepts if x["qcode"] == second))
        parent[second] = top
        words = tuple(_LABEL_WORD.findall(c["label"].lower()))
        for form in (words, (*words[:-1], words[-1] + "s")):  # "election", "elections"
            phrases.setdefault(form, second)
    return Narrower(labels, parent, phrases, max(len(p) for p in phrases), frozenset(p[0] for p in phrases))
