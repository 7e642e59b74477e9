"""The admin's system status (/admin/status/): what an operator checks after a database or
worker hiccup. Claims stuck in ``sending`` (older than a minute: a live batch finishes its
claims within seconds), the last dispatch error, emails possibly delivered twice, and each
worker's heartbeats: from the cache (alive even while the database is down, cxcrm.workers)
and from the database (the beat's heartbeat task ran: cxcrm.tasks.heartbeat).

Managers and Admins (``cxcrm.view_systemstatus``, cxcrm.roles)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from cxcrm.models import WorkerHeartbeat
from cxcrm.workers import worker_beats
from feedback.surveys.models import Invitation, InvitationState, OutboundEmail
from feedback.surveys.services.dispatch import dispatch_last_error

PERMISSION = "cxcrm.view_systemstatus"
# A batch records each claim within seconds; a minute in ``sending`` means its worker is gone.
STUCK_AFTER = timedelta(minutes=1)
# The cache beats every 2 s (Celery's heartbeat), the database beat every 60 s (the beat).
CACHE_BEAT_STALE_AFTER = timedelta(seconds=30)
DB_BEAT_STALE_AFTER = timedelta(minutes=3)
RECENT = timedelta(days=7)
MAX_ROWS = 20


@dataclass(frozen=True)
class StuckClaim:
    claimed_by: str
    invitations: int
    oldest: datetime


@dataclass(frozen=True)
class WorkerRow:
    hostname: str
    seen_at: datetime
    alive: bool


def stuck_claims(*, now: datetime) -> list[StuckClaim]:
    rows = (
        Invitation.objects.filter(state=InvitationState.SENDING, claimed_at__lt=now - STUCK_AFTER)
        .values("claimed_by")
        .annotate(invitations=Count("id"), oldest=Min("claimed_at"))
        .order_by("oldest")[:MAX_ROWS]
    )
    return [
        StuckClaim(
            row["claimed_by"] or gettext("unknown worker"), row["invitations"], row["oldest"]
        )
        for row in rows
    ]


def status_view(request: HttpRequest) -> HttpResponse:
    """Four queries: stuck claims, possibly delivered emails of the week, the database
    heartbeats; plus the admin's own (session, user)."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("You need the “view system status” permission (Manager role).")
    now = timezone.now()
    last_error = dispatch_last_error()
    context = {
        **admin.site.each_context(request),
        "title": gettext("System status"),
        "stuck": stuck_claims(now=now),
        "stuck_after_minutes": int(STUCK_AFTER.total_seconds() // 60),
        "possibly_delivered": OutboundEmail.objects.filter(
            possibly_delivered=True, created_at__gte=now - RECENT
        ).count(),
        "last_error": last_error,
        "last_error_at": parse_datetime(last_error["at"]) if last_error else None,
        "cache_beats": [
            WorkerRow(host, at, at >= now - CACHE_BEAT_STALE_AFTER)
            for host, at in worker_beats()[:MAX_ROWS]
        ],
        "db_beats": [
            WorkerRow(beat.hostname, beat.seen_at, beat.seen_at >= now - DB_BEAT_STALE_AFTER)
            for beat in WorkerHeartbeat.objects.order_by("-seen_at")[:MAX_ROWS]
        ],
    }
    return TemplateResponse(request, "admin/system_status.html", context)


status = admin.site.admin_view(status_view)
