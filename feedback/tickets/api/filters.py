"""The API's filters of tickets and root causes (one FilterSet per list)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from django.utils import timezone

from cxcrm.api.views import IdFilter, UtcDateTimeFilter
from feedback.tickets.models import (
    OPEN_TICKET_STATUSES,
    RootCause,
    Ticket,
    TicketPriority,
    TicketSource,
    TicketStatus,
)


class TicketFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=TicketStatus.choices, help_text="One or more statuses (repeat the parameter)."
    )
    open = filters.BooleanFilter(
        method="filter_open",
        help_text="true: new, open or pending (still to be worked); false: resolved or closed.",
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue", help_text="true: open and past its SLA deadline (`due_at`)."
    )
    priority = filters.TypedMultipleChoiceFilter(
        choices=TicketPriority.choices,
        coerce=int,
        help_text="One or more priorities (repeat the parameter): 1 low … 4 urgent.",
    )
    source = filters.ChoiceFilter(
        choices=TicketSource.choices, help_text="What opened it: an answer, an email, the API…"
    )
    assignee = filters.CharFilter(
        field_name="assignee__username", help_text="The assigned staff member's username."
    )
    unassigned = filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", help_text="true: nobody is assigned."
    )
    customer = IdFilter(field_name="customer_id", help_text="The customer's id (ours).")
    customer_external_id = filters.CharFilter(
        field_name="customer__external_id", help_text="The customer's external id (yours)."
    )
    touchpoint = filters.CharFilter(field_name="touchpoint__slug", help_text="Touchpoint slug.")
    response = IdFilter(field_name="response_id", help_text="The answer that opened it (its id).")
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Opened at or after (ISO 8601)."
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Opened before (ISO 8601)."
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after (ISO 8601): for an incremental sync.",
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    # django-filter calls a method only with a value, never None; the hint types the schema.
    def filter_open(self, queryset: QuerySet[Ticket], name: str, value: bool) -> QuerySet[Ticket]:
        if value:
            return queryset.filter(status__in=OPEN_TICKET_STATUSES)
        return queryset.exclude(status__in=OPEN_TICKET_STATUSES)

    def filter_overdue(
        self, queryset: QuerySet[Ticket], name: str, value: bool
    ) -> QuerySet[Ticket]:
        overdue = queryset.overdue(timezone.now())  # type: ignore[attr-defined]
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class RootCauseFilter(filters.FilterSet):
    active = filters.BooleanFilter(help_text="true: may be chosen when resolving a ticket.")

    class Meta:
        model = RootCause
        fields: list[str] = []
