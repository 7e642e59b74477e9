"""Public pages that a customer reaches from an email: no login, the token is the key."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.services import customer_resubscribe, customer_unsubscribe
from feedback.emails import SUPPORTED_LANGUAGES, pick_language
from feedback.selectors import invitation_by_token

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    """Run Django's CSRF check by hand for a view that is exempt only for RFC 8058 posts."""
    middleware = CsrfViewMiddleware(lambda req: HttpResponse())
    return middleware.process_view(request, lambda req: HttpResponse(), (), {})


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "public/invalid_link.html", status=404)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation and changes nothing (mail scanners follow links); POST — the
    page's button, or the mailbox's RFC 8058 one-click POST — opts the customer out."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return _invalid_link(request)
    customer = invitation.customer
    language = pick_language(customer.language, SUPPORTED_LANGUAGES)
    with translation.override(language):
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            if not one_click:
                failure = _csrf_failure(request)
                if failure is not None:
                    return failure
            customer_unsubscribe(customer=customer)
            if one_click:
                return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
            return render(
                request, "public/unsubscribed.html", {"token": token, "language": language}
            )
        context = {
            "token": token,
            "language": language,
            "already": customer.unsubscribed_at is not None,
        }
        return render(request, "public/unsubscribe.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _invalid_link(request)
    customer = invitation.customer
    language = pick_language(customer.language, SUPPORTED_LANGUAGES)
    with translation.override(language):
        if request.method == "POST":
            customer_resubscribe(customer=customer)
            return render(
                request, "public/resubscribed.html", {"token": token, "language": language}
            )
        return render(request, "public/resubscribe.html", {"token": token, "language": language})
