"""Close the loop (steps 5 and 6): tickets from unhappy answers, staff work on them, escalation
of breached SLAs, and recovery measured by a follow-up answer.

Every change of a ticket's status, priority or assignee writes a TicketEvent in the same
transaction, so the audit trail cannot miss a change made through these services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Least
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cxcrm.errors import ServiceError
from cxcrm.text import header_text
from feedback.surveys.emails import (
    new_message_id,
    reply_address,
)
from feedback.surveys.models import (
    EmailKind,
    Invitation,
    InvitationPurpose,
    InvitationState,
    Response,
)
from feedback.surveys.scoring import Sentiment, SurveyKind, sentiment_of
from feedback.surveys.services.outbox import outbound_email_queue
from feedback.tickets import events
from feedback.tickets.emails import agent_name, customer_thread, email_render, staff_alert_queue
from feedback.tickets.models import (
    OPEN_TICKET_STATUSES,
    MessageDirection,
    RootCause,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketPriority,
    TicketSource,
    TicketStatus,
)
from feedback.tickets.signals import customer_message_added, ticket_changed

AGENT_GROUP = "Agent"
MANAGER_GROUP = "Manager"
ADMIN_GROUP = "Admin"


class TicketError(ServiceError, ValueError):
    """A ticket action that the ticket's state or the input does not allow. Messages staff
    read are lazy translations: ``str(error)`` speaks the language active where it is shown."""


# --- Rules ------------------------------------------------------------------------------------


def priority_for(kind: str, score: int) -> int:
    """The most unhappy answers are high priority: NPS 0–3, CSAT 1, CES 1–2."""
    if sentiment_of(kind, score) != Sentiment.BAD:
        return TicketPriority.LOW
    very_bad = {SurveyKind.NPS: 3, SurveyKind.CSAT: 1, SurveyKind.CES: 2}[kind]
    return TicketPriority.HIGH if score <= very_bad else TicketPriority.NORMAL


def staff_users() -> Any:
    return get_user_model().objects.filter(is_active=True, is_staff=True)


def pick_assignee(touchpoint_owner_id: int | None) -> Any:
    """The touchpoint's owner if active staff; else the active agent with the fewest open
    tickets (ties: the longest idle, i.e. the lowest id — stable and fair enough)."""
    users = staff_users()
    if touchpoint_owner_id:
        owner = users.filter(pk=touchpoint_owner_id).first()
        if owner is not None:
            return owner
    agents = users.filter(groups__name=AGENT_GROUP)
    if not agents.exists():
        return None
    return (
        agents.annotate(
            open_count=Count(
                "assigned_tickets",
                filter=Q(assigned_tickets__status__in=OPEN_TICKET_STATUSES),
                distinct=True,
            )
        )
        .order_by("open_count", "id")
        .first()
    )


def priority_name(priority: int) -> str:
    """Events store machine-readable values (status values, priority names, usernames)."""
    return TicketPriority(priority).name.lower()


# Event actions that change no loop figure (feedback.reporting.loop reads created_at, source,
# due_at, first_contact_at, resolved_at, recovered and the ticket's touchpoint and customer).
ACTIONS_OUTSIDE_THE_LOOP = frozenset({"assignee", "priority", "escalated"})


def ticket_event_record(
    ticket: Ticket,
    action: str,
    *,
    actor: Any = None,
    from_value: object = "",
    to_value: object = "",
    note: str = "",
    now: datetime | None = None,
) -> TicketEvent:
    # Every change of a ticket writes an event here, so this is where its loop figures
    # (rolled up by the day it was created) are announced to the rollups; who works it and how
    # urgent it is move none of them, and would only make the day re-read raw and recomputed.
    if action not in ACTIONS_OUTSIDE_THE_LOOP:
        ticket_changed.send(sender=Ticket, created_at=ticket.created_at)
    return TicketEvent.objects.create(
        created_at=now or timezone.now(),
        ticket=ticket,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_value=str(from_value or "")[:255],
        to_value=str(to_value or "")[:255],
        note=note,
    )


def _display(value: Any) -> str:
    return str(value) if value is not None else ""


# --- Tickets from answers ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoopResult:
    ticket: Ticket | None
    created: bool
    action: str


@transaction.atomic
def ticket_sync_for_response(*, response_id: int, now: datetime | None = None) -> LoopResult:
    """Open (or update) the ticket a response calls for. Idempotent: one ticket per response;
    a changed score updates the priority, and a callback request becomes a note once."""
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("survey", "customer", "touchpoint", "invitation")
        .get(pk=response_id)
    )
    ticket = Ticket.objects.filter(response=response).first()
    invitation = response.invitation
    if invitation is not None and invitation.purpose == InvitationPurpose.FOLLOWUP:
        return LoopResult(None, False, _record_recovery(response, invitation, now))
    wants_ticket = response.category in response.survey.loop_categories
    if ticket is None:
        if not wants_ticket:
            return LoopResult(None, False, "no ticket: the answer is not in the loop rule")
        ticket = _ticket_open(response, now or timezone.now())
        _callback_note(ticket, response)
        return LoopResult(ticket, True, "opened")
    priority = priority_for(response.kind, response.score)
    if ticket.is_open and priority != ticket.priority and wants_ticket:
        ticket_event_record(
            ticket,
            "priority",
            from_value=priority_name(ticket.priority),
            to_value=priority_name(priority),
            note=f"Score changed to {response.score}.",
        )
        ticket.priority = priority
        ticket.save(update_fields=["priority", "updated_at"])
    elif not wants_ticket:
        ticket_event_record(
            ticket,
            "score",
            to_value=str(response.score),
            note="The customer changed the answer to one the loop rule does not act on.",
        )
    _callback_note(ticket, response)
    return LoopResult(ticket, False, "updated")


def _ticket_open(response: Response, now: datetime) -> Ticket:
    touchpoint = response.touchpoint
    assignee = pick_assignee(touchpoint.owner_id if touchpoint else None)
    ticket = Ticket.objects.create(
        customer=response.customer,
        response=response,
        touchpoint=touchpoint,
        source=TicketSource.RESPONSE,
        subject=_subject(response),
        status=TicketStatus.NEW,
        priority=priority_for(response.kind, response.score),
        assignee=assignee,
        due_at=now + timedelta(hours=response.survey.sla_hours),
        created_at=now,
    )
    ticket_event_record(
        ticket,
        "created",
        to_value=ticket.status,
        note=f"{response.kind.upper()} {response.score} ({response.category}).",
        now=now,
    )
    if assignee is not None:
        ticket_event_record(ticket, "assignee", to_value=assignee.get_username(), now=now)
    if response.comment:
        TicketMessage.objects.create(
            ticket=ticket,
            direction=MessageDirection.INBOUND,
            from_email=response.customer.email,
            body=response.comment,
            created_at=now,
        )
    if assignee is not None and assignee.email:
        staff_alert_queue(ticket, [assignee.email], "ticket_assigned", now=now)
    if response.survey.acknowledge_customer and response.customer.is_reachable:
        _acknowledge(ticket, now)
    events.ticket_created(ticket)
    return ticket


def _subject(response: Response) -> str:
    # Stored, so written once in the site's language (LANGUAGE_CODE), whoever's request or
    # worker makes the ticket. Names stored before control characters were refused must not
    # carry into the subject.
    with translation.override(settings.LANGUAGE_CODE):
        who = header_text(response.customer.name) or response.customer.email
        who = who or gettext("customer #%(id)s") % {"id": response.customer_id}
        values = {"kind": response.kind.upper(), "score": response.score, "who": who}
        if response.touchpoint:
            values["where"] = header_text(response.touchpoint)
            # Translators: a ticket's subject: "NPS 2 from Emma Smith at Home delivery".
            subject = gettext("%(kind)s %(score)s from %(who)s at %(where)s") % values
        else:
            subject = gettext("%(kind)s %(score)s from %(who)s") % values
    return subject[:255]


def _callback_note(ticket: Ticket, response: Response) -> None:
    callback = response.answers.get("callback") if isinstance(response.answers, dict) else None
    if not isinstance(callback, dict):
        return
    body = (
        f"The customer asked to be called back on {callback.get('phone', '?')} "
        f"(best time: {callback.get('time', 'any')})."
    )
    if not ticket.messages.filter(direction=MessageDirection.NOTE, body=body).exists():
        TicketMessage.objects.create(ticket=ticket, direction=MessageDirection.NOTE, body=body)


# --- Emails -----------------------------------------------------------------------------------


def _thread_headers(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To the latest message of the conversation, References the whole chain, and a
    Reply-To that routes the customer's answer back to this ticket."""
    ids: list[str] = []
    if ticket.response_id and ticket.response.invitation_id:
        invitation = ticket.response.invitation
        if invitation.message_id:
            ids.append(invitation.message_id)
    ids += [
        mid
        for mid in ticket.messages.exclude(message_id="")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    ]
    headers: dict[str, str] = {}
    if ids:
        headers["In-Reply-To"] = ids[-1]
        headers["References"] = " ".join(dict.fromkeys(ids[-20:]))
    if ticket.response_id and ticket.response.invitation_id:
        headers["Reply-To"] = reply_address(ticket.response.invitation.token)
    return headers


def _acknowledge(ticket: Ticket, now: datetime) -> None:
    language, subject = customer_thread(ticket)
    text, html = email_render(
        "ticket_ack",
        {"ticket": ticket, "customer": ticket.customer},
        language=language,
    )
    message_id = new_message_id()
    outbound_email_queue(
        to=ticket.customer.email,
        subject=subject,
        text=text,
        html=html,
        kind=EmailKind.ACKNOWLEDGEMENT,
        headers=_thread_headers(ticket),
        customer_id=ticket.customer_id,
        ticket_id=ticket.pk,
        message_id=message_id,
        now=now,
    )


# --- Staff actions ----------------------------------------------------------------------------


def ticket_locked(ticket_id: int) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer", "response__invitation", "assignee", "root_cause")
        .get(pk=ticket_id)
    )


@transaction.atomic
def ticket_assign(
    *,
    ticket_id: int,
    assignee: AbstractBaseUser | None,
    actor: Any = None,
    now: datetime | None = None,
) -> Ticket:
    ticket = ticket_locked(ticket_id)
    if assignee is not None and not (assignee.is_active and getattr(assignee, "is_staff", False)):
        raise TicketError(_("Tickets can only be assigned to active staff."))
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee.get_username() if ticket.assignee else ""
    ticket.assignee = assignee  # type: ignore[assignment]
    ticket.save(update_fields=["assignee", "updated_at"])
    ticket_event_record(
        ticket,
        "assignee",
        actor=actor,
        from_value=old,
        to_value=assignee.get_username() if assignee else "",
        now=now,
    )
    if assignee is not None and assignee.email and getattr(actor, "pk", None) != assignee.pk:
        staff_alert_queue(ticket, [assignee.email], "ticket_assigned", now=now)
    events.ticket_updated(ticket)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket_id: int, priority: int, actor: Any = None) -> Ticket:
    if priority not in TicketPriority.values:
        raise TicketError(f"Unknown priority {priority!r}.")
    ticket = ticket_locked(ticket_id)
    if ticket.priority != priority:
        ticket_event_record(
            ticket,
            "priority",
            actor=actor,
            from_value=priority_name(ticket.priority),
            to_value=priority_name(priority),
        )
        ticket.priority = priority
        ticket.save(update_fields=["priority", "updated_at"])
        events.ticket_updated(ticket)
    return ticket


@transaction.atomic
def ticket_set_status(
    *, ticket_id: int, status: str, actor: Any = None, now: datetime | None = None
) -> Ticket:
    """Move between the working states. Resolving goes through ticket_resolve (it needs a
    root cause); closing is allowed from resolved only."""
    if status not in TicketStatus.values:
        raise TicketError(f"Unknown status {status!r}.")
    ticket = ticket_locked(ticket_id)
    if status == ticket.status:
        return ticket
    if status == TicketStatus.RESOLVED:
        raise TicketError(_("Resolve a ticket with its root cause (use the resolve action)."))
    if status == TicketStatus.CLOSED and ticket.status != TicketStatus.RESOLVED:
        raise TicketError(_("Only a resolved ticket can be closed."))
    _status_move(ticket, TicketStatus(status), actor=actor, now=now)
    return ticket


def _status_move(
    ticket: Ticket,
    status: TicketStatus,
    *,
    actor: Any = None,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """The one way a locked ticket changes status outside resolving, reopening included: an
    event, the webhook, and ``resolved_at`` cleared when it leaves resolved or closed (a check
    constraint keeps it on those only). The root cause and resolution stay, as the record of
    the earlier attempt."""
    old = ticket.status
    fields = ["status", "updated_at"]
    if old in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and status in OPEN_TICKET_STATUSES:
        ticket.resolved_at = None
        fields.append("resolved_at")
    ticket.status = status
    ticket.save(update_fields=fields)
    ticket_event_record(
        ticket, "status", actor=actor, from_value=old, to_value=ticket.status, note=note, now=now
    )
    events.ticket_updated(ticket)


@transaction.atomic
def ticket_note(
    *, ticket_id: int, body: str, actor: Any, now: datetime | None = None
) -> TicketMessage:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise TicketError(_("A note needs some text."))
    ticket = ticket_locked(ticket_id)
    return TicketMessage.objects.create(
        ticket=ticket,
        direction=MessageDirection.NOTE,
        author=actor,
        body=body[:20000],
        created_at=now or timezone.now(),
    )


def ticket_mark_contacted(ticket: Ticket, actor: Any, now: datetime, how: str) -> None:
    fields = ["updated_at"]
    if ticket.first_contact_at is None:
        ticket.first_contact_at = now
        fields.append("first_contact_at")
        ticket_event_record(ticket, "contacted", actor=actor, to_value=how, now=now)
    if ticket.status == TicketStatus.NEW:
        ticket_event_record(
            ticket,
            "status",
            actor=actor,
            from_value=ticket.status,
            to_value=TicketStatus.PENDING.value,
            note=f"After {how}.",
            now=now,
        )
        ticket.status = TicketStatus.PENDING
        fields.append("status")
    ticket.save(update_fields=fields)


@transaction.atomic
def ticket_reply(
    *, ticket_id: int, body: str, actor: Any, now: datetime | None = None
) -> TicketMessage:
    """Email the customer from the ticket, threaded under the conversation. The first reply
    whose email the server accepts is the first contact (feedback.tickets.contact)."""
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise TicketError(_("A reply needs some text."))
    ticket = ticket_locked(ticket_id)
    customer = ticket.customer
    if not customer.email or customer.erased_at:
        raise TicketError(_("The customer has no email address to reply to."))
    if customer.suppressed_at:
        raise TicketError(_("The customer's address is suppressed (it bounced or complained)."))
    now = now or timezone.now()
    headers = _thread_headers(ticket)
    message_id = new_message_id()
    language, subject = customer_thread(ticket)
    text, html = email_render(
        "ticket_reply",
        {"ticket": ticket, "customer": customer, "body": body, "agent": agent_name(actor)},
        language=language,
    )
    outbound_email_queue(
        to=customer.email,
        subject=subject,
        text=text,
        html=html,
        kind=EmailKind.TICKET_REPLY,
        headers=headers,
        customer_id=customer.pk,
        ticket_id=ticket.pk,
        message_id=message_id,
        now=now,
    )
    message = TicketMessage.objects.create(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        author=actor,
        from_email=settings.DEFAULT_FROM_EMAIL[:254],
        body=body,
        message_id=message_id,
        in_reply_to=headers.get("In-Reply-To", ""),
        created_at=now,
    )
    events.ticket_updated(ticket)
    return message


@transaction.atomic
def ticket_log_contact(
    *, ticket_id: int, actor: Any, note: str = "", now: datetime | None = None
) -> Ticket:
    """Staff reached the customer another way (a phone call): the SLA's first contact."""
    ticket = ticket_locked(ticket_id)
    now = now or timezone.now()
    if note.strip():
        TicketMessage.objects.create(
            ticket=ticket,
            direction=MessageDirection.NOTE,
            author=actor,
            body=note.strip(),
            created_at=now,
        )
    ticket_mark_contacted(ticket, actor, now, "phone call")
    events.ticket_updated(ticket)
    return ticket


@transaction.atomic
def ticket_resolve(
    *,
    ticket_id: int,
    root_cause: RootCause | None,
    resolution: str = "",
    actor: Any = None,
    send_followup: bool = False,
    now: datetime | None = None,
) -> Ticket:
    if root_cause is None:
        raise TicketError(_("Choose a root cause to resolve the ticket."))
    ticket = ticket_locked(ticket_id)
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise TicketError(_("The ticket is already resolved."))
    now = now or timezone.now()
    old = ticket.status
    ticket.status = TicketStatus.RESOLVED
    ticket.root_cause = root_cause
    ticket.resolution = (resolution or "").replace("\x00", "").strip()
    ticket.resolved_at = now
    ticket.save(update_fields=["status", "root_cause", "resolution", "resolved_at", "updated_at"])
    ticket_event_record(
        ticket,
        "status",
        actor=actor,
        from_value=old,
        to_value=ticket.status,
        note=f"Root cause: {root_cause}.",
        now=now,
    )
    if send_followup:
        followup_invite(ticket=ticket, now=now)
    events.ticket_resolved(ticket)
    return ticket


@transaction.atomic
def ticket_reopen(
    *, ticket_id: int, actor: Any = None, note: str = "", now: datetime | None = None
) -> Ticket:
    ticket = ticket_locked(ticket_id)
    if ticket.is_open:
        return ticket
    _status_move(ticket, TicketStatus.OPEN, actor=actor, note=note or "Reopened.", now=now)
    return ticket


# --- Recovery ---------------------------------------------------------------------------------


def followup_invite(*, ticket: Ticket, now: datetime | None = None) -> Invitation | None:
    """A one-question follow-up survey after resolution, to measure whether the customer was
    won back. It uses the survey that produced the ticket and ignores the contact-frequency
    rule (the customer is expecting to hear from us)."""
    now = now or timezone.now()
    if not ticket.response_id or not ticket.customer.is_reachable:
        return None
    survey = ticket.response.survey
    delay = timedelta(hours=int(settings.CXCRM_FOLLOWUP_DELAY_HOURS))
    if Invitation.objects.filter(ticket=ticket, purpose=InvitationPurpose.FOLLOWUP).exists():
        return None
    scheduled_for = now + delay
    return Invitation.objects.create(
        survey=survey,
        customer=ticket.customer,
        ticket=ticket,
        purpose=InvitationPurpose.FOLLOWUP,
        scheduled_for=scheduled_for,
        expires_at=scheduled_for + timedelta(days=survey.expires_after_days),
        state=InvitationState.SCHEDULED,
    )


def _record_recovery(response: Response, invitation: Invitation, now: datetime | None) -> str:
    ticket = Ticket.objects.select_for_update().get(pk=invitation.ticket_id)
    recovered = sentiment_of(response.kind, response.score) == Sentiment.GOOD
    if ticket.recovered != recovered:
        ticket_event_record(
            ticket,
            "recovered",
            from_value=_display(ticket.recovered),
            to_value=str(recovered),
            note=f"Follow-up answer: {response.kind.upper()} {response.score}.",
            now=now,
        )
        ticket.recovered = recovered
        ticket.save(update_fields=["recovered", "updated_at"])
    return "recovered" if recovered else "not recovered"


# --- Escalation -------------------------------------------------------------------------------


@transaction.atomic
def tickets_escalate_breached(*, now: datetime | None = None, limit: int = 500) -> int:
    """Raise the priority of tickets whose SLA is breached, log it, alert the managers.
    ``escalated_at`` is set by a conditional update, so one breach escalates once however many
    workers run the sweep."""
    now = now or timezone.now()
    candidates = list(
        Ticket.objects.overdue(now)
        .filter(escalated_at__isnull=True)
        .select_related("customer")
        .order_by("due_at")[:limit]
    )
    managers = list(
        staff_users()
        .filter(Q(groups__name=MANAGER_GROUP) | Q(is_superuser=True))
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    escalated = 0
    for ticket in candidates:
        claimed = Ticket.objects.filter(pk=ticket.pk, escalated_at__isnull=True).update(
            escalated_at=now,
            priority=Least(F("priority") + 1, Value(int(TicketPriority.URGENT))),
            updated_at=now,
        )
        if not claimed:
            continue
        escalated += 1
        new_priority = min(ticket.priority + 1, TicketPriority.URGENT)
        ticket_event_record(
            ticket,
            "escalated",
            from_value=priority_name(ticket.priority),
            to_value=priority_name(new_priority),
            note=f"SLA breached: first contact was due {ticket.due_at:%Y-%m-%d %H:%M} UTC.",
            now=now,
        )
        ticket.priority = new_priority
        if managers:
            staff_alert_queue(ticket, managers, "ticket_escalated", now=now)
    return escalated


def ticket_due_changed(ticket: Ticket) -> None:
    """A new deadline is a new SLA: a later breach of it may be escalated again."""
    Ticket.objects.filter(pk=ticket.pk).update(escalated_at=None)


@transaction.atomic
def ticket_create(
    *,
    customer: Any,
    subject: str,
    touchpoint: Any = None,
    priority: int = TicketPriority.NORMAL,
    assignee: AbstractBaseUser | None = None,
    body: str = "",
    sla_hours: int = 48,
    source: str = TicketSource.API,
    actor: Any = None,
) -> Ticket:
    """A ticket that does not come from a survey answer (an integrator's system, a call logged
    by staff): assigned like answer tickets (touchpoint owner, else the least-loaded agent)
    unless an assignee is given; the body, if any, is the customer's first message."""
    subject = (subject or "").replace("\x00", "").strip()
    if not subject:
        raise TicketError(_("A ticket needs a subject."))
    if priority not in TicketPriority.values:
        raise TicketError(f"Unknown priority {priority!r}.")
    if assignee is not None and not (assignee.is_active and getattr(assignee, "is_staff", False)):
        raise TicketError(_("Tickets can only be assigned to active staff."))
    if assignee is None:
        assignee = pick_assignee(touchpoint.owner_id if touchpoint else None)
    now = timezone.now()
    ticket = Ticket.objects.create(
        customer=customer,
        touchpoint=touchpoint,
        source=source,
        subject=subject[:255],
        status=TicketStatus.NEW,
        priority=priority,
        assignee=assignee,
        due_at=now + timedelta(hours=sla_hours),
        created_at=now,
    )
    ticket_event_record(ticket, "created", actor=actor, to_value=ticket.status)
    if assignee is not None:
        ticket_event_record(ticket, "assignee", actor=actor, to_value=assignee.get_username())
    body = (body or "").replace("\x00", "").strip()
    if body:
        message = TicketMessage.objects.create(
            ticket=ticket,
            direction=MessageDirection.INBOUND,
            from_email=customer.email,
            body=body[:20000],
        )
        customer_message_added.send(sender=TicketMessage, message=message)
    if assignee is not None and assignee.email and getattr(actor, "pk", None) != assignee.pk:
        staff_alert_queue(ticket, [assignee.email], "ticket_assigned")
    events.ticket_created(ticket)
    return ticket


# A customer's reply wakes these up: a closed case gets looked at again, and "pending customer"
# means we were waiting for exactly this.
REOPENED_BY_REPLY = {
    TicketStatus.RESOLVED: "Reopened by the customer's reply",
    TicketStatus.CLOSED: "Reopened by the customer's reply",
    TicketStatus.PENDING: "The customer replied",
}


@transaction.atomic
def ticket_message_receive(
    *,
    ticket_id: int,
    body: str,
    from_email: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    now: datetime | None = None,
) -> TicketMessage:
    """Add the customer's message to the ticket; a resolved, closed or pending ticket opens.

    The ticket row is locked so that a reply racing a staff member's status change cannot be
    overwritten by (or overwrite) it.
    """
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    message = TicketMessage.objects.create(
        ticket=ticket,
        direction=MessageDirection.INBOUND,
        from_email=from_email[:254],
        body=body,
        message_id=message_id[:255],
        in_reply_to=in_reply_to[:255],
        created_at=now,
    )
    customer_message_added.send(sender=TicketMessage, message=message)
    note = REOPENED_BY_REPLY.get(TicketStatus(ticket.status)) if ticket.status else None
    if note:
        _status_move(ticket, TicketStatus.OPEN, note=note, now=now)
    return message
