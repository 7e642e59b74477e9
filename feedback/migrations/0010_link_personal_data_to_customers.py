"""Rows written before erasure could find them get their link to the customer: staff alerts
about a ticket, and webhook deliveries (by the customer id their payload already carries)."""

from django.db import migrations
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Concat


def link(apps, schema_editor):  # type: ignore[no-untyped-def]
    OutboundEmail = apps.get_model("feedback", "OutboundEmail")
    Ticket = apps.get_model("feedback", "Ticket")
    WebhookDelivery = apps.get_model("cxcrm", "WebhookDelivery")
    OutboundEmail.objects.filter(customer__isnull=True, ticket__isnull=False).update(
        customer_id=Subquery(Ticket.objects.filter(pk=OuterRef("ticket_id")).values("customer_id"))
    )
    # response.* and ticket.* name the customer in data.customer; customer.* in data.id.
    for prefixes, key in (
        (("response.", "ticket."), "payload__data__customer"),
        (("customer.",), "payload__data__id"),
    ):
        for prefix in prefixes:
            WebhookDelivery.objects.filter(subject="", event__startswith=prefix).filter(
                **{f"{key}__isnull": False}
            ).exclude(**{key: None}).update(
                subject=Concat(Value("customer:"), KT(key), output_field=CharField())
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cxcrm", "0003_webhookdelivery_subject"),
        ("feedback", "0009_inboundemail_from_upper_index"),
    ]

    operations = [migrations.RunPython(link, migrations.RunPython.noop)]
