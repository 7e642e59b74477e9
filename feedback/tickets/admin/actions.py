"""The ticket page's actions: each POST endpoint's form and the service call it makes, which
returns the success message the user reads (in their language) or raises TicketError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext

from feedback.tickets.admin.forms import (
    ContactForm,
    NoteForm,
    ReopenForm,
    ReplyForm,
    ResolveForm,
    WorkForm,
)
from feedback.tickets.models import Ticket
from feedback.tickets.selectors import tickets_for_staff
from feedback.tickets.services import (
    ticket_log_contact,
    ticket_note,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
)
from feedback.tickets.work import UNCHANGED, ticket_work_summary, ticket_work_update


@dataclass(frozen=True)
class TicketAction:
    """One POST endpoint of the ticket page: its form, and the service call it makes, which
    returns the success message (or raises TicketError)."""

    form: type[forms.Form]
    run: Callable[[Ticket, dict[str, Any], Any], str]


def _reply(ticket: Ticket, data: dict[str, Any], actor: Any) -> str:
    ticket_reply(ticket_id=ticket.pk, body=data["body"], actor=actor)
    return gettext(
        "Reply queued to %(email)s. It counts as contact once the mail server accepts it; "
        "its delivery shows in the conversation."
    ) % {"email": ticket.customer.email}


def _note(ticket: Ticket, data: dict[str, Any], actor: Any) -> str:
    ticket_note(ticket_id=ticket.pk, body=data["body"], actor=actor)
    return gettext("Note added.")


def _work(ticket: Ticket, data: dict[str, Any], actor: Any) -> str:
    changed = ticket_work_update(
        ticket_id=ticket.pk,
        actor=actor,
        assignee=data["assignee"] if data["assignee_given"] else UNCHANGED,
        status=data["status"],
        priority=data["priority"],
    )
    if not changed:
        return gettext("Nothing changed.")
    ticket = tickets_for_staff().get(pk=ticket.pk)
    return gettext("Saved: %(summary)s.") % {"summary": ticket_work_summary(ticket)}


def _contact(ticket: Ticket, data: dict[str, Any], actor: Any) -> str:
    ticket_log_contact(ticket_id=ticket.pk, actor=actor, note=data["note"])
    return gettext("Phone call logged.")


def _resolve(ticket: Ticket, data: dict[str, Any], actor: Any) -> str:
    ticket_resolve(
        ticket_id=ticket.pk,
        root_cause=data["root_cause"],
        resolution=data["resolution"],
        actor=actor,
        send_followup=data["send_followup"],
    )
    cause = {"cause": data["root_cause"]}
    if not data["send_followup"]:
        return gettext("Resolved (root cause: %(cause)s).") % cause
    if ticket.followup_invitations.exists():
        return gettext("Resolved (root cause: %(cause)s). A follow-up survey is scheduled.") % cause
    return (
        gettext(
            "Resolved (root cause: %(cause)s). No follow-up survey: the ticket has no survey "
            "answer or the customer cannot be emailed."
        )
        % cause
    )


def _reopen(ticket: Ticket, data: dict[str, Any], actor: Any) -> str:
    ticket_reopen(ticket_id=ticket.pk, actor=actor, note=data["note"])
    return gettext("Reopened.")


TICKET_ACTIONS: dict[str, TicketAction] = {
    "reply": TicketAction(ReplyForm, _reply),
    "note": TicketAction(NoteForm, _note),
    "work": TicketAction(WorkForm, _work),
    "contact": TicketAction(ContactForm, _contact),
    "resolve": TicketAction(ResolveForm, _resolve),
    "reopen": TicketAction(ReopenForm, _reopen),
}


def form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label or name.replace("_", " ") if name in form.fields else ""
        text = " ".join(errors)
        if label:
            # Translators: a form field's label, then its errors ("Root cause: This field is …").
            text = gettext("%(field)s: %(errors)s") % {"field": capfirst(label), "errors": text}
        parts.append(text)
    return " ".join(parts)
