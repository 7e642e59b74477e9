from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from cxcrm.text import single_line


class JourneyStage(models.TextChoices):
    """The customer's path, in order; the journey map shows one column per stage."""

    DISCOVERY = "discovery", "Discovery"
    ENGAGEMENT = "engagement", "Engagement"
    ORDER = "order", "Order"
    PAYMENT = "payment", "Payment"
    USAGE = "usage", "Usage"
    SUPPORT = "support", "Support"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    MOBILE_APP = "mobile_app", "Mobile app"
    STORE = "store", "Store"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    SOCIAL = "social", "Social"
    DELIVERY = "delivery", "Delivery"
    PACKAGING = "packaging", "Packaging"
    ADVERTISING = "advertising", "Advertising"
    OTHER = "other", "Other"


class Ownership(models.TextChoices):
    """Who controls the touchpoint (Lemon & Verhoef's categories)."""

    BRAND = "brand", "Brand-owned"
    PARTNER = "partner", "Partner-owned"
    CUSTOMER = "customer", "Customer-owned"
    SOCIAL = "social", "Social/external"


class Touchpoint(models.Model):
    name = models.CharField(max_length=120, validators=[single_line])
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    stage = models.CharField(max_length=16, choices=JourneyStage.choices, db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    ownership = models.CharField(max_length=16, choices=Ownership.choices, default=Ownership.BRAND)
    owner_team = models.CharField(max_length=120, blank=True, validators=[single_line])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_touchpoints",
        help_text="Tickets from this touchpoint are assigned to this person first.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stage", "name"]

    def __str__(self) -> str:
        return self.name


currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 currency code.")


class Interaction(models.Model):
    """A customer met a touchpoint. A purchase is an interaction at an order/payment touchpoint."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="interactions"
    )
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.PROTECT, related_name="interactions"
    )
    occurred_at = models.DateTimeField()
    source = models.CharField(
        max_length=64,
        help_text="Where the event came from (shop, pos, api, csv, admin...).",
        validators=[single_line],
    )
    external_id = models.CharField(
        max_length=191,
        help_text="The source's id of the event; re-sent events are ignored.",
        validators=[single_line],
    )
    order_ref = models.CharField(max_length=120, blank=True, validators=[single_line])
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, validators=[currency_validator])
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="interaction_unique_source_external_id"
            ),
            models.CheckConstraint(
                condition=~models.Q(source="") & ~models.Q(external_id=""),
                name="interaction_source_and_external_id_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_idx"),
            models.Index(fields=["touchpoint", "occurred_at"], name="interaction_touchpoint_idx"),
            models.Index(fields=["occurred_at"], name="interaction_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
