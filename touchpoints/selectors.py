"""Reads of touchpoints shared by every part that names one (API, bulk ingest, CSV import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cxcrm.references import references_resolve
from touchpoints.models import Touchpoint

# How a touchpoint is named: our id (an int, e.g. from a CSV import's check) or its slug (a str).
TouchpointRef = int | str


def touchpoint_resolve_many(
    refs: Iterable[TouchpointRef], *, only: Sequence[str] | None = None
) -> dict[TouchpointRef, Touchpoint]:
    """The touchpoints these references name, by reference, in one query (the one rule for
    resolving a touchpoint reference); ``only`` as in ``references_resolve``."""
    return references_resolve(Touchpoint.objects.all(), refs, key="slug", only=only)
