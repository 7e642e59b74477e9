"""Who may call what: a key's scopes (read for safe methods, write for the rest), or a staff
member's role (cxcrm.roles) for the action asked."""

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


def required_permissions(view: Any, request: Request) -> list[str]:
    """The Django permissions a staff session needs for this request: the view's
    ``required_permissions`` maps each action (or ``"action METHOD"`` where one action answers
    several methods) to a permission of cxcrm.roles. An action without an entry needs a
    permission nobody has: a new endpoint is closed to sessions until it is given one."""
    table: dict[str, str] = getattr(view, "required_permissions", {})
    action = getattr(view, "action", None) or ""
    if action == "metadata":  # OPTIONS describes the resource: reading it is enough
        action = "list" if "list" in table else "retrieve"
    needed = table.get(f"{action} {request.method}") or table.get(action)
    return [needed] if needed else ["cxcrm.api-action-without-a-permission"]


class ApiAccess(BasePermission):
    """Keys by their scopes (read: safe methods; write: the rest); staff sessions by the
    user's role (Django model permissions, cxcrm.roles) for the action asked."""

    message = "This API key may not do that (it needs the write scope)."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            needed = ApiScope.READ if request.method in SAFE_METHODS else ApiScope.WRITE
            return request.auth.has_scope(needed)
        user = principal(request)
        if user is None:
            return False
        if not user.has_perms(required_permissions(view, request)):
            self.message = "Your role may not do that."
            return False
        return True
