"""``/healthz`` for load balancers and monitoring: can this web process reach the database, the
Celery broker and the cache? 200 ``{"status": "ok", "checks": {...}}`` when all three answer,
503 naming the failing ones otherwise.

Public (no key, no session: a probe has neither) and cheap: one ``SELECT 1`` on the process's
persistent connection, one broker connection, one cache write and read, each bounded by a
short timeout. The output names checks and outcomes only; why one failed (an address, a
driver message) goes to the log, never to whoever asks.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cxcrm.unavailable import RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)

# Seconds a probe may wait on the broker; load balancers give up after a few seconds.
BROKER_TIMEOUT_SECONDS = 2


def check_database() -> None:
    # connect_timeout (DATABASE_CONNECT_TIMEOUT) bounds a connection attempt to a host that
    # does not answer; a refused or restarting server fails at once.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    # The project's Celery app (current once cxcrm is imported) and kombu's public API;
    # max_retries=0: one attempt, no back-off sleeps.
    with current_app.connection_for_read(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)


def check_cache() -> None:
    # A key of its own per probe: probes of several processes at once must not overwrite
    # each other's value.
    value = secrets.token_hex(8)
    key = f"healthz:{value}"
    cache.set(key, value, 10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return what was stored")
    finally:
        cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency is the answer
            log.warning("healthz: %s check failed (%s: %s)", name, type(exc).__name__, exc)
            results[name] = "fail"
        else:
            results[name] = "ok"
    healthy = all(outcome == "ok" for outcome in results.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results},
        status=200 if healthy else 503,
    )
    if not healthy:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
