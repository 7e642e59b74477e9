"""CSV import of customers in the admin (the core is cxcrm.csv_import)."""

from __future__ import annotations

from collections import Counter

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import AuditAction, Customer
from customers.privacy import audit_record
from customers.services import CustomerError, customer_upsert
from cxcrm.csv_import import NEW, UNCHANGED, UPDATE, CsvFileError, Importer, RowResult, field_errors


class CustomerImporter(Importer):
    model = Customer
    columns = ("external_id", "email", "name", "phone", "language", "country", "segment")
    required = ("external_id",)
    help = _(
        "One customer per row, matched on external_id: a new id creates the customer, a known one "
        "updates it. An empty cell keeps the stored value (an import never blanks data)."
    )

    def has_permission(self, model_admin: admin.ModelAdmin, request: HttpRequest) -> bool:
        # Rows may update existing customers as well as add new ones.
        return model_admin.has_add_permission(request) and model_admin.has_change_permission(
            request
        )

    def check_rows(self, results: list[RowResult]) -> None:
        ids = {r.cells["external_id"] for r in results}
        existing = {c.external_id: c for c in Customer.objects.filter(external_id__in=ids)}
        seen: dict[str, int] = {}
        for result in results:
            external_id = result.cells["external_id"]
            if external_id in seen:
                result.fail(
                    gettext("external_id %(value)s is also on line %(line)s.")
                    % {"value": repr(external_id), "line": seen[external_id]}
                )
                continue
            seen[external_id] = result.line
            values = {
                name: result.cells[name] for name in self.columns[1:] if result.cells.get(name, "")
            }
            if "country" in values:
                values["country"] = values["country"].upper()
            if "language" in values:
                values["language"] = values["language"].lower()
            customer = existing.get(external_id)
            if customer is not None and customer.erased_at is not None:
                result.fail(gettext("This customer was erased; their data cannot be set again."))
                continue
            # Validated by the model's own rules, as customer_upsert does before saving.
            candidate = Customer(external_id=external_id)
            if customer is not None:
                for name in self.columns[1:]:
                    setattr(candidate, name, getattr(customer, name))
            changed = [
                n for n, v in values.items() if customer is None or getattr(customer, n) != v
            ]
            for name, value in values.items():
                setattr(candidate, name, value)
            try:
                candidate.full_clean(
                    exclude=["tags", "attributes"],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                for message in field_errors(exc):
                    result.fail(message)
                continue
            if customer is None:
                result.status = NEW
            elif changed:
                # Translators: %(columns)s lists CSV column names (not translated).
                note = gettext("changes %(columns)s") % {"columns": ", ".join(changed)}
                result.status, result.note = UPDATE, note
            else:
                result.status = UNCHANGED
            result.data = {n: values[n] for n in changed} if customer else values

    def write(self, results: list[RowResult], request: HttpRequest) -> str:
        counts: Counter[str] = Counter()
        for result in results:
            if result.status == UNCHANGED:
                counts["unchanged"] += 1
                continue
            try:
                _customer, created = customer_upsert(
                    external_id=result.cells["external_id"], **result.data
                )
            except (CustomerError, ValidationError) as exc:
                messages_ = field_errors(exc) if isinstance(exc, ValidationError) else [str(exc)]
                raise CsvFileError(
                    gettext("Line %(line)s: %(errors)s")
                    % {"line": result.line, "errors": " ".join(messages_)}
                ) from exc
            counts["created" if created else "updated"] += 1
        audit_record(
            actor=request.user,
            action=AuditAction.CHANGED,
            object_type="customer",
            object_id=f"csv:{counts['created'] + counts['updated']}",
            summary=f"CSV import: {counts['created']} new, {counts['updated']} updated",
        )
        # Labels with a colon: the counts stay out of the words, whatever the plural forms.
        return gettext(
            "Customers imported. New: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d."
        ) % {
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
        }
