"""Surveys, their invitations and answers, and every email sent (the outbox)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxcrm.mail import message_id_new
from cxcrm.text import control_character_error
from feedback.surveys.scoring import (
    Category,
    ScoreError,
    SurveyKind,
    bad_categories,
    categorize,
    category_matches_score_q,
    kind_categories,
    score_matches_kind_q,
)
from touchpoints.models import JourneyStage

TOKEN_BYTES = 32  # 256 random bits; token_urlsafe(32) is 43 characters.


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def invitation_message_id() -> str:
    """The Message-ID of an invitation's email, drawn when the invitation is made."""
    return message_id_new(str(settings.INBOUND_EMAIL_DOMAIN))


# A survey's texts per language: what each language's object may hold, and how long each text
# may be (the subject becomes a header; the others are shown on the page and in the email).
TEXT_LIMITS = {"subject": 200, "question": 1000, "intro": 2000}
REQUIRED_TEXTS = ("subject", "question")
FOLLOWUP_LIMIT = 1000


def supported_languages() -> list[str]:
    """The languages the product speaks (settings.LANGUAGES): a survey's texts are keyed by them."""
    return [code for code, _name in settings.LANGUAGES]


def survey_texts_errors(kind: str, texts: object) -> list[str]:
    """What is wrong with a survey's ``texts``, one message per problem, each naming the
    language and key ("pl.subject: ..."); empty when they are fine. The admin's form (through
    Survey.clean) and the setup API both ask this."""
    if not isinstance(texts, dict):
        return ["Must be an object keyed by language."]
    languages = supported_languages()
    categories = {str(c) for c in kind_categories(kind)} if kind in SurveyKind.values else set()
    errors: list[str] = []
    for language, block in texts.items():
        if language not in languages:
            errors.append(f"{language}: not a supported language (use {', '.join(languages)}).")
            continue
        if not isinstance(block, dict):
            errors.append(f"{language}: must be an object with subject and question.")
            continue
        for key in REQUIRED_TEXTS:
            if not isinstance(block.get(key), str) or not block[key].strip():
                errors.append(f"{language}.{key}: required (a non-empty text).")
        for key, value in block.items():
            if key == "followup":
                errors += _followup_errors(language, value, categories)
            elif key not in TEXT_LIMITS:
                allowed = ", ".join([*TEXT_LIMITS, "followup"])
                errors.append(f"{language}.{key}: not a known text (use {allowed}).")
            elif not isinstance(value, str):
                errors.append(f"{language}.{key}: must be a text.")
            elif len(value) > TEXT_LIMITS[key]:
                errors.append(f"{language}.{key}: at most {TEXT_LIMITS[key]} characters.")
            elif problem := control_character_error(value, single_line=key == "subject"):
                errors.append(f"{language}.{key}: {problem}")
    return errors


def _followup_errors(language: str, followup: object, categories: set[str]) -> list[str]:
    if not isinstance(followup, dict):
        return [f"{language}.followup: must be an object keyed by answer category."]
    errors = []
    for category, text in followup.items():
        where = f"{language}.followup.{category}"
        if category not in categories:
            errors.append(
                f"{where}: not a category of this kind ({', '.join(sorted(categories))})."
            )
        elif not isinstance(text, str):
            errors.append(f"{where}: must be a text.")
        elif len(text) > FOLLOWUP_LIMIT:
            errors.append(f"{where}: at most {FOLLOWUP_LIMIT} characters.")
        elif problem := control_character_error(text, single_line=False):
            errors.append(f"{where}: {problem}")
    return errors


class Survey(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=80, unique=True, help_text="Its stable name for the API (upserts go by it)."
    )
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    active = models.BooleanField(default=True)
    trigger_touchpoints = models.ManyToManyField(
        "touchpoints.Touchpoint",
        blank=True,
        related_name="surveys",
        help_text="An interaction at one of these touchpoints invites the customer.",
    )
    trigger_stage = models.CharField(
        max_length=16,
        choices=JourneyStage.choices,
        blank=True,
        help_text="Or: an interaction at any touchpoint of this journey stage.",
    )
    delay = models.DurationField(
        default=timedelta(hours=2), help_text="Time after the interaction before the email goes."
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=3,
        help_text="One reminder after this many days; empty: none.",
    )
    expires_after_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1)]
    )
    contact_frequency_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Overrides the global rule: no new invitation within this many days.",
    )
    sample_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    default_language = models.CharField(max_length=16, default="en")
    texts = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per language: {"en": {"subject": ..., "question": ..., '
        '"followup": {"detractor": ..., "passive": ..., "promoter": ...}}}.',
    )
    ticket_categories = models.JSONField(
        default=list,
        blank=True,
        help_text="Answer categories that open a ticket; empty means the kind's unhappy band.",
    )
    loop_enabled = models.BooleanField(default=True, help_text="Open tickets for answers at all.")
    sla_hours = models.PositiveIntegerField(default=48, validators=[MinValueValidator(1)])
    acknowledge_customer = models.BooleanField(
        default=False, help_text="Email the customer that their ticket was opened."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_percent__gte=1, sample_percent__lte=100),
                name="survey_sample_percent_1_100",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in SurveyKind]), name="survey_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def loop_categories(self) -> list[str]:
        if not self.loop_enabled:
            return []
        return list(self.ticket_categories) or bad_categories(self.kind)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        allowed = {str(c) for c in kind_categories(self.kind)} if self.kind in SurveyKind else set()
        categories = self.ticket_categories or []
        if not isinstance(categories, list):
            errors["ticket_categories"] = ["Must be a list of answer categories."]
        elif unknown := [c for c in categories if c not in allowed]:
            errors["ticket_categories"] = [
                "Not categories of this kind: " + ", ".join(map(str, unknown))
            ]
        texts_errors = survey_texts_errors(self.kind, self.texts)
        if texts_errors:
            errors["texts"] = texts_errors
        if self.default_language not in supported_languages():
            errors["default_language"] = [
                f"Not a supported language (use {', '.join(supported_languages())})."
            ]
        elif isinstance(self.texts, dict) and self.default_language not in self.texts:
            # The fallback for customers in other languages: it must have texts.
            if self.texts:
                errors["default_language"] = ["The texts have no entry in this language."]
            else:
                errors.setdefault("texts", []).append(
                    f"Give the texts in the default language ({self.default_language}) at least."
                )
        if errors:
            raise ValidationError(errors)


class InvitationState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    RESPONDED = "responded", "Responded"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    CANCELLED = "cancelled", "Cancelled"


class InvitationPurpose(models.TextChoices):
    SURVEY = "survey", "Survey after an interaction"
    FOLLOWUP = "followup", "Recovery follow-up after a ticket"


class Invitation(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invitations"
    )
    interaction = models.ForeignKey(
        "touchpoints.Interaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitations",
    )
    ticket = models.ForeignKey(
        "feedback.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followup_invitations",
        help_text="For recovery follow-ups: the ticket whose resolution is being measured.",
    )
    purpose = models.CharField(
        max_length=16, choices=InvitationPurpose.choices, default=InvitationPurpose.SURVEY
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    state = models.CharField(
        max_length=16, choices=InvitationState.choices, default=InvitationState.SCHEDULED
    )
    scheduled_for = models.DateTimeField()
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it for sending (lease start)."
    )
    claimed_by = models.CharField(
        max_length=255,
        blank=True,
        help_text="The worker process holding the claim (host:pid), with claimed_at its claim.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Chosen when the invitation is made, before any attempt, and sent on every attempt: a
    # server or ESP that already accepted it can drop a repeat sent after a lost reply.
    message_id = models.CharField(
        max_length=255, blank=True, db_index=True, default=invitation_message_id
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "interaction"], name="invitation_unique_survey_interaction"
            ),
            models.CheckConstraint(
                condition=Q(purpose=InvitationPurpose.SURVEY, interaction__isnull=False)
                | Q(purpose=InvitationPurpose.FOLLOWUP, ticket__isnull=False),
                name="invitation_has_a_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
                name="invitation_sent_has_sent_at",
            ),
        ]
        indexes = [
            # The dispatcher's claim: due scheduled invitations, oldest first.
            models.Index(
                fields=["scheduled_for"],
                condition=Q(state="scheduled"),
                name="invitation_due_idx",
            ),
            # Lease recovery: invitations stuck in "sending".
            models.Index(
                fields=["claimed_at"], condition=Q(state="sending"), name="invitation_claimed_idx"
            ),
            # Contact-frequency rule: the customer's latest invitations.
            models.Index(fields=["customer", "-created_at"], name="invitation_customer_idx"),
            models.Index(fields=["survey", "state"], name="invitation_survey_state_idx"),
            # The admin's list, newest first (its default order), a page at a time.
            models.Index(fields=["-scheduled_for", "-id"], name="invitation_scheduled_idx"),
            # Scores leave out answers to follow-ups (feedback.reporting.metrics.survey_answers)
            # by an anti-join against these few invitations, not a join of every answer to its
            # invitation.
            models.Index(
                fields=["id"],
                condition=~Q(purpose=InvitationPurpose.SURVEY),
                name="invitation_not_survey_idx",
            ),
            # The response rate's raw tail (invitations sent since the rollups were built, or
            # on days marked for rebuilding) is a range of sent_at: without this it read every
            # invitation (41 ms at 200,000, growing with the table).
            models.Index(
                fields=["sent_at"],
                condition=Q(purpose=InvitationPurpose.SURVEY, sent_at__isnull=False),
                name="invitation_sent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.customer} ({self.state})"


class ResponseChannel(models.TextChoices):
    EMAIL_CLICK = "email_click", "Email click"
    WEB = "web", "Web page"
    REPLY = "reply", "Email reply"
    API = "api", "API"


class Response(models.Model):
    """One answer. kind, survey, customer and touchpoint are copied from the invitation so the
    metrics group and filter a million answers without joining through invitations."""

    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, null=True, blank=True, related_name="response"
    )
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="responses"
    )
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
    )
    score = models.SmallIntegerField()
    category = models.CharField(max_length=16, choices=Category.choices, editable=False)
    comment = models.TextField(blank=True)
    answers = models.JSONField(
        default=dict, blank=True, help_text="Answers to follow-up questions."
    )
    language = models.CharField(max_length=16, default="en")
    channel = models.CharField(
        max_length=16, choices=ResponseChannel.choices, default=ResponseChannel.WEB
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    history = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Earlier versions of this answer: [{at, score, comment, channel}], oldest first.",
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        permissions = [("view_dashboard", "Can view the dashboard and the journey map")]
        constraints = [
            models.CheckConstraint(
                condition=score_matches_kind_q(), name="response_score_in_range"
            ),
            models.CheckConstraint(
                condition=category_matches_score_q(), name="response_category_matches_score"
            ),
        ]
        indexes = [
            models.Index(fields=["submitted_at"], name="response_submitted_idx"),
            models.Index(fields=["touchpoint", "submitted_at"], name="response_touchpoint_idx"),
            models.Index(fields=["survey", "submitted_at"], name="response_survey_idx"),
            models.Index(fields=["kind", "submitted_at"], name="response_kind_idx"),
            models.Index(fields=["customer", "-submitted_at"], name="response_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.score} ({self.category})"

    def clean(self) -> None:
        if self.score is None or not self.kind:
            return
        try:
            self.category = categorize(self.kind, self.score)
        except ScoreError as exc:
            raise ValidationError({"score": str(exc)}) from None


class EmailKind(models.TextChoices):
    SURVEY = "survey", "Survey invitation"
    REMINDER = "reminder", "Survey reminder"
    FOLLOWUP = "followup", "Recovery follow-up"
    TICKET_REPLY = "ticket_reply", "Ticket reply"
    ACKNOWLEDGEMENT = "ack", "Acknowledgement"
    ALERT = "alert", "Staff alert"
    SYSTEM = "system", "System"


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    OUTBOX = "outbox", "Kept in the outbox (no mail server configured)"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Deferred (temporary failure, will retry)"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"


class OutboundEmail(models.Model):
    """Every email cxcrm sends (or keeps in the outbox), with what it was about."""

    to_email = models.CharField(max_length=254, db_index=True)
    from_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=EmailKind.choices, default=EmailKind.SYSTEM)
    status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    possibly_delivered = models.BooleanField(
        default=False,
        help_text=(
            "The server may have accepted this attempt although its reply never arrived (a "
            "dropped connection, or a worker that stopped): a later attempt with the same "
            "Message-ID may be a duplicate."
        ),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    ticket = models.ForeignKey(
        "feedback.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="outboundemail_created_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"
