"""The values ``Model.save()`` would write for a new row: each field's ``pre_save`` (defaults,
``auto_now``) and ``get_db_prep_save``.

Kept only for ``feedback/services/dispatch.py``, whose sent-email write goes back to the ORM on
the mail branch (issue #14); delete this module once that lands.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


def insert_fields(model: type[Model]) -> list[Field]:
    """The columns an INSERT of ``model`` writes (all concrete fields but the primary key)."""
    return [
        f
        for f in model._meta.get_fields()
        if getattr(f, "concrete", False) and not getattr(f, "primary_key", False)
    ]


def insert_values(obj: Model, db: BaseDatabaseWrapper | None = None) -> list[Any]:
    """The values of ``insert_fields(type(obj))`` as Model.save() would send them."""
    db = db or connections[DEFAULT_DB_ALIAS]
    return [f.get_db_prep_save(f.pre_save(obj, True), db) for f in insert_fields(type(obj))]
