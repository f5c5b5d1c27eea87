"""The language of a text, by py3langid (its model ships inside the wheel: nothing is downloaded).

Shared by extraction (the article's language) and tagging (when the caller names none); neither is a stage of
the other, so the detector lives here.
"""

from __future__ import annotations

from monitor.fields import normalize_language
from monitor.once import once

# The detector decides only when it is this sure (normalised probability), and only on this much text.
LANGUAGE_MIN_PROBABILITY = 0.9
LANGUAGE_MIN_CHARS = 40
LANGUAGE_SAMPLE_CHARS = 1000  # 3,000 took 2.3x longer and changed 1 of 427 corpus pages (unsure -> "de")


@once
def _identifier():
    """The language model: loading it takes ~0.5 s, so only when the first article needs it, and only once."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language (py3langid, shipped with its model), or None when unsure."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if len(sample.strip()) < LANGUAGE_MIN_CHARS:
        return None
    code, probability = _identifier().classify(sample)
    return normalize_language(code) if probability >= LANGUAGE_MIN_PROBABILITY else None
