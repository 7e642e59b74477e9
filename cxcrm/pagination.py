"""A paginator for changelists over big tables: the count stops at a cap.

Django's admin asks ``paginator.count`` for every changelist page, and on PostgreSQL an exact
``COUNT(*)`` reads every matching row (no count is stored). On a million tickets that is the
most expensive query of the page. ``CappedCountPaginator`` counts at most ``cap + 1`` rows
(``SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)``), which an index serves after reading a few
thousand entries, and reports at most ``cap``; ``capped`` says there were more, and
``templates/admin/pagination.html`` then shows "10,000+". Pages past the cap are not offered
(deep OFFSETs are slow anyway): a filter or a search narrows the list instead.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from cxcrm import prepared

# Counted exactly up to here; above it the changelist says "10,000+".
COUNT_CAP = 10_000


# The count statements of pages that name their queryset by a key (count_key below).
COUNT_STATEMENTS = prepared.StatementCache()


class CappedCountPaginator(Paginator):
    cap: int = COUNT_CAP
    # A page drawn often (the triage queue) names its queryset by a hashable key covering
    # everything the queryset depends on: its count is then compiled once per key and, on
    # PostgreSQL, run as a prepared statement (cxcrm.prepared).
    count_key: Hashable | None = None

    @cached_property
    def _capped_count(self) -> tuple[int, bool]:
        objects = self.object_list
        if not isinstance(objects, QuerySet):
            found = len(objects)
        elif self.count_key is not None and prepared.enabled():
            found = self._prepared_count(objects)
        else:
            # The order does not change a count: dropping it lets the planner read any index.
            found = objects.order_by()[: self.cap + 1].count()
        return min(found, self.cap), found > self.cap

    def _prepared_count(self, objects: QuerySet[Any]) -> int:
        """The same count as the ORM's (``SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)``)."""
        compiled = COUNT_STATEMENTS.get(
            (self.count_key, self.cap), objects.order_by().values("pk")[: self.cap + 1]
        )
        if compiled is None:  # matches nothing
            return 0
        inner, params = compiled
        row = prepared.fetchone_prepared(f"SELECT COUNT(*) FROM ({inner}) AS capped", params)
        assert row is not None  # an aggregate without GROUP BY has one row
        return int(row[0])

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return self._capped_count[0]

    @property
    def capped(self) -> bool:
        """True when there are more rows than ``count`` says."""
        return self._capped_count[1]

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
        return self._get_page(self.object_list[bottom:top], number, self)
