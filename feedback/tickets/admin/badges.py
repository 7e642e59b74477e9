"""The small coloured labels of the triage queue and the ticket page: score, priority, status,
SLA countdown, and the ticket cell (subject over the customer). Built with ``format_html``
(every value escaped) and translated with gettext; the colours are in static/cxcrm/admin.css.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from feedback.surveys.scoring import sentiment_of
from feedback.tickets.models import OPEN_TICKET_STATUSES, Ticket, TicketPriority, TicketSource
from feedback.tickets.services import priority_name


def _span(css: str, text: object, title: object = "") -> SafeString:
    if title:
        return format_html('<span class="{}" title="{}">{}</span>', css, title, text)
    return format_html('<span class="{}">{}</span>', css, text)


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("%(n)d h") % {"n": hours}
    return _("%(n)d d") % {"n": hours // 24}


def sla_badge(ticket: Ticket, now: datetime | None = None) -> SafeString:
    """ "due in 3 h" / "overdue by 2 h" while nobody has contacted the customer; the SLA is
    about the first contact, so once contacted (or closed) the countdown stops."""
    now = now or timezone.now()
    if ticket.status not in OPEN_TICKET_STATUSES:
        return _span("cx-sla cx-sla--done", ticket.get_status_display())
    if ticket.first_contact_at is not None:
        contacted = f"{timezone.localtime(ticket.first_contact_at):%Y-%m-%d %H:%M}"
        return _span("cx-sla cx-sla--met", _("contacted"), contacted)
    due_at = ticket.due_at
    if due_at is None:
        return _span("cx-sla cx-sla--none", _("no SLA"))
    title = _("due %(when)s") % {"when": f"{timezone.localtime(due_at):%Y-%m-%d %H:%M}"}
    if due_at < now:
        late = _("overdue by %(duration)s") % {"duration": _duration(now - due_at)}
        return _span("cx-sla cx-sla--overdue", late, title)
    left = due_at - now
    css = "cx-sla cx-sla--soon" if left < timedelta(hours=4) else "cx-sla cx-sla--ok"
    return _span(css, _("due in %(duration)s") % {"duration": _duration(left)}, title)


def priority_badge(priority: int) -> SafeString:
    return _span(f"cx-badge cx-prio--{priority_name(priority)}", TicketPriority(priority).label)


def status_badge(ticket: Ticket) -> SafeString:
    return _span(f"cx-badge cx-status--{ticket.status}", ticket.get_status_display())


def score_badge(ticket: Ticket) -> SafeString | str:
    response = ticket.response
    if response is None:
        # Tickets from email, the API or staff have no score; say where they came from.
        if ticket.source == TicketSource.RESPONSE:
            return "—"
        return _span("cx-badge cx-score--none", ticket.get_source_display())
    sentiment = sentiment_of(response.kind, response.score)
    return _span(
        f"cx-badge cx-score cx-score--{sentiment}",
        f"{response.kind.upper()} {response.score}",
        response.get_category_display(),
    )


def customer_label(ticket: Ticket) -> str:
    customer = ticket.customer
    return customer.name or customer.email or _("customer #%(pk)s") % {"pk": customer.pk}


def ticket_label(ticket: Ticket) -> SafeString:
    """The queue's first column: "#id subject" over the customer's name and email."""
    customer = ticket.customer
    label = customer_label(ticket)
    who = f"{label} · {customer.email}" if customer.name and customer.email else label
    return format_html(
        '<span class="cx-subject">#{} {}</span><span class="cx-who">{}</span>',
        ticket.pk,
        ticket.subject,
        who,
    )
