"""The sign-in backends, with the signed-in user read by a prepared statement on PostgreSQL.

Every signed-in request reads its user (``AuthenticationMiddleware`` → the session's backend
→ ``get_user``). Django's ``ModelBackend`` does that through the ORM, a compiled query
(~0.4 ms of our CPU on this machine) that PostgreSQL then parses and plans. These backends
are Django's and allauth's with ``get_user`` reading the same row (the user by primary key,
every column) through ``cxcrm.prepared`` and building the instance as the ORM does
(``from_db``); signing in, permissions and everything else are theirs. On SQLite, or with
prepared statements turned off, ``get_user`` is theirs too.

The session names the backend that signed the user in, so sessions made under Django's and
allauth's own paths end (the user signs in once more) when these replace them in
``AUTHENTICATION_BACKENDS``.
"""

from __future__ import annotations

import functools
from typing import Any

from allauth.account import auth_backends
from django.contrib.auth import backends, get_user_model
from django.db import DEFAULT_DB_ALIAS, connection

from cxcrm import prepared


@functools.cache
def _user_statement() -> tuple[str, list[str]]:
    model = get_user_model()
    quote = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(quote(f.column) for f in fields)
    sql = (
        f"SELECT {columns} FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    return sql, [f.attname for f in fields]


class PreparedUserMixin:
    def get_user(self, user_id: Any) -> Any:
        if not prepared.enabled():
            return super().get_user(user_id)  # type: ignore[misc]
        sql, names = _user_statement()
        row = prepared.fetchone_prepared(sql, [user_id])
        if row is None:
            return None
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, names, list(row))
        return user if self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class ModelBackend(PreparedUserMixin, backends.ModelBackend):
    """Django's ModelBackend (username and password)."""


class AuthenticationBackend(PreparedUserMixin, auth_backends.AuthenticationBackend):
    """allauth's backend (email and password)."""
