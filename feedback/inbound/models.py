"""Every email received (replies to surveys and tickets), kept before it is matched."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from feedback.surveys.models import Invitation, Response
from feedback.tickets.models import Ticket


class InboundStatus(models.TextChoices):
    # The first six need a person: they lead the admin's list.
    UNMATCHED = "unmatched", "Unmatched (no token, no thread)"
    CLOSED = "closed", "Survey closed (nothing recorded)"
    NO_SCORE = "no_score", "Reply without a score (nothing recorded)"
    ERROR = "error", "Processing failed"
    TOO_LARGE = "too_large", "Too large (truncated copy kept)"
    OVER_LIMIT = "over_limit", "Over a reading limit (kept, not read)"
    RECEIVED = "received", "Stored, not processed"
    MATCHED_RESPONSE = "matched_response", "Added to the answer's comment"
    MATCHED_TICKET = "matched_ticket", "Added to the ticket"
    SCORE_RECORDED = "score_recorded", "Score recorded"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    AUTO_REPLY = "auto_reply", "Automatic reply (not recorded)"
    DUPLICATE = "duplicate", "Duplicate (already processed)"


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
    WEBHOOK = "webhook", "ESP webhook"
    COMMAND = "command", "receive_email command (MTA pipe)"


class InboundEmail(models.Model):
    """Every email that reached the reply or unsubscribe addresses, stored before anything is
    done with it, with what became of it. Never deleted by the system."""

    received_at = models.DateTimeField(default=timezone.now, editable=False)
    source = models.CharField(max_length=16, choices=InboundSource.choices)
    status = models.CharField(
        max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    note = models.TextField(blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    to = models.TextField(blank=True, help_text="To and Cc headers.")
    envelope_to = models.TextField(
        blank=True, help_text="Recipients the ESP or MTA delivered it to (may differ from To)."
    )
    subject = models.CharField(max_length=255, blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0, help_text="Bytes received.")
    # Bytes exactly as received: lossless whatever charset (or garbage) the sender used.
    raw = models.BinaryField()
    text = models.TextField(blank=True, help_text="The new text of the reply.")
    invitation = models.ForeignKey(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    response = models.ForeignKey(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # Counted (and committed) before each processing attempt: a row still "received" after
    # CXCRM_INBOUND_MAX_ATTEMPTS attempts killed its worker every time, and is given up.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
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
        return f"{self.subject or '(no subject)'} ← {self.from_email or '?'}"
