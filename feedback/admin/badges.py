"""The small coloured labels of the triage queue and the ticket page: score, priority, status,
SLA countdown, and the ticket cell (subject over the customer).

The queue draws five of them on each of its 50 rows, so they are built with one f-string
each: ``format_html`` costs ~15 µs a call (a lazy-string check and a ``conditional_escape``
for every argument, constant CSS classes included), and with ~450 calls a page that was a
tenth of the page. The output is the same; ``_esc`` is ``conditional_escape`` without its
lazy-string wrapper (text already marked safe passes through, anything else is escaped).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeData, SafeString, mark_safe

from feedback.models import Ticket, TicketPriority, TicketSource, TicketStatus
from feedback.scoring import Category, sentiment_of
from feedback.services.loop import priority_name

# get_FOO_display() builds a hashable copy of the field's choices on every call; the queue
# asks three of them per row.
_STATUS = dict(TicketStatus.choices)
_SOURCE = dict(TicketSource.choices)
_CATEGORY = dict(Category.choices)
_PRIORITY = {p.value: (priority_name(p.value), p.label) for p in TicketPriority}


def _esc(text: object) -> str:
    return str(text) if isinstance(text, SafeData) else escape(str(text))


def _span(css: str, text: object, title: object = "") -> SafeString:
    if title:
        return mark_safe(f'<span class="{_esc(css)}" title="{_esc(title)}">{_esc(text)}</span>')
    return mark_safe(f'<span class="{_esc(css)}">{_esc(text)}</span>')


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


def sla_badge(ticket: Ticket, now: datetime | None = None) -> SafeString:
    """ "due in 3 h" / "overdue by 2 h" while nobody has contacted the customer; the SLA is
    about the first contact, so once contacted (or closed) the countdown stops."""
    now = now or timezone.now()
    if not ticket.is_open:
        return _span("cx-sla cx-sla--done", _STATUS.get(ticket.status, ticket.status))
    if ticket.first_contact_at is not None:
        return _span("cx-sla cx-sla--met", "contacted", f"{ticket.first_contact_at:%Y-%m-%d %H:%M}")
    if ticket.due_at is None:
        return _span("cx-sla cx-sla--none", "no SLA")
    title = f"due {timezone.localtime(ticket.due_at):%Y-%m-%d %H:%M}"
    if ticket.due_at < now:
        return _span(
            "cx-sla cx-sla--overdue", f"overdue by {_duration(now - ticket.due_at)}", title
        )
    left = ticket.due_at - now
    css = "cx-sla cx-sla--soon" if left < timedelta(hours=4) else "cx-sla cx-sla--ok"
    return _span(css, f"due in {_duration(left)}", title)


def priority_badge(priority: int) -> SafeString:
    name, label = _PRIORITY[priority]
    return _span(f"cx-badge cx-prio--{name}", label)


def status_badge(ticket: Ticket) -> SafeString:
    return _span(f"cx-badge cx-status--{ticket.status}", _STATUS.get(ticket.status, ticket.status))


def score_badge(ticket: Ticket) -> SafeString | str:
    response = ticket.response
    if response is None:
        # Tickets from email, the API or staff have no score; say where they came from.
        if ticket.source == TicketSource.RESPONSE:
            return "—"
        return _span("cx-badge cx-score--none", _SOURCE.get(ticket.source, ticket.source))
    sentiment = sentiment_of(response.kind, response.score)
    return _span(
        f"cx-badge cx-score cx-score--{sentiment}",
        f"{response.kind.upper()} {response.score}",
        _CATEGORY.get(response.category, response.category),
    )


def customer_label(ticket: Ticket) -> str:
    customer = ticket.customer
    return customer.name or customer.email or f"customer #{customer.pk}"


def ticket_label(ticket: Ticket) -> SafeString:
    """The queue's first column: "#id subject" over the customer's name and email."""
    email = ticket.customer.email if ticket.customer.name else ""
    who = (
        f"{_esc(customer_label(ticket))} · {_esc(email)}" if email else _esc(customer_label(ticket))
    )
    return mark_safe(
        f'<span class="cx-subject">#{ticket.pk} {_esc(ticket.subject)}</span>'
        f'<span class="cx-who">{who}</span>'
    )
