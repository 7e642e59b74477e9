from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxcrm.text import single_line

language_validator = RegexValidator(
    r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$",
    "Use a lower-case BCP 47 language tag such as en, pt-br or zh-hans.",
)
country_validator = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 country code.")


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    SOFT_BOUNCES = "soft_bounces", "Repeated soft bounces"
    COMPLAINT = "complaint", "Spam complaint"
    MANUAL = "manual", "Suppressed by staff"


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
        help_text="The integrator's id for this customer; upserts match on it.",
    )
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True, validators=[single_line])
    phone = models.CharField(max_length=32, blank=True, validators=[single_line])
    language = models.CharField(
        max_length=16,
        default="en",
        validators=[language_validator],
        help_text="BCP 47; survey emails and pages use it.",
    )
    country = models.CharField(max_length=2, blank=True, validators=[country_validator])
    segment = models.CharField(max_length=64, blank=True, db_index=True, validators=[single_line])
    tags = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppression_reason = models.CharField(
        max_length=16, choices=SuppressionReason.choices, blank=True
    )
    soft_bounce_count = models.PositiveSmallIntegerField(default=0)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="customer_created_idx")]
        # The rights of access and erasure (admin actions, API): Admin only (cxcrm.roles).
        permissions = [
            ("export_customer", "Can export all data held about a customer"),
            ("erase_customer", "Can erase a customer's personal data"),
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
            return f"Erased customer #{self.pk}"
        return self.name or self.email or self.external_id or f"Customer #{self.pk}"

    @property
    def is_reachable(self) -> bool:
        return bool(
            self.email
            and self.unsubscribed_at is None
            and self.suppressed_at is None
            and self.erased_at is None
        )


class AuditAction(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    EXPORTED = "exported", "Exported"
    CHANGED = "changed", "Changed"
    ADDED = "added", "Added"
    DELETED = "deleted", "Deleted"
    ERASED = "erased", "Erased"


class AuditEntry(models.Model):
    """Who did what to personal data, and when: staff views, exports, changes and erasures of
    customers and tickets. It names objects by type and id only, so erasing a customer leaves
    the trail intact without keeping the data it was about."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="Kept if the user goes.")
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, default="admin", help_text="admin, api, system")
    summary = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.action} {self.object_type} {self.object_id}"
