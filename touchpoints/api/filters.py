from __future__ import annotations

import django_filters as filters

from cxcrm.api.views import IdFilter, UtcDateTimeFilter
from touchpoints.models import Channel, Interaction, JourneyStage, Ownership, Touchpoint


class TouchpointFilter(filters.FilterSet):
    slug = filters.CharFilter()
    stage = filters.ChoiceFilter(choices=JourneyStage.choices)
    channel = filters.ChoiceFilter(choices=Channel.choices)
    ownership = filters.ChoiceFilter(choices=Ownership.choices)
    active = filters.BooleanFilter()

    class Meta:
        model = Touchpoint
        fields: list[str] = []


class InteractionFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    touchpoint = filters.CharFilter(field_name="touchpoint__slug")
    stage = filters.ChoiceFilter(field_name="touchpoint__stage", choices=JourneyStage.choices)
    source = filters.CharFilter()
    external_id = filters.CharFilter()
    order_ref = filters.CharFilter()
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields: list[str] = []
