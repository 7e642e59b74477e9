"""Request rates per API key (and per staff user); the rates are settings (CXCRM_API_RATE_*)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from cxcrm.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """One bucket per key (its id, not the client address: integrators run many hosts behind
    one key, and one host may hold several keys). Writes have their own, lower rate."""

    scope = "api_key"

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = (
            "api_key_write" if request.method not in ("GET", "HEAD", "OPTIONS") else "api_key"
        )
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user{request.user.pk}"
        else:
            return None  # refused by the permission check anyway
        return self.cache_format % {"scope": self.scope, "ident": ident}
