"""NUL characters stop at the door: PostgreSQL cannot compare or store them in text, so a NUL
in a query string (an admin search, a filter) or in a cookie (the session's key) would be a
database error, a 500 on every page. A query string with one is a 400; a cookie with one was
never set by us and is dropped (the visitor gets a new session instead of an error)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


class NulGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name in [name for name, value in request.COOKIES.items() if "\x00" in name + value]:
            del request.COOKIES[name]
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                # Answered by handler400: JSON under /api/, the 400 page elsewhere.
                raise BadRequest("NUL characters are not allowed in the query string.")
        return self.get_response(request)
