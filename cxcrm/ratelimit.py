"""A fixed-window rate limit per client on Django's cache API: ``incr`` counts, ``add`` opens
the window's counter. Shared by every process of a host with the default file cache and
across hosts with CACHE_URL=redis://..., where ``incr`` is atomic; Django documents that
``incr`` need not be atomic elsewhere, so the file cache may miss a few concurrent hits, which
a limit in the tens a minute tolerates."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    if settings.CXCRM_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The proxy appends the address it saw; the last entry is the one we can trust.
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return str(request.META.get("REMOTE_ADDR", "unknown"))[:64]


def allow(scope: str, ident: str, *, limit: int, window: int) -> bool:
    """Count one hit; False once ``limit`` hits were counted in the current window."""
    bucket = int(time.time() // window)
    # The address can come from a header: hashed, it is a valid key on every cache backend.
    digest = hashlib.blake2s(ident.encode(), digest_size=16).hexdigest()
    key = f"ratelimit:{scope}:{digest}:{bucket}"
    # incr() first: every hit but a window's first is one call, not an add() and an incr().
    try:
        return cache.incr(key) <= limit
    except ValueError:  # no counter yet in this window
        pass
    # add() only creates a missing key, so concurrent first hits never reset each other's count:
    # the loser of that race counts on the winner's counter.
    if cache.add(key, 1, timeout=window):
        return limit >= 1
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the counter expired between add() and incr(): a new window
        cache.add(key, 1, timeout=window)
        return limit >= 1


def rate_limited(
    scope: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit a view per client IP to settings.CXCRM_RATE_LIMITS[scope] = (hits, seconds)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit, window = settings.CXCRM_RATE_LIMITS[scope]
            if not allow(scope, client_ip(request), limit=limit, window=window):
                response = render(request, "public/rate_limited.html", status=429)
                response["Retry-After"] = str(window)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
