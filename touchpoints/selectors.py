"""Reads of touchpoints shared by every part that names one (API, bulk ingest, CSV import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q

from touchpoints.models import Touchpoint

# How a touchpoint is named: our id (an int, e.g. from a CSV import's check) or its slug (a str).
TouchpointRef = int | str


def touchpoint_resolve_many(
    refs: Iterable[TouchpointRef], *, only: Sequence[str] | None = None
) -> dict[TouchpointRef, Touchpoint]:
    """The touchpoints these references name, by reference, in one query; a reference that
    names none is absent from the result. The one rule for resolving a touchpoint reference.
    ``only``: the fields the caller reads (besides the id), as for customers."""
    refs = set(refs)
    ids = {ref for ref in refs if isinstance(ref, int)}
    slugs = {ref for ref in refs if isinstance(ref, str)}
    if not refs:
        return {}
    wanted = Q()
    if ids:
        wanted |= Q(pk__in=ids)
    if slugs:
        wanted |= Q(slug__in=slugs)
    found: dict[TouchpointRef, Touchpoint] = {}
    touchpoints = Touchpoint.objects.filter(wanted).order_by()
    if only is not None:
        touchpoints = touchpoints.only("slug", *only)
    for touchpoint in touchpoints:
        if touchpoint.pk in ids:
            found[touchpoint.pk] = touchpoint
        if touchpoint.slug in slugs:
            found[touchpoint.slug] = touchpoint
    return found
