"""Reads of tickets, their messages and root causes for the API: joins decided here, so a
page's queries never depend on its length."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from feedback.tickets.models import RootCause, Ticket, TicketMessage


def tickets_visible_to(principal: Any) -> QuerySet[Ticket]:
    if principal is None:
        return Ticket.objects.none()
    return Ticket.objects.select_related("assignee").only(
        *[f.name for f in Ticket._meta.concrete_fields], "assignee__id", "assignee__username"
    )


def ticket_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    return (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .order_by("created_at", "id")
    )


def root_causes_visible_to(principal: Any) -> QuerySet[RootCause]:
    if principal is None:
        return RootCause.objects.none()
    return RootCause.objects.all()
