"""The sentiment model's second reader: character 1-4-grams within words (scikit-learn's
TfidfVectorizer, "char_wb"), on the cue lists' normalised text. It sees the exact words,
endings, particles and emojis that the sentence embedding blurs, in every script without a
segmenter. Its vote is averaged with the embedding head's (engine_fit.sentiment_prob); the
vocabulary is fitted on the default state's training texts, so the shipped state stores the
texts, not the vocabulary. Settings chosen by 5-fold cross-validation (bench/README.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from feedback.insights import cues

if TYPE_CHECKING:  # scikit-learn is imported when a vectorizer is fitted, not with the engine
    from sklearn.feature_extraction.text import TfidfVectorizer

NGRAM_RANGE = (1, 4)
MIN_DF = 2  # an n-gram in one training text only is noise
C = 8.0
# The n-gram head's share of the vote beside the embedding head's.
WEIGHT = 0.3


def normalised(texts: Sequence[str]) -> list[str]:
    return [cues.normalise(text or "") for text in texts]


def fit_vectorizer(texts: Sequence[str]) -> TfidfVectorizer:
    """`texts`: already normalised (`normalised`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        sublinear_tf=True,
        min_df=MIN_DF,
        dtype=np.float32,
    )
    return vectorizer.fit(list(texts))


def vocabulary_key(vectorizer: TfidfVectorizer) -> str:
    """Names a vocabulary: an adapted state's n-gram head only fits the vectorizer it was
    trained with (its columns are that vocabulary's)."""
    digest = hashlib.sha256()
    for gram in vectorizer.get_feature_names_out():
        digest.update(gram.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]
