"""``field__any_of=[...]``: membership in a long list as one array parameter on PostgreSQL.

``field__in=[...]`` writes one placeholder per value: for the 1,000-item batches of the API, a
query text of thousands of characters filled in on the client for every request. ``any_of``
sends ``= ANY(%s)`` with the list as one array on PostgreSQL and behaves exactly like ``in``
elsewhere. A custom lookup registered with ``register_lookup`` (Django's documented extension
point; ``as_postgresql`` is its documented per-vendor hook); bench/README.md has the figures.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any_of"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if self.rhs_is_direct_value():
            values = [v for v in self.rhs if v is not None]
            lhs, lhs_params = self.process_lhs(compiler, connection)
            field = self.lhs.output_field
            prepared = [field.get_db_prep_value(v, connection, prepared=True) for v in values]
            # Cast to the column's own type: an array of another type (psycopg sends small
            # integers as smallint[]) makes PostgreSQL compare across types, row by row,
            # against the whole array instead of using the index.
            return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", [*lhs_params, prepared]
        return super().as_sql(compiler, connection)


Field.register_lookup(AnyOf)
# Foreign keys take plain ids here (``customer_id__any_of=[1, 2]``).
ForeignObject.register_lookup(AnyOf)
