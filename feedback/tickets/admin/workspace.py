"""The ticket workspace: the page staff work one ticket on, drawn by our own template at the
admin's change URL (TicketAdmin.change_view) with the admin's permissions: the conversation
with the composer on top, the customer's story on one side, the work panel on the other.
No model form: every change posts to an endpoint that calls a service (TICKET_ACTIONS)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import ModelAdmin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language_info, pgettext_lazy
from django.utils.translation import gettext as _

from feedback.tickets.admin.badges import (
    customer_label,
    priority_badge,
    score_badge,
    sla_badge,
    status_badge,
)
from feedback.tickets.admin.forms import (
    ContactForm,
    NoteForm,
    ReopenForm,
    ReplyForm,
    ResolveForm,
    WorkForm,
)
from feedback.tickets.admin.panels import workspace_panels
from feedback.tickets.models import Ticket, TicketEvent, TicketPriority, TicketStatus
from feedback.tickets.saved_replies import (
    placeholder_values,
    saved_replies_for,
    saved_reply_render,
)
from feedback.tickets.selectors import (
    customer_story,
    ticket_last_resolved,
    ticket_next_in_queue,
    ticket_page_context,
)


def language_name(code: str) -> str:
    """ "Polish (polski)" for "pl" (the first name in the staff member's language); the code
    itself when Django does not know it."""
    try:
        info = get_language_info(code)
    except KeyError:
        try:
            info = get_language_info(code.split("-")[0])
        except KeyError:
            return code
    name = str(info["name_translated"])
    if name == info["name_local"]:
        return name
    # Translators: a language named in the reader's language, then in its own: "Polish (polski)".
    return _("%(name)s (%(name_local)s)") % {"name": name, "name_local": info["name_local"]}


def _day(value: Any) -> str:
    # The locale's short date, in the user's time zone.
    return date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")


def consent_state(customer: Any) -> str:
    if customer.erased_at:
        return _("Erased")
    if not customer.email:
        return _("No email address")
    if customer.suppressed_at:
        reason = customer.get_suppression_reason_display() or _("suppressed")
        return _("Suppressed (%(reason)s) since %(day)s") % {
            "reason": reason,
            "day": _day(customer.suppressed_at),
        }
    if customer.unsubscribed_at:
        return _("Unsubscribed since %(day)s") % {"day": _day(customer.unsubscribed_at)}
    return _("Subscribed to surveys")


def cannot_email_reason(customer: Any) -> str:
    if not customer.email or customer.erased_at:
        return _("The customer has no email address: log a phone call instead.")
    if customer.suppressed_at:
        return _("The customer's address is suppressed (it bounced or complained).")
    return ""


# The history's actions as staff read them (events store machine names: feedback.tickets.services).
EVENT_ACTIONS = {
    "created": pgettext_lazy("ticket history", "Created"),
    "status": pgettext_lazy("ticket history", "Status"),
    "assignee": pgettext_lazy("ticket history", "Assignee"),
    "priority": pgettext_lazy("ticket history", "Priority"),
    "contacted": pgettext_lazy("ticket history", "First contact"),
    "escalated": pgettext_lazy("ticket history", "Escalated (SLA breached)"),
    "recovered": pgettext_lazy("ticket history", "Recovered"),
    "score": pgettext_lazy("ticket history", "Score changed"),
    "due_at": pgettext_lazy("ticket history", "First contact due"),
}
CONTACT_WAYS = {
    "phone call": pgettext_lazy("how the customer was first contacted", "phone call"),
    "email reply": pgettext_lazy("how the customer was first contacted", "email reply"),
}
_PRIORITY_NAMES = {p.name.lower(): p.label for p in TicketPriority}


def event_value(action: str, value: str) -> str:
    """An event's stored value (a status, priority name, boolean or ISO time) as staff read it;
    anything else (a username, a score) as stored."""
    if not value:
        return ""
    if action in ("status", "created") and value in TicketStatus.values:
        return str(TicketStatus(value).label)
    if action in ("priority", "escalated") and value in _PRIORITY_NAMES:
        return str(_PRIORITY_NAMES[value])
    if action == "recovered" and value in ("True", "False"):
        return _("yes") if value == "True" else _("no")
    if action == "contacted" and value in CONTACT_WAYS:
        return str(CONTACT_WAYS[value])
    if action == "due_at":
        moment = parse_datetime(value)
        if moment is not None:
            return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    return value


def history_rows(events: list[TicketEvent]) -> list[TicketEvent]:
    """The events with the labels the history table shows (set on the loaded rows)."""
    for row in events:
        event: Any = row
        event.action_label = str(EVENT_ACTIONS.get(event.action, event.action))
        event.from_label = event_value(event.action, event.from_value)
        event.to_label = event_value(event.action, event.to_value)
    return events


def _picker(request: HttpRequest, ticket: Ticket) -> list[dict[str, str]]:
    """The saved replies, the customer's language first, each rendered for this ticket here
    (the page's script only copies the text into the reply box)."""
    values = placeholder_values(ticket, request.user)
    return [
        {
            "id": str(reply.pk),
            "name": reply.name,
            "language": reply.language,
            "text": saved_reply_render(reply.body, values),
        }
        for reply in saved_replies_for(request.user, ticket.customer.language)
    ]


def response_answers(ticket: Ticket) -> list[tuple[str, str]]:
    """The follow-up answers of the survey response, as label/value pairs for the page."""
    response = ticket.response
    if response is None or not isinstance(response.answers, dict):
        return []
    shown = []
    for key, value in response.answers.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        shown.append((str(key).replace("_", " ").capitalize(), str(value)))
    return shown


def workspace_response(
    model_admin: ModelAdmin, request: HttpRequest, ticket: Ticket, actions: list[str]
) -> TemplateResponse:
    can_work = model_admin.has_change_permission(request, ticket)
    page = ticket_page_context(ticket)
    interaction = None
    if ticket.response is not None and ticket.response.invitation is not None:
        interaction = ticket.response.invitation.interaction
    # A reopened ticket keeps its root cause (the record of the earlier attempt): the page
    # names it "previous" with the day it was resolved, read from the events already loaded.
    last_resolved = ticket_last_resolved(page["events"]) if ticket.root_cause_id else None
    next_id = ticket_next_in_queue(ticket)
    customer = ticket.customer
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        **page,
        "events": history_rows(page["events"]),
        "title": f"#{ticket.pk} {ticket.subject}",
        "subtitle": None,
        "opts": model_admin.opts,
        "original": ticket,
        "ticket": ticket,
        "customer": customer,
        "interaction": interaction,
        "is_nav_sidebar_enabled": False,
        "has_view_permission": True,
        "can_work": can_work,
        "cannot_email": cannot_email_reason(customer),
        "language_name": language_name(customer.language),
        "consent": consent_state(customer),
        "story": customer_story(page["timeline"]),
        "answers": response_answers(ticket),
        "panels": workspace_panels(ticket, request),
        "last_resolved": last_resolved,
        "next_url": reverse("admin:feedback_ticket_change", args=[next_id]) if next_id else "",
        "queue_url": reverse("admin:feedback_ticket_changelist"),
        "sla_badge": sla_badge(ticket) if ticket.is_open else "",
        "priority_badge": priority_badge(ticket.priority),
        "status_badge": status_badge(ticket),
        "score_badge": score_badge(ticket),
        "customer_label": customer_label(ticket),
        "action_urls": {
            name: reverse(f"admin:feedback_ticket_{name}", args=[ticket.pk]) for name in actions
        },
    }
    if can_work:
        context.update(
            {
                "reply_form": ReplyForm(),
                "note_form": NoteForm(),
                "work_form": WorkForm(
                    initial={
                        "assignee": ticket.assignee_id,
                        "status": ticket.status,
                        "priority": ticket.priority,
                    }
                ),
                "contact_form": ContactForm(),
                "resolve_form": ResolveForm() if ticket.is_open else None,
                "reopen_form": ReopenForm() if not ticket.is_open else None,
                "saved_replies": _picker(request, ticket),
            }
        )
    return TemplateResponse(request, "admin/feedback/ticket/workspace.html", context)
