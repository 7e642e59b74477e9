"""A fixed-window rate limit per client, shared by every process of a host with the default
file cache, across hosts with CACHE_URL=redis://...

With the file cache, the counters are files of their own in its directory, one per client and
window, grown by one byte a hit: an append to a file opened with O_APPEND is atomic between
processes, so the file's size is the count. The cache's own ``incr`` on that backend reads,
rewrites and renames the entry (and lists the cache directory to cull it) on every hit, and
workers counting at once overwrite each other's counts (four processes counting 800 hits
together left 231). Other caches (Redis, memory) count with ``add`` and ``incr``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
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


FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"


def _counter_root() -> str | None:
    """Where the counters are files: in the file cache's directory (which that cache's
    ``clear`` and culling leave alone: they touch only its ``*.djcache`` entries)."""
    default = settings.CACHES["default"]
    if default["BACKEND"] != FILE_CACHE:
        return None
    return _counter_dir(default["LOCATION"])


@functools.cache
def _counter_dir(location: str) -> str:
    # Paths as strings, joined with "/": pathlib's joins were half the limiter's time a hit.
    return os.path.join(location, "ratelimit")


@functools.lru_cache(maxsize=1024)
def _file_name(ident: str) -> str:
    # The client's address can come from a header: hashed, it is always a plain file name.
    # A client's hits come in bursts (page, answer, follow-up): its name is remembered.
    return hashlib.blake2s(ident.encode(), digest_size=16).hexdigest()


def _count_in_file(root: str, scope: str, ident: str, window: int, bucket: int) -> int:
    """One more hit in this client's counter file for the window; the hits counted so far."""
    directory = f"{root}/{scope}-{window}-{bucket}"
    path = f"{directory}/{_file_name(ident)}"
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:  # the window's first hit on this host
        os.makedirs(directory, exist_ok=True)
        # Earlier windows are over. Only earlier ones: a process whose clock read the end of
        # the last window just now must not delete the window that has just begun.
        for old in Path(root).glob(f"{scope}-{window}-*"):
            ended = old.name.rsplit("-", 1)[1]
            if ended.isdigit() and int(ended) < bucket:
                shutil.rmtree(old, ignore_errors=True)
        fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, b".")
        # Where our byte ended up: the number of hits up to and including this one, whatever
        # other processes appended since (O_APPEND moves to the end and writes in one step).
        return os.lseek(fd, 0, os.SEEK_CUR)
    finally:
        os.close(fd)


def allow(scope: str, ident: str, *, limit: int, window: int) -> bool:
    """Count one hit; False once ``limit`` hits were counted in the current window."""
    bucket = int(time.time() // window)
    root = _counter_root()
    if root is not None:
        return _count_in_file(root, scope, ident, window, bucket) <= limit
    key = f"rl:{scope}:{ident}:{bucket}"
    if cache.add(key, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.add(key, 1, timeout=window + 1)
        return True
    return count <= limit


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
