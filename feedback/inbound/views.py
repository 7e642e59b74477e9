"""``/inbound/email/``: one ESP's inbound webhook (anymail), chosen by CXCRM_INBOUND_ESP.

anymail checks the HTTP basic auth (ANYMAIL["WEBHOOK_SECRET"]), parses the ESP's payload and
sends ``anymail.signals.inbound``; feedback.receivers hands the message to the service. Around
it: a size cap (413) read before anything is parsed, and cxcrm.esp_urls.refuse_malformed
(a garbage payload is a 400, never a 500).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from io import BytesIO
from typing import Any

from anymail.exceptions import AnymailConfigurationError
from anymail.signals import inbound
from anymail.webhooks.base import AnymailBaseWebhookView
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from cxcrm.esp_urls import View, refuse_malformed
from feedback.inbound.services import max_bytes

log = logging.getLogger(__name__)

DEFAULT_ESP = "postmark"
# The ESP's JSON carries the message more than once (parsed text and HTML, base64 attachments,
# and the raw MIME when enabled), so the request may be this much larger than the message.
PAYLOAD_FACTOR = 3


def inbound_view_class(esp: str) -> type[AnymailBaseWebhookView]:
    """anymail's inbound webhook view for an ESP name as in anymail.webhooks (postmark,
    mailgun, sendgrid, amazon_ses...)."""
    name = esp.strip().lower().replace("-", "_")
    try:
        module = (
            importlib.import_module(f"anymail.webhooks.{name}") if name.isidentifier() else None
        )
    except ImportError:
        module = None
    candidates = [
        cls
        for _attr, cls in inspect.getmembers(module or object, inspect.isclass)
        if issubclass(cls, AnymailBaseWebhookView)
        and getattr(cls, "signal", None) is inbound
        and cls.__module__ == getattr(module, "__name__", "")
    ]
    if len(candidates) != 1:
        raise ImproperlyConfigured(
            f"CXCRM_INBOUND_ESP={esp!r}: anymail has no inbound webhook for this ESP "
            "(expected e.g. postmark, mailgun, sendgrid, amazon_ses, mailjet, sparkpost)."
        )
    return candidates[0]


def limit_body(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limit = max_bytes() * PAYLOAD_FACTOR
        too_large = HttpResponse(
            f"Refused: the request is larger than {limit} bytes (CXCRM_INBOUND_MAX_BYTES × "
            f"{PAYLOAD_FACTOR}).",
            status=413,
            content_type="text/plain; charset=utf-8",
        )
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return too_large
        body = request.read(limit + 1)
        if len(body) > limit:
            return too_large
        # Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) would refuse an ordinary
        # message with an attachment; ours applies instead. This is what HttpRequest.body does.
        request._body = body  # type: ignore[attr-defined]
        request._stream = BytesIO(body)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _bad_request(reason: str) -> HttpResponse:
    return HttpResponseBadRequest(f"Refused: {reason}", content_type="text/plain; charset=utf-8")


def refuse_unusable(view: View) -> View:
    """The failure of a well-formed but unusable request, which refuse_malformed (it also
    refuses JSON nested too deeply) does not know: anymail's refusal of another webhook's
    payload (Postmark's bounce webhook aimed at the inbound URL)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError as exc:
            log.warning("inbound webhook misdirected: %s", exc)
            return _bad_request(f"not an inbound email payload ({exc})")

    return wrapper


def inbound_email_view() -> View:
    esp = str(getattr(settings, "CXCRM_INBOUND_ESP", DEFAULT_ESP) or DEFAULT_ESP)
    return refuse_unusable(refuse_malformed(limit_body(inbound_view_class(esp).as_view())))
