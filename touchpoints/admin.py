from __future__ import annotations

from django.contrib import admin

from cxcrm.admin_lists import BigTableAdminMixin, recent_filter
from cxcrm.csv_export import CsvExportMixin
from cxcrm.csv_import import CsvImportMixin
from touchpoints.csv_import import InteractionImporter
from touchpoints.models import Interaction, Touchpoint


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["name", "stage", "channel", "ownership", "owner_team", "owner", "active"]
    list_editable = ["active"]
    list_filter = ["stage", "channel", "ownership", "active"]
    list_select_related = ["owner"]
    search_fields = ["name", "slug", "owner_team"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "active"]}),
        ("Journey", {"fields": ["stage", "channel", "ownership"]}),
        ("Ownership", {"fields": ["owner_team", "owner"]}),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(Interaction)
class InteractionAdmin(BigTableAdminMixin, CsvImportMixin, CsvExportMixin, admin.ModelAdmin):
    # Import CSV / Export CSV buttons (templates/admin/touchpoints/interaction/change_list.html).
    change_list_template = "admin/touchpoints/interaction/change_list.html"
    csv_importer = InteractionImporter
    list_display = [
        "occurred_at",
        "customer",
        "touchpoint",
        "source",
        "external_id",
        "order_ref",
        "amount_display",
    ]
    # Sources are the integrators' own names (no list of them): ?source=shop filters by one.
    list_filter = ["touchpoint__stage", recent_filter("occurred_at", "occurred")]
    list_select_related = ["customer", "touchpoint"]
    # Ids are opaque: a partial match on them is noise, so they match exactly.
    # Exact lookups: each one an index (source/external id, order reference, customer email).
    search_fields = ["external_id__exact", "order_ref__exact", "customer__email__exact"]
    search_help_text = "An exact external id, order reference or customer email."
    autocomplete_fields = ["customer", "touchpoint"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["customer", "touchpoint", "occurred_at"]}),
        ("Source", {"fields": ["source", "external_id"]}),
        ("Order", {"fields": ["order_ref", "amount", "currency"]}),
        ("More", {"fields": ["metadata", "created_at"]}),
    ]

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Interaction) -> str:
        if obj.amount is None:
            return ""
        return f"{obj.amount} {obj.currency}".strip()
