"""Webhook endpoints and the delivery of events to them.

A delivery is claimed with a conditional update (pending → delivering), so two workers (a
Celery retry and the sweep, say) never POST the same attempt twice at once; the outcome is
recorded on the row, which is also the log staff read in the admin.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cxcrm.models import ApiKey, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from cxcrm.webhooks.event_types import EVENTS
from cxcrm.webhooks.safety import WebhookError, WebhookUrlError, target_resolve, url_check
from cxcrm.webhooks.sending import SendError, target_post
from cxcrm.webhooks.signals import endpoint_disabled
from cxcrm.webhooks.signing import headers as signed_headers
from cxcrm.webhooks.signing import new_secret

log = logging.getLogger(__name__)

# A retry whose Celery message was lost (broker restart) is found by the sweep this long after
# it was due; a claim older than the lease belongs to a worker that died mid-request.
SWEEP_GRACE = timedelta(minutes=5)
CLAIM_LEASE = timedelta(minutes=5)


# --- Endpoints ----------------------------------------------------------------------------------


def clean_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise WebhookError(f"Choose one or more events among: {', '.join(EVENTS)}.")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise WebhookError(f"Unknown events: {', '.join(map(str, unknown))}.")
    return [e for e in EVENTS if e in events]


def clean_url(url: str) -> str:
    """A URL that delivery would call, else WebhookUrlError (README "Webhook URL rules")."""
    return url_check(url)


def webhook_endpoint_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    owner_email: str = "",
    api_key: ApiKey | None = None,
) -> WebhookEndpoint:
    # Checked before the transaction: the check may wait on DNS.
    url = clean_url(url)
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            url=url,
            events=clean_events(events),
            description=description[:200],
            owner_email=owner_email,
            api_key=api_key,
            secret=new_secret(),
        )


def webhook_endpoint_update(*, endpoint_id: int, **fields: Any) -> WebhookEndpoint:
    if "url" in fields:
        fields["url"] = clean_url(fields["url"])  # before the row lock: it may wait on DNS
    with transaction.atomic():
        return _endpoint_update(endpoint_id, fields)


def _endpoint_update(endpoint_id: int, fields: dict[str, Any]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if "url" in fields:
        endpoint.url = fields.pop("url")
    if "events" in fields:
        endpoint.events = clean_events(fields.pop("events"))
    if fields.get("active") and not endpoint.active:
        # Turning it back on is the owner saying "fixed": the failure streak starts afresh.
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
    for name in ("description", "owner_email", "active"):
        if name in fields:
            setattr(endpoint, name, fields[name])
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_disable(*, endpoint_id: int, reason: str) -> bool:
    """Stop sending to an endpoint that keeps failing, and tell its owner by email."""
    now = timezone.now()
    changed = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).update(
        active=False, disabled_at=now, disabled_reason=reason[:255], updated_at=now
    )
    if not changed:
        return False
    endpoint = WebhookEndpoint.objects.select_related("api_key__created_by").get(pk=endpoint_id)
    owner = endpoint.owner_email
    if not owner and endpoint.api_key and endpoint.api_key.created_by:
        owner = endpoint.api_key.created_by.email
    if owner:
        # The product's outbox sends and records the email (feedback connects the receiver).
        endpoint_disabled.send(
            sender=WebhookEndpoint, endpoint=endpoint, owner=owner, reason=reason
        )
    log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
    return True


# --- Delivery -----------------------------------------------------------------------------------


def retry_schedule() -> list[int]:
    return [int(s) for s in settings.CXCRM_WEBHOOK_RETRY_SCHEDULE]


def retry_delay(attempts: int) -> int | None:
    """Seconds before the next attempt after ``attempts`` failed ones, None when out of
    attempts. ±10 % jitter so endpoints recovering from an outage are not hit in lockstep."""
    schedule = retry_schedule()
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return max(0, round(base * random.uniform(0.9, 1.1)))


@dataclass(frozen=True)
class Attempt:
    status: str
    response_code: int | None
    retry_in: int | None


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.DELIVERING,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    )


def webhook_deliver(*, delivery_id: int) -> Attempt | None:
    """Make one attempt at a pending delivery; None when it is not pending (done, or another
    worker holds it). Not atomic on purpose: the HTTP request must not hold a transaction."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _finish(delivery, ok=False, code=None, body="", ms=None, error="endpoint disabled")
    started = time.monotonic()
    try:
        # Resolved once per attempt; the connection goes to the address vetted here.
        target = target_resolve(endpoint.url)
    except WebhookUrlError as exc:
        return _finish(delivery, ok=False, code=None, body="", ms=None, error=str(exc)[:1000])
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    request_headers = {
        **signed_headers(endpoint.secret, delivery.message_id, body),
        "user-agent": f"{settings.CXCRM_BRAND_NAME}-webhooks/1",
    }
    try:
        reply = target_post(
            target,
            body=body,
            headers=request_headers,
            timeout=float(settings.CXCRM_WEBHOOK_TIMEOUT_SECONDS),
        )
    except SendError as exc:
        ms = int((time.monotonic() - started) * 1000)
        return _finish(delivery, ok=False, code=None, body="", ms=ms, error=str(exc)[:1000])
    ms = int((time.monotonic() - started) * 1000)
    ok = 200 <= reply.status < 300
    result = _finish(delivery, ok=ok, code=reply.status, body=reply.body, ms=ms, error="")
    if reply.status == 410:
        # 410 Gone is the receiver saying "stop": Standard Webhooks asks senders to disable.
        webhook_endpoint_disable(endpoint_id=endpoint.pk, reason="it answered 410 Gone.")
    return result


@transaction.atomic
def _finish(
    delivery: WebhookDelivery,
    *,
    ok: bool,
    code: int | None,
    body: str,
    ms: int | None,
    error: str,
) -> Attempt:
    now = timezone.now()
    fields: dict[str, Any] = {
        "response_code": code,
        "response_body": body,
        "duration_ms": ms,
        "error": error if not ok else "",
    }
    endpoint_id = delivery.endpoint_id
    if ok:
        fields |= {"status": DeliveryStatus.SUCCEEDED, "delivered_at": now, "next_attempt_at": None}
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(
            failing_since=None, last_success_at=now
        )
        return Attempt(DeliveryStatus.SUCCEEDED, code, None)
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    delay = retry_delay(delivery.attempts) if error != "endpoint disabled" else None
    if delay is not None:
        fields |= {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": now + timedelta(seconds=delay),
        }
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        return Attempt(DeliveryStatus.PENDING, code, delay)
    fields |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    endpoint = WebhookEndpoint.objects.only("failing_since", "last_success_at").get(pk=endpoint_id)
    # Every attempt of this delivery failed (about a day of retries) and nothing at all
    # succeeded on the endpoint meanwhile: the endpoint is broken, not this one payload.
    if endpoint.last_success_at is None or endpoint.last_success_at < delivery.created_at:
        since = endpoint.failing_since or delivery.created_at
        webhook_endpoint_disable(
            endpoint_id=endpoint_id,
            reason=f"every delivery failed since {since:%Y-%m-%d %H:%M} UTC "
            f"(last: {error or f'HTTP {code}'}).",
        )
    return Attempt(DeliveryStatus.FAILED, code, None)


@transaction.atomic
def webhook_deliveries_stuck(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending deliveries whose retry message went missing, and claims of dead workers (put
    back to pending): the sweep enqueues them again."""
    now = now or timezone.now()
    dead = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.DELIVERING, last_attempt_at__lt=now - CLAIM_LEASE
        ).values_list("id", flat=True)[:limit]
    )
    WebhookDelivery.objects.filter(pk__in=dead, status=DeliveryStatus.DELIVERING).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now
    )
    lost = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lt=now - SWEEP_GRACE
    ).exclude(pk__in=dead)
    return dead + list(lost.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
