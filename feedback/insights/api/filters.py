"""Filters of the taxonomy list."""

from __future__ import annotations

import django_filters as filters

from feedback.insights.models import Topic


class TopicFilter(filters.FilterSet):
    active = filters.BooleanFilter(help_text="true: given to new comments.")

    class Meta:
        model = Topic
        fields: list[str] = []
