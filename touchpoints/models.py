from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxcrm.text import single_line


class JourneyStage(models.TextChoices):
    """The customer's path, in order; the journey map shows one column per stage."""

    DISCOVERY = "discovery", pgettext_lazy("journey stage", "Discovery")
    ENGAGEMENT = "engagement", pgettext_lazy("journey stage", "Engagement")
    ORDER = "order", pgettext_lazy("journey stage", "Order")
    PAYMENT = "payment", pgettext_lazy("journey stage", "Payment")
    USAGE = "usage", pgettext_lazy("journey stage", "Usage")
    SUPPORT = "support", pgettext_lazy("journey stage", "Support")


class Channel(models.TextChoices):
    WEB = "web", pgettext_lazy("touchpoint channel", "Web")
    MOBILE_APP = "mobile_app", pgettext_lazy("touchpoint channel", "Mobile app")
    STORE = "store", pgettext_lazy("touchpoint channel", "Store")
    PHONE = "phone", pgettext_lazy("touchpoint channel", "Phone")
    EMAIL = "email", pgettext_lazy("touchpoint channel", "Email")
    CHAT = "chat", pgettext_lazy("touchpoint channel", "Chat")
    SOCIAL = "social", pgettext_lazy("touchpoint channel", "Social")
    DELIVERY = "delivery", pgettext_lazy("touchpoint channel", "Delivery")
    PACKAGING = "packaging", pgettext_lazy("touchpoint channel", "Packaging")
    ADVERTISING = "advertising", pgettext_lazy("touchpoint channel", "Advertising")
    OTHER = "other", pgettext_lazy("touchpoint channel", "Other")


class Ownership(models.TextChoices):
    """Who controls the touchpoint (Lemon & Verhoef's categories)."""

    BRAND = "brand", _("Brand-owned")
    PARTNER = "partner", _("Partner-owned")
    CUSTOMER = "customer", _("Customer-owned")
    SOCIAL = "social", _("Social/external")


class Touchpoint(models.Model):
    name = models.CharField(max_length=120, validators=[single_line], verbose_name=_("name"))
    slug = models.SlugField(max_length=80, unique=True, verbose_name=_("slug"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    stage = models.CharField(
        max_length=16, choices=JourneyStage.choices, db_index=True, verbose_name=_("stage")
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    ownership = models.CharField(
        max_length=16,
        choices=Ownership.choices,
        default=Ownership.BRAND,
        verbose_name=_("ownership"),
    )
    owner_team = models.CharField(
        max_length=120, blank=True, validators=[single_line], verbose_name=_("owner team")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_touchpoints",
        help_text=_("Tickets from this touchpoint are assigned to this person first."),
        verbose_name=_("owner"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["stage", "name"]
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")

    def __str__(self) -> str:
        return self.name


currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code."))


class Interaction(models.Model):
    """A customer met a touchpoint. A purchase is an interaction at an order/payment touchpoint."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="interactions",
        verbose_name=_("customer"),
    )
    touchpoint = models.ForeignKey(
        Touchpoint,
        on_delete=models.PROTECT,
        related_name="interactions",
        verbose_name=_("touchpoint"),
    )
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    source = models.CharField(
        max_length=64,
        help_text=_("Where the event came from (shop, pos, api, csv, admin...)."),
        validators=[single_line],
        verbose_name=_("source"),
    )
    external_id = models.CharField(
        max_length=191,
        help_text=_("The source's id of the event; re-sent events are ignored."),
        validators=[single_line],
        verbose_name=_("external ID"),
    )
    order_ref = models.CharField(
        max_length=120, blank=True, validators=[single_line], verbose_name=_("order reference")
    )
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, verbose_name=_("amount")
    )
    currency = models.CharField(
        max_length=3, blank=True, validators=[currency_validator], verbose_name=_("currency")
    )
    metadata = models.JSONField(default=dict, blank=True, verbose_name=_("metadata"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
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
