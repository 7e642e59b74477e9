"""Every email received (replies to surveys and tickets), kept before it is matched."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from feedback.surveys.models import Invitation, Response
from feedback.tickets.models import Ticket


class InboundStatus(models.TextChoices):
    # The first six need a person: they lead the admin's list.
    UNMATCHED = (
        "unmatched",
        pgettext_lazy("inbound email status", "Unmatched (no token, no thread)"),
    )
    CLOSED = "closed", pgettext_lazy("inbound email status", "Survey closed (nothing recorded)")
    NO_SCORE = (
        "no_score",
        pgettext_lazy("inbound email status", "Reply without a score (nothing recorded)"),
    )
    ERROR = "error", pgettext_lazy("inbound email status", "Processing failed")
    TOO_LARGE = (
        "too_large",
        pgettext_lazy("inbound email status", "Too large (truncated copy kept)"),
    )
    OVER_LIMIT = (
        "over_limit",
        pgettext_lazy("inbound email status", "Over a reading limit (kept, not read)"),
    )
    RECEIVED = "received", pgettext_lazy("inbound email status", "Stored, not processed")
    MATCHED_RESPONSE = (
        "matched_response",
        pgettext_lazy("inbound email status", "Added to the answer's comment"),
    )
    MATCHED_TICKET = "matched_ticket", pgettext_lazy("inbound email status", "Added to the ticket")
    SCORE_RECORDED = "score_recorded", pgettext_lazy("inbound email status", "Score recorded")
    UNSUBSCRIBED = "unsubscribed", pgettext_lazy("inbound email status", "Unsubscribed")
    AUTO_REPLY = (
        "auto_reply",
        pgettext_lazy("inbound email status", "Automatic reply (not recorded)"),
    )
    DUPLICATE = "duplicate", pgettext_lazy("inbound email status", "Duplicate (already processed)")


INBOUND_NEEDS_ATTENTION = (
    InboundStatus.UNMATCHED,
    InboundStatus.CLOSED,
    InboundStatus.NO_SCORE,
    InboundStatus.ERROR,
    InboundStatus.TOO_LARGE,
    InboundStatus.OVER_LIMIT,
    InboundStatus.RECEIVED,
)


class InboundSource(models.TextChoices):
    WEBHOOK = "webhook", _("ESP webhook")
    COMMAND = "command", _("receive_email command (MTA pipe)")


class InboundEmail(models.Model):
    """Every email that reached the reply or unsubscribe addresses, stored before anything is
    done with it, with what became of it. Never deleted by the system."""

    received_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("received at")
    )
    source = models.CharField(
        max_length=16, choices=InboundSource.choices, verbose_name=_("source")
    )
    status = models.CharField(
        max_length=16,
        choices=InboundStatus.choices,
        default=InboundStatus.RECEIVED,
        verbose_name=_("status"),
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    from_email = models.CharField(max_length=254, blank=True, verbose_name=_("from"))
    to = models.TextField(
        blank=True, help_text=_("To and Cc headers."), verbose_name=_("to and cc")
    )
    envelope_to = models.TextField(
        blank=True,
        help_text=_("Recipients the ESP or MTA delivered it to (may differ from To)."),
        verbose_name=_("envelope recipients"),
    )
    subject = models.CharField(max_length=255, blank=True, verbose_name=_("subject"))
    message_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("message ID")
    )
    in_reply_to = models.CharField(max_length=255, blank=True, verbose_name=_("in reply to"))
    references = models.TextField(blank=True, verbose_name=_("references"))
    size = models.PositiveIntegerField(
        default=0, help_text=_("Bytes received."), verbose_name=_("size (bytes)")
    )
    # Bytes exactly as received: lossless whatever charset (or garbage) the sender used.
    raw = models.BinaryField(verbose_name=_("raw message"))
    text = models.TextField(
        blank=True, help_text=_("The new text of the reply."), verbose_name=_("reply text")
    )
    invitation = models.ForeignKey(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("invitation"),
    )
    response = models.ForeignKey(
        Response,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("response"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("ticket"),
    )
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    # Counted (and committed) before each processing attempt: a row still "received" after
    # CXCRM_INBOUND_MAX_ATTEMPTS attempts killed its worker every time, and is given up.
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in InboundStatus]),
                name="inboundemail_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["-received_at"], name="inboundemail_received_idx"),
            models.Index(fields=["status", "-received_at"], name="inboundemail_status_idx"),
            # Erasure finds a customer's mail by address too (from_email__iexact, which
            # PostgreSQL compares as UPPER(...)), unmatched mail included.
            models.Index(Upper("from_email"), name="inboundemail_from_upper_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or _('(no subject)')} ← {self.from_email or '?'}"
