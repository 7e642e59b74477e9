"""How an integrator names a row: our id (an int) or a natural key of the model (a str: a
customer's external id, a touchpoint's slug). Each app's selector states its key; the query
is this one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)
Ref = int | str


def references_resolve(
    queryset: QuerySet[M], refs: Iterable[Ref], *, key: str, only: Sequence[str] | None = None
) -> dict[Ref, M]:
    """The rows these references name, by reference, in one query; a reference that names
    nothing is absent from the result. ``only``: the fields the caller reads besides the id
    and the key (bulk ingest wants the ids of a thousand rows, not the rows)."""
    refs = set(refs)
    ids = {ref for ref in refs if isinstance(ref, int)}
    keys = {ref for ref in refs if isinstance(ref, str)}
    found: dict[Ref, M] = {}
    if not refs:
        return found
    # any_of: one array parameter however long the list (batches of 1,000 references).
    wanted = Q()
    if ids:
        wanted |= Q(pk__any_of=list(ids))
    if keys:
        wanted |= Q(**{f"{key}__any_of": list(keys)})
    rows = queryset.filter(wanted).order_by()
    if only is not None:
        rows = rows.only(key, *only)
    for row in rows:
        if row.pk in ids:
            found[row.pk] = row
        if getattr(row, key) in keys:
            found[getattr(row, key)] = row
    return found
