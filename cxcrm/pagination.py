"""A paginator for changelists over big tables: the count stops at a cap.

Django's admin asks ``paginator.count`` for every changelist page, and on PostgreSQL an exact
``COUNT(*)`` reads every matching row (no count is stored), so the page would get slower as the
table grows. ``CappedCountPaginator`` counts at most ``cap + 1`` rows
(``SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)``, the ORM's count of a sliced queryset) and
reports at most ``cap``; ``capped`` says there were more, and ``templates/admin/pagination.html``
then shows "10,000+". Pages past the cap are not offered (deep OFFSETs are slow anyway): a
filter or a search narrows the list instead. A ModelAdmin uses it through its documented
``paginator`` attribute or ``get_paginator`` hook.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Counted exactly up to here; above it the changelist says "10,000+".
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    cap: int = COUNT_CAP

    def __init__(
        self, object_list: Any, per_page: int, *args: Any, cap: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        if cap is not None:
            self.cap = cap

    @cached_property
    def counted(self) -> int:
        """How many rows there are, counting no further than ``cap + 1``. The order is
        dropped: it does not change a count, and without it the planner may read any index."""
        objects = self.object_list
        if isinstance(objects, QuerySet):
            return objects.order_by()[: self.cap + 1].count()
        return len(objects)

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        """True when there are more rows than ``count`` says."""
        return self.counted > self.cap

    @property
    def count_display(self) -> str:
        """The count for people: "1,234", or "10,000+" past the cap."""
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"

    def page(self, number: Any) -> Page:
        """Django's ``page``, except that a capped count does not cut the page short: with a
        cap that is not a multiple of the page size the last offered page is still full."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.capped and top + self.orphans >= self.count:
            top = self.count
        return Page(self.object_list[bottom:top], number, self)
