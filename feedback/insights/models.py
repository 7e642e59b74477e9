"""Comment intelligence (issue 18): what customers talk about, in their five languages, on our
own CPU. Every customer text is enriched in the background (feedback.insights.services) with
its language, an embedding, 0-2 topics of the taxonomy staff manage and a sentiment; staff
corrections are kept and become training examples.

Which text a row enriches is (source, source_id): the answer's comment (source_id: the
Response), a follow-up answer, an inbound reply (InboundEmail), a customer's ticket message
(TicketMessage) or an external response posted through the API (a Response too). The links
below (response, ticket, touchpoint, customer) are filled where known, for the analysis to
join scores, touchpoints and tickets without walking every source."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class InsightSource(models.TextChoices):
    ANSWER = "answer", "Answer comment"
    FOLLOW_UP = "follow_up", "Follow-up answer"
    INBOUND = "inbound", "Inbound email"
    TICKET_MESSAGE = "ticket_message", "Ticket message"
    EXTERNAL = "external", "External response"


class TextSentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class Topic(models.Model):
    """A theme of the taxonomy Managers keep: a comment gets 0-2 of them. `examples` are short
    phrases in any language (the model finds the same complaint in the other four)."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CommentInsight(models.Model):
    """One customer text and what the model found in it. `embedding` is the text's 384
    float16 values (768 bytes; no database extension needed); `model_version` names the
    engine and taxonomy it was computed with, so a change re-enriches the rows it made stale.
    `text` is kept (trimmed) so that re-enrichment and quotes need no walk of the sources;
    erasing a customer erases it too (feedback.insights.privacy)."""

    source = models.CharField(max_length=16, choices=InsightSource.choices)
    source_id = models.BigIntegerField()
    text = models.TextField()
    occurred_at = models.DateTimeField()
    response = models.ForeignKey(
        "feedback.Response", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ticket = models.ForeignKey(
        "feedback.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Empty until enriched: the row is written with the text, the enrichment fills these.
    language = models.CharField(max_length=16, blank=True)
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    sentiment = models.CharField(max_length=8, choices=TextSentiment.choices, blank=True)
    sentiment_confidence = models.FloatField(null=True, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    enriched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="insight_source_unique")
        ]
        indexes = [
            models.Index(fields=["occurred_at"], name="insight_occurred_idx"),
            models.Index(fields=["touchpoint", "occurred_at"], name="insight_touchpoint_idx"),
            # The enrichment's work list: rows never enriched, or enriched by another version.
            models.Index(
                fields=["id"], condition=Q(enriched_at__isnull=True), name="insight_pending_idx"
            ),
            models.Index(fields=["model_version"], name="insight_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.source_id}"


class TopicAssignment(models.Model):
    """A topic of a comment: found by the model (`by_staff` false, with its confidence) or
    set by staff (a correction: `by_staff` true, confidence 1). A staff removal is kept as a
    row with `removed` true, so the model never puts the topic back and the correction
    trains it."""

    insight = models.ForeignKey(CommentInsight, on_delete=models.CASCADE, related_name="topics")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="assignments")
    confidence = models.FloatField()
    by_staff = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["insight", "topic"], name="assignment_unique")
        ]
        indexes = [
            models.Index(
                fields=["topic", "insight"],
                condition=Q(removed=False),
                name="assignment_topic_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.insight_id} → {self.topic_id}"


class AlertKind(models.TextChoices):
    SCORE_DROP = "score_drop", "Score drop"
    TOPIC_SURGE = "topic_surge", "Topic surge"


class InsightAlert(models.Model):
    """A significant drop of a touchpoint's score or surge of a topic, raised once per
    episode (`episode` unique: the kind, the subject and the window it started in)."""

    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    episode = models.CharField(max_length=160, unique=True)
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.TextField()
    # The test's figures (sample sizes, before/after, p-value) and the topics that grew.
    details = models.JSONField(default=dict)
    raised_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["-raised_at"], name="insight_alert_raised_idx")]

    def __str__(self) -> str:
        return self.summary


class EngineState(models.Model):
    """What the engine learned in this deployment (feedback.insights.engine): the sentiment
    model adapted to its scored comments, the topic classifier trained on staff corrections.
    One row per kind, replaced by each training; every worker and web process reads it."""

    kind = models.CharField(max_length=32, unique=True)
    version = models.CharField(max_length=64)
    state = models.BinaryField()
    trained_on = models.PositiveIntegerField(default=0)
    trained_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"
