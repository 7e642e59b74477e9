"""Personal data: export everything held about a customer, erase it, retention, audit trail.

Erasure removes what identifies the person (identity, free text, email copies) and keeps what
the metrics need (scores, categories, dates, touchpoints, segment), so NPS and the loop KPIs
stay true after a customer is forgotten.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Model, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from customers.events import webhook_subject
from customers.models import AuditAction, AuditEntry, Customer
from customers.signals import customer_activity, customer_erasing, customer_exporting
from cxcrm.webhooks.events import webhook_deliveries_erase

ERASED_TEXT = "[erased]"


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: object,
    summary: str = "",
    channel: str = "admin",
) -> AuditEntry:
    is_user = getattr(actor, "pk", None) is not None
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_label=(actor.get_username() if is_user else str(actor or "system"))[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        summary=summary[:255],
        channel=channel,
    )


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_export(
    *, customer_id: int, actor: Any = None, channel: str = "admin"
) -> dict[str, Any]:
    """Everything held about one customer, as JSON-ready data (right of access)."""
    customer = Customer.objects.get(pk=customer_id)
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "customer": {
            "id": customer.pk,
            "external_id": customer.external_id,
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "language": customer.language,
            "country": customer.country,
            "segment": customer.segment,
            "tags": customer.tags,
            "attributes": customer.attributes,
            "unsubscribed_at": iso(customer.unsubscribed_at),
            "suppressed_at": iso(customer.suppressed_at),
            "suppression_reason": customer.suppression_reason,
            "erased_at": iso(customer.erased_at),
            "created_at": iso(customer.created_at),
        },
    }
    for _receiver, sections in customer_exporting.send(sender=Customer, customer=customer):
        data.update(sections)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORTED,
        object_type="customer",
        object_id=customer.pk,
        channel=channel,
    )
    return data


@transaction.atomic
def customer_erase(*, customer_id: int, actor: Any = None, channel: str = "admin") -> Customer:
    """Right to erasure: remove personal data everywhere, keep anonymous scores. Idempotent.

    Every row that names the customer is linked to them (a foreign key, a webhook subject, or
    for inbound mail their address), so each app scrubs its rows with a few bulk updates: no
    text search, no per-row save, one transaction."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    now = timezone.now()
    customer_erasing.send(sender=Customer, customer=customer)
    webhook_deliveries_erase(subject=webhook_subject(customer.pk))
    customer.external_id = None
    customer.email = ""
    customer.name = ""
    customer.phone = ""
    customer.country = ""
    customer.tags = []
    customer.attributes = {}
    customer.unsubscribed_at = customer.unsubscribed_at or now
    customer.erased_at = customer.erased_at or now
    customer.save()
    admin_log_scrub(Customer, [customer.pk], label=f"Erased customer #{customer.pk}")
    audit_record(
        actor=actor,
        action=AuditAction.ERASED,
        object_type="customer",
        object_id=customer.pk,
        channel=channel,
    )
    return customer


def admin_log_scrub(model: type[Model], ids: Iterable[object] | Any, *, label: str) -> None:
    """Django's admin history keeps each object's name (its str()) and the changed fields:
    erasure replaces both for these objects of ``model``. ``ids`` may be a queryset of
    ``model``, run as a subquery (LogEntry.object_id is text, so the key is cast)."""
    if isinstance(ids, QuerySet):
        ids = ids.order_by().annotate(as_text=Cast("pk", CharField())).values("as_text")
    else:
        ids = [str(pk) for pk in ids]
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=ids
    ).update(object_repr=label, change_message="[]")


def customers_inactive_since(cutoff: datetime) -> Any:
    """Customers with no interaction, answer or ticket activity since the cutoff."""
    recent = [
        condition
        for _receiver, conditions in customer_activity.send(sender=Customer, cutoff=cutoff)
        for condition in conditions
    ]
    inactive = Customer.objects.filter(erased_at__isnull=True, created_at__lt=cutoff)
    return inactive.exclude(functools.reduce(operator.or_, recent)) if recent else inactive


def customers_erase_inactive(*, now: datetime | None = None, limit: int = 500) -> int:
    """The retention rule: erase customers inactive for CXCRM_RETENTION_MONTHS (0 = keep)."""
    months = int(settings.CXCRM_RETENTION_MONTHS)
    if months <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=30 * months)
    ids = list(customers_inactive_since(cutoff).values_list("id", flat=True)[:limit])
    for customer_id in ids:
        customer_erase(customer_id=customer_id, actor="retention policy", channel="system")
    return len(ids)
