"""The team's labelled comments (feedback/insights/data/labelled/<lang>.jsonl) keep the shape the
bench and the default sentiment model rely on: every language file present is checked, so a
file added later (or edited by hand) cannot quietly skew the held-out figures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

LABELLED = Path(__file__).resolve().parents[2] / "feedback" / "insights" / "data" / "labelled"
LANGUAGES = ("en", "ru", "pl", "zh-hans", "ar")
# The default taxonomy's slugs (issue 18); kept literal here so that the data is checked
# against the plan, not against whatever the code happens to ship.
TAXONOMY = {
    "delivery",
    "packaging_damage",
    "wrong_item",
    "product_quality",
    "price_value",
    "staff",
    "customer_support",
    "website_app",
    "returns_refunds",
    "stock_availability",
}
SENTIMENTS = {"negative": 0.50, "neutral": 0.25, "positive": 0.25}
LINES = 160
MIN_PER_TOPIC = 14
MIN_WITHOUT_TOPIC = 16
SHARE_TOLERANCE = 0.08

PRESENT = [lang for lang in LANGUAGES if (LABELLED / f"{lang}.jsonl").exists()]


def _rows(lang: str) -> list[dict]:
    lines = (LABELLED / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_at_least_one_language_is_labelled() -> None:
    assert PRESENT, f"no labelled file in {LABELLED}"


@pytest.mark.parametrize("lang", PRESENT)
def test_every_line_is_a_valid_labelled_comment(lang: str) -> None:
    rows = _rows(lang)
    assert len(rows) == LINES
    for number, row in enumerate(rows, start=1):
        assert set(row) == {"id", "lang", "text", "topics", "sentiment", "score"}, row
        # Sequential ids: the held-out split is "id number divisible by 3".
        assert row["id"] == f"{lang}-{number:03d}"
        assert row["lang"] == lang
        assert isinstance(row["text"], str)
        assert row["text"].strip(), row["id"]
        assert isinstance(row["topics"], list)
        assert len(row["topics"]) <= 2, row["id"]
        assert len(set(row["topics"])) == len(row["topics"]), row["id"]
        assert set(row["topics"]) <= TAXONOMY, row["id"]
        assert row["sentiment"] in SENTIMENTS, row["id"]
        score = row["score"]
        assert score is None or (type(score) is int and 0 <= score <= 10), row["id"]


@pytest.mark.parametrize("lang", PRESENT)
def test_texts_are_not_repeated(lang: str) -> None:
    texts = Counter(row["text"].strip().casefold() for row in _rows(lang))
    assert [text for text, count in texts.items() if count > 1] == []


@pytest.mark.parametrize("lang", PRESENT)
def test_every_topic_and_no_topic_are_covered(lang: str) -> None:
    rows = _rows(lang)
    per_topic = Counter(slug for row in rows for slug in row["topics"])
    assert {slug: per_topic[slug] for slug in TAXONOMY if per_topic[slug] < MIN_PER_TOPIC} == {}
    assert sum(1 for row in rows if not row["topics"]) >= MIN_WITHOUT_TOPIC


@pytest.mark.parametrize("lang", PRESENT)
def test_sentiment_shares_are_near_half_quarter_quarter(lang: str) -> None:
    rows = _rows(lang)
    counts = Counter(row["sentiment"] for row in rows)
    for sentiment, target in SENTIMENTS.items():
        share = counts[sentiment] / len(rows)
        assert abs(share - target) <= SHARE_TOLERANCE, (sentiment, round(share, 3))


# --- The extra TRAIN-only texts (labelled/train_extra/<lang>.jsonl) --------------------------

EXTRA = LABELLED / "train_extra"
EXTRA_PRESENT = [lang for lang in LANGUAGES if (EXTRA / f"{lang}.jsonl").exists()]
# Looser than the held-out files': these lean on the cases the models got wrong (mixed and
# resolved complaints, sarcasm), which are neutral and positive more often.
EXTRA_SHARE_TOLERANCE = 0.15
EXTRA_MIN_PER_TOPIC = 5


@pytest.mark.parametrize("lang", EXTRA_PRESENT)
def test_extra_ids_never_fall_in_the_test_split(lang: str) -> None:
    from feedback.insights.engine_data import Labelled

    rows = [json.loads(line) for line in (EXTRA / f"{lang}.jsonl").read_text().splitlines()]
    assert rows
    for row in rows:
        assert set(row) == {"id", "lang", "text", "topics", "sentiment", "score"}, row
        assert row["id"].startswith(f"{lang}-x-"), row["id"]
        assert row["lang"] == lang
        assert set(row["topics"]) <= TAXONOMY and len(row["topics"]) <= 2, row["id"]
        assert row["sentiment"] in SENTIMENTS, row["id"]
        labelled = Labelled(row["id"], lang, row["text"], (), row["sentiment"], row["score"])
        assert not labelled.test, row["id"]


@pytest.mark.parametrize("lang", EXTRA_PRESENT)
def test_extra_texts_repeat_neither_themselves_nor_the_labelled_set(lang: str) -> None:
    extra = [
        json.loads(line)["text"] for line in (EXTRA / f"{lang}.jsonl").read_text().splitlines()
    ]
    labelled = {row["text"].strip().casefold() for row in _rows(lang)}
    folded = Counter(text.strip().casefold() for text in extra)
    assert [text for text, count in folded.items() if count > 1 or text in labelled] == []


@pytest.mark.parametrize("lang", EXTRA_PRESENT)
def test_extra_texts_cover_every_topic_and_keep_a_realistic_sentiment_mix(lang: str) -> None:
    rows = [json.loads(line) for line in (EXTRA / f"{lang}.jsonl").read_text().splitlines()]
    per_topic = Counter(slug for row in rows for slug in row["topics"])
    assert {s: per_topic[s] for s in TAXONOMY if per_topic[s] < EXTRA_MIN_PER_TOPIC} == {}
    counts = Counter(row["sentiment"] for row in rows)
    for sentiment, target in SENTIMENTS.items():
        share = counts[sentiment] / len(rows)
        assert abs(share - target) <= EXTRA_SHARE_TOLERANCE, (sentiment, round(share, 3))


def test_training_rows_hold_no_test_row_and_train_refuses_one() -> None:
    from feedback.insights import train_default
    from feedback.insights.engine_data import load_labelled, training_rows

    rows = training_rows()
    assert rows and not any(row.test for row in rows)
    test_row = next(row for row in load_labelled() if row.test)
    with pytest.raises(ValueError, match="never trained on"):
        train_default.train([*rows[:3], test_row], engine=None)  # type: ignore[arg-type]


def test_second_annotation_labels_every_test_row_and_only_known_texts() -> None:
    from feedback.insights.engine_data import (
        SECOND_ANNOTATION,
        held_out_rows,
        load_labelled,
        load_second_annotation,
        load_test_extra,
        load_train_extra,
    )

    lines = SECOND_ANNOTATION.read_text(encoding="utf-8").splitlines()
    second = load_second_annotation()
    assert len(second) == len(lines), "an id labelled twice"
    known = {row.id for row in load_labelled() + load_train_extra() + load_test_extra()}
    assert set(second) - known == set()
    assert set(second.values()) <= set(SENTIMENTS)
    missing = [row.id for row in held_out_rows() if row.id not in second]
    assert missing == []


def test_second_annotation_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    from feedback.insights.engine_data import load_second_annotation

    assert load_second_annotation(tmp_path / "none.jsonl") == {}


# --- The second held-out set (labelled/test_extra/<lang>.jsonl) ------------------------------

TEST_EXTRA = LABELLED / "test_extra"
TEST_EXTRA_PRESENT = [lang for lang in LANGUAGES if (TEST_EXTRA / f"{lang}.jsonl").exists()]
# Each language's file started at 110 texts; those at cosine >= 0.95 to a text we already had
# were dropped (README.md), so numbering has gaps and at least this many remain.
TEST_EXTRA_MIN_ROWS = 75


def test_every_language_has_a_second_held_out_set() -> None:
    assert list(LANGUAGES) == TEST_EXTRA_PRESENT


@pytest.mark.parametrize("lang", TEST_EXTRA_PRESENT)
def test_second_held_out_rows_are_valid_and_always_test(lang: str) -> None:
    from feedback.insights.engine_data import Labelled

    lines = (TEST_EXTRA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) >= TEST_EXTRA_MIN_ROWS
    numbers = []
    for row in rows:
        assert set(row) == {"id", "lang", "text", "topics", "sentiment", "score"}, row
        assert row["id"].startswith(f"{lang}-t-"), row["id"]
        numbers.append(int(row["id"].rsplit("-", 1)[1]))
        assert row["lang"] == lang and row["text"].strip(), row["id"]
        assert set(row["topics"]) <= TAXONOMY and len(row["topics"]) <= 2, row["id"]
        assert row["sentiment"] in SENTIMENTS, row["id"]
        score = row["score"]
        assert score is None or (type(score) is int and 0 <= score <= 10), row["id"]
        labelled = Labelled(row["id"], lang, row["text"], (), row["sentiment"], row["score"])
        assert labelled.test, row["id"]
    assert numbers == sorted(set(numbers))


@pytest.mark.parametrize("lang", TEST_EXTRA_PRESENT)
def test_second_held_out_texts_repeat_no_text_we_train_or_test_on(lang: str) -> None:
    rows = (TEST_EXTRA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
    texts = Counter(json.loads(line)["text"].strip().casefold() for line in rows)
    earlier = {row["text"].strip().casefold() for row in _rows(lang)}
    if (EXTRA / f"{lang}.jsonl").exists():
        extra = (EXTRA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
        earlier |= {json.loads(line)["text"].strip().casefold() for line in extra}
    assert [text for text, count in texts.items() if count > 1 or text in earlier] == []


def test_held_out_rows_join_both_sets_and_the_loader_refuses_a_stray_id(tmp_path: Path) -> None:
    from feedback.insights.engine_data import held_out_rows, load_labelled, load_test_extra

    rows = held_out_rows()
    first = [row for row in load_labelled() if row.test]
    assert rows[: len(first)] == first and len(rows) > len(first)
    assert all(row.test for row in rows)
    stray = {"id": "en-x-1001", "lang": "en", "text": "ok", "topics": [], "sentiment": "neutral"}
    (tmp_path / "en.jsonl").write_text(json.dumps({**stray, "score": None}) + "\n")
    with pytest.raises(ValueError, match="without '-t-'"):
        load_test_extra(tmp_path)
