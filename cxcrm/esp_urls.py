"""anymail's ESP webhooks, each wrapped so that a malformed body is a 400, never a 500."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from anymail import urls as anymail_urls
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def refuse_malformed(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except RecursionError:
            # JSON nested deeper than the parser's recursion allows.
            return HttpResponseBadRequest(
                "Malformed webhook payload: the JSON body nests too deeply.",
                content_type="text/plain; charset=utf-8",
            )
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            # anymail parses the ESP's payload without guarding against garbage.
            log.warning("malformed ESP webhook at %s: %s", request.path, exc)
            return HttpResponseBadRequest(
                f"Malformed webhook payload: {type(exc).__name__}.",
                content_type="text/plain; charset=utf-8",
            )

    return wrapper


urlpatterns = [
    URLPattern(p.pattern, refuse_malformed(p.callback), p.default_args, p.name)
    for p in anymail_urls.urlpatterns
    if isinstance(p, URLPattern)
]
app_name = getattr(anymail_urls, "app_name", "anymail")
