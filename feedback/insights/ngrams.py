"""The sentiment model's second reader: character 1-4-grams within words (scikit-learn's
TfidfVectorizer, "char_wb") beside word 1-2-grams, on the cue lists' normalised text. The
characters see the exact words, endings, particles and emojis that the sentence embedding
blurs, in every script without a segmenter; the word pairs see what a word does to the next
("не работает", "nie polecam", "ما يفهم", "not bad"). Its vote is averaged with the
embedding head's (engine_fit.sentiment_prob); the vocabulary is fitted on the default
state's training texts, so the shipped state stores the texts, not the vocabulary.
Settings chosen by 5-fold cross-validation (bench/README.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from feedback.insights import cues

if TYPE_CHECKING:  # scikit-learn is imported when a vectorizer is fitted, not with the engine
    from sklearn.pipeline import FeatureUnion

NGRAM_RANGE = (1, 4)
WORD_NGRAM_RANGE = (1, 2)
# Words of one letter count too (the Russian and Polish "и"/"i", Arabic "و" split off by
# spaces); Chinese runs without spaces become long tokens that min_df drops.
WORD_PATTERN = r"(?u)\b\w+\b"
MIN_DF = 2  # an n-gram in one training text only is noise
C = 8.0
# The n-gram head's share of the vote beside the embedding head's. It reads words, so it
# earns more where it learnt from more texts: half the vote in Russian, Chinese and Arabic
# (2,000-8,500 training texts each), 0.4 in English, Polish (about 1,050) and any other
# language. Chosen by 5-fold cross-validation (bench/README.md).
WEIGHT = 0.4
WEIGHTS = {"ru": 0.5, "zh-hans": 0.5, "ar": 0.5}


def weights(languages: Sequence[str | None]) -> np.ndarray:
    """(n, 1): each text's n-gram share of the vote, by its language."""
    return np.array([[WEIGHTS.get(lang or "", WEIGHT)] for lang in languages], dtype=np.float32)


def normalised(texts: Sequence[str]) -> list[str]:
    return [cues.normalise(text or "") for text in texts]


def fit_vectorizer(texts: Sequence[str]) -> FeatureUnion:
    """`texts`: already normalised (`normalised`). Characters and words side by side, each
    TF-IDF weighted on its own."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    characters = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        sublinear_tf=True,
        min_df=MIN_DF,
        dtype=np.float32,
    )
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=WORD_NGRAM_RANGE,
        token_pattern=WORD_PATTERN,
        sublinear_tf=True,
        min_df=MIN_DF,
        dtype=np.float32,
    )
    return FeatureUnion([("characters", characters), ("words", words)]).fit(list(texts))


def vocabulary_key(vectorizer: FeatureUnion) -> str:
    """Names a vocabulary: an adapted state's n-gram head only fits the vectorizer it was
    trained with (its columns are that vocabulary's)."""
    digest = hashlib.sha256()
    for gram in vectorizer.get_feature_names_out():
        digest.update(gram.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]
