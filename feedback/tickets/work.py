"""The ticket page's one work panel: assignee, status and priority saved together.

Each field that changed goes through its own service (ticket_assign, ticket_set_status,
ticket_set_priority), so each change writes its event and sends its emails as before; the
three run in one transaction, so a refused change leaves none of them applied."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feedback.tickets.models import OPEN_TICKET_STATUSES, Ticket, TicketStatus
from feedback.tickets.services import (
    TicketError,
    ticket_assign,
    ticket_locked,
    ticket_set_priority,
    ticket_set_status,
)

# The statuses the work panel offers: resolving has its own step (root cause), closing
# follows resolving, reopening has its own button.
WORK_STATUSES = [(s.value, s.label) for s in OPEN_TICKET_STATUSES]
UNCHANGED: Any = object()


@transaction.atomic
def ticket_work_update(
    *,
    ticket_id: int,
    actor: Any,
    assignee: AbstractBaseUser | Any | None = UNCHANGED,
    status: str | None = None,
    priority: int | None = None,
) -> list[str]:
    """Apply what changed; returns what was changed ("assignee", "status", "priority"),
    empty when nothing was. ``status`` must be one of the open statuses and the ticket open
    (a resolved ticket is reopened, not moved)."""
    ticket = ticket_locked(ticket_id)
    changed: list[str] = []
    if status is not None and status != ticket.status:
        if status not in dict(WORK_STATUSES):
            raise TicketError(
                _("Resolve or close a ticket with its own step, not the status list.")
            )
        if not ticket.is_open:
            raise TicketError(_("The ticket is resolved: reopen it first."))
    if assignee is not UNCHANGED and ticket.assignee_id != (assignee.pk if assignee else None):
        ticket_assign(ticket_id=ticket.pk, assignee=assignee, actor=actor)
        changed.append("assignee")
    if status is not None and status != ticket.status:
        ticket_set_status(ticket_id=ticket.pk, status=TicketStatus(status), actor=actor)
        changed.append("status")
    if priority is not None and priority != ticket.priority:
        ticket_set_priority(ticket_id=ticket.pk, priority=priority, actor=actor)
        changed.append("priority")
    return changed


def ticket_work_summary(ticket: Ticket) -> str:
    """ "Open, High priority, assigned to ann": what the work panel saved, in the reader's
    language."""
    values = {"status": ticket.get_status_display(), "priority": ticket.get_priority_display()}
    if ticket.assignee:
        return gettext("%(status)s, %(priority)s priority, assigned to %(name)s") % {
            **values,
            "name": ticket.assignee.get_username(),
        }
    return gettext("%(status)s, %(priority)s priority, unassigned") % values
