"""Schemathesis against the live schema (/api/schema/) and the WSGI app, every operation with
a bounded number of generated examples, with a write key: no server error, and every response
with a documented status code matches its schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

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

MAX_EXAMPLES = 10


# Loaded when the module is collected: serving the schema touches no database (no key is sent,
# the schema view allows anyone), so it works under pytest-django's database blocker.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def write_key(db: Any) -> str:
    # A little data so that ids 1.. exist and detail operations get past their 404s.
    owner = UserFactory(username="schemathesis", password=None)
    CustomerFactory(external_id="c-1")
    TouchpointFactory(slug="store")
    RootCauseFactory()
    TicketFactory(response=ResponseFactory(score=2))
    return api_key_create(name="schemathesis", scopes="read,write", created_by=owner).key


@schema.parametrize()
@pytest.mark.django_db
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms(case: Any, write_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {write_key}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
