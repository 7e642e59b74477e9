"""CSV import of interactions in the admin (the core is cxcrm.csv_import)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.selectors import customer_resolve_many
from cxcrm.csv_import import ERROR, NEW, UNCHANGED, Importer, RowResult
from touchpoints.models import Interaction
from touchpoints.selectors import touchpoint_resolve_many
from touchpoints.services import InteractionInput, interactions_record_bulk

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENTS = Decimal("0.01")


class InteractionImporter(Importer):
    model = Interaction
    columns = (
        "source",
        "external_id",
        "customer_external_id",
        "touchpoint",
        "occurred_at",
        "order_ref",
        "amount",
        "currency",
    )
    required = ("source", "external_id", "customer_external_id", "touchpoint", "occurred_at")
    help = format_lazy(
        _(
            "One interaction (a purchase, a visit…) per row. (source, external_id) identifies it: "
            "a row imported before is skipped, never doubled. The customer is named by its "
            "external_id (import customers first), the touchpoint by its slug, occurred_at in ISO "
            "8601 (2025-03-01T14:30:00+01:00; without an offset it is read in {time_zone}). New "
            "interactions schedule their surveys' invitations."
        ),
        time_zone=settings.TIME_ZONE,
    )

    def _row(self, result: RowResult) -> dict[str, Any] | None:
        cells = result.cells
        for name, length in (("source", 64), ("external_id", 191), ("order_ref", 120)):
            if len(cells.get(name, "")) > length:
                result.fail(
                    ngettext(
                        "%(column)s: at most %(count)d character.",
                        "%(column)s: at most %(count)d characters.",
                        length,
                    )
                    % {"column": name, "count": length}
                )
        if not _SLUG.match(cells["touchpoint"]) or len(cells["touchpoint"]) > 80:
            result.fail(
                gettext("touchpoint: give the touchpoint's slug (letters, digits, - and _).")
            )
        try:
            occurred_at = parse_datetime(cells["occurred_at"])
        except ValueError:
            occurred_at = None
        if occurred_at is None:
            result.fail(
                gettext("occurred_at: not an ISO 8601 date and time, e.g. 2025-03-01T14:30:00Z.")
            )
        elif timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at)
        amount: Decimal | None = None
        if cells.get("amount", ""):
            if _AMOUNT.match(cells["amount"]):
                try:
                    amount = Decimal(cells["amount"]).quantize(_CENTS)
                except InvalidOperation:
                    result.fail(gettext("amount: not a number."))
            else:
                result.fail(
                    gettext("amount: a number with at most 2 decimals and a dot, e.g. 49.90.")
                )
        currency = cells.get("currency", "").upper()
        if currency and not _CURRENCY.match(currency):
            result.fail(gettext("currency: a three-letter ISO 4217 code such as EUR."))
        if result.status == ERROR:
            return None
        return {
            "occurred_at": occurred_at,
            "source": cells["source"],
            "external_id": cells["external_id"],
            "order_ref": cells.get("order_ref", ""),
            "amount": amount,
            "currency": currency,
        }

    def check_rows(self, results: list[RowResult]) -> None:
        valid = [(r, self._row(r)) for r in results]
        valid = [(r, v) for r, v in valid if v is not None]
        # Three queries for the whole file, whatever its length.
        customers = customer_resolve_many({r.cells["customer_external_id"] for r, _ in valid})
        touchpoints = touchpoint_resolve_many({r.cells["touchpoint"] for r, _ in valid})
        keys = {(v["source"], v["external_id"]) for _, v in valid}
        known = set(
            Interaction.objects.filter(
                source__in={s for s, _ in keys}, external_id__in={e for _, e in keys}
            ).values_list("source", "external_id")
        )
        seen: dict[tuple[str, str], int] = {}
        for result, values in valid:
            customer = customers.get(result.cells["customer_external_id"])
            touchpoint = touchpoints.get(result.cells["touchpoint"])
            if customer is None:
                result.fail(
                    gettext("customer_external_id: no customer %(value)s (import customers first).")
                    % {"value": repr(result.cells["customer_external_id"])}
                )
            if touchpoint is None:
                result.fail(
                    gettext("touchpoint: no touchpoint with slug %(value)s.")
                    % {"value": repr(result.cells["touchpoint"])}
                )
            if result.status == ERROR:
                continue
            key = (values["source"], values["external_id"])
            if key in known:
                result.status, result.note = UNCHANGED, gettext("already imported; skipped")
            elif key in seen:
                note = gettext("same as line %(line)s; recorded once") % {"line": seen[key]}
                result.status, result.note = UNCHANGED, note
            else:
                seen[key] = result.line
                result.status = NEW
            result.data = InteractionInput(
                customer_id=customer.pk, touchpoint_id=touchpoint.pk, metadata={}, **values
            )

    def write(self, results: list[RowResult], request: HttpRequest) -> str:
        items = [r.data for r in results if r.status == NEW]
        outcome = interactions_record_bulk(items=items) if items else []
        created = sum(1 for o in outcome if o.created)
        invitations = sum(o.invitations for o in outcome)
        skipped = len(results) - created
        # Labels with a colon: the counts stay out of the words, whatever the plural forms.
        imported = gettext(
            "Interactions imported. New: %(created)d, already there or repeated: %(skipped)d."
        ) % {"created": created, "skipped": skipped}
        scheduled = ngettext(
            "%(count)d survey invitation scheduled.",
            "%(count)d survey invitations scheduled.",
            invitations,
        ) % {"count": invitations}
        return f"{imported} {scheduled}"
