"""Tickets, their conversation and audit trail, and the root causes staff resolve them with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxcrm.text import single_line
from feedback.surveys.models import Response


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", pgettext_lazy("ticket status", "Open")
    PENDING = "pending", pgettext_lazy("ticket status", "Pending customer")
    RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


OPEN_TICKET_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class TicketPriority(models.IntegerChoices):
    LOW = 1, pgettext_lazy("ticket priority", "Low")
    NORMAL = 2, pgettext_lazy("ticket priority", "Normal")
    HIGH = 3, pgettext_lazy("ticket priority", "High")
    URGENT = 4, pgettext_lazy("ticket priority", "Urgent")


class TicketSource(models.TextChoices):
    RESPONSE = "response", pgettext_lazy("ticket source", "Survey answer")
    EMAIL = "email", pgettext_lazy("ticket source", "Email")
    API = "api", pgettext_lazy("ticket source", "API")
    STAFF = "staff", pgettext_lazy("ticket source", "Staff")


class RootCause(models.Model):
    """Why the customer was unhappy; a list staff edit, required to resolve a ticket."""

    name = models.CharField(max_length=120, unique=True, verbose_name=_("name"))
    slug = models.SlugField(
        max_length=80,
        unique=True,
        help_text=_("Its stable name for the API (upserts go by it)."),
        verbose_name=_("slug"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")

    def __str__(self) -> str:
        return self.name


def overdue_q(now: timezone.datetime | None = None) -> Q:
    """What "overdue" means, everywhere (the queue's filter, escalation, the dashboard's
    counts): open, past the SLA deadline, and nobody has contacted the customer yet; the SLA
    is for the first contact, so a ticket answered in time and still being worked is not."""
    return Q(
        status__in=OPEN_TICKET_STATUSES,
        due_at__lt=now or timezone.now(),
        first_contact_at__isnull=True,
    )


def ticket_not_contacted_first() -> Case:
    """0 for a ticket nobody has contacted yet, 1 once somebody has: the SLA is for the first
    contact, so uncontacted tickets are the ones still racing their deadline. The queue's
    order (feedback.tickets.selectors) and its index below use this one expression."""
    return Case(
        When(first_contact_at__isnull=True, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def ticket_priority_once_contacted() -> Case:
    """0 before the first contact (the deadline alone orders those), the priority after it
    (the SLA is met; what is left is how much the case matters)."""
    return Case(
        When(first_contact_at__isnull=True, then=Value(0)),
        default=F("priority"),
        output_field=IntegerField(),
    )


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_TICKET_STATUSES)

    def overdue(self, now: timezone.datetime | None = None) -> TicketQuerySet:
        return self.filter(overdue_q(now))


class Ticket(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    response = models.OneToOneField(
        Response,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket",
        verbose_name=_("response"),
    )
    touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("touchpoint"),
    )
    source = models.CharField(
        max_length=16,
        choices=TicketSource.choices,
        default=TicketSource.RESPONSE,
        verbose_name=_("source"),
    )
    subject = models.CharField(max_length=255, validators=[single_line], verbose_name=_("subject"))
    status = models.CharField(
        max_length=16,
        choices=TicketStatus.choices,
        default=TicketStatus.NEW,
        verbose_name=_("status"),
    )
    priority = models.PositiveSmallIntegerField(
        choices=TicketPriority.choices, default=TicketPriority.NORMAL, verbose_name=_("priority")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(
        null=True, blank=True, help_text=_("SLA: first contact due by."), verbose_name=_("due at")
    )
    first_contact_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("first contact at")
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    escalated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set when the SLA breach was escalated (once per breach)."),
        verbose_name=_("escalated at"),
    )
    root_cause = models.ForeignKey(
        RootCause,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("root cause"),
    )
    resolution = models.TextField(blank=True, verbose_name=_("resolution"))
    recovered = models.BooleanField(
        null=True,
        blank=True,
        help_text=_("The follow-up answer came back in the good band."),
        verbose_name=_("recovered"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "due_at", "id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"])
                | Q(root_cause__isnull=False, resolved_at__isnull=False),
                name="ticket_resolved_needs_root_cause",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4), name="ticket_priority_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TicketStatus]), name="ticket_status_known"
            ),
        ]
        indexes = [
            # The triage queue: open tickets by priority, then the nearest deadline.
            models.Index(
                "status",
                models.F("priority").desc(),
                "due_at",
                name="ticket_queue_idx",
            ),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["customer", "status"], name="ticket_customer_idx"),
            models.Index(fields=["touchpoint", "created_at"], name="ticket_touchpoint_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            # The working queue at scale: only open tickets (a few % of a million), already in
            # the queue's order (feedback.tickets.selectors.ticket_urgency_order, term for
            # term), so the first page is an index range read with no sort.
            models.Index(
                ticket_not_contacted_first(),
                models.OrderBy(ticket_priority_once_contacted(), descending=True),
                "due_at",
                models.OrderBy(models.F("priority"), descending=True),
                "id",
                condition=Q(status__in=["new", "open", "pending"]),
                name="ticket_urgent_queue_idx",
            ),
            # Escalation sweep: open tickets past due and not yet escalated.
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["new", "open", "pending"], escalated_at__isnull=True),
                name="ticket_breach_idx",
            ),
            # The dashboard's, the metrics API's and the journey map's open and overdue counts
            # (feedback.reporting.metrics.open_tickets): an index-only scan of the open tickets,
            # per touchpoint in order, instead of a visit to every open ticket's row (issue 20).
            models.Index(
                fields=["touchpoint", "due_at"],
                include=["first_contact_at", "status"],
                condition=Q(status__in=["new", "open", "pending"]),
                name="ticket_open_counts_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TICKET_STATUSES


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", _("From the customer")
    OUTBOUND = "outbound", _("To the customer")
    NOTE = "note", _("Internal note")


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    direction = models.CharField(
        max_length=16, choices=MessageDirection.choices, verbose_name=_("direction")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("author"),
    )
    from_email = models.EmailField(blank=True, verbose_name=_("from"))
    body = models.TextField(verbose_name=_("body"))
    message_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("message ID")
    )
    in_reply_to = models.CharField(max_length=255, blank=True, verbose_name=_("in reply to"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketmessage_ticket_idx"),
            # The admin's list across tickets, in its order, a page at a time.
            models.Index(fields=["created_at", "id"], name="ticketmessage_created_idx"),
        ]

    def __str__(self) -> str:
        # Translators: e.g. "Internal note on #42" (#42 is the ticket).
        message = _("%(direction)s on #%(ticket)s")
        return message % {"direction": self.get_direction_display(), "ticket": self.ticket_id}


class TicketEvent(models.Model):
    """Audit row: every change of a ticket, who made it, from what to what."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("actor"),
    )
    action = models.CharField(
        max_length=32,
        # Translators: codes stored in the field; keep them in English.
        help_text=_("created, status, priority, assignee..."),
        verbose_name=_("action"),
    )
    from_value = models.CharField(max_length=255, blank=True, verbose_name=_("from value"))
    to_value = models.CharField(max_length=255, blank=True, verbose_name=_("to value"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_idx"),
            # The admin's list across tickets, in its order, a page at a time.
            models.Index(fields=["created_at", "id"], name="ticketevent_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.action}: {self.from_value} → {self.to_value}"


class SavedReply(models.Model):
    """A reply staff reuse (a macro): its body has placeholders such as {customer_name},
    filled in by feedback.tickets.saved_replies when an agent picks it on the ticket page.
    No owner means shared with everyone; an owner makes it that agent's own."""

    ANY_LANGUAGE = "any"

    name = models.CharField(max_length=120, validators=[single_line], verbose_name=_("name"))
    language = models.CharField(
        max_length=16,
        default=ANY_LANGUAGE,
        help_text=_("The customers it is written for; “any” fits every language."),
        verbose_name=_("language"),
    )
    body = models.TextField(
        # Translators: keep the placeholders in braces exactly as they are.
        help_text=_("Placeholders: {customer_name}, {order}, {agent}, {ticket}, {subject}."),
        verbose_name=_("body"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_replies",
        help_text=_("Empty: shared with all staff. Set: only this person sees it."),
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        indexes = [models.Index(fields=["language", "name"], name="savedreply_language_idx")]

    def __str__(self) -> str:
        return self.name
