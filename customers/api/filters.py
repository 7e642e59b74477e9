from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from customers.models import Customer
from cxcrm.api.views import UtcDateTimeFilter


class CustomerFilter(filters.FilterSet):
    external_id = filters.CharFilter(help_text="Your id of the customer (exact).")
    email = filters.CharFilter(lookup_expr="iexact", help_text="Email address (any case).")
    segment = filters.CharFilter(help_text="Segment (exact), e.g. `vip`.")
    language = filters.CharFilter(help_text="Language tag (exact), e.g. `pl`.")
    country = filters.CharFilter(help_text="ISO 3166 country code, e.g. `PL`.")
    reachable = filters.BooleanFilter(
        method="filter_reachable",
        help_text="true: can be emailed (an address, not unsubscribed, suppressed or erased); "
        "false: cannot.",
    )
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after (ISO 8601): for an incremental sync.",
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    # django-filter calls a method only with a value, never None; the hint types the schema.
    def filter_reachable(
        self, queryset: QuerySet[Customer], name: str, value: bool
    ) -> QuerySet[Customer]:
        reachable = queryset.reachable()
        return reachable if value else queryset.exclude(pk__in=reachable.values("pk"))
