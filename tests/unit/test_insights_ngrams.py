"""The sentiment model's character n-gram vote (feedback/insights/ngrams.py and its use in
engine_fit): the shipped state carries it, adapted states keep it on the right vocabulary,
and states written before it still load."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from feedback.insights import engine_fit, ngrams
from feedback.insights.engine import SENTIMENT_FILE
from feedback.insights.engine_data import training_rows

DIM = engine_fit.DIM


def _zero_embeddings(n: int) -> np.ndarray:
    return np.zeros((n, DIM), dtype=np.float32)


def _state_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_the_shipped_state_votes_with_an_ngram_head_on_its_own_vocabulary() -> None:
    state = engine_fit.load_sentiment_state(None, SENTIMENT_FILE)
    assert state.vectorizer is not None and state.ngram_coef is not None
    assert state.ngram_coef.shape == (3, len(state.vectorizer.get_feature_names_out()))
    # A long, plain complaint and praise: the n-gram head alone gets them right too.
    texts = [
        "Ужасно, курьер опоздал, коробка разбита, больше никогда не закажу.",
        "Świetna obsługa, bardzo dziękuję, polecam wszystkim!",
    ]
    grams = state.vectorizer.transform(ngrams.normalised(texts))
    votes = (grams @ state.ngram_coef.T + state.ngram_intercept).argmax(axis=1)
    assert [state.classes[v] for v in votes] == ["negative", "positive"]


def test_the_vectorizer_reads_word_pairs_beside_characters() -> None:
    # "не работает" and "работает" share every character n-gram of "работает"; only the word
    # pair tells a broken thing from a working one.
    texts = ["Не работает пульт", "не работает экран", "Работает отлично", "работает тихо"]
    vectorizer = ngrams.fit_vectorizer(ngrams.normalised(texts))
    names = set(vectorizer.get_feature_names_out())
    assert {"words__не работает", "words__работает", "characters__рабо"} <= names
    grams = vectorizer.transform(ngrams.normalised(["Пульт не работает"]))
    column = list(vectorizer.get_feature_names_out()).index("words__не работает")
    assert grams[0, column] > 0


def _voting_state() -> engine_fit.SentimentState:
    """An embedding head that cannot tell (all zero) beside an n-gram head that learned two
    made-up words."""
    texts = ["zorbo", "zorbo zorbo", "quillex", "quillex quillex", "plain", "plain words"]
    labels = ["positive", "positive", "negative", "negative", "neutral", "neutral"]
    vectorizer = ngrams.fit_vectorizer(ngrams.normalised(texts))
    head = engine_fit.fit_ngram_head(vectorizer, texts, labels)
    return engine_fit.SentimentState(
        np.zeros((3, engine_fit.SENTIMENT_DIM), dtype=np.float32),
        np.zeros(3, dtype=np.float32),
        np.array(engine_fit.SENTIMENTS),
        head["ngram_coef"],
        head["ngram_intercept"],
        vectorizer,
    )


def test_the_vote_changes_what_the_embedding_head_alone_says() -> None:
    voted = _voting_state()
    classes = voted.classes
    alone = engine_fit.SentimentState(voted.coef, voted.intercept, classes)
    probe = ["ZORBO!", "Quillex."]
    prob_alone = engine_fit.sentiment_prob(alone, _zero_embeddings(2), probe, ["en", "en"])
    assert np.allclose(prob_alone, 1 / 3)
    prob = engine_fit.sentiment_prob(voted, _zero_embeddings(2), probe, ["en", "en"])
    assert [classes[i] for i in prob.argmax(axis=1)] == ["positive", "negative"]
    assert np.allclose(prob.sum(axis=1), 1.0)


def test_the_ngram_share_of_the_vote_follows_the_text_language() -> None:
    # The n-gram head's share is larger in the languages it learnt from more texts, WEIGHT
    # elsewhere.
    state = _voting_state()
    languages = ["en", "ar", "de"]
    prob = engine_fit.sentiment_prob(state, _zero_embeddings(3), ["zorbo"] * 3, languages)
    # (1 - w) / 3 + w * q: the lift over a uniform vote is proportional to the share w.
    lift = prob[:, engine_fit.SENTIMENTS.index("positive")] - 1 / 3
    assert lift[0] > 0
    assert lift[1] / lift[0] == pytest.approx(ngrams.WEIGHTS["ar"] / ngrams.WEIGHT, rel=1e-4)
    assert lift[2] == pytest.approx(lift[0], rel=1e-4)
    assert ngrams.weights(["ru", "pl", None]).ravel().tolist() == pytest.approx(
        [ngrams.WEIGHTS["ru"], ngrams.WEIGHT, ngrams.WEIGHT]
    )


def test_an_adapted_state_keeps_an_ngram_head_on_the_default_vocabulary() -> None:
    texts = ["Nothing special, fine.", "It was fine, I guess."] * 20
    state = engine_fit.fit_sentiment_state(
        SENTIMENT_FILE, _zero_embeddings(40), ["negative"] * 40, texts, ["en"] * 40
    )
    with np.load(io.BytesIO(state), allow_pickle=False) as data:
        assert {"ngram_coef", "ngram_intercept", "ngram_key"} <= set(data.files)
    loaded = engine_fit.load_sentiment_state(state, SENTIMENT_FILE)
    assert loaded.ngram_coef is not None
    assert loaded.vectorizer is engine_fit.default_vectorizer(SENTIMENT_FILE)


def test_an_adapted_state_needs_one_text_per_embedding() -> None:
    with pytest.raises(ValueError, match="one label, one text and one language"):
        engine_fit.fit_sentiment_state(
            SENTIMENT_FILE, _zero_embeddings(2), ["negative"] * 2, ["only one"], ["en"]
        )


def test_a_state_on_another_vocabulary_or_without_ngrams_answers_with_the_embedding_head() -> None:
    coef = np.ones((3, engine_fit.SENTIMENT_DIM), dtype=np.float32)
    common = {"coef": coef, "intercept": np.zeros(3), "classes": np.array(engine_fit.SENTIMENTS)}
    stale = _state_bytes(
        **common,
        ngram_coef=np.ones((3, 5), dtype=np.float32),
        ngram_intercept=np.zeros(3),
        ngram_key=np.array("another-vocab"),
    )
    before = _state_bytes(**common)  # adapted by the release before the n-gram vote
    for state in (stale, before):
        loaded = engine_fit.load_sentiment_state(state, SENTIMENT_FILE)
        assert loaded.ngram_coef is None and loaded.vectorizer is None
        assert np.array_equal(loaded.coef, coef)
        prob = engine_fit.sentiment_prob(loaded, _zero_embeddings(1), ["fine"], ["en"])
        assert prob.shape == (1, 3)


def test_without_a_default_file_there_is_no_vote(tmp_path: Path) -> None:
    state = engine_fit.load_sentiment_state(None, tmp_path / "missing.npz")
    assert state.vectorizer is None
    prob = engine_fit.sentiment_prob(state, _zero_embeddings(1), ["anything"], ["en"])
    assert state.classes[prob.argmax()] == "neutral"


def test_normalising_twice_changes_nothing_so_stored_texts_can_be_refitted() -> None:
    texts = [row.text for row in training_rows()]
    once = ngrams.normalised(texts)
    assert ngrams.normalised(once) == once
