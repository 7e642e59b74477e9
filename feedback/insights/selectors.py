"""Reads of comment intelligence: the enrichment's work list, insights with their topics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from feedback.insights.models import CommentInsight, Topic, TopicAssignment


def _stale(version: str) -> Q:
    # Two ranges rather than ``<>``: each is a range scan of insight_version_idx.
    return Q(model_version__lt=version) | Q(model_version__gt=version)


def insights_pending_ids(
    *,
    version: str,
    limit: int,
    after: int = 0,
    stale: bool | None = None,
    since: datetime | None = None,
) -> list[int]:
    """Up to ``limit`` ids of rows to enrich past id ``after``, in id order: never enriched
    (``stale=False``; the partial index insight_pending_idx), enriched under another version
    (``stale=True``; erased rows, which keep no embedding, excepted), or both (None: the
    never enriched first)."""
    base = CommentInsight.objects.filter(pk__gt=after)
    if since is not None:
        base = base.filter(occurred_at__gte=since)
    ids: list[int] = []
    if stale is not True:
        ids = list(
            base.filter(enriched_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
    if stale is not False and len(ids) < limit:
        ids += list(
            base.filter(_stale(version), enriched_at__isnull=False, embedding__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)[: limit - len(ids)]
        )
    return ids


def insights_pending_count(*, version: str, since: datetime | None = None) -> int:
    base = CommentInsight.objects.all()
    if since is not None:
        base = base.filter(occurred_at__gte=since)
    return base.filter(
        Q(enriched_at__isnull=True) | (_stale(version) & Q(embedding__isnull=False))
    ).count()


def live_assignments() -> QuerySet[TopicAssignment]:
    """A comment's topics as shown: staff removals left out, best first."""
    return (
        TopicAssignment.objects.filter(removed=False)
        .select_related("topic")
        .only(
            "pk", "insight_id", "confidence", "by_staff", "topic__id", "topic__slug", "topic__name"
        )
        .order_by("-by_staff", "-confidence", "topic__name")
    )


def insights_with_topics(queryset: QuerySet[CommentInsight] | None = None) -> Any:
    """Insights with their live topics prefetched (``live_topics``): two queries a page."""
    queryset = CommentInsight.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(
        Prefetch("topics", queryset=live_assignments(), to_attr="live_topics")
    )


def insight_topics(insight_id: int) -> list[dict[str, Any]]:
    """One comment's topics for a page or the workspace panel (JSON-ready)."""
    return [
        {
            "id": a.topic.pk,
            "slug": a.topic.slug,
            "name": a.topic.name,
            "confidence": round(a.confidence, 3),
            "by_staff": a.by_staff,
        }
        for a in live_assignments().filter(insight_id=insight_id)
    ]


def topics_visible_to(principal: Any) -> QuerySet[Topic]:
    if principal is None:
        return Topic.objects.none()
    return Topic.objects.all()


def topic_choices() -> list[tuple[str, str]]:
    """(id, name) of every topic, active first: the filters' and correction menus' choices."""
    return [
        (str(pk), name)
        for pk, name in Topic.objects.order_by("-active", "name").values_list("pk", "name")
    ]
