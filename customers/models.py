from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxcrm.text import single_line

language_validator = RegexValidator(
    r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$",
    _("Use a lower-case BCP 47 language tag such as en, pt-br or zh-hans."),
)
country_validator = RegexValidator(r"^[A-Z]{2}$", _("Use a two-letter ISO 3166 country code."))


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    SOFT_BOUNCES = "soft_bounces", _("Repeated soft bounces")
    COMPLAINT = "complaint", _("Spam complaint")
    MANUAL = "manual", _("Suppressed by staff")


class CustomerQuerySet(models.QuerySet["Customer"]):
    def reachable(self) -> CustomerQuerySet:
        """Customers we may email: an address, no opt-out, no suppression, not erased."""
        return self.exclude(email="").filter(
            unsubscribed_at__isnull=True, suppressed_at__isnull=True, erased_at__isnull=True
        )


class Customer(models.Model):
    external_id = models.CharField(
        max_length=191,
        unique=True,
        null=True,
        blank=True,
        validators=[single_line],
        help_text=_("The integrator's id for this customer; upserts match on it."),
        verbose_name=_("external ID"),
    )
    email = models.EmailField(max_length=254, blank=True, db_index=True, verbose_name=_("email"))
    name = models.CharField(
        max_length=200, blank=True, validators=[single_line], verbose_name=_("name")
    )
    phone = models.CharField(
        max_length=32, blank=True, validators=[single_line], verbose_name=_("phone")
    )
    language = models.CharField(
        max_length=16,
        default="en",
        validators=[language_validator],
        help_text=_("BCP 47; survey emails and pages use it."),
        verbose_name=_("language"),
    )
    country = models.CharField(
        max_length=2, blank=True, validators=[country_validator], verbose_name=_("country")
    )
    segment = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        validators=[single_line],
        verbose_name=_("segment"),
    )
    tags = models.JSONField(default=list, blank=True, verbose_name=_("tags"))
    attributes = models.JSONField(default=dict, blank=True, verbose_name=_("attributes"))
    unsubscribed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unsubscribed at"))
    suppressed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("suppressed at"))
    suppression_reason = models.CharField(
        max_length=16,
        choices=SuppressionReason.choices,
        blank=True,
        verbose_name=_("suppression reason"),
    )
    soft_bounce_count = models.PositiveSmallIntegerField(default=0, verbose_name=_("soft bounces"))
    erased_at = models.DateTimeField(null=True, blank=True, verbose_name=_("erased at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["created_at"], name="customer_created_idx")]
        # The rights of access and erasure (admin actions, API): Admin only (cxcrm.roles).
        permissions = [
            ("export_customer", _("Can export all data held about a customer")),
            ("erase_customer", _("Can erase a customer's personal data")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(suppressed_at__isnull=True) | ~Q(suppression_reason=""),
                name="customer_suppression_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(external_id=""), name="customer_external_id_not_empty"
            ),
        ]

    def __str__(self) -> str:
        if self.erased_at:
            return _("Erased customer #%(id)s") % {"id": self.pk}
        return (
            self.name or self.email or self.external_id or _("Customer #%(id)s") % {"id": self.pk}
        )

    @property
    def is_reachable(self) -> bool:
        return bool(
            self.email
            and self.unsubscribed_at is None
            and self.suppressed_at is None
            and self.erased_at is None
        )


class AuditAction(models.TextChoices):
    VIEWED = "viewed", pgettext_lazy("audit action", "Viewed")
    EXPORTED = "exported", pgettext_lazy("audit action", "Exported")
    CHANGED = "changed", pgettext_lazy("audit action", "Changed")
    ADDED = "added", pgettext_lazy("audit action", "Added")
    DELETED = "deleted", pgettext_lazy("audit action", "Deleted")
    ERASED = "erased", pgettext_lazy("audit action", "Erased")


class AuditEntry(models.Model):
    """Who did what to personal data, and when: staff views, exports, changes and erasures of
    customers and tickets. It names objects by type and id only, so erasing a customer leaves
    the trail intact without keeping the data it was about."""

    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(
        max_length=150,
        blank=True,
        help_text=_("Kept if the user goes."),
        verbose_name=_("actor name"),
    )
    action = models.CharField(max_length=16, choices=AuditAction.choices, verbose_name=_("action"))
    object_type = models.CharField(max_length=32, verbose_name=_("object type"))
    object_id = models.CharField(max_length=64, verbose_name=_("object ID"))
    channel = models.CharField(
        max_length=16,
        default="admin",
        # Translators: the values the field holds; keep admin, api and system in English.
        help_text=_("admin, api, system"),
        verbose_name=_("channel"),
    )
    summary = models.CharField(max_length=255, blank=True, verbose_name=_("summary"))

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.action} {self.object_type} {self.object_id}"
