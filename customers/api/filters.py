from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from customers.models import Customer
from cxcrm.api.views import UtcDateTimeFilter


class CustomerFilter(filters.FilterSet):
    external_id = filters.CharFilter()
    email = filters.CharFilter(lookup_expr="iexact")
    segment = filters.CharFilter()
    language = filters.CharFilter()
    country = filters.CharFilter()
    reachable = filters.BooleanFilter(method="filter_reachable")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields: list[str] = []

    # django-filter calls a method only with a value, never None; the hint types the schema.
    def filter_reachable(
        self, queryset: QuerySet[Customer], name: str, value: bool
    ) -> QuerySet[Customer]:
        reachable = queryset.reachable()
        return reachable if value else queryset.exclude(pk__in=reachable.values("pk"))
