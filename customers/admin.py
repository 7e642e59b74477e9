from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from customers.models import Customer


class ConsentFilter(admin.SimpleListFilter):
    """Why a customer can or cannot be emailed; mirrors CustomerQuerySet.reachable()."""

    title = "consent"
    parameter_name = "consent"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("reachable", "Reachable"),
            ("unsubscribed", "Unsubscribed"),
            ("suppressed", "Suppressed"),
            ("erased", "Erased"),
            ("no_email", "No email address"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        match self.value():
            case "reachable":
                return queryset.reachable()
            case "unsubscribed":
                return queryset.filter(unsubscribed_at__isnull=False)
            case "suppressed":
                return queryset.filter(suppressed_at__isnull=False)
            case "erased":
                return queryset.filter(erased_at__isnull=False)
            case "no_email":
                return queryset.filter(Q(email=""))
        return queryset


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "email",
        "external_id",
        "language",
        "country",
        "segment",
        "reachable",
        "created_at",
    ]
    list_filter = [ConsentFilter, "language", "segment", "country"]
    search_fields = ["email", "name", "=external_id"]
    date_hierarchy = "created_at"
    # No relation is displayed; an empty tuple still makes the intent (no per-row query) explicit.
    list_select_related = ()
    readonly_fields = ["soft_bounce_count", "erased_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "email", "name", "phone"]}),
        ("Profile", {"fields": ["language", "country", "segment", "tags", "attributes"]}),
        (
            "Consent",
            {
                "fields": [
                    "unsubscribed_at",
                    "suppressed_at",
                    "suppression_reason",
                    "soft_bounce_count",
                    "erased_at",
                ]
            },
        ),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="Reachable")
    def reachable(self, obj: Customer) -> bool:
        return obj.is_reachable
