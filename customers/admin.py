from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.translation import get_language_info, gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers.csv_import import CustomerImporter
from customers.models import AuditAction, AuditEntry, Customer
from customers.privacy import audit_record, customer_erase, customer_export
from customers.profile import profile_panels
from customers.signals import customer_segment_changed
from cxcrm.admin_lists import BigTableAdminMixin, fixed_choices_filter, recent_filter
from cxcrm.csv_export import CsvExportMixin
from cxcrm.csv_import import CsvImportMixin

# The audit trail's object types and channels, as written by audit_record's callers: its
# filters list these rather than reading the distinct values of the whole trail.
AUDIT_OBJECT_TYPES = [
    ("customer", pgettext_lazy("audit object type", "customer")),
    ("ticket", pgettext_lazy("audit object type", "ticket")),
]
AUDIT_CHANNELS = [
    ("admin", pgettext_lazy("audit channel", "admin")),
    ("api", pgettext_lazy("audit channel", "API")),
    ("system", pgettext_lazy("audit channel", "system")),
]


class AuditedViewMixin:
    """Records in the audit trail every time staff open an object's page (GET of its change
    view); the admin sets ``audit_object_type``."""

    audit_object_type: str

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "GET" and object_id.isdigit():
            audit_record(
                actor=request.user,
                action=AuditAction.VIEWED,
                object_type=self.audit_object_type,
                object_id=object_id,
            )
        return super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )


class ConsentFilter(admin.SimpleListFilter):
    """Why a customer can or cannot be emailed; mirrors CustomerQuerySet.reachable()."""

    title = pgettext_lazy("list filter title", "consent")
    parameter_name = "consent"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [
            ("reachable", pgettext_lazy("customer consent", "Reachable")),
            ("unsubscribed", pgettext_lazy("customer consent", "Unsubscribed")),
            ("suppressed", pgettext_lazy("customer consent", "Suppressed")),
            ("erased", pgettext_lazy("customer consent", "Erased")),
            ("no_email", _("No email address")),
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
class CustomerAdmin(
    BigTableAdminMixin, AuditedViewMixin, CsvImportMixin, CsvExportMixin, admin.ModelAdmin
):
    # The audit trail: every staff view, change, export and erasure of a customer.
    audit_object_type = "customer"
    # Import CSV / Export CSV buttons (templates/admin/customers/customer/change_list.html).
    change_list_template = "admin/customers/customer/change_list.html"
    csv_importer = CustomerImporter

    def csv_exported(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        # Personal data left the system: the privacy audit trail says who took how much.
        count = queryset.count()
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORTED,
            object_type="customer",
            object_id=f"csv:{count}",
            summary=f"CSV export of {count} customers",
        )

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
    # Languages from settings.LANGUAGES, not SELECT DISTINCT over the customers. Country and
    # segment have no list of their own: ?country=PL or ?segment=vip in the URL filters by them.
    list_filter = [
        ConsentFilter,
        fixed_choices_filter(
            "language",
            pgettext_lazy("list filter title", "language"),
            lambda: list(settings.LANGUAGES),
        ),
        recent_filter("created_at", pgettext_lazy("list filter title", "created")),
    ]
    # email has an index (exact and prefix lookups); name has none.
    search_fields = ["email", "name", "=external_id"]
    search_help_text = _(
        "Exact external id, or part of an email or name (a part of a name reads every customer:"
        " slow on a big list)."
    )
    # No relation is displayed; an empty tuple still makes the intent (no per-row query) explicit.
    list_select_related = ()
    readonly_fields = [
        "soft_bounce_count",
        "erased_at",
        "created_at",
        "updated_at",
        "tags",
        "attributes",
    ]
    # The page is a profile (templates/admin/customers/customer/change_form.html): the header,
    # attributes and history above; below, the plain fields in one compact form for those who
    # may edit. Tags and attributes (JSON) are shown, not typed: the API and imports set them.
    change_form_template = "admin/customers/customer/change_form.html"
    fieldsets = [
        (None, {"fields": [("name", "email"), ("phone", "external_id")]}),
        (None, {"fields": [("language", "country", "segment")]}),
        (
            _("Consent"),
            {
                "fields": [
                    ("unsubscribed_at", "suppressed_at", "suppression_reason"),
                    ("soft_bounce_count", "erased_at"),
                    ("created_at", "updated_at"),
                ],
                "classes": ["collapse"],
            },
        ),
        # As stored (read-only: the API and imports set them); the header shows them as a table.
        (
            _("Tags and attributes, as stored"),
            {"fields": ["tags", "attributes"], "classes": ["collapse"]},
        ),
    ]
    add_fieldsets = [
        (None, {"fields": [("name", "email"), ("phone", "external_id")]}),
        (None, {"fields": [("language", "country", "segment")]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        return self.add_fieldsets if obj is None else self.fieldsets

    # An erased customer is a tombstone: nothing on the page may be edited or saved again.
    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        if obj is not None and obj.erased_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        if obj is not None and obj.erased_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Customer | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context["profile"] = customer_profile(obj)
            context["profile_panels"] = [] if obj.erased_at else profile_panels(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    actions = ["export_json", "erase_personal_data"]

    @admin.display(boolean=True, description=pgettext_lazy("customer consent", "Reachable"))
    def reachable(self, obj: Customer) -> bool:
        return obj.is_reachable

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "segment" in form.changed_data:
            # Figures are grouped by segment: the apps above recompute this customer's days.
            customer_segment_changed.send(sender=Customer, customer_id=obj.pk)
        audit_record(
            actor=request.user,
            action=AuditAction.CHANGED if change else AuditAction.ADDED,
            object_type="customer",
            object_id=obj.pk,
            summary=", ".join(form.changed_data)[:255],
        )

    # The rights of access and erasure are Admin's (cxcrm.roles), not everyone who reads
    # customers: they are custom permissions of Customer.
    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.export_customer")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.erase_customer")

    @admin.action(description=_("Export all their data (JSON)"), permissions=["export"])
    def export_json(self, request: HttpRequest, queryset: QuerySet[Customer]) -> HttpResponse:
        ids = list(queryset.values_list("id", flat=True)[:100])
        exports = [customer_export(customer_id=pk, actor=request.user) for pk in ids]
        body = json.dumps(
            exports[0] if len(exports) == 1 else exports,
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            indent=2,
        )
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        name = f"customer-{ids[0]}" if len(ids) == 1 else f"customers-{len(ids)}"
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response

    @admin.action(
        description=_("Erase personal data (keeps anonymous scores)"), permissions=["erase"]
    )
    def erase_personal_data(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponse | None:
        if request.POST.get("confirm") != "yes":
            # A destructive action asks first, listing what it will erase.
            return TemplateResponse(
                request,
                "admin/customers/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": gettext("Erase personal data?"),
                    "customers": queryset[:100],
                    "count": queryset.count(),
                    "ids": list(queryset.values_list("id", flat=True)[:100]),
                    "opts": self.model._meta,
                    "action": "erase_personal_data",
                },
            )
        ids = list(queryset.values_list("id", flat=True)[:100])
        for pk in ids:
            customer_erase(customer_id=pk, actor=request.user)
        text = ngettext(
            "Erased the personal data of %(count)d customer; their scores stay, anonymous.",
            "Erased the personal data of %(count)d customers; their scores stay, anonymous.",
            len(ids),
        ) % {"count": len(ids)}
        self.message_user(request, text, messages.SUCCESS)
        return None


CONSENT_LABELS = {
    "erased": pgettext_lazy("customer consent", "Erased"),
    "suppressed": pgettext_lazy("customer consent", "Suppressed"),
    "unsubscribed": pgettext_lazy("customer consent", "Unsubscribed"),
    "no email": pgettext_lazy("customer consent", "No email"),
    "subscribed": pgettext_lazy("customer consent", "Subscribed"),
}


def customer_profile(customer: Customer) -> dict[str, Any]:
    """The page's header: who they are, in words (language by name, in the staff member's
    language), and whether we may email them and why not. ``consent`` is a key (a CSS class),
    ``consent_label`` what the page shows."""
    try:
        language = get_language_info(customer.language)["name_translated"]
    except KeyError:
        language = customer.language
    if customer.erased_at:
        consent = "erased"
        reason = gettext("personal data erased on %(date)s") % {
            "date": date_format(customer.erased_at)
        }
    elif customer.suppressed_at:
        consent = "suppressed"
        reason = customer.get_suppression_reason_display() or ""
    elif customer.unsubscribed_at:
        consent = "unsubscribed"
        reason = pgettext("unsubscribed since a date", "since %(date)s") % {
            "date": date_format(customer.unsubscribed_at)
        }
    elif not customer.email:
        consent, reason = "no email", gettext("no email address")
    else:
        consent, reason = "subscribed", ""
    tags = customer.tags if isinstance(customer.tags, list) else []
    attributes = customer.attributes if isinstance(customer.attributes, dict) else {}
    return {
        "language": language,
        "consent": consent,
        "consent_label": CONSENT_LABELS[consent],
        "consent_reason": reason,
        "tags": [str(t) for t in tags],
        "attributes": [
            (str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
            for k, v in sorted(attributes.items())
        ],
    }


@admin.register(AuditEntry)
class AuditEntryAdmin(BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "channel", "summary"]
    list_filter = [
        "action",
        fixed_choices_filter(
            "object_type",
            pgettext_lazy("list filter title", "object type"),
            lambda: AUDIT_OBJECT_TYPES,
        ),
        fixed_choices_filter(
            "channel", pgettext_lazy("list filter title", "channel"), lambda: AUDIT_CHANNELS
        ),
        recent_filter("at", pgettext_lazy("list filter title", "when")),
    ]
    search_fields = ["actor_label", "=object_id"]
    search_help_text = _("Exact object id, or part of who did it (reads the whole trail: slow).")
    list_select_related = ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
