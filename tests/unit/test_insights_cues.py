"""The sentiment cues (feedback/insights/cues.py): how they match, and their shipped lists."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from feedback.insights import cues, engine_fit
from feedback.insights.engine import LANGUAGES


def test_a_stem_matches_at_a_word_start_only() -> None:
    found = cues.parse("+\tpolec\n-\tzawiod\n", "pl")
    assert found.hits("Polecam wszystkim!") == (1, 0)
    assert found.hits("Zawiodłam się, nie wrócę") == (0, 1)
    # "polec" inside another word is not the cue.
    assert found.hits("Zapolecenie") == (0, 0)


def test_the_longest_pattern_wins_where_two_overlap() -> None:
    found = cues.parse("+\tпонрав\n-\tне понрав\n", "ru")
    assert found.hits("Очень понравилось") == (1, 0)
    assert found.hits("Мне не понравилось совсем") == (0, 1)
    assert found.hits("Не понравилось. А вот курьер понравился") == (1, 1)


def test_chinese_and_arabic_cues_match_inside_words() -> None:
    assert cues.parse("-\t不满意\n+\t满意\n", "zh-hans").hits("我对这次购物很不满意") == (0, 1)
    # The Arabic cue is found after the clitic "و" and whatever spelling of alef or ta marbuta.
    found = cues.parse("-\tمكسورة\n", "ar")
    assert found.hits("ووصلت القزازه مكسوره") == (0, 1)
    assert found.hits("وَمَكْسُورَة") == (0, 1)


def test_text_and_patterns_are_normalised_alike() -> None:
    assert cues.normalise("  ЁЛКА\tи  Ёж ") == "елка и еж"
    assert cues.parse("+\tОтлично\n", "ru").hits("ОТЛИЧНО!") == (1, 0)
    assert cues.parse("+\tжёлт\n", "ru").hits("желтый") == (1, 0)


@pytest.mark.parametrize(
    ("source", "message"),
    [("*\tgood\n", "line 1"), ("+good\n", "line 1"), ("+\tgood\n-\tgood\n", "both")],
)
def test_a_malformed_cue_file_names_its_line(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cues.parse(source, "en")


def test_features_are_scaled_log_counts_in_the_texts_language() -> None:
    texts = ["Great, great and perfect", "Nothing to say", "Отлично", "Great"]
    found = cues.features(texts, ["en", "en", "ru", "xx"])
    assert found.shape == (4, 2 * len(cues.SLOTS))
    en, ru = 2 * cues.SLOTS.index("en"), 2 * cues.SLOTS.index("ru")
    assert found[0, en] > found[2, ru] > 0  # three English hits beat one Russian
    assert found[2, en] == 0  # the Russian text's counts sit in its own language's columns
    assert found[1, en] == 0
    assert not found[3].any()  # no cue list for that language
    with pytest.raises(ValueError):
        cues.features(["a"], [])


def test_every_engine_language_has_its_columns() -> None:
    assert cues.SLOTS == LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_ships_a_cue_list_of_both_polarities(language: str) -> None:
    found = cues.cue_list(language)
    polarities = list(found.labels.values())
    assert polarities.count("+") >= 50 and polarities.count("-") >= 50


@pytest.mark.parametrize(
    ("language", "pleased", "unhappy"),
    [
        ("en", "Absolutely brilliant, thank you!", "Really disappointed, never again."),
        ("ru", "Всё отлично, спасибо!", "Ужасно, больше не закажу."),
        ("pl", "Super, polecam!", "Porażka, nie polecam."),
        ("zh-hans", "非常满意，谢谢！", "太失望了，再也不买了。"),
        ("ar", "ممتاز، شكراً لكم!", "سيء جداً، ما راح أطلب مرة ثانية."),
    ],
)
def test_plain_praise_and_complaint_hit_their_cues(
    language: str, pleased: str, unhappy: str
) -> None:
    found = cues.cue_list(language)
    positive, negative = found.hits(pleased)
    assert positive > negative
    positive, negative = found.hits(unhappy)
    assert negative > positive


def test_a_sentiment_state_adapted_before_the_cues_still_loads() -> None:
    # A deployment's EngineState written by the previous release: embedding columns only.
    buffer = io.BytesIO()
    coef = np.ones((3, engine_fit.DIM), dtype=np.float32)
    np.savez(buffer, coef=coef, intercept=np.zeros(3), classes=np.array(engine_fit.SENTIMENTS))
    loaded = engine_fit.load_sentiment_state(buffer.getvalue(), Path("unused"))
    assert loaded.coef.shape == (3, engine_fit.SENTIMENT_DIM)
    assert not loaded.coef[:, engine_fit.DIM :].any()
    assert list(loaded.classes) == list(engine_fit.SENTIMENTS)


# --- topic words ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_ships_words_for_every_default_topic(language: str) -> None:
    from feedback.insights.engine_data import DEFAULT_SLUGS

    found = cues.topic_cue_list(language, DEFAULT_SLUGS)  # an unknown slug would raise
    per_topic = {slug: list(found.labels.values()).count(slug) for slug in DEFAULT_SLUGS}
    assert min(per_topic.values()) >= 15, per_topic


def test_a_topic_file_naming_an_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="line 2"):
        cues.parse("delivery\tcourier\nparking\tcar park\n", "en", ("delivery", "staff"))


@pytest.mark.parametrize(
    ("language", "text", "slug"),
    [
        ("en", "The courier left it at the wrong address", "delivery"),
        ("ru", "Курьеру пришлось звонить три раза", "delivery"),
        ("pl", "Zwrot pieniędzy trwał miesiąc", "returns_refunds"),
        ("zh-hans", "客服电话一直打不通", "customer_support"),
        ("ar", "التطبيق يعلق كل ما افتح السله", "website_app"),
    ],
)
def test_topic_words_land_in_their_topics_column(language: str, text: str, slug: str) -> None:
    from feedback.insights.engine_data import DEFAULT_SLUGS

    found = cues.topic_features([text], [language], DEFAULT_SLUGS)[0]
    assert found[DEFAULT_SLUGS.index(slug)] > 0
    assert found.argmax() == DEFAULT_SLUGS.index(slug)
