"""Schemathesis against the live schema (/api/schema/) and the WSGI app, every operation with a
bounded number of generated examples (valid and invalid), as a read key, a write key and no
key, with every check schemathesis has (``call_and_validate`` without ``checks=`` runs all the
built-in ones): no server error, every status documented, every response matching its schema,
invalid data refused, valid data accepted.

Two checks are told what the schema cannot say (SchemathesisConfig below, each with why); the
rest run as shipped.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from cxcrm.api.keys import api_key_create
from cxcrm.wsgi import application
from tests.factories import (
    CustomerFactory,
    ResponseFactory,
    RootCauseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)

# Writes of the setup API (their text fields take a number as its digits, as the customers'
# upsert does: see below).
SETUP = [
    "POST /api/v1/touchpoints/",
    "PATCH /api/v1/touchpoints/{id}/",
    "POST /api/v1/surveys/",
    "PATCH /api/v1/surveys/{id}/",
    "POST /api/v1/root-causes/",
    "PATCH /api/v1/root-causes/{id}/",
]
# Valid by the schema, refused by rules OpenAPI 3.0 cannot state: references that must exist
# (a survey, an assignee, a root cause, a touchpoint's owner), "exactly one of customer or
# customer_external_id", the metrics window counted back from today, an opaque cursor, a
# non-empty event list, and no NUL anywhere in text (PostgreSQL cannot store it), free-form
# attributes included.
DATABASE_RULES = [
    "POST /api/v1/customers/",
    "POST /api/v1/interactions/",
    "POST /api/v1/responses/",
    "POST /api/v1/tickets/",
    "POST /api/v1/tickets/{id}/resolve/",
    "POST /api/v1/tickets/{id}/assign/",
    "PATCH /api/v1/tickets/{id}/",
    "POST /api/v1/webhooks/",
    "PATCH /api/v1/webhooks/{id}/",
    # The setup API: a new row needs fields an update does not (one schema serves both), a
    # survey's texts follow its kind and default language, names and slugs are unique, and
    # trigger touchpoints and owners must exist.
    "POST /api/v1/touchpoints/",
    "PATCH /api/v1/touchpoints/{id}/",
    "POST /api/v1/surveys/",
    "PATCH /api/v1/surveys/{id}/",
    "POST /api/v1/root-causes/",
    "PATCH /api/v1/root-causes/{id}/",
    # The taxonomy: a new topic needs a name, and names are unique.
    "POST /api/v1/insights/topics/",
    "PATCH /api/v1/insights/topics/{id}/",
    "GET /api/v1/metrics/",
    # The same period and filter rules as the metrics (issue 18's analysis).
    "GET /api/v1/insights/topics/metrics/",
    "GET /api/v1/insights/drivers/",
    "GET /api/v1/interactions/",
    "GET /api/v1/invitations/",
    "GET /api/v1/responses/",
    "GET /api/v1/tickets/",
    "GET /api/v1/webhook-deliveries/",
]
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]

CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            *(
                {
                    "include-name": name,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}
                    },
                }
                for name in DATABASE_RULES
            ),
            # Query filters follow django-filter: an empty or unreadable value (``?active=``,
            # ``?updated_since=``) means "no filter", not an error; and DRF's text fields take
            # a number as its digits. Lenient by design, so invalid query strings and bodies of
            # lists and customers are not required to be refused (their 500s and schemas still
            # are checked).
            {
                "include-method": "GET",
                "checks": {"negative_data_rejection": {"enabled": False}},
            },
            {
                "include-name": "POST /api/v1/customers/",
                "checks": {"negative_data_rejection": {"enabled": False}},
            },
            *(
                {"include-name": name, "checks": {"negative_data_rejection": {"enabled": False}}}
                for name in SETUP
            ),
            # The same for webhook endpoints: their documented example has a URL that
            # resolves, so a mutated example (``"description": 0``) is accepted as "0".
            *(
                {"include-name": name, "checks": {"negative_data_rejection": {"enabled": False}}}
                for name in ("POST /api/v1/webhooks/", "PATCH /api/v1/webhooks/{id}/")
            ),
        ]
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    # The WSGI app is called directly, so Django's request signals run close_old_connections,
    # which closes a connection inside the test's transaction (on PostgreSQL; SQLite's
    # in-memory test database ignores it). Django's own test client disconnects it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _data() -> None:
    # A little data so that ids 1.. exist and detail operations get past their 404s.
    CustomerFactory(external_id="c-1")
    TouchpointFactory(slug="store")
    RootCauseFactory()
    TicketFactory(response=ResponseFactory(score=2))


def _key(scopes: str) -> dict[str, str]:
    owner = UserFactory(username="schemathesis", password=None)
    _data()
    made = api_key_create(name=scopes, scopes=scopes, created_by=owner)
    return {"Authorization": f"Bearer {made.key}"}


@pytest.fixture
def write_key(db: Any) -> dict[str, str]:
    return _key("read,write")


@pytest.fixture
def read_key(db: Any) -> dict[str, str]:
    return _key("read")


@pytest.fixture
def no_key(db: Any) -> dict[str, str]:
    _data()
    return {}


def _bounded(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )


# The write key's run, which calls every operation (reads included), is repeated on PostgreSQL
# (the postgres marker). The read key's and no key's runs differ from it in what they may do,
# not in what reaches the database, so they run once, on SQLite, to keep CI's time in bounds.
@schema.parametrize()
@pytest.mark.django_db
@pytest.mark.postgres
@_bounded(10)
def test_every_operation_conforms_with_a_write_key(case: Any, write_key: dict[str, str]) -> None:
    case.call_and_validate(headers=write_key)


@schema.parametrize()
@pytest.mark.django_db
@_bounded(3)
def test_every_operation_conforms_with_a_read_key(case: Any, read_key: dict[str, str]) -> None:
    case.call_and_validate(headers=read_key)


@schema.parametrize()
@pytest.mark.django_db
@_bounded(1)
def test_every_operation_conforms_without_a_key(case: Any, no_key: dict[str, str]) -> None:
    case.call_and_validate(headers=no_key)
