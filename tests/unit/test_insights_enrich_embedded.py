"""Engine.enrich_embedded: what re-enrichment (the taxonomy, corrections or sentiment model
changed) runs on stored embeddings gives what Engine.enrich gives on the texts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from feedback.insights.engine import Engine, Enriched, get_engine, pack, unpack
from feedback.insights.engine_data import DEFAULT_TOPICS

TEXTS = [
    "The parcel came a week late and the box was crushed.",
    "Курьер опоздал на два часа, а коробка была мятая.",
    "Obsługa w sklepie była bardzo miła i pomocna.",
    "退款到现在还没有到账，客服也不回复。",
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return get_engine()


def _fields(found: list[Enriched]) -> list[tuple[Any, ...]]:
    # Enriched holds a numpy array (no ==): the other fields, compared as tuples.
    return [(e.language, e.topics, e.sentiment, e.sentiment_confidence) for e in found]


def test_on_the_texts_own_embeddings_it_is_enrich(engine: Engine) -> None:
    embeddings = engine.embed(TEXTS)
    reused = engine.enrich_embedded(TEXTS, embeddings, DEFAULT_TOPICS)
    fresh = engine.enrich(TEXTS, DEFAULT_TOPICS)
    assert _fields(reused) == _fields(fresh)
    assert any(e.topics for e in reused)  # the comparison compares something
    for e, row in zip(reused, embeddings, strict=True):
        assert np.array_equal(e.embedding, row)


def test_on_stored_float16_embeddings_the_findings_hold(engine: Engine) -> None:
    stored = np.stack([unpack(pack(row)) for row in engine.embed(TEXTS)])
    reused = engine.enrich_embedded(TEXTS, stored, DEFAULT_TOPICS)
    fresh = engine.enrich(TEXTS, DEFAULT_TOPICS)
    assert [(e.language, [s for s, _ in e.topics], e.sentiment) for e in reused] == [
        (e.language, [s for s, _ in e.topics], e.sentiment) for e in fresh
    ]


def test_texts_and_embeddings_must_pair_up(engine: Engine) -> None:
    with pytest.raises(ValueError, match="2 texts but 1 embeddings"):
        engine.enrich_embedded(TEXTS[:2], engine.embed(TEXTS[:1]), DEFAULT_TOPICS)
    assert engine.enrich_embedded([], np.zeros((0, 384), dtype=np.float32), DEFAULT_TOPICS) == []
