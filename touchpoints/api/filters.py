from __future__ import annotations

import django_filters as filters

from cxcrm.api.views import IdFilter, UtcDateTimeFilter
from touchpoints.models import Channel, Interaction, JourneyStage, Ownership, Touchpoint


class TouchpointFilter(filters.FilterSet):
    slug = filters.CharFilter(help_text="The touchpoint's slug (exact), e.g. `checkout`.")
    stage = filters.ChoiceFilter(choices=JourneyStage.choices, help_text="Journey stage.")
    channel = filters.ChoiceFilter(choices=Channel.choices, help_text="Channel.")
    ownership = filters.ChoiceFilter(choices=Ownership.choices, help_text="Who controls it.")
    active = filters.BooleanFilter(help_text="true: in use; false: retired.")

    class Meta:
        model = Touchpoint
        fields: list[str] = []


class InteractionFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", help_text="The customer's id (ours).")
    customer_external_id = filters.CharFilter(
        field_name="customer__external_id", help_text="The customer's external id (yours)."
    )
    touchpoint = filters.CharFilter(field_name="touchpoint__slug", help_text="Touchpoint slug.")
    stage = filters.ChoiceFilter(
        field_name="touchpoint__stage",
        choices=JourneyStage.choices,
        help_text="The touchpoint's journey stage.",
    )
    source = filters.CharFilter(help_text="The system that sent it (exact), e.g. `shop`.")
    external_id = filters.CharFilter(help_text="Its id in that system (exact).")
    order_ref = filters.CharFilter(help_text="Order reference (exact).")
    occurred_after = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Happened at or after (ISO 8601)."
    )
    occurred_before = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Happened before (ISO 8601)."
    )

    class Meta:
        model = Interaction
        fields: list[str] = []
