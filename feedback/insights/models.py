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
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InsightSource(models.TextChoices):
    ANSWER = "answer", _("Answer comment")
    FOLLOW_UP = "follow_up", _("Follow-up answer")
    INBOUND = "inbound", _("Inbound email")
    TICKET_MESSAGE = "ticket_message", _("Ticket message")
    EXTERNAL = "external", _("External response")


class TextSentiment(models.TextChoices):
    NEGATIVE = "negative", pgettext_lazy("comment sentiment", "Negative")
    NEUTRAL = "neutral", pgettext_lazy("comment sentiment", "Neutral")
    POSITIVE = "positive", pgettext_lazy("comment sentiment", "Positive")


class Topic(models.Model):
    """A theme of the taxonomy Managers keep: a comment gets 0-2 of them. `examples` are short
    phrases in any language (the model finds the same complaint in the other four)."""

    name = models.CharField(max_length=80, unique=True, verbose_name=_("name"))
    slug = models.SlugField(max_length=80, unique=True, verbose_name=_("slug"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    examples = models.JSONField(default=list, blank=True, verbose_name=_("examples"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name


class CommentInsight(models.Model):
    """One customer text and what the model found in it. `embedding` is the text's 384
    float16 values (768 bytes; no database extension needed); `model_version` names the
    engine and taxonomy it was computed with, so a change re-enriches the rows it made stale.
    `text` is kept (trimmed) so that re-enrichment and quotes need no walk of the sources;
    erasing a customer erases it too (feedback.insights.privacy)."""

    source = models.CharField(
        max_length=16, choices=InsightSource.choices, verbose_name=_("source")
    )
    source_id = models.BigIntegerField(verbose_name=_("source ID"))
    text = models.TextField(verbose_name=_("text"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    response = models.ForeignKey(
        "feedback.Response",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("response"),
    )
    ticket = models.ForeignKey(
        "feedback.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("ticket"),
    )
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("touchpoint"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("customer"),
    )
    # Empty until enriched: the row is written with the text, the enrichment fills these.
    language = models.CharField(max_length=16, blank=True, verbose_name=_("language"))
    embedding = models.BinaryField(
        null=True, blank=True, editable=False, verbose_name=_("embedding")
    )
    sentiment = models.CharField(
        max_length=8, choices=TextSentiment.choices, blank=True, verbose_name=_("sentiment")
    )
    sentiment_confidence = models.FloatField(
        null=True, blank=True, verbose_name=_("sentiment confidence")
    )
    model_version = models.CharField(max_length=64, blank=True, verbose_name=_("model version"))
    enriched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("enriched at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("comment insight")
        verbose_name_plural = _("comment insights")
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

    insight = models.ForeignKey(
        CommentInsight, on_delete=models.CASCADE, related_name="topics", verbose_name=_("insight")
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("topic")
    )
    confidence = models.FloatField(verbose_name=_("confidence"))
    by_staff = models.BooleanField(default=False, verbose_name=_("set by staff"))
    removed = models.BooleanField(default=False, verbose_name=_("removed"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("corrected by"),
    )
    corrected_at = models.DateTimeField(null=True, blank=True, verbose_name=_("corrected at"))

    class Meta:
        verbose_name = _("topic assignment")
        verbose_name_plural = _("topic assignments")
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
    SCORE_DROP = "score_drop", _("Score drop")
    TOPIC_SURGE = "topic_surge", _("Topic surge")


class InsightAlert(models.Model):
    """A significant drop of a touchpoint's score or surge of a topic, raised once per
    episode (`episode` unique: the kind, the subject and the window it started in)."""

    kind = models.CharField(max_length=16, choices=AlertKind.choices, verbose_name=_("kind"))
    episode = models.CharField(max_length=160, unique=True, verbose_name=_("episode"))
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("touchpoint"),
    )
    topic = models.ForeignKey(
        Topic,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("topic"),
    )
    summary = models.TextField(verbose_name=_("summary"))
    # The test's figures (sample sizes, before/after, p-value) and the topics that grew.
    details = models.JSONField(default=dict, verbose_name=_("details"))
    raised_at = models.DateTimeField(default=timezone.now, verbose_name=_("raised at"))
    notified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("notified at"))

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("insight alert")
        verbose_name_plural = _("insight alerts")
        indexes = [models.Index(fields=["-raised_at"], name="insight_alert_raised_idx")]

    def __str__(self) -> str:
        return self.summary


class EngineState(models.Model):
    """What the engine learned in this deployment (feedback.insights.engine): the sentiment
    model adapted to its scored comments, the topic classifier trained on staff corrections.
    One row per kind, replaced by each training; every worker and web process reads it."""

    kind = models.CharField(max_length=32, unique=True, verbose_name=_("kind"))
    version = models.CharField(max_length=64, verbose_name=_("version"))
    state = models.BinaryField(verbose_name=_("state"))
    trained_on = models.PositiveIntegerField(default=0, verbose_name=_("trained on (examples)"))
    trained_at = models.DateTimeField(default=timezone.now, verbose_name=_("trained at"))

    class Meta:
        verbose_name = _("engine state")
        verbose_name_plural = _("engine states")

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"
