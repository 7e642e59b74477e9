"""Reads of tickets: the staff queue's order, the ticket page and the customer's timeline,
and answers still waiting for their ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, F, IntegerField, QuerySet, Value, When, Window
from django.db.models.functions import Lag
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext, pgettext

from feedback.surveys.models import (
    EmailKind,
    EmailStatus,
    Invitation,
    InvitationPurpose,
    OutboundEmail,
    Response,
)
from feedback.tickets.models import (
    OPEN_TICKET_STATUSES,
    Ticket,
    TicketEvent,
    TicketMessage,
    ticket_not_contacted_first,
    ticket_priority_once_contacted,
)
from touchpoints.models import Interaction


def responses_missing_ticket(
    *, older_than: timedelta, window: timedelta = timedelta(days=3)
) -> list[int]:
    """Recent answers in their survey's loop categories that have no ticket yet."""
    now = timezone.now()
    candidates = (
        Response.objects.filter(
            ticket__isnull=True,
            submitted_at__lt=now - older_than,
            submitted_at__gte=now - window,
        )
        .exclude(invitation__purpose=InvitationPurpose.FOLLOWUP)
        .select_related("survey")
        .only("id", "category", "survey__loop_enabled", "survey__ticket_categories", "survey__kind")
    )
    return [r.pk for r in candidates[:2000] if r.category in r.survey.loop_categories]


# Interactions at these journey stages without an order are browsing: the workspace folds
# runs of them into one line.
QUIET_STAGES = {"discovery", "engagement"}

# The ticket page shows at most this many messages and events (the newest).
TICKET_PAGE_ROWS = 200


def tickets_for_staff(queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Tickets with every relation the queue's columns and the ticket page's header show,
    joined in the one query that loads them."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    return queryset.select_related(
        "customer",
        "assignee",
        "touchpoint",
        "response__survey",
        "response__invitation__interaction__touchpoint",
        "root_cause",
    )


def ticket_urgency_order() -> list[Any]:
    """The open queue's order, which the partial index ticket_urgent_queue_idx (feedback
    migration 0015) holds in the same terms, so the first page is read from it unsorted:

    1. tickets nobody has contacted yet, nearest deadline first, so overdue ones lead (the
       most overdue on top) whatever the priority of tickets already contacted;
    2. then contacted tickets, highest priority first, then by deadline;
    ties by priority, then id (oldest first). Tickets without a deadline close each group."""
    return [
        ticket_not_contacted_first().asc(),
        ticket_priority_once_contacted().desc(),
        F("due_at").asc(nulls_last=True),
        F("priority").desc(),
        F("id").asc(),
    ]


def ticket_queue_ordering(*, only_open: bool = False) -> list[Any]:
    """The queue's order (ticket_urgency_order), open tickets first when the list also holds
    closed ones (so a list of all tickets still leads with the work). Expressions rather than
    an annotation, so that any queryset of tickets can use it. When the list holds only open
    tickets the open-first term is constant and is left out, so PostgreSQL can read the page
    straight from the partial index."""
    if only_open:
        return ticket_urgency_order()
    open_first = Case(
        When(status__in=OPEN_TICKET_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return [open_first.asc(), *ticket_urgency_order()]


@dataclass(frozen=True)
class TimelineItem:
    """One thing that happened between the customer and us, for the ticket page's timeline."""

    at: datetime
    kind: str  # interaction, invitation, response, ticket: also the CSS modifier
    title: str
    detail: str
    url: str
    current: bool = False
    # A browsing interaction (an ad, a page view) with no order: folded into one line.
    quiet: bool = False


def _admin_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def customer_timeline(
    customer_id: int, *, limit: int = 50, current_ticket_id: int | None = None
) -> list[TimelineItem]:
    """The customer's interactions, invitations, answers and tickets, newest first.

    Four queries whatever the history's length: each source is read newest first up to
    ``limit`` rows (its relations joined), then the four are merged; no source can crowd the
    page with more than ``limit`` rows, and the merge keeps the newest ``limit`` overall."""
    items: list[TimelineItem] = []
    interactions = (
        Interaction.objects.filter(customer_id=customer_id)
        .select_related("touchpoint")
        .order_by("-occurred_at", "-id")[:limit]
    )
    for interaction in interactions:
        money = f"{interaction.amount} {interaction.currency}".strip() if interaction.amount else ""
        detail = " · ".join(p for p in (interaction.order_ref, money, interaction.source) if p)
        items.append(
            TimelineItem(
                interaction.occurred_at,
                "interaction",
                str(interaction.touchpoint.name),
                detail,
                _admin_url(interaction),
                quiet=not interaction.order_ref
                and interaction.amount is None
                and interaction.touchpoint.stage in QUIET_STAGES,
            )
        )
    invitations = (
        Invitation.objects.filter(customer_id=customer_id)
        .select_related("survey")
        .order_by("-created_at", "-id")[:limit]
    )
    for invitation in invitations:
        if invitation.purpose == InvitationPurpose.FOLLOWUP:
            title = gettext("Follow-up: %(survey)s") % {"survey": invitation.survey.name}
        else:
            title = gettext("Invitation: %(survey)s") % {"survey": invitation.survey.name}
        items.append(
            TimelineItem(
                invitation.sent_at or invitation.scheduled_for,
                "invitation",
                title,
                invitation.get_state_display(),
                _admin_url(invitation),
            )
        )
    responses = (
        Response.objects.filter(customer_id=customer_id)
        .select_related("touchpoint")
        .order_by("-submitted_at", "-id")[:limit]
    )
    for response in responses:
        # "NPS 3 · Detractor": the kind is a name, the same in every language.
        score = f"{response.kind.upper()} {response.score} · {response.get_category_display()}"
        if response.touchpoint:
            # Translators: an answer in the customer's story: "NPS 3 · Detractor at Delivery".
            title = gettext("%(score)s at %(touchpoint)s") % {
                "score": score,
                "touchpoint": response.touchpoint.name,
            }
        else:
            title = score
        items.append(
            TimelineItem(
                response.submitted_at,
                "response",
                title,
                Truncator(" ".join(response.comment.split())).chars(140),
                _admin_url(response),
            )
        )
    tickets = Ticket.objects.filter(customer_id=customer_id).order_by("-created_at", "-id")[:limit]
    for ticket in tickets:
        items.append(
            TimelineItem(
                ticket.created_at,
                "ticket",
                gettext("Ticket #%(id)s: %(subject)s")
                % {"id": ticket.pk, "subject": ticket.subject},
                ticket.get_status_display(),
                _admin_url(ticket),
                current=ticket.pk == current_ticket_id,
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def reply_delivery(status: str, error: str) -> dict[str, str]:
    """What staff see beside a reply: whether its email reached the customer's server (only
    then is it contact), and the server's answer when it did not."""
    if status in (EmailStatus.SENT, EmailStatus.OUTBOX):
        label = (
            str(EmailStatus(status).label)
            if status == EmailStatus.SENT
            else gettext("In the outbox")
        )
    elif status == EmailStatus.QUEUED:
        label = (
            gettext("Not delivered yet: retrying")
            if error
            else pgettext("an email's delivery", "Queued")
        )
    else:
        # Translators: an email's delivery failed; the reason is "bounced", "failed"...
        label = gettext("Not delivered (%(reason)s)") % {
            "reason": str(EmailStatus(status).label).lower()
        }
    return {"status": status, "label": label, "error": error}


def ticket_page_context(ticket: Ticket, *, timeline_limit: int = 50) -> dict[str, Any]:
    """What the ticket page shows beside the ticket itself (loaded by tickets_for_staff):
    the thread with each reply's delivery status, the audit trail, the customer's timeline.

    Seven queries: messages (authors joined), reply delivery statuses, events (actors
    joined), and the four timeline sources. The thread and history are capped so that a
    ticket with a runaway email loop still renders; the page says when rows were left out."""
    messages = list(
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .order_by("-created_at", "-id")[: TICKET_PAGE_ROWS + 1]
    )
    delivery = {
        message_id: reply_delivery(status, error)
        for message_id, status, error in OutboundEmail.objects.filter(
            ticket=ticket, kind=EmailKind.TICKET_REPLY
        )
        .exclude(message_id="")
        .values_list("message_id", "status", "error")
    }
    events = list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("-created_at", "-id")[: TICKET_PAGE_ROWS + 1]
    )
    thread = [
        {"message": message, "delivery": delivery.get(message.message_id, "")}
        for message in reversed(messages[:TICKET_PAGE_ROWS])
    ]
    return {
        "thread": thread,
        "thread_truncated": len(messages) > TICKET_PAGE_ROWS,
        "events": events[:TICKET_PAGE_ROWS],
        "events_truncated": len(events) > TICKET_PAGE_ROWS,
        "timeline": customer_timeline(
            ticket.customer_id, limit=timeline_limit, current_ticket_id=ticket.pk
        ),
    }


@dataclass(frozen=True)
class StoryEntry:
    """One line of the customer's story: an item, or a run of browsing folded together."""

    item: TimelineItem | None = None
    folded: tuple[TimelineItem, ...] = ()

    @property
    def label(self) -> str:
        names = ", ".join(sorted({item.title for item in self.folded})[:4])
        count = len(self.folded)
        # Translators: browsing folded into one line of the customer's story, then the pages.
        return ngettext(
            "%(count)d page view or visit: %(names)s",
            "%(count)d page views and visits: %(names)s",
            count,
        ) % {"count": count, "names": names}


def customer_story(items: list[TimelineItem]) -> list[StoryEntry]:
    """The timeline with consecutive browsing interactions folded into one entry each (a
    single one stays as it is)."""
    story: list[StoryEntry] = []
    run: list[TimelineItem] = []

    def flush() -> None:
        if len(run) == 1:
            story.append(StoryEntry(item=run[0]))
        elif run:
            story.append(StoryEntry(folded=tuple(run)))
        run.clear()

    for item in items:
        if item.quiet:
            run.append(item)
            continue
        flush()
        story.append(StoryEntry(item=item))
    flush()
    return story


def ticket_next_in_queue(ticket: Ticket) -> int | None:
    """The open ticket after this one in the queue's order (the first of the queue when this
    one is not open, None at the end). One query: the open ticket whose predecessor in the
    queue's order (a window over the open tickets) is this one."""
    ordering = ticket_queue_ordering(only_open=True)
    open_tickets = Ticket.objects.filter(status__in=OPEN_TICKET_STATUSES)
    if ticket.is_open:
        return (
            open_tickets.annotate(previous_id=Window(Lag("id"), order_by=ordering))
            .filter(previous_id=ticket.pk)
            .values_list("id", flat=True)
            .first()
        )
    return open_tickets.order_by(*ordering).values_list("id", flat=True).first()


def ticket_last_resolved(events: list[TicketEvent]) -> TicketEvent | None:
    """The newest "resolved" status event among events (newest first): on a reopened
    ticket, when the kept root cause was set."""
    for event in events:
        if event.action == "status" and event.to_value == "resolved":
            return event
    return None
