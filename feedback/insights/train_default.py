"""Train the engine's shipped default states from the TRAIN split of the labelled set and the
extra TRAIN-only texts (labelled/train_extra/):

    python -m feedback.insights.train_default

writes feedback/insights/data/topics_default.npz (a logistic head per default topic with the
one cut-off chosen by cross-validation, the training embeddings and labels to refit with
staff corrections, and the similarity thresholds of the fallback for topics without a head)
and sentiment_default.npz (the embeddings and the sentiment cues' counts: cues.py).
Deterministic: fixed folds and seed, lbfgs, and byte-stable files
(their bytes name MODEL_VERSION). The TEST split (id divisible by 3) is never read here."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from feedback.insights import cues, engine_fit, ngrams
from feedback.insights.engine import SENTIMENT_FILE, TOPICS_FILE, Engine
from feedback.insights.engine_data import (
    DEFAULT_SLUGS,
    DEFAULT_TOPICS,
    Labelled,
    topic_matrix,
    training_rows,
    write_npz,
)

COSINE_GRID = np.round(np.arange(0.70, 0.96, 0.005), 3)


def best_cut(scores: np.ndarray, truth: np.ndarray, grid: np.ndarray = COSINE_GRID) -> float:
    """The single threshold maximising micro-F1 over all topics (scores, truth: (n, topics)),
    keeping at most two topics per text as the engine does."""
    best, best_f1 = float(grid[0]), -1.0
    for t in grid:
        f1 = micro_f1(select(scores, t), truth)
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def select(scores: np.ndarray, threshold: float | np.ndarray, top: int = 2) -> np.ndarray:
    """Boolean (n, topics): the ≤ `top` best topics whose score passes the threshold."""
    passed = scores >= threshold
    rank = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    keep = np.zeros_like(passed)
    np.put_along_axis(keep, rank, True, axis=1)
    return passed & keep


def micro_f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float((pred & truth).sum())
    denominator = float(pred.sum() + truth.sum())
    return 2 * tp / denominator if denominator else 1.0


def example_oof(X: np.ndarray, Y: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Each TRAIN text's similarity to each topic's examples taken from the other folds."""
    sims = np.zeros(Y.shape, dtype=np.float32)
    for held in engine_fit.folds(len(X)):
        train = np.setdiff1d(np.arange(len(X)), held)
        for j in range(Y.shape[1]):
            examples = X[train][Y[train, j]]
            sims[held, j] = engine_fit.example_similarity(X[held], prototypes[j], examples)
    return sims


def train(rows: list[Labelled], engine: Engine) -> tuple[dict, dict]:
    """`rows`: the training rows; a TEST row among them is an error, not a silent skip."""
    if any(r.test for r in rows):
        raise ValueError("TEST rows (id divisible by 3) are never trained on")
    train_rows = rows
    if not train_rows:
        raise SystemExit("no labelled TRAIN rows in feedback/insights/data/labelled/")
    X = engine.embed([r.text for r in train_rows])
    Y = topic_matrix(train_rows)
    K = cues.topic_features(
        [r.text for r in train_rows], [r.lang for r in train_rows], DEFAULT_SLUGS
    )
    coef, intercept = engine_fit.fit_heads(np.hstack([X, K]), Y)
    threshold = np.full(len(DEFAULT_SLUGS), engine_fit.TOPIC_CUT, dtype=np.float32)
    prototypes = engine.embed_cached([f"{t.name}: {t.description}" for t in DEFAULT_TOPICS], True)
    example_threshold = best_cut(example_oof(X, Y, prototypes), Y)
    prototype_threshold = best_cut(X @ prototypes.T, Y)
    topics = {
        "slugs": np.array(DEFAULT_SLUGS),
        "coef": coef.astype(np.float32),
        "intercept": intercept.astype(np.float32),
        "threshold": threshold.astype(np.float32),
        "X": X.astype(np.float16),
        "K": K,  # the topic words' counts beside X: corrections refit on both
        "Y": Y,
        "similarity": np.array([example_threshold, prototype_threshold], dtype=np.float32),
        "languages": np.array([r.lang for r in train_rows]),
    }
    labels = [r.sentiment for r in train_rows]
    texts = [r.text for r in train_rows]
    cue_counts = cues.features(texts, [r.lang for r in train_rows])
    s_coef, s_intercept, classes = engine_fit.fit_sentiment(np.hstack([X, cue_counts]), labels)
    normalised = ngrams.normalised(texts)
    vectorizer = ngrams.fit_vectorizer(normalised)
    sentiment = {
        "coef": s_coef,
        "intercept": s_intercept,
        "classes": classes,
        "X": X.astype(np.float16),
        "cues": cue_counts,  # kept beside X: a deployment's adaptation refits on both
        "y": np.array(labels),
        # The n-gram vectorizer is fitted on these again at load (engine_fit.default_vectorizer).
        "texts": np.array(normalised),
        **engine_fit.fit_ngram_head(vectorizer, texts, labels),
    }
    return topics, sentiment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    rows = training_rows()
    topics, sentiment = train(rows, Engine())
    write_npz(TOPICS_FILE, topics)
    write_npz(SENTIMENT_FILE, sentiment)
    languages = sorted({r.lang for r in rows})
    print(
        f"trained on {len(topics['X'])} TRAIN texts ({', '.join(languages)}); "
        f"cut-off {engine_fit.TOPIC_CUT}, "
        f"similarity {np.round(topics['similarity'], 3).tolist()}; "
        f"wrote {TOPICS_FILE.name}, {SENTIMENT_FILE.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
