"""Model rows written straight to PostgreSQL (a COPY, or one hand-written statement) with the
values ``Model.save()`` would write: each field's ``pre_save`` (defaults, ``auto_now``) and
``get_db_prep_save``. For the hot paths where the ORM's per-row cost matters (the bulk API's
invitations, the dispatcher's sent emails)."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Field, Model

# From this many rows on, a batch goes to PostgreSQL by COPY; below, one ordinary statement
# (a COPY, or the temporary table it may need, costs more than it saves for a few rows).
COPY_FROM = 50


@functools.cache
def insert_fields(model: type[Model]) -> list[Field]:
    """The columns an INSERT of ``model`` writes (all concrete fields but the primary key)."""
    return [f for f in model._meta.local_concrete_fields if not f.primary_key]


def insert_values(obj: Model) -> list[Any]:
    """The values of ``insert_fields(type(obj))`` as Model.save() would send them."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in insert_fields(type(obj))]


def copy_in(rows: list[Model]) -> None:
    """COPY ``rows`` (all of one model, new) into their table. Not an ``execute()``, so
    Django's query log does not see it."""
    model = type(rows[0])
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in insert_fields(model))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(insert_values(row))
