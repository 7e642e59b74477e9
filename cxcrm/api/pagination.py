"""Pagination: numbered pages for small catalogues, cursors for the big tables (no COUNT over a
million rows, and stable pages while rows are being added)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request


class StrictPageSize:
    """``page_size`` is a whole number from 1 to ``max_page_size`` or a 400 (DRF would fall
    back to the default silently), and the schema says so."""

    page_size_query_param = "page_size"
    max_page_size: int

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return super().get_page_size(request)  # type: ignore[misc]
        fits = raw.isascii() and raw.isdigit() and len(raw) <= 9
        if not (fits and 1 <= int(raw) <= self.max_page_size):
            raise ParseError(
                {self.page_size_query_param: f"A whole number from 1 to {self.max_page_size}."}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters


class SmallPagination(StrictPageSize, PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class BigCursorPagination(StrictPageSize, CursorPagination):
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
