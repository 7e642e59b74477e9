"""Pagination: numbered pages for small catalogues, cursors for the big tables (no COUNT over a
million rows, and stable pages while rows are being added)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class SmallPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class BigCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"
