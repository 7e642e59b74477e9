"""The engine's fitting and scoring arithmetic (feedback.insights.engine): logistic heads per
topic and for sentiment, threshold calibration, the example-similarity fallback, and the
shipped states' file format. Shared by the engine, train_default and bench/insights.py, so
that what is measured is what runs."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from feedback.insights import cues, ngrams

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

DIM = 384
# The sentiment head reads the embedding and the cue counts (feedback.insights.cues).
SENTIMENT_DIM = DIM + cues.N_FEATURES
SENTIMENTS = ("negative", "neutral", "positive")
# Regularisation of the heads (inverse strength) and the topic heads' one cut-off, chosen by
# repeated 5-fold cross-validation on the training texts (bench/README.md, issue 18's tables).
TOPIC_C = 16.0
SENTIMENT_C = 2.0
TOPIC_CUT = 0.65
# A staff correction counts as this many labelled texts: it is about this deployment.
CORRECTION_WEIGHT = 4.0
# The fallback's cut-off: a text this many standard deviations more similar to a topic's
# example than the example's usual similarity to texts of that language (the same complaint
# in another language scores 2.5-5.5, unrelated texts mostly below 2); certainty at +2.
SIMILARITY_Z = 2.4
SIMILARITY_SPREAD_Z = 0.5
SEED = 18


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def rescale(prob: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Maps each topic's probability so that its own threshold lands on 0.5: one cut-off for
    all topics downstream, while the ranking within a topic is kept."""
    threshold = np.clip(threshold, 1e-3, 1 - 1e-3)
    low = 0.5 * prob / threshold
    high = 0.5 + 0.5 * (prob - threshold) / (1 - threshold)
    return np.where(prob < threshold, low, high).astype(np.float32)


def example_similarity(
    embeddings: np.ndarray, prototype: np.ndarray, examples: np.ndarray
) -> np.ndarray:
    """A text's similarity to a topic: the best of its examples, else its description."""
    if examples.shape[0]:
        return (embeddings @ examples.T).max(axis=1)
    return embeddings @ prototype


def similarity_score(
    embeddings: np.ndarray,
    languages: Sequence[str] | None,
    prototype: np.ndarray,
    examples: np.ndarray,
    negatives: np.ndarray,
    background: np.ndarray,
    background_languages: np.ndarray,
) -> np.ndarray:
    """The fallback for topics without a trained head (added by staff). e5's cosines depend
    on the pair of languages (an English example is nearer to any English text than to its
    Chinese paraphrase), so a text's similarity to each example is measured against how
    similar that example is to the labelled texts in the text's language: a z-score, the
    best over the examples (or, without any, the description as a query). A text closer to
    a staff-rejected text than to any example is out."""
    anchors = examples if examples.shape[0] else prototype.reshape(1, -1)
    sims = embeddings @ anchors.T  # (n, anchors)
    z = np.zeros(len(embeddings), dtype=np.float32)
    langs = list(languages) if languages is not None else [""] * len(embeddings)
    for lang in set(langs):
        rows = np.array([x == lang for x in langs])
        same = background[background_languages == lang] if background.shape[0] else background
        if same.shape[0] < 10:  # a language we have no labelled texts in: all of them
            same = background
        if same.shape[0] < 2:
            z[rows] = (sims[rows].max(axis=1) - 0.85) / 0.03
            continue
        spread = anchors @ same.T  # (anchors, background)
        mean, std = spread.mean(axis=1), spread.std(axis=1) + 1e-6
        z[rows] = ((sims[rows] - mean) / std).max(axis=1)
    score = np.clip(0.5 + (z - SIMILARITY_Z) / (4 * SIMILARITY_SPREAD_Z), 0, 1)
    if negatives.shape[0]:
        rejected = (embeddings @ negatives.T).max(axis=1) > sims.max(axis=1)
        score = np.where(rejected, np.minimum(score, 0.25), score)
    return score.astype(np.float32)


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


def fit_binary(
    X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, C: float = TOPIC_C
) -> tuple[np.ndarray, float]:
    """One topic's head: logistic regression with balanced classes (a topic is in a tenth
    of the texts). Returns (coef, intercept); a topic with no positives gets a head that
    never fires."""
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():
        return np.zeros(X.shape[1], dtype=np.float32), -10.0 if not y.any() else 10.0
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    # float64: lbfgs on float32 input is twenty times slower here (sklearn 1.9).
    model.fit(np.asarray(X, dtype=np.float64), y, sample_weight=weight)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def fit_heads(
    X: np.ndarray, Y: np.ndarray, weight: np.ndarray | None = None, C: float = TOPIC_C
) -> tuple[np.ndarray, np.ndarray]:
    coefs, intercepts = [], []
    for j in range(Y.shape[1]):
        coef, intercept = fit_binary(X, Y[:, j], weight, C)
        coefs.append(coef)
        intercepts.append(intercept)
    return np.stack(coefs), np.array(intercepts, dtype=np.float32)


def folds(n: int, k: int = 5, seed: int = SEED) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def out_of_fold(X: np.ndarray, Y: np.ndarray, k: int = 5, C: float = TOPIC_C) -> np.ndarray:
    """Each text's head probabilities from heads that never saw it."""
    prob = np.zeros(Y.shape, dtype=np.float32)
    for held in folds(len(X), k):
        train = np.setdiff1d(np.arange(len(X)), held)
        coef, intercept = fit_heads(X[train], Y[train], C=C)
        prob[held] = sigmoid(X[held] @ coef.T + intercept)
    return prob


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The cut-off maximising F1 of one topic, smoothed toward 0.5 (a few dozen positives)."""
    grid = np.linspace(0.2, 0.9, 29)
    f1s = []
    for t in grid:
        pred = scores >= t
        tp = float((pred & truth).sum())
        f1s.append(2 * tp / max(pred.sum() + truth.sum(), 1))
    best = float(grid[int(np.argmax(f1s))])
    return 0.5 * best + 0.25


def calibrate(prob: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.array([best_threshold(prob[:, j], Y[:, j]) for j in range(Y.shape[1])])


def sentiment_features(
    embeddings: np.ndarray, texts: Sequence[str], languages: Sequence[str]
) -> np.ndarray:
    """The sentiment head's input: each text's embedding beside its cue counts."""
    X = np.asarray(embeddings, dtype=np.float32).reshape(-1, DIM)
    return np.hstack([X, cues.features(texts, languages)])


def fit_sentiment(
    X: np.ndarray, labels: Sequence[str], weight: np.ndarray | None = None, C: float = SENTIMENT_C
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X: sentiment_features rows (or bare embeddings, for a head without cues), or a sparse
    n-gram matrix (ngrams)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([SENTIMENTS.index(label) for label in labels])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    model.fit(X.astype(np.float64), y, sample_weight=weight)  # dense or scipy sparse
    coef = np.zeros((len(SENTIMENTS), X.shape[1]), dtype=np.float32)
    intercept = np.full(len(SENTIMENTS), -40.0, dtype=np.float32)
    if len(model.classes_) == 2:  # binary: sklearn keeps one row for the second class
        a, b = model.classes_
        coef[b], intercept[b] = model.coef_[0], model.intercept_[0]
        coef[a], intercept[a] = 0.0, 0.0
    else:
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
    return coef, intercept, np.array(SENTIMENTS)


# ---------------------------------------------------------------------------------------
# Shipped states
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefaultTopics:
    slugs: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    threshold: np.ndarray
    X: np.ndarray  # the labelled TRAIN embeddings, to refit with corrections
    Y: np.ndarray  # (n, topics) bool
    similarity_thresholds: tuple[float, float]
    languages: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    # (n, topics): the TRAIN texts' topic-word counts (cues.topic_features, columns = slugs);
    # the heads read [embedding, these].
    K: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


@dataclass(frozen=True)
class Heads:
    coef: np.ndarray
    intercept: np.ndarray
    threshold: np.ndarray
    has_head: np.ndarray


@lru_cache(maxsize=2)
def default_topics(path: Path) -> DefaultTopics:
    if not path.exists():
        return DefaultTopics(
            (),
            np.zeros((0, DIM)),
            np.zeros(0),
            np.zeros(0),
            np.zeros((0, DIM)),
            np.zeros((0, 0), bool),
            (0.85, 0.82),
        )
    with np.load(path, allow_pickle=False) as data:
        return DefaultTopics(
            slugs=tuple(str(s) for s in data["slugs"]),
            coef=data["coef"].astype(np.float32),
            intercept=data["intercept"].astype(np.float32),
            threshold=data["threshold"].astype(np.float32),
            X=data["X"].astype(np.float32),
            Y=data["Y"].astype(bool),
            similarity_thresholds=(float(data["similarity"][0]), float(data["similarity"][1])),
            languages=data["languages"].astype(str),
            K=data["K"].astype(np.float32),
        )


def topic_heads(
    default: DefaultTopics,
    slugs: Sequence[str],
    corrected: np.ndarray,
    corrected_slugs: Sequence[str],
    corrected_present: Sequence[bool],
) -> Heads:
    """The heads for a taxonomy: the shipped head of each default topic, refitted with the
    staff corrections of that topic as extra examples (the labelled set plus them).
    `corrected`: the corrections' head inputs, [embedding, topic-word counts] rows."""
    k = len(slugs)
    width = DIM + len(default.slugs)
    shipped = default.coef
    coef = np.zeros((k, width), dtype=np.float32)
    intercept = np.zeros(k, dtype=np.float32)
    threshold = np.full(k, 0.5, dtype=np.float32)
    has_head = np.zeros(k, dtype=bool)
    present = np.asarray(corrected_present, dtype=bool)
    for j, slug in enumerate(slugs):
        if slug not in default.slugs:
            continue
        d = default.slugs.index(slug)
        has_head[j] = True
        threshold[j] = default.threshold[d]
        mine = np.array([s == slug for s in corrected_slugs], dtype=bool)
        if not mine.any():
            coef[j], intercept[j] = shipped[d], default.intercept[d]
            continue
        known = np.hstack([default.X, default.K])
        X = np.concatenate([known, corrected[mine]])
        y = np.concatenate([default.Y[:, d], present[mine]])
        weight = np.concatenate([np.ones(len(default.X)), np.full(mine.sum(), CORRECTION_WEIGHT)])
        coef[j], intercept[j] = fit_binary(X, y, weight)
    return Heads(coef, intercept, threshold, has_head)


@dataclass(frozen=True)
class SentimentState:
    """The sentiment model: the head on [embedding, cue counts] and, when the state has one,
    the character n-gram head with the vectorizer whose columns it reads."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray
    ngram_coef: np.ndarray | None = None
    ngram_intercept: np.ndarray | None = None
    vectorizer: FeatureUnion | None = None  # fitted by ngrams.fit_vectorizer


def sentiment_prob(
    state: SentimentState,
    embeddings: np.ndarray,
    texts: Sequence[str],
    languages: Sequence[str],
) -> np.ndarray:
    """(n, classes) probabilities: the embedding head's, averaged with the n-gram head's
    (ngrams.weights: its share of the vote in each text's language) when the state has one."""
    features = sentiment_features(embeddings, texts, languages)
    prob = softmax(features @ state.coef.T + state.intercept)
    if state.ngram_coef is None or state.vectorizer is None:
        return prob
    grams = state.vectorizer.transform(ngrams.normalised(texts))
    ngram_prob = softmax(np.asarray(grams @ state.ngram_coef.T) + state.ngram_intercept)
    share = ngrams.weights(languages)
    return (1 - share) * prob + share * ngram_prob


@lru_cache(maxsize=2)
def _default_vocabulary(path: str, stamp: tuple[int, int]) -> tuple[FeatureUnion, str] | None:
    """The shipped state's vectorizer and its vocabulary_key, fitted and hashed once per
    process on the texts it stores (`stamp`: the file's mtime and size, so a rebuilt file is
    read again)."""
    with np.load(path, allow_pickle=False) as data:
        if "texts" not in data:
            return None
        vectorizer = ngrams.fit_vectorizer([str(t) for t in data["texts"]])
    return vectorizer, ngrams.vocabulary_key(vectorizer)


def default_vocabulary(default_path: Path) -> tuple[FeatureUnion, str] | None:
    if not default_path.exists():
        return None
    info = default_path.stat()
    return _default_vocabulary(str(default_path), (info.st_mtime_ns, info.st_size))


def default_vectorizer(default_path: Path) -> FeatureUnion | None:
    vocabulary = default_vocabulary(default_path)
    return None if vocabulary is None else vocabulary[0]


def load_sentiment_state(state: bytes | None, default_path: Path) -> SentimentState:
    if state is None:
        if not default_path.exists():  # before the first train_default: all neutral
            coef = np.zeros((len(SENTIMENTS), SENTIMENT_DIM), dtype=np.float32)
            return SentimentState(
                coef, np.array([0.0, 1.0, 0.0], dtype=np.float32), np.array(SENTIMENTS)
            )
        source = default_path.read_bytes()
    else:
        source = state
    vocabulary = default_vocabulary(default_path)
    vectorizer, key = vocabulary if vocabulary is not None else (None, None)
    with np.load(io.BytesIO(source), allow_pickle=False) as data:
        coef = data["coef"].astype(np.float32)
        intercept = data["intercept"].astype(np.float32)
        classes = np.array([str(c) for c in data["classes"]])
        ngram_coef = ngram_intercept = None
        # An n-gram head trained on another vocabulary (a state adapted before this release's
        # default) has no columns to read: the embedding head answers alone until it is
        # adapted again.
        if "ngram_coef" in data and key is not None and str(data["ngram_key"]) == key:
            ngram_coef = data["ngram_coef"].astype(np.float32)
            ngram_intercept = data["ngram_intercept"].astype(np.float32)
    if coef.shape[1] == DIM:  # a state adapted before the cues: they weigh nothing in it
        coef = np.hstack([coef, np.zeros((len(coef), cues.N_FEATURES), dtype=np.float32)])
    if ngram_coef is None:
        vectorizer = None
    return SentimentState(coef, intercept, classes, ngram_coef, ngram_intercept, vectorizer)


def fit_ngram_head(
    vectorizer: FeatureUnion,
    texts: Sequence[str],
    labels: Sequence[str],
    weight: np.ndarray | None = None,
    key: str | None = None,
) -> dict[str, np.ndarray]:
    """The n-gram head's arrays for a state file (`texts` raw; normalised here). `key`: the
    vectorizer's vocabulary_key when the caller has it (default_vocabulary), else hashed here."""
    grams = vectorizer.transform(ngrams.normalised(texts))
    coef, intercept, _classes = fit_sentiment(grams, labels, weight, C=ngrams.C)
    return {
        "ngram_coef": coef,
        "ngram_intercept": intercept,
        "ngram_key": np.array(key or ngrams.vocabulary_key(vectorizer)),
    }


def fit_sentiment_state(
    default_path: Path,
    embeddings: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str],
    languages: Sequence[str],
) -> bytes:
    """The default training set plus a deployment's scored comments (their embeddings,
    texts and languages), theirs weighted so that they count at least as much as ours
    together (up to five times each). Both heads are refitted; the n-gram head keeps the
    default's vocabulary."""
    labels = list(labels)
    n = len(np.asarray(embeddings).reshape(-1, DIM))
    if not len(labels) == len(texts) == len(languages) == n:
        raise ValueError("one label, one text and one language per embedding")
    X = sentiment_features(embeddings, texts, languages)
    unknown = sorted({label for label in labels if label not in SENTIMENTS})
    if unknown:
        raise ValueError(f"unknown sentiment labels: {', '.join(unknown)}")
    with np.load(default_path, allow_pickle=False) as data:
        base_X = np.hstack([data["X"].astype(np.float32), data["cues"].astype(np.float32)])
        base_y = [str(s) for s in data["y"]]
        base_texts = [str(t) for t in data["texts"]] if "texts" in data else []
    w = float(np.clip(len(base_X) / max(len(X), 1), 1.0, 5.0))
    weight = np.concatenate([np.ones(len(base_X)), np.full(len(X), w)])
    coef, intercept, classes = fit_sentiment(np.concatenate([base_X, X]), base_y + labels, weight)
    arrays: dict[str, np.ndarray] = {
        "coef": coef,
        "intercept": intercept,
        "classes": classes,
        "trained_on": np.array([len(X)]),
    }
    vocabulary = default_vocabulary(default_path)
    if vocabulary is not None and len(base_texts) == len(base_X):
        vectorizer, key = vocabulary  # hashed once per process, not at every adaptation
        # base_texts are stored normalised; normalising is idempotent.
        arrays.update(
            fit_ngram_head(vectorizer, base_texts + list(texts), base_y + labels, weight, key)
        )
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()
