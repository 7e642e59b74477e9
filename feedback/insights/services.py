"""Writes of comment intelligence: file a customer's text (in the writer's transaction), enrich
pending rows (in a worker, batched), staff corrections, the taxonomy, sentiment adaptation.

A row is *pending* when it was never enriched (``enriched_at`` empty: new or edited text) or
was enriched under another version: ``model_version`` is the engine's MODEL_VERSION and a
digest of the taxonomy (topics, staff corrections) and of the adapted sentiment model. A
taxonomy edit or a correction therefore makes every row pending; such rows keep their stored
embedding, and only their topics and sentiment are computed again (no re-embedding unless
MODEL_VERSION changed)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from cxcrm.catalogue import catalogue_delete, catalogue_update, catalogue_upsert
from cxcrm.errors import ServiceError
from feedback.insights import engine as engine_module
from feedback.insights.engine import Correction, Engine, Enriched, TopicSpec, get_engine, pack
from feedback.insights.models import (
    CommentInsight,
    EngineState,
    InsightSource,
    Topic,
    TopicAssignment,
)
from feedback.insights.sources import SourceText
from feedback.surveys.scoring import Sentiment, sentiment_of

log = logging.getLogger(__name__)

SENTIMENT_STATE = "sentiment"
# Below this many scored comments the shipped sentiment model stays (too few to adapt on).
MIN_SENTIMENT_LABELS = 200
# The newest scored comments a training reads: enough to adapt, bounded in memory and time.
MAX_SENTIMENT_LABELS = 20_000
# Staff corrections the topic model learns from (the newest): each one is an example.
MAX_CORRECTIONS = 5_000
CLEARED = {
    "language": "",
    "embedding": None,
    "sentiment": "",
    "sentiment_confidence": None,
    "model_version": "",
    "enriched_at": None,
}


# --- Filing a text (the writer's transaction) -------------------------------------------------


def _links(item: SourceText) -> dict[str, Any]:
    return {
        "occurred_at": item.occurred_at,
        "response_id": item.response_id,
        "ticket_id": item.ticket_id,
        "touchpoint_id": item.touchpoint_id,
        "customer_id": item.customer_id,
    }


@transaction.atomic
def insights_file(*, items: Sequence[SourceText]) -> int:
    """Upsert the rows of these texts; an edited text is enriched again, an emptied one (a
    comment cleared, mail later put on a ticket) forgets its row. Returns how many rows now
    wait for enrichment. Two queries for one text: the look-up and the write."""
    if not items:
        return 0
    by_key = {(i.source, i.source_id): i for i in items}
    sources = {i.source for i in items}
    existing = {
        (source, source_id): (pk, text)
        for pk, source, source_id, text in CommentInsight.objects.filter(
            source__in=sources, source_id__in={i.source_id for i in items}
        ).values_list("pk", "source", "source_id", "text")
        if (source, source_id) in by_key
    }
    gone = [existing[key][0] for key, item in by_key.items() if not item.text and key in existing]
    if gone:
        CommentInsight.objects.filter(pk__in=gone).delete()
    pending = 0
    new = []
    for key, item in by_key.items():
        if not item.text:
            continue
        if key not in existing:
            new.append(
                CommentInsight(
                    source=item.source, source_id=item.source_id, text=item.text, **_links(item)
                )
            )
        elif existing[key][1] != item.text:
            pk = existing[key][0]
            # Topics the model gave the old words go; staff's own stay (they knew the case).
            TopicAssignment.objects.filter(insight_id=pk, by_staff=False).delete()
            CommentInsight.objects.filter(pk=pk).update(text=item.text, **_links(item), **CLEARED)
            pending += 1
    if new:
        try:
            with transaction.atomic():
                CommentInsight.objects.bulk_create(new)
        except IntegrityError:
            # Another writer filed one of them meanwhile: theirs has the same words.
            CommentInsight.objects.bulk_create(new, ignore_conflicts=True)
        pending += len(new)
    return pending


@transaction.atomic
def insight_forget(*, source: str, source_id: int) -> int:
    return CommentInsight.objects.filter(source=source, source_id=source_id).delete()[0]


# --- Enrichment (a worker) ---------------------------------------------------------------------


@dataclass
class Setup:
    """What one enrichment run computes with: the engine, the active topics, the corrections
    and the version the rows it writes carry."""

    engine: Engine
    topics: dict[str, int]  # slug → Topic id
    specs: list[TopicSpec]
    corrections: list[Correction]
    version: str
    loaded_sentiment: str = field(default="")


_loaded_sentiment = {"version": ""}


def _sentiment_loaded(engine: Engine) -> str:
    """Load the adapted sentiment model once per change (every worker reads EngineState);
    returns its version ("" for the shipped default)."""
    row = EngineState.objects.filter(kind=SENTIMENT_STATE).only("version").first()
    wanted = row.version if row is not None else ""
    if _loaded_sentiment["version"] != wanted:
        state = (
            bytes(EngineState.objects.values_list("state", flat=True).get(kind=SENTIMENT_STATE))
            if wanted
            else None
        )
        engine.load_sentiment(state)
        _loaded_sentiment["version"] = wanted
    return wanted


def corrections_current() -> list[Correction]:
    rows = (
        TopicAssignment.objects.filter(
            by_staff=True, topic__active=True, insight__embedding__isnull=False
        )
        .order_by("-corrected_at", "-pk")
        .values_list(
            "insight__embedding", "insight__language", "insight__text", "topic__slug", "removed"
        )[:MAX_CORRECTIONS]
    )
    # Oldest first: the digest (and so the version) must not depend on ties in the order.
    return [
        Correction(
            embedding=engine_module.unpack(bytes(blob)),
            language=language,
            slug=slug,
            present=not removed,
            text=text,
        )
        for blob, language, text, slug, removed in reversed(list(rows))
    ]


def enrichment_setup(engine: Engine | None = None) -> Setup:
    engine = engine or get_engine()
    topics = list(Topic.objects.filter(active=True).order_by("slug"))
    specs = [
        TopicSpec(
            slug=t.slug,
            name=t.name,
            description=t.description,
            examples=tuple(str(e) for e in t.examples if str(e).strip()),
        )
        for t in topics
    ]
    corrections = corrections_current()
    sentiment = _sentiment_loaded(engine)
    taxonomy = engine.taxonomy_version(specs, corrections)
    digest = hashlib.sha256(f"{taxonomy}|{sentiment}".encode()).hexdigest()[:16]
    return Setup(
        engine=engine,
        topics={t.slug: t.pk for t in topics},
        specs=specs,
        corrections=corrections,
        version=f"{engine_module.MODEL_VERSION[:47]}|{digest}",
        loaded_sentiment=sentiment,
    )


def _engine_part(version: str) -> str:
    return version.split("|", 1)[0]


@transaction.atomic
def _write(setup: Setup, rows: list[tuple[int, str]], results: list[Enriched]) -> int:
    now = timezone.now()
    written: list[tuple[int, Enriched]] = []
    for (pk, text), result in zip(rows, results, strict=True):
        # The text is the one enriched (an edit meanwhile leaves the row pending for the
        # next run, with its new words).
        updated = CommentInsight.objects.filter(pk=pk, text=text).update(
            language=result.language[:16],
            embedding=pack(result.embedding),
            sentiment=result.sentiment,
            sentiment_confidence=float(result.sentiment_confidence),
            model_version=setup.version,
            enriched_at=now,
        )
        if updated:
            written.append((pk, result))
    if not written:
        return 0
    ids = [pk for pk, _ in written]
    staff = set(
        TopicAssignment.objects.filter(insight_id__in=ids, by_staff=True).values_list(
            "insight_id", "topic_id"
        )
    )
    TopicAssignment.objects.filter(insight_id__in=ids, by_staff=False).delete()
    TopicAssignment.objects.bulk_create(
        [
            TopicAssignment(insight_id=pk, topic_id=topic_id, confidence=float(confidence))
            for pk, result in written
            for slug, confidence in result.topics
            if (topic_id := setup.topics.get(slug)) is not None and (pk, topic_id) not in staff
        ]
    )
    return len(written)


def insights_enrich(*, ids: Sequence[int], setup: Setup | None = None) -> int:
    """Enrich these rows (the pending ones among them) in one batch: texts never embedded (or
    embedded by another model) are embedded together; the others reuse their embedding.
    Returns how many rows were written."""
    setup = setup or enrichment_setup()
    rows = list(
        CommentInsight.objects.filter(pk__in=ids)
        .exclude(model_version=setup.version, enriched_at__isnull=False)
        .values_list("pk", "text", "model_version", "embedding")
        .order_by("pk")
    )
    if not rows:
        return 0
    current = _engine_part(setup.version)
    fresh = [r for r in rows if r[3] is None or _engine_part(r[2]) != current]
    kept = [r for r in rows if not (r[3] is None or _engine_part(r[2]) != current)]
    written = 0
    if fresh:
        results = setup.engine.enrich([r[1] for r in fresh], setup.specs, setup.corrections)
        written += _write(setup, [(r[0], r[1]) for r in fresh], results)
    if kept:
        embeddings = np.stack([engine_module.unpack(bytes(r[3])) for r in kept])
        # The taxonomy, the corrections or the sentiment model changed, the embedding model
        # did not: the stored embeddings are reused.
        results = setup.engine.enrich_embedded(
            [r[1] for r in kept], embeddings, setup.specs, setup.corrections
        )
        written += _write(setup, [(r[0], r[1]) for r in kept], results)
    return written


# --- Staff corrections -----------------------------------------------------------------------


class CorrectionError(ServiceError):
    pass


@transaction.atomic
def topic_correct(*, insight_id: int, topic_id: int, present: bool, actor: Any) -> TopicAssignment:
    """Staff say this topic is (``present``) or is not a topic of the text. Kept as a staff
    assignment (a removal as ``removed``), so the model never overrides it; it becomes a
    training example (the version changes, so every row's topics are computed again)."""
    insight = CommentInsight.objects.filter(pk=insight_id).only("pk").first()
    if insight is None:
        raise CorrectionError(f"No comment insight #{insight_id}.")
    topic = Topic.objects.filter(pk=topic_id).only("pk", "active").first()
    if topic is None:
        raise CorrectionError(f"No topic #{topic_id}.")
    if present and not topic.active:
        raise CorrectionError("That topic is inactive: activate it first.")
    assignment, _ = TopicAssignment.objects.select_for_update().update_or_create(
        insight=insight,
        topic=topic,
        defaults={
            "confidence": 1.0,
            "by_staff": True,
            "removed": not present,
            "corrected_by": actor if getattr(actor, "pk", None) else None,
            "corrected_at": timezone.now(),
        },
    )
    return assignment


# --- The taxonomy ------------------------------------------------------------------------------

TOPIC_FIELDS = ("name", "description", "examples", "active")
MAX_EXAMPLES = 30
MAX_EXAMPLE_CHARS = 300


def clean_examples(examples: Any) -> list[str]:
    if not isinstance(examples, list | tuple):
        raise ServiceError("Examples are a list of phrases.")
    phrases = []
    for example in examples:
        if not isinstance(example, str):
            raise ServiceError("Each example is a phrase (text).")
        phrase = " ".join(example.replace("\x00", "").split())
        if len(phrase) > MAX_EXAMPLE_CHARS:
            raise ServiceError(f"An example is at most {MAX_EXAMPLE_CHARS} characters.")
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    if len(phrases) > MAX_EXAMPLES:
        raise ServiceError(f"At most {MAX_EXAMPLES} examples per topic.")
    return phrases


def _topic_fields(fields: dict[str, Any], *, slug: bool = False) -> dict[str, Any]:
    unknown = set(fields) - {*TOPIC_FIELDS, *(["slug"] if slug else [])}
    if unknown:
        raise ServiceError(f"Unknown topic fields: {', '.join(sorted(unknown))}.")
    if "examples" in fields:
        fields = {**fields, "examples": clean_examples(fields["examples"])}
    return fields


@transaction.atomic
def topic_upsert(*, slug: str, **fields: Any) -> tuple[Topic, bool]:
    return catalogue_upsert(Topic, slug=slug, fields=_topic_fields(fields))


@transaction.atomic
def topic_update(*, topic_id: int, **fields: Any) -> Topic:
    topic = Topic.objects.select_for_update().get(pk=topic_id)
    return catalogue_update(topic, fields=_topic_fields(fields, slug=True))


@transaction.atomic
def topic_delete(*, topic_id: int) -> None:
    """Delete a topic with its assignments (the comments keep their other topics); to keep
    its history in the figures, deactivate it instead."""
    catalogue_delete(Topic.objects.get(pk=topic_id), instead="deactivate it instead.")


# --- Sentiment adaptation -----------------------------------------------------------------------

LABELS = {
    Sentiment.GOOD: "positive",
    Sentiment.NEUTRAL: "neutral",
    Sentiment.BAD: "negative",
}


@dataclass(frozen=True)
class SentimentLabels:
    """Scored comments as sentiment training rows: embedding, text, language and label."""

    embeddings: np.ndarray
    texts: list[str]
    languages: list[str]
    labels: list[str]


def sentiment_labels(*, limit: int = MAX_SENTIMENT_LABELS) -> SentimentLabels:
    """The enriched answer comments with the label their score gives (promoter/satisfied/
    easy positive, passive/neutral neutral, detractor/dissatisfied/difficult negative): the
    score is a free label of the words beside it."""
    rows = (
        CommentInsight.objects.filter(
            source__in=(InsightSource.ANSWER, InsightSource.FOLLOW_UP, InsightSource.EXTERNAL),
            response__isnull=False,
            embedding__isnull=False,
        )
        .order_by("-pk")
        .values_list("embedding", "text", "language", "response__kind", "response__score")[:limit]
    )
    embeddings, texts, languages, labels = [], [], [], []
    for blob, text, language, kind, score in rows:
        label = LABELS.get(sentiment_of(kind, score))
        if label is not None:
            embeddings.append(engine_module.unpack(bytes(blob)))
            texts.append(text)
            languages.append(language)
            labels.append(label)
    stacked = (
        np.stack(embeddings) if embeddings else np.zeros((0, engine_module.DIM), dtype=np.float32)
    )
    return SentimentLabels(stacked, texts, languages, labels)


@transaction.atomic
def sentiment_train(*, engine: Engine | None = None, minimum: int = MIN_SENTIMENT_LABELS) -> int:
    """Adapt the sentiment model to this deployment's scored comments (when there are at
    least ``minimum`` and they changed since the last training); 0 when it kept the one it
    had. Every worker loads the new state before its next batch."""
    found = sentiment_labels()
    labels = found.labels
    if len(labels) < minimum or len(set(labels)) < 2:
        return 0
    previous = EngineState.objects.filter(kind=SENTIMENT_STATE).only("trained_on").first()
    # The number of labels is the change test: cheap, and new answers are what change it.
    if previous is not None and previous.trained_on == len(labels):
        return 0
    state = (engine or get_engine()).fit_sentiment(
        found.embeddings, labels, found.texts, found.languages
    )
    version = hashlib.sha256(state).hexdigest()[:16]
    EngineState.objects.update_or_create(
        kind=SENTIMENT_STATE,
        defaults={
            "version": version,
            "state": state,
            "trained_on": len(labels),
            "trained_at": timezone.now(),
        },
    )
    return len(labels)
