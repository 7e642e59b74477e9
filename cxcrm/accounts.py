"""Staff sign-in (django-allauth): closed sign-up, MFA where required, invitations by email."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

ADMIN_GROUP = "Admin"
CACHE_SECONDS = 300


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Staff accounts are invited, not self-made, unless ACCOUNT_ALLOW_REGISTRATION says so."""
        return bool(settings.ACCOUNT_ALLOW_REGISTRATION)


def mfa_required(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return False
    if settings.CXCRM_MFA_REQUIRED_FOR_ALL_STAFF:
        return True
    if user.is_superuser and settings.CXCRM_MFA_REQUIRED_FOR_SUPERUSERS:
        return True
    return user.groups.filter(name=ADMIN_GROUP).exists()


def has_totp(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


# Paths a user who must set up MFA can still reach: the set-up itself, sign-out, static files.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/s/", "/u/", "/inbound/", "/anymail/")


class RequireMFAMiddleware:
    """Members of the Admin group (and others, by setting) must enrol TOTP before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and getattr(user, "is_staff", False)
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and not self._cleared(user)
        ):
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _cleared(user: Any) -> bool:
        """True when the user needs no MFA or has it. A positive answer is cached for a few
        minutes so that staff pages do not pay two queries per request for it; joining the
        Admin group therefore takes effect within CACHE_SECONDS."""
        key = f"mfa-cleared:{user.pk}"
        if cache.get(key):
            return True
        cleared = not mfa_required(user) or has_totp(user)
        if cleared:
            cache.set(key, True, CACHE_SECONDS)
        return cleared
