from __future__ import annotations

from django.contrib import admin
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
        (_("Journey"), {"fields": ["stage", "channel", "ownership"]}),
        (_("Ownership"), {"fields": ["owner_team", "owner"]}),
        (
            pgettext_lazy("fieldset: when the row was made and changed", "Audit"),
            {"fields": ["created_at", "updated_at"]},
        ),
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
    list_filter = [
        "touchpoint__stage",
        recent_filter("occurred_at", pgettext_lazy("list filter title", "occurred")),
    ]
    list_select_related = ["customer", "touchpoint"]
    # Ids are opaque: a partial match on them is noise, so they match exactly.
    # Exact lookups: each one an index (source/external id, order reference, customer email).
    search_fields = ["external_id__exact", "order_ref__exact", "customer__email__exact"]
    search_help_text = _("An exact external id, order reference or customer email.")
    autocomplete_fields = ["customer", "touchpoint"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["customer", "touchpoint", "occurred_at"]}),
        (
            pgettext_lazy("fieldset: where an interaction came from", "Source"),
            {"fields": ["source", "external_id"]},
        ),
        (
            pgettext_lazy("fieldset: a purchase", "Order"),
            {"fields": ["order_ref", "amount", "currency"]},
        ),
        (pgettext_lazy("fieldset: other details", "More"), {"fields": ["metadata", "created_at"]}),
    ]

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_display(self, obj: Interaction) -> str:
        if obj.amount is None:
            return ""
        # In the staff member's notation (49,90 in Polish); the CSV export renders it untranslated.
        return f"{number_format(obj.amount, 2)} {obj.currency}".strip()
