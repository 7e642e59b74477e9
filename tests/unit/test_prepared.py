"""The survey link's prepared statement (cxcrm.prepared) and the socket-first health check
(cxcrm.postgresql): same rows as the ORM, only what asks is prepared, and both survive a
connection PostgreSQL dropped. PostgreSQL only (they skip on SQLite)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import Invitation, InvitationState, Response
from feedback.selectors import _survey_link_sql, survey_link
from feedback.services.responses import response_record
from tests.factories import CustomerFactory, InvitationFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
    ),
]

# Executing the SQL with server-side binding turns %s into $1.
SQL = _survey_link_sql().replace("%s", "$1")


def sent_invitation(**kwargs):  # type: ignore[no-untyped-def]
    return InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now(), **kwargs)


def prepared_statements() -> list[str]:
    connection.ensure_connection()
    with psycopg.ClientCursor(connection.connection) as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def drop_backend() -> None:
    """End this connection's server process, as a PostgreSQL restart would, and wait until
    the client's socket has heard of it."""
    pid = connection.connection.info.backend_pid
    with psycopg.connect(connection.connection.info.dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            gone = other.execute(
                "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()
            if gone == (True,):
                break
            time.sleep(0.02)
    time.sleep(0.05)


def same_as_orm(token: str) -> None:
    link = survey_link(token)
    assert link is not None
    found, response = link
    orm = Invitation.objects.select_related("survey", "customer").get(token=token)
    assert (found.pk, found.token, found.state, found.expires_at) == (
        orm.pk,
        orm.token,
        orm.state,
        orm.expires_at,
    )
    assert (found.survey.pk, found.survey.kind, found.survey.texts) == (
        orm.survey.pk,
        orm.survey.kind,
        orm.survey.texts,
    )
    assert found.survey.default_language == orm.survey.default_language
    assert (found.customer.pk, found.customer.language, found.customer.phone) == (
        orm.customer.pk,
        orm.customer.language,
        orm.customer.phone,
    )
    answer = Response.objects.filter(invitation=orm).first()
    if answer is None:
        assert response is None
    else:
        assert response is not None
        assert (response.pk, response.score, response.category, response.comment) == (
            answer.pk,
            answer.score,
            answer.category,
            answer.comment,
        )


@pytest.mark.django_db
def test_prepared_survey_link_reads_what_the_orm_reads() -> None:
    invitation = sent_invitation(customer=CustomerFactory(language="ru", phone="+7 900"))
    invitation.survey.texts = {"ru": {"question": "Как?"}}
    invitation.survey.save()
    same_as_orm(invitation.token)
    response_record(invitation_id=invitation.pk, score=9, comment="хорошо")
    same_as_orm(invitation.token)
    assert survey_link("no-such-token") is None


@pytest.mark.django_db
def test_only_the_survey_link_is_prepared_and_it_is_one_logged_query() -> None:
    invitation = sent_invitation()
    with CaptureQueriesContext(connection) as ctx:
        survey_link(invitation.token)
        survey_link(invitation.token)
    # 2 the invitation with its survey, customer and answer, twice (the prepared statement
    # goes through Django's cursor wrapper, so the query log sees it).
    assert len(ctx) == 2
    # Logged with its parameter bound, as Django logs its own queries.
    bound = connection.ops.compose_sql(_survey_link_sql(), [invitation.token])
    assert ctx.captured_queries[0]["sql"] == bound
    assert invitation.token in bound
    list(Invitation.objects.filter(token=invitation.token))  # an ORM read: never prepared
    assert prepared_statements() == [SQL]


@pytest.mark.django_db(transaction=True)
def test_turned_off_it_prepares_nothing_and_reads_the_same(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CXCRM_PREPARED_STATEMENTS = False
    connection.close()  # a fresh connection: nothing prepared on it yet
    invitation = sent_invitation()
    same_as_orm(invitation.token)
    assert prepared_statements() == []


@pytest.mark.django_db(transaction=True)
def test_a_statement_gone_from_the_server_is_prepared_again_on_a_new_connection() -> None:
    """What a transaction-mode pooler without prepared statement support would do: the
    server connection no longer knows the name psycopg has for it."""
    invitation = sent_invitation()
    assert survey_link(invitation.token) is not None
    name = connection.connection.execute(
        "SELECT name FROM pg_prepared_statements WHERE statement = %s", [SQL]
    ).fetchone()
    assert name is not None
    with psycopg.ClientCursor(connection.connection) as cursor:
        cursor.execute(f"DEALLOCATE {name[0]}")
    before = connection.connection.info.backend_pid
    link = survey_link(invitation.token)
    assert link is not None and link.invitation.pk == invitation.pk
    assert connection.connection.info.backend_pid != before
    assert prepared_statements() == [SQL]


@pytest.mark.django_db(transaction=True)
def test_survey_page_survives_postgresql_ending_the_connection(client) -> None:  # type: ignore[no-untyped-def]
    invitation = sent_invitation()
    assert client.get(f"/s/{invitation.token}/").status_code == 200
    before = connection.connection.info.backend_pid
    drop_backend()
    # What request_started does before each request in production (Django's test client
    # leaves it out): the next request's first query is health-checked again.
    close_old_connections()
    # That check sees the socket readable, runs SELECT 1, which fails, and reconnects; the
    # statement is prepared again on the new connection.
    assert client.get(f"/s/{invitation.token}/").status_code == 200
    assert connection.connection.info.backend_pid != before
    assert prepared_statements() == [SQL]


@pytest.mark.django_db(transaction=True)
def test_health_check_asks_the_socket_and_runs_select_1_only_when_it_has_news(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper as Stock

    connection.close()
    connection.ensure_connection()
    round_trips = []

    def counted(self):  # type: ignore[no-untyped-def]
        round_trips.append(1)
        return original(self)

    original = Stock.is_usable
    monkeypatch.setattr(Stock, "is_usable", counted)
    assert connection.is_usable() is True
    assert round_trips == []  # an idle, quiet connection: no SELECT 1
    drop_backend()
    assert connection.is_usable() is False
    assert round_trips == [1]  # the socket had news: SELECT 1 decided
    connection.close()
    connection.ensure_connection()
    assert connection.is_usable() is True


@pytest.mark.django_db
def test_fetchall_binary_reads_what_text_reads() -> None:
    from cxcrm.prepared import fetchall_prepared

    for i in range(3):
        sent_invitation(customer=CustomerFactory(name=f"Zoë {i}"))
    sql = (
        "SELECT i.id, i.token, i.sent_at, i.expires_at, c.name FROM feedback_invitation i"
        " JOIN customers_customer c ON c.id = i.customer_id WHERE i.state = %s ORDER BY i.id"
    )
    text = fetchall_prepared(sql, ["sent"])
    binary = fetchall_prepared(sql, ["sent"], binary=True)
    assert len(text) == 3
    assert binary == text
    assert all(row[2].utcoffset() == timedelta(0) for row in binary)
    # Each format has its own statement cursor; both statements prepared once.
    assert prepared_statements().count(sql.replace("%s", "$1")) == 1


@pytest.mark.django_db  # binding the values uses the connection's quoting
def test_statement_cache_compiles_once_per_key_and_forgets_the_oldest() -> None:
    from cxcrm.prepared import StatementCache

    statements = StatementCache(size=2)
    first = statements.get("a", lambda: Invitation.objects.filter(state="sent"))

    # The cached SQL is returned for the key, without building the queryset again.
    def unbuilt() -> Any:
        raise AssertionError("built for a known key")

    assert statements.get("a", unbuilt) == first
    assert "'sent'" in first  # bound into the text
    statements.get("b", lambda: Invitation.objects.filter(state="failed"))
    statements.get("c", lambda: Invitation.objects.filter(state="expired"))
    assert "'failed'" in statements.get("a", lambda: Invitation.objects.filter(state="failed"))
    # No key: compiled every time.
    assert "'x'" in statements.get(None, lambda: Invitation.objects.filter(state="x"))


def test_statement_cache_says_none_for_a_queryset_that_matches_nothing() -> None:
    from cxcrm.prepared import StatementCache

    statements = StatementCache()
    assert statements.get("empty", lambda: Invitation.objects.filter(pk__in=[])) is None
    # cached: the other queryset is not looked at
    assert statements.get("empty", lambda: Invitation.objects.filter(state="sent")) is None
    assert statements.get(None, lambda: Invitation.objects.none()) is None


@pytest.mark.django_db
def test_bound_values_are_quoted_and_a_percent_sign_stays_literal() -> None:
    from cxcrm.prepared import StatementCache, fetchall_prepared

    odd = sent_invitation(customer=CustomerFactory(name="50% O'Hara"))
    sent_invitation(customer=CustomerFactory(name="50 OHara"))
    compiled = StatementCache().get(
        "odd",
        lambda: Invitation.objects.filter(customer__name="50% O'Hara").values_list("pk"),
    )
    assert compiled is not None

    assert fetchall_prepared(compiled, None) == [(odd.pk,)]
    assert fetchall_prepared(compiled, None, binary=True) == [(odd.pk,)]
