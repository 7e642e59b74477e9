"""Reads that PostgreSQL keeps prepared (parsed and planned once per connection).

Django runs psycopg with ``prepare_threshold=None``, which turns preparing off on the
connection, and with client-side binding (its cursors are psycopg ``ClientCursor``\\ s, which
never prepare), so PostgreSQL parses and plans every statement it is sent: safe behind any
connection pooler. For the survey page's one query (a four-table join by token) planning
was most of PostgreSQL's time: ~0.23 ms of its CPU a request against ~0.02 ms prepared, and
~0.1 ms of ours binding the parameter into the SQL text against ~0.03 ms (measured on the
bench's database, 20,000 invitations).

``fetchone_prepared`` and ``fetchall_prepared`` run one statement through a plain psycopg
``Cursor`` (server-side binding) with ``prepare=True`` on Django's own connection, after the
connection's health check, through Django's cursor wrapper (so the query log,
``CaptureQueriesContext`` and execute wrappers see it, and errors are Django's). Only
statements that ask are prepared: the connection's ``prepare_threshold`` is set so high that
the statements of other raw psycopg cursors are never prepared automatically, and Django's
own cursors cannot prepare. ``StatementCache`` keeps the SQL of querysets compiled once.

A prepared statement lives on one server connection. Behind a pooler in transaction mode
that does not carry prepared statements across server connections (PgBouncer before 1.21,
or with ``max_prepared_statements = 0``) set ``DATABASE_PREPARED_STATEMENTS=false``: these
reads then go through Django's cursor like any other. A statement that has gone missing all
the same, or whose plan no longer fits (a migration changed the type of a column it reads:
"cached plan must not change result type"), closes the connection, and outside a transaction
the read is tried once more on a fresh one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import QuerySet

# prepare_threshold: how many times psycopg runs a statement before it prepares it by
# itself. None (Django's) disables prepare=True as well; this many is never reached.
ONLY_WHEN_ASKED = 2**31 - 1

# What a prepared statement that went stale raises: gone from the server connection
# (InvalidSqlStatementName), or planned for columns whose type has changed since.
STALE = (psycopg.errors.InvalidSqlStatementName, psycopg.errors.FeatureNotSupported)


class _PreparingCursor(psycopg.Cursor[Any]):
    """Server-side binding, and every statement prepared (Django's wrapper passes no flags)."""

    def execute(  # type: ignore[override]
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None
    ) -> _PreparingCursor:
        super().execute(query, params, prepare=True, binary=binary)
        return self


def enabled() -> bool:
    return connection.vendor == "postgresql" and settings.CXCRM_PREPARED_STATEMENTS


def fetchone_prepared(sql: str, params: Sequence[Any] | None) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (``%s`` placeholders), prepared on PostgreSQL when enabled."""
    rows = _run(sql, params, one=True)
    return rows[0] if rows else None


def fetchall_prepared(
    sql: str, params: Sequence[Any] | None, *, binary: bool = False
) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` (``%s`` placeholders), prepared on PostgreSQL when enabled.

    ``binary`` asks PostgreSQL for its binary format, which psycopg reads in C: for the
    triage page's 50 rows, 0.71 → 0.12 ms of our CPU, most of it the date-times that Django's
    loader parses from text in Python. Only for columns whose values are the same either way
    (numbers, text, dates and times); not for json (Django reads jsonb as text and parses it
    in the field, psycopg's binary loader would parse it already)."""
    return _run(sql, params, one=False, binary=binary)


def _run(
    sql: str, params: Sequence[Any] | None, *, one: bool, binary: bool = False
) -> list[tuple[Any, ...]]:
    if not enabled():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return _rows(cursor, one)
    try:
        return _fetch(sql, params, one, binary)
    except DatabaseError as exc:
        if not isinstance(exc.__cause__, STALE):
            raise
        # The statement is gone or unfit on this connection, and psycopg still lists it as
        # prepared: only a new connection starts afresh. Inside a transaction the error has
        # already aborted it, so it goes up (the connection closes when the transaction ends).
        if connection.in_atomic_block:
            connection.close()
            raise
        connection.close()
        return _fetch(sql, params, one, binary)


def _fetch(
    sql: str, params: Sequence[Any] | None, one: bool, binary: bool
) -> list[tuple[Any, ...]]:
    # The connection itself, looked up once: django.db.connection is a proxy that finds this
    # thread's connection again on every attribute (~2 µs each, a dozen here).
    connection = connections[DEFAULT_DB_ALIAS]
    # What connection.cursor() does before it makes a cursor: the health check, connecting.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    # One cursor per connection, kept: a new one makes its value loaders afresh (the
    # timestamptz loader reads the session's time zone each time), ~20 µs a read. The
    # connection object is Django's per thread, and the cursor goes with the psycopg
    # connection it was made on; one for each result format.
    name = "_cxcrm_prepared_binary_cursor" if binary else "_cxcrm_prepared_cursor"
    kept = getattr(connection, name, None)
    if kept is None or kept.connection is not raw or kept.closed:
        if raw.prepare_threshold is None:
            raw.prepare_threshold = ONLY_WHEN_ASKED
        kept = _PreparingCursor(raw)
        kept.format = psycopg.pq.Format.BINARY if binary else psycopg.pq.Format.TEXT
        setattr(connection, name, kept)
    if connection.queries_logged:
        wrapped = connection.make_debug_cursor(kept)
        wrapped.execute(sql, params)
        # Django reads the logged text back from psycopg's client-side query, which a
        # server-side prepared statement does not have (it logs None): log it bound here.
        logged = connection.queries_log[-1]
        if logged["sql"] is None:
            logged["sql"] = connection.ops.compose_sql(sql, params)
    else:
        wrapped = connection.make_cursor(kept)
        wrapped.execute(sql, params)
    return _rows(wrapped, one)


def _rows(cursor: Any, one: bool) -> list[tuple[Any, ...]]:
    if one:
        row = cursor.fetchone()
        return [] if row is None else [row]
    return cursor.fetchall()  # type: ignore[no-any-return]


# A queryset's SQL with its values bound into the text (compile_queryset): run it with no
# parameters.
Compiled = str


class StatementCache:
    """The SQL of querysets, compiled once per key (per process), values bound.

    Django compiles a queryset to SQL on every evaluation, ~0.5 ms for the triage page's
    five-table select on this machine. A page asked for again with the same filters builds the
    same queryset, whose SQL and parameters are the same: the caller names that by a hashable
    ``key`` that covers everything the queryset depends on (a ``None`` key compiles every
    time, e.g. for filters that depend on the clock); the queryset is given as a function,
    so that a known key does not even build it. The most recently used ``size`` keys are
    kept. ``get`` gives ``None`` for a queryset that can match nothing (Django then runs
    no query: ``pk__in=[]``, ``none()``)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Compiled | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable | None, queryset: Callable[[], QuerySet[Any]]) -> Compiled | None:
        """The compiled ``queryset()``; it is only called (built) when the key is new."""
        if key is None:
            return compile_queryset(queryset())
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        found = compile_queryset(queryset())
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found


def compile_queryset(queryset: QuerySet[Any]) -> Compiled | None:
    """The queryset's SQL with its parameters bound into the text (psycopg's quoting, as
    Django logs queries) and no parameters left.

    The statement is then planned for these values: a prepared statement with parameters is
    planned generically after five runs, without them, and a generic plan cannot use a partial
    index whose condition names the values. The triage queue's capped count went from
    ``ticket_open_queue_idx`` (0.2 ms) to reading 44,000 entries of another index and
    filtering them (5.7 ms) on a million tickets. Bound values also make one statement per
    key, which the key already is."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    # Run without parameters (None), psycopg reads no placeholders in the text, so a % inside
    # a bound value stays as it is.
    return connection.ops.compose_sql(sql, params) if params else sql
