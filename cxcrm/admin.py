from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cxcrm.admin_lists import BigTableAdminMixin, fixed_choices_filter, recent_filter
from cxcrm.api.keys import api_key_create, api_key_revoke, clean_scopes
from cxcrm.models import (
    ApiKey,
    ApiScope,
    StaffPreference,
    WebhookDelivery,
    WebhookEndpoint,
    WorkerHeartbeat,
)
from cxcrm.staff_prefs import StaffPreferenceAdmin
from cxcrm.webhooks.event_types import EVENTS
from cxcrm.webhooks.events import webhook_redeliver
from cxcrm.webhooks.services import (
    WebhookUrlError,
    clean_url,
    webhook_endpoint_create,
    webhook_endpoint_update,
)

# The beat schedules the heartbeat every 60 s; three missed beats mean the worker is gone.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


# Admins set a colleague's language and time zone; everyone sets their own on /admin/preferences/.
admin.site.register(StaffPreference, StaffPreferenceAdmin)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """Read-only: the rows are written by the workers themselves (cxcrm.tasks.heartbeat)."""

    list_display = ["hostname", "seen_at", "beats", "alive"]
    search_fields = ["hostname"]
    ordering = ["-seen_at"]
    readonly_fields = ["hostname", "seen_at", "beats", "alive"]

    @admin.display(boolean=True, description=_("Alive"))
    def alive(self, obj: WorkerHeartbeat) -> bool:
        return obj.seen_at >= timezone.now() - HEARTBEAT_STALE_AFTER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WorkerHeartbeat | None = None
    ) -> bool:
        return False


# --- API keys and outgoing webhooks -----------------------------------------------------------


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A write key can also read."),
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "revoked_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made here (or by ``manage.py create_api_key``); the full key is shown once,
    in the message after saving, and cannot be seen again: only its hash is stored."""

    form = ApiKeyForm
    list_display = ["name", "shown_prefix", "scopes", "created_by", "created_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by"]
    search_fields = ["name", "=prefix"]
    actions = ["revoke"]

    def get_fieldsets(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["name", "scopes"]})]
        return [
            (None, {"fields": ["name", "scopes", "revoked_at"]}),
            (
                pgettext_lazy("API key fieldset", "Issued"),
                {"fields": ["prefix", "secret_hash", "created_by", "created_at", "last_used_at"]},
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return []
        return ["prefix", "secret_hash", "created_by", "created_at", "last_used_at"]

    @admin.display(description=pgettext_lazy("API key", "Key"), ordering="prefix")
    def shown_prefix(self, obj: ApiKey) -> str:
        return f"cx_{obj.prefix}_…"

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            obj.scopes = clean_scopes(list(form.cleaned_data["scopes"]))
            super().save_model(request, obj, form, change)
            return
        made = api_key_create(
            name=form.cleaned_data["name"],
            scopes=list(form.cleaned_data["scopes"]),
            created_by=request.user,
        )
        obj.pk = made.api_key.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            format_html(
                gettext("The key is shown this once; copy it now: <code>{key}</code>"), key=made.key
            ),
        )

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        done = sum(api_key_revoke(api_key_id=pk) for pk in queryset.values_list("pk", flat=True))
        messages.success(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", done) % {"count": done},
        )


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in EVENTS], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "active", "owner_email", "api_key"]

    def clean_url(self) -> str:
        # The rules delivery applies (README "Webhook URL rules"), shown on the field.
        try:
            return clean_url(self.cleaned_data["url"])
        except WebhookUrlError as exc:
            raise forms.ValidationError(str(exc)) from None


WEBHOOK_HEALTH_FIELDS = [
    "secret",
    "failing_since",
    "last_success_at",
    "disabled_at",
    "disabled_reason",
    "created_at",
    "updated_at",
]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "events", "active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description", "owner_email"]
    raw_id_fields = ["api_key"]
    readonly_fields = WEBHOOK_HEALTH_FIELDS
    fieldsets = [
        (None, {"fields": ["url", "description", "events", "active", "owner_email", "api_key"]}),
        (
            _("Signing and health"),
            {
                "fields": WEBHOOK_HEALTH_FIELDS,
                "description": _(
                    "Receivers verify the webhook-signature header with this secret "
                    "(Standard Webhooks)."
                ),
            },
        ),
    ]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(
                endpoint_id=obj.pk,
                url=data["url"],
                events=list(data["events"]),
                description=data["description"],
                owner_email=data["owner_email"],
                active=data["active"],
            )
            obj.refresh_from_db()
            return
        made = webhook_endpoint_create(
            url=data["url"],
            events=list(data["events"]),
            description=data["description"],
            owner_email=data["owner_email"] or getattr(request.user, "email", ""),
            api_key=data.get("api_key"),
        )
        obj.pk = made.pk
        obj.refresh_from_db()


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(BigTableAdminMixin, admin.ModelAdmin):
    """The delivery log: written by the workers, read by staff, redelivered on demand."""

    list_display = [
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_code",
        "duration_ms",
        "next_attempt_at",
    ]
    # Events from the catalogue, not SELECT DISTINCT over the log.
    list_filter = [
        "status",
        fixed_choices_filter(
            "event", pgettext_lazy("list filter title", "event"), lambda: [(e, e) for e in EVENTS]
        ),
        recent_filter("created_at", pgettext_lazy("list filter title", "created")),
    ]
    list_select_related = ["endpoint"]
    search_fields = ["message_id__exact", "endpoint__url"]
    search_help_text = _(
        "An exact message id, or part of the endpoint's URL (reads every delivery: slow)."
    )
    actions = ["redeliver"]
    fieldsets = [
        (None, {"fields": ["endpoint", "event", "message_id", "subject", "status", "attempts"]}),
        (
            _("Last attempt"),
            {
                "fields": [
                    "response_code",
                    "duration_ms",
                    "response_body",
                    "error",
                    "last_attempt_at",
                    "next_attempt_at",
                    "delivered_at",
                    "created_at",
                ]
            },
        ),
        (_("Payload"), {"fields": ["payload"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        return False

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        # The log itself is read-only (no change form); sending again is a webhook manager's
        # right (cxcrm.roles: Manager and Admin).
        return request.user.has_perm("cxcrm.change_webhookdelivery")

    @admin.action(description=_("Deliver the selected events again"), permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True)[:1000])
        sent = sum(webhook_redeliver(delivery_id=pk) is not None for pk in ids)
        skipped = len(ids) - sent
        text = ngettext(
            "Queued %(count)d delivery again.", "Queued %(count)d deliveries again.", sent
        ) % {"count": sent}
        if skipped:
            text += " " + ngettext(
                "%(count)d skipped: its data was erased.",
                "%(count)d skipped: their data was erased.",
                skipped,
            ) % {"count": skipped}
        messages.success(request, text)
