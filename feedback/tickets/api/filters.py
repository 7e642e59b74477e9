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
    status = filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    open = filters.BooleanFilter(method="filter_open")
    overdue = filters.BooleanFilter(method="filter_overdue")
    priority = filters.TypedMultipleChoiceFilter(choices=TicketPriority.choices, coerce=int)
    source = filters.ChoiceFilter(choices=TicketSource.choices)
    assignee = filters.CharFilter(field_name="assignee__username")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    customer = IdFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    touchpoint = filters.CharFilter(field_name="touchpoint__slug")
    response = IdFilter(field_name="response_id")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

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
    active = filters.BooleanFilter()

    class Meta:
        model = RootCause
        fields: list[str] = []
