"""Who may call what: a key's scopes (read for safe methods, write for the rest) or staff."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from cxcrm.models import ApiKey, ApiScope


def principal(request: Request) -> ApiKey | Any | None:
    """The key, or the staff user of a session, or None: what selectors scope querysets by."""
    if isinstance(request.auth, ApiKey):
        return request.auth
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return user
    return None


def acting_user(request: Request) -> Any:
    """Who events, replies and audit entries name: the staff member of a session, or for a key
    the person who made it (a key acts on their behalf; keys made by the command have nobody)."""
    if isinstance(request.auth, ApiKey):
        return request.auth.created_by
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def audit_label(request: Request) -> Any:
    """For the audit trail: the acting user, else the key itself by name and prefix."""
    user = acting_user(request)
    if user is not None:
        return user
    return str(request.auth) if isinstance(request.auth, ApiKey) else "api"


class HasApiScope(BasePermission):
    message = "This API key may not do that (it needs the write scope)."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            needed = ApiScope.READ if request.method in SAFE_METHODS else ApiScope.WRITE
            return request.auth.has_scope(needed)
        return principal(request) is not None
