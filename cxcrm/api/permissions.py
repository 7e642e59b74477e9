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


class HasApiScope(BasePermission):
    message = "This API key may not do that (it needs the write scope)."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            needed = ApiScope.READ if request.method in SAFE_METHODS else ApiScope.WRITE
            return request.auth.has_scope(needed)
        return principal(request) is not None
