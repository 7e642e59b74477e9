from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the beat's heartbeat task.

    Staff see at a glance whether the background machinery (dispatch, escalation) is alive;
    the integration tests use the same task to prove a worker writes to the database.
    """

    hostname = models.CharField(max_length=255, unique=True, verbose_name=_("host name"))
    seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("last seen at"))
    beats = models.PositiveBigIntegerField(default=0, verbose_name=_("heartbeats"))

    class Meta:
        ordering = ["-seen_at"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        # The admin's system status page (workers, stuck claims, the last dispatch error).
        permissions = [("view_systemstatus", _("Can view the system status"))]

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


# --- API keys and outgoing webhooks -----------------------------------------------------------


class ApiScope(models.TextChoices):
    READ = "read", pgettext_lazy("API key scope", "Read")
    WRITE = "write", pgettext_lazy("API key scope", "Write")


class ApiKey(models.Model):
    """An integrator's key. Only a SHA-256 of the secret is stored: the full key
    (``cx_<prefix>_<secret>``) is shown once, when it is made; the prefix finds the row."""

    name = models.CharField(max_length=120, verbose_name=_("name"))
    prefix = models.CharField(max_length=8, unique=True, editable=False, verbose_name=_("prefix"))
    secret_hash = models.CharField(max_length=64, editable=False, verbose_name=_("secret hash"))
    scopes = models.JSONField(
        default=list,
        # Translators: keep the JSON (["read"], ["read", "write"]) as it is; translate "or".
        help_text=_('["read"] or ["read", "write"].'),
        verbose_name=_("scopes"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_keys",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} (cx_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return self.is_active and scope in (self.scopes or [])


class WebhookEndpoint(models.Model):
    """Where integrators want events POSTed. The secret signs every delivery (Standard
    Webhooks); it is kept in clear because the sender must have it to sign."""

    url = models.URLField(max_length=500, verbose_name=_("URL"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    events = models.JSONField(
        default=list, help_text=_("Event names this endpoint receives."), verbose_name=_("events")
    )
    secret = models.CharField(max_length=100, editable=False, verbose_name=_("secret"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    owner_email = models.EmailField(
        blank=True,
        help_text=_("Told by email when the endpoint is disabled for failing."),
        verbose_name=_("owner email"),
    )
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_endpoints",
        help_text=_("The key that registered it through the API (empty: staff in the admin)."),
        verbose_name=_("API key"),
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("failing since")
    )
    last_success_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last success at")
    )
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.CharField(
        max_length=255, blank=True, verbose_name=_("disabled reason")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("webhook delivery status", "Pending")
    DELIVERING = "delivering", pgettext_lazy("webhook delivery status", "Delivering")
    SUCCEEDED = "succeeded", pgettext_lazy("webhook delivery status", "Succeeded")
    FAILED = "failed", pgettext_lazy("webhook delivery status", "Failed (gave up)")


class WebhookDelivery(models.Model):
    """One event for one endpoint: the queue of record and the delivery log. ``message_id`` is
    the ``webhook-id`` header, the same on every attempt and redelivery, so receivers can
    deduplicate."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.CharField(max_length=64, verbose_name=_("event"))
    message_id = models.CharField(max_length=64, db_index=True, verbose_name=_("message ID"))
    # Set by whoever publishes the event (e.g. "customer:42"): erasing that customer finds
    # the payloads that name them without the platform knowing what a customer is.
    subject = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("subject"))
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    response_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("response code")
    )
    response_body = models.TextField(blank=True, verbose_name=_("response body"))
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("duration (ms)")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_endpoint_idx"),
            # The admin's delivery log, newest first, a page at a time.
            models.Index(fields=["-created_at", "-id"], name="webhookdelivery_created_idx"),
            # The sweep: deliveries whose retry was lost with the broker, or whose worker died.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "delivering"]),
                name="webhookdelivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


# --- Staff preferences ------------------------------------------------------------------------


class StaffPreference(models.Model):
    """A staff member's language and time zone for the back-office and the emails sent to them.

    Empty means "not chosen": pages follow the browser's language and the site's time zone,
    emails the site's language (LANGUAGE_CODE). Values are checked by the form
    (cxcrm.staff_prefs), so that adding a language to settings needs no migration."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=16, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or '-'} / {self.time_zone or '-'}"
