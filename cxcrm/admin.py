from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from cxcrm.models import WorkerHeartbeat

# The beat schedules the heartbeat every 60 s; three missed beats mean the worker is gone.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """Read-only: the rows are written by the workers themselves (cxcrm.tasks.heartbeat)."""

    list_display = ["hostname", "seen_at", "beats", "alive"]
    search_fields = ["hostname"]
    ordering = ["-seen_at"]
    readonly_fields = ["hostname", "seen_at", "beats", "alive"]

    @admin.display(boolean=True, description="Alive")
    def alive(self, obj: WorkerHeartbeat) -> bool:
        return obj.seen_at >= timezone.now() - HEARTBEAT_STALE_AFTER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WorkerHeartbeat | None = None
    ) -> bool:
        return False
