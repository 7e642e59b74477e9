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
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

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
    Survey.clean) and the setup API both ask this. Messages are in the active language."""
    if not isinstance(texts, dict):
        return [gettext("Must be an object keyed by language.")]
    languages = supported_languages()
    categories = {str(c) for c in kind_categories(kind)} if kind in SurveyKind.values else set()
    errors: list[str] = []
    for language, block in texts.items():
        if language not in languages:
            # Translators: %(language)s is the key staff typed; %(languages)s lists codes (en, ru).
            message = gettext("%(language)s: not a supported language (use %(languages)s).")
            errors.append(message % {"language": language, "languages": ", ".join(languages)})
            continue
        if not isinstance(block, dict):
            # Translators: "subject" and "question" are JSON keys; keep them in English.
            message = gettext("%(language)s: must be an object with subject and question.")
            errors.append(message % {"language": language})
            continue
        for key in REQUIRED_TEXTS:
            if not isinstance(block.get(key), str) or not block[key].strip():
                where = f"{language}.{key}"
                errors.append(gettext("%(where)s: required (a non-empty text).") % {"where": where})
        for key, value in block.items():
            where = f"{language}.{key}"
            if key == "followup":
                errors += _followup_errors(language, value, categories)
            elif key not in TEXT_LIMITS:
                allowed = ", ".join([*TEXT_LIMITS, "followup"])
                message = gettext("%(where)s: not a known text (use %(allowed)s).")
                errors.append(message % {"where": where, "allowed": allowed})
            elif not isinstance(value, str):
                errors.append(gettext("%(where)s: must be a text.") % {"where": where})
            elif len(value) > TEXT_LIMITS[key]:
                errors.append(_too_long(where, TEXT_LIMITS[key]))
            elif problem := control_character_error(value, single_line=key == "subject"):
                errors.append(_problem_at(where, problem))
    return errors


def _too_long(where: str, limit: int) -> str:
    message = ngettext(
        "%(where)s: at most %(limit)s character.", "%(where)s: at most %(limit)s characters.", limit
    )
    return message % {"where": where, "limit": limit}


def _problem_at(where: str, problem: str) -> str:
    # Translators: %(where)s names a survey text (pl.subject); %(problem)s says what is wrong.
    return gettext("%(where)s: %(problem)s") % {"where": where, "problem": problem}


def _followup_errors(language: str, followup: object, categories: set[str]) -> list[str]:
    if not isinstance(followup, dict):
        where = f"{language}.followup"
        message = gettext("%(where)s: must be an object keyed by answer category.")
        return [message % {"where": where}]
    errors = []
    for category, text in followup.items():
        where = f"{language}.followup.{category}"
        if category not in categories:
            message = gettext("%(where)s: not a category of this kind (%(categories)s).")
            errors.append(message % {"where": where, "categories": ", ".join(sorted(categories))})
        elif not isinstance(text, str):
            errors.append(gettext("%(where)s: must be a text.") % {"where": where})
        elif len(text) > FOLLOWUP_LIMIT:
            errors.append(_too_long(where, FOLLOWUP_LIMIT))
        elif problem := control_character_error(text, single_line=False):
            errors.append(_problem_at(where, problem))
    return errors


class Survey(models.Model):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(
        max_length=80,
        unique=True,
        help_text=_("Its stable name for the API (upserts go by it)."),
        verbose_name=_("slug"),
    )
    kind = models.CharField(max_length=8, choices=SurveyKind.choices, verbose_name=_("kind"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    trigger_touchpoints = models.ManyToManyField(
        "touchpoints.Touchpoint",
        blank=True,
        related_name="surveys",
        help_text=_("An interaction at one of these touchpoints invites the customer."),
        verbose_name=_("trigger touchpoints"),
    )
    trigger_stage = models.CharField(
        max_length=16,
        choices=JourneyStage.choices,
        blank=True,
        help_text=_("Or: an interaction at any touchpoint of this journey stage."),
        verbose_name=_("trigger stage"),
    )
    delay = models.DurationField(
        default=timedelta(hours=2),
        help_text=_("Time after the interaction before the email goes."),
        verbose_name=_("delay"),
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=3,
        help_text=_("One reminder after this many days; empty: none."),
        verbose_name=_("reminder after (days)"),
    )
    expires_after_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1)], verbose_name=_("expires after (days)")
    )
    contact_frequency_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Overrides the global rule: no new invitation within this many days."),
        verbose_name=_("contact frequency (days)"),
    )
    sample_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        verbose_name=_("sample (%)"),
    )
    default_language = models.CharField(
        max_length=16, default="en", verbose_name=_("default language")
    )
    texts = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            # Translators: translate "Per language" only; the JSON keys stay in English.
            'Per language: {"en": {"subject": ..., "question": ..., '
            '"followup": {"detractor": ..., "passive": ..., "promoter": ...}}}.'
        ),
        verbose_name=_("texts"),
    )
    ticket_categories = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Answer categories that open a ticket; empty means the kind's unhappy band."),
        verbose_name=_("categories that open a ticket"),
    )
    loop_enabled = models.BooleanField(
        default=True,
        help_text=_("Open tickets for answers at all."),
        verbose_name=_("close the loop"),
    )
    sla_hours = models.PositiveIntegerField(
        default=48, validators=[MinValueValidator(1)], verbose_name=_("SLA (hours)")
    )
    acknowledge_customer = models.BooleanField(
        default=False,
        help_text=_("Email the customer that their ticket was opened."),
        verbose_name=_("acknowledge customer"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
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
            errors["ticket_categories"] = [gettext("Must be a list of answer categories.")]
        elif unknown := [c for c in categories if c not in allowed]:
            message = gettext("Not categories of this kind: %(categories)s")
            errors["ticket_categories"] = [message % {"categories": ", ".join(map(str, unknown))}]
        texts_errors = survey_texts_errors(self.kind, self.texts)
        if texts_errors:
            errors["texts"] = texts_errors
        if self.default_language not in supported_languages():
            message = gettext("Not a supported language (use %(languages)s).")
            errors["default_language"] = [message % {"languages": ", ".join(supported_languages())}]
        elif isinstance(self.texts, dict) and self.default_language not in self.texts:
            # The fallback for customers in other languages: it must have texts.
            if self.texts:
                errors["default_language"] = [gettext("The texts have no entry in this language.")]
            else:
                message = gettext("Give the texts in the default language (%(language)s) at least.")
                errors.setdefault("texts", []).append(message % {"language": self.default_language})
        if errors:
            raise ValidationError(errors)


class InvitationState(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("invitation state", "Scheduled")
    SENDING = "sending", pgettext_lazy("invitation state", "Sending")
    SENT = "sent", pgettext_lazy("invitation state", "Sent")
    RESPONDED = "responded", pgettext_lazy("invitation state", "Responded")
    EXPIRED = "expired", pgettext_lazy("invitation state", "Expired")
    FAILED = "failed", pgettext_lazy("invitation state", "Failed")
    SUPPRESSED = "suppressed", pgettext_lazy("invitation state", "Suppressed")
    CANCELLED = "cancelled", pgettext_lazy("invitation state", "Cancelled")


class InvitationPurpose(models.TextChoices):
    SURVEY = "survey", _("Survey after an interaction")
    FOLLOWUP = "followup", _("Recovery follow-up after a ticket")


class Invitation(models.Model):
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("survey")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="invitations",
        verbose_name=_("customer"),
    )
    interaction = models.ForeignKey(
        "touchpoints.Interaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("interaction"),
    )
    ticket = models.ForeignKey(
        "feedback.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followup_invitations",
        help_text=_("For recovery follow-ups: the ticket whose resolution is being measured."),
        verbose_name=_("ticket"),
    )
    purpose = models.CharField(
        max_length=16,
        choices=InvitationPurpose.choices,
        default=InvitationPurpose.SURVEY,
        verbose_name=_("purpose"),
    )
    token = models.CharField(
        max_length=64, unique=True, default=new_token, editable=False, verbose_name=_("token")
    )
    state = models.CharField(
        max_length=16,
        choices=InvitationState.choices,
        default=InvitationState.SCHEDULED,
        verbose_name=_("state"),
    )
    scheduled_for = models.DateTimeField(verbose_name=_("scheduled for"))
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When a worker took it for sending (lease start)."),
        verbose_name=_("claimed at"),
    )
    claimed_by = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("The worker process holding the claim (host:pid), with claimed_at its claim."),
        verbose_name=_("claimed by"),
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reminded at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    # Chosen when the invitation is made, before any attempt, and sent on every attempt: a
    # server or ESP that already accepted it can drop a repeat sent after a lost reply.
    message_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        default=invitation_message_id,
        verbose_name=_("message ID"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
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
    EMAIL_CLICK = "email_click", _("Email click")
    WEB = "web", _("Web page")
    REPLY = "reply", _("Email reply")
    API = "api", _("API")


class Response(models.Model):
    """One answer. kind, survey, customer and touchpoint are copied from the invitation so the
    metrics group and filter a million answers without joining through invitations."""

    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("invitation"),
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="responses", verbose_name=_("survey")
    )
    kind = models.CharField(max_length=8, choices=SurveyKind.choices, verbose_name=_("kind"))
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("customer"),
    )
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
        verbose_name=_("touchpoint"),
    )
    score = models.SmallIntegerField(verbose_name=_("score"))
    category = models.CharField(
        max_length=16, choices=Category.choices, editable=False, verbose_name=_("category")
    )
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    answers = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Answers to follow-up questions."),
        verbose_name=_("follow-up answers"),
    )
    language = models.CharField(max_length=16, default="en", verbose_name=_("language"))
    channel = models.CharField(
        max_length=16,
        choices=ResponseChannel.choices,
        default=ResponseChannel.WEB,
        verbose_name=_("channel"),
    )
    submitted_at = models.DateTimeField(default=timezone.now, verbose_name=_("submitted at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    history = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text=_(
            "Earlier versions of this answer: [{at, score, comment, channel}], oldest first."
        ),
        verbose_name=_("earlier versions"),
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        # Translators: a survey response: one customer's answer (score and comment).
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        permissions = [("view_dashboard", _("Can view the dashboard and the journey map"))]
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
    SURVEY = "survey", _("Survey invitation")
    REMINDER = "reminder", _("Survey reminder")
    FOLLOWUP = "followup", _("Recovery follow-up")
    TICKET_REPLY = "ticket_reply", _("Ticket reply")
    ACKNOWLEDGEMENT = "ack", _("Acknowledgement")
    ALERT = "alert", _("Staff alert")
    SYSTEM = "system", _("System")


class EmailStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("email status", "Queued")
    OUTBOX = (
        "outbox",
        pgettext_lazy("email status", "Kept in the outbox (no mail server configured)"),
    )
    SENT = "sent", pgettext_lazy("email status", "Sent")
    DEFERRED = "deferred", pgettext_lazy("email status", "Deferred (temporary failure, will retry)")
    FAILED = "failed", pgettext_lazy("email status", "Failed")
    BOUNCED = "bounced", pgettext_lazy("email status", "Bounced")


class OutboundEmail(models.Model):
    """Every email cxcrm sends (or keeps in the outbox), with what it was about."""

    to_email = models.CharField(max_length=254, db_index=True, verbose_name=_("to"))
    from_email = models.CharField(max_length=254, blank=True, verbose_name=_("from"))
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    kind = models.CharField(
        max_length=16, choices=EmailKind.choices, default=EmailKind.SYSTEM, verbose_name=_("kind")
    )
    status = models.CharField(
        max_length=16,
        choices=EmailStatus.choices,
        default=EmailStatus.QUEUED,
        verbose_name=_("status"),
    )
    message_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("message ID")
    )
    body_text = models.TextField(blank=True, verbose_name=_("text body"))
    body_html = models.TextField(blank=True, verbose_name=_("HTML body"))
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    possibly_delivered = models.BooleanField(
        default=False,
        help_text=(
            _(
                "The server may have accepted this attempt although its reply never arrived (a "
                "dropped connection, or a worker that stopped): a later attempt with the same "
                "Message-ID may be a duplicate."
            )
        ),
        verbose_name=_("possibly delivered"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("customer"),
    )
    invitation = models.ForeignKey(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("invitation"),
    )
    ticket = models.ForeignKey(
        "feedback.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("ticket"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        # Translators: an email the system sent or keeps in its outbox.
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [models.Index(fields=["-created_at"], name="outboundemail_created_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"
