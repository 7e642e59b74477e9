"""Pagination: numbered pages for small catalogues, cursors for the big tables (no COUNT over a
million rows, and stable pages while rows are being added)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request


class SmallPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class BigCursorPagination(CursorPagination):
    """A cursor that cannot be decoded, or whose position does not fit the ordering's field
    (edited by hand, or taken from a list ordered otherwise), is a 400: DRF answers the first
    with 404 and the second with a 500 when the position meets the field in ``filter()``."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ParseError(self.invalid_cursor_message) from None
        if cursor is not None and cursor.position is not None and "\x00" in cursor.position:
            raise ParseError(self.invalid_cursor_message)
        return cursor

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, ValidationError):
            # Raised while the position is converted for the ordering field's lookup (an id
            # that is not a number, a date that is not one), before any query runs.
            raise ParseError(self.invalid_cursor_message) from None
