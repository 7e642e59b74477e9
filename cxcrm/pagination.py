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

from collections.abc import Callable, Hashable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Counted exactly up to here; above it the changelist says "10,000+".
COUNT_CAP = 10_000


def count_up_to(queryset: Callable[[], QuerySet[Any]], limit: int, key: Hashable | None) -> int:
    """How many rows ``queryset()`` has, counting no further than ``limit``:
    ``SELECT COUNT(*) FROM (SELECT … LIMIT limit)``, without the queryset's order (it does not
    change a count, and dropping it lets the planner read any index)."""
    return queryset().order_by()[:limit].count()


class CappedCountPaginator(Paginator):
    cap: int = COUNT_CAP

    @cached_property
    def _capped_count(self) -> tuple[int, bool]:
        found = self.count_up_to(self.cap + 1)
        return min(found, self.cap), found > self.cap

    def count_up_to(self, limit: int) -> int:
        """How many rows there are, counting no further than ``limit``."""
        objects = self.object_list
        if isinstance(objects, QuerySet):
            return count_up_to(lambda: objects, limit, None)
        return len(objects)

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
        return self._get_page(self.rows(bottom, top), number, self)

    def rows(self, bottom: int, top: int) -> Any:
        """The rows of one page."""
        return self.object_list[bottom:top]
