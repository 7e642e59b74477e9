"""A customer's comment insights in the privacy services: exported with their texts' topics
and sentiment; on erasure the text and its embedding (what the customer wrote) go."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.dispatch import receiver
from django.utils import timezone

from customers.models import Customer
from customers.privacy import ERASED_TEXT, iso
from customers.signals import customer_erasing, customer_exporting
from feedback.inbound.models import InboundEmail
from feedback.insights.models import CommentInsight, InsightSource
from feedback.insights.selectors import insights_with_topics


def _of(customer: Customer) -> Any:
    """Their rows, and rows filed before the customer link was known: through their source's
    (an answer, a ticket) or, for mail that matched nothing, the sender's address."""
    mail = (
        list(
            InboundEmail.objects.filter(from_email__iexact=customer.email).values_list(
                "pk", flat=True
            )
        )
        if customer.email
        else []
    )
    return CommentInsight.objects.filter(
        Q(customer=customer)
        | Q(response__customer=customer)
        | Q(ticket__customer=customer)
        | Q(source=InsightSource.INBOUND, source_id__in=mail)
    )


@receiver(customer_exporting, sender=Customer, dispatch_uid="insights-export")
def insights_export(sender: Any, customer: Customer, **kwargs: Any) -> dict[str, Any]:
    rows = insights_with_topics(_of(customer).order_by("occurred_at", "pk"))
    return {
        "comment_insights": [
            {
                "source": row.source,
                "text": row.text,
                "occurred_at": iso(row.occurred_at),
                "language": row.language,
                "sentiment": row.sentiment,
                "topics": [a.topic.slug for a in row.live_topics],
            }
            for row in rows
        ]
    }


@receiver(customer_erasing, sender=Customer, dispatch_uid="insights-erase")
def insights_erase(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # The words and their embedding go; the topics and sentiment stay, anonymous, for the
    # figures (as the answers' scores do). A row without an embedding is never enriched
    # again (feedback.insights.selectors), so the placeholder is never analysed.
    _of(customer).update(
        text=ERASED_TEXT,
        embedding=None,
        enriched_at=Coalesce("enriched_at", Value(timezone.now())),
    )
