"""An integrator's client, generated from the live schema by openapi-python-client (offline:
the schema is read from a file, the output formatted by our own ruff), every module of it
imported, then the main integrator flow run through it against a live server on PostgreSQL,
with a real Celery worker delivering the signed webhooks to a receiver on loopback."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook

from cxcrm.api.keys import api_key_create
from feedback.surveys.models import Survey
from feedback.tickets.models import RootCause
from tests.factories import UserFactory
from tests.integration.conftest import wait_for
from tests.webhook_receiver import webhook_receiver
from touchpoints.models import Touchpoint

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PACKAGE = "cxcrm_generated_client"
LANGUAGES = {"en": "Ann", "pl": "Łucja", "de": "Jürgen", "ru": "Анна", "zh-hans": "王芳"}
EVENTS = ["ticket.created", "ticket.updated", "ticket.resolved", "response.created"]


@pytest.fixture
def generated(live_server: Any, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package, generated into tmp_path and importable for the test only."""
    schema = requests.get(
        f"{live_server.url}/api/schema/",
        headers={"Accept": "application/vnd.oai.openapi+json"},
        timeout=30,
    )
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_bytes(schema.content)
    # The generator's default hooks call `ruff` from PATH; ours runs from this interpreter.
    ruff = f"{sys.executable} -m ruff"
    (tmp_path / "config.yaml").write_text(
        "post_hooks:\n"
        f'  - "{ruff} check . --fix --extend-select=I --no-cache --quiet"\n'
        f'  - "{ruff} format . --no-cache --quiet"\n'
    )
    run = subprocess.run(
        [
            *(sys.executable, "-m", "openapi_python_client", "generate"),
            *("--path", "schema.json", "--config", "config.yaml"),
            *("--meta", "none", "--output-path", PACKAGE),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    # Warnings mean parts of the schema were skipped (or a post hook failed).
    assert "Warning" not in output and "Skipping" not in output, output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _operation(package: ModuleType, name: str) -> Any:
    """The module of an operation (``customers_create``), whichever tag it is under."""
    (found,) = [
        module.name
        for module in pkgutil.walk_packages(package.api.__path__, f"{PACKAGE}.api.")
        if module.name.rsplit(".", 1)[-1] == name
    ]
    return importlib.import_module(found)


def _ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.content
    return response.parsed


def test_a_generated_client_imports_and_runs_the_integrator_flow(
    generated: ModuleType, live_server: Any, celery_worker: Any, tmp_path: Path
) -> None:
    # Every module imports (a component named like a generator type broke two of them).
    modules = [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}.")
    ]
    schema = json.loads((tmp_path / "schema.json").read_text())  # what it was generated from
    operations = {
        op["operationId"]
        for item in schema["paths"].values()
        for method, op in item.items()
        if method != "parameters"
    }
    leaves = {m.__name__.rsplit(".", 1)[-1] for m in modules}
    assert operations <= leaves
    assert len(modules) > len(operations)

    # What staff set up in the admin (the setup API is another part of the issue).
    Touchpoint.objects.create(name="Checkout", slug="checkout", stage="order", channel="web")
    survey = Survey.objects.create(
        name="NPS after purchase",
        kind="nps",
        trigger_stage="order",
        delay=timedelta(0),
        texts={lang: {"subject": f"How was it, {name}?"} for lang, name in LANGUAGES.items()},
    )
    cause = RootCause.objects.create(name="Late delivery")
    manager = UserFactory(username="integration-owner")
    key = api_key_create(name="shop", scopes="read,write", created_by=manager).key
    # One worker for the loop's tasks (the ticket) and the webhook deliveries.
    celery_worker(
        env={"CXCRM_WEBHOOK_ALLOW_PRIVATE": "true"},
        queues=f"{settings.CELERY_TASK_DEFAULT_QUEUE},webhooks",
    )

    models = generated.models
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=key, raise_on_unexpected_status=True, timeout=60
    )
    op = partial(_operation, generated)

    with (
        client as client,
        webhook_receiver() as receiver,
        override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=True),
    ):
        endpoint = _ok(
            op("webhooks_create").sync_detailed(
                client=client,
                body=models.WebhookEndpointInputRequest(
                    url=receiver.url, events=[models.EventsEnum(e) for e in EVENTS]
                ),
            ),
            201,
        )
        assert endpoint.secret.startswith("whsec_")

        # Customers in five languages, upserted by the integrator's ids.
        customers = {}
        for lang, name in LANGUAGES.items():
            body = models.CustomerUpsertRequest(
                external_id=f"shop-{lang}", email=f"{lang}@example.com", name=name, language=lang
            )
            customers[lang] = _ok(
                op("customers_create").sync_detailed(client=client, body=body), 201
            )
            assert (customers[lang].language, customers[lang].name) == (lang, name)
        again = models.CustomerUpsertRequest(external_id="shop-pl", name="Łucja K.")
        updated = _ok(op("customers_create").sync_detailed(client=client, body=again), 200)
        assert (updated.id, updated.name, updated.language) == (
            customers["pl"].id,
            "Łucja K.",
            "pl",
        )

        # A bulk of purchases, pushed twice: the second push records nothing new.
        purchases = [
            models.InteractionInputRequest(
                source="shop",
                external_id=f"order-{lang}",
                customer_external_id=f"shop-{lang}",
                touchpoint="checkout",
                occurred_at=timezone.now(),
                order_ref=f"A-{n}",
                amount="49.90",
                currency="EUR",
            )
            for n, lang in enumerate(LANGUAGES)
        ]
        first = _ok(op("interactions_create").sync_detailed(client=client, body=purchases), 200)
        assert [(r.created, r.invitations) for r in first.results] == [(True, 1)] * 5
        second = _ok(op("interactions_create").sync_detailed(client=client, body=purchases), 200)
        assert [r.id for r in second.results] == [r.id for r in first.results]
        assert not any(r.created for r in second.results)

        invitations = _ok(
            op("invitations_list").sync_detailed(client=client, survey=survey.pk), 200
        )
        assert sorted(i.customer for i in invitations.results) == sorted(
            c.id for c in customers.values()
        )

        # An answer captured elsewhere: a detractor, so a ticket opens.
        answer = _ok(
            op("responses_create").sync_detailed(
                client=client,
                body=models.SurveyResponseCreateRequest(
                    survey=survey.pk,
                    customer_external_id="shop-pl",
                    touchpoint="checkout",
                    score=3,
                    submitted_at=timezone.now(),
                    comment="Paczka przyszła po tygodniu.",  # "The parcel took a week."
                    language="pl",
                ),
            ),
            201,
        )
        assert (answer.category, answer.customer) == ("detractor", customers["pl"].id)
        listed = _ok(
            op("responses_list").sync_detailed(client=client, survey=survey.pk, has_comment=True),
            200,
        )
        assert [r.id for r in listed.results] == [answer.id]
        assert _ok(op("responses_retrieve").sync_detailed(answer.id, client=client), 200).id == (
            answer.id
        )

        # The ticket (the worker opens it after the answer commits), worked to resolution.
        def open_tickets() -> list[Any]:
            found = op("tickets_list").sync_detailed(
                client=client, open_=True, customer=customers["pl"].id
            )
            return _ok(found, 200).results

        (ticket,) = wait_for(open_tickets, timeout=60, every=0.5)
        assert ticket.response == answer.id
        patched = _ok(
            op("tickets_partial_update").sync_detailed(
                ticket.id,
                client=client,
                body=models.PatchedTicketUpdateRequest(
                    status=models.TicketUpdateStatusEnum("open"), priority=models.PriorityEnum(4)
                ),
            ),
            200,
        )
        assert (patched.status, patched.priority) == ("open", 4)
        _ok(
            op("tickets_messages_create").sync_detailed(
                ticket.id,
                client=client,
                body=models.TicketMessageCreateRequest(
                    kind=models.TicketMessageCreateKindEnum("reply"),
                    body="Przepraszamy, wysyłamy kod rabatowy.",
                ),
            ),
            201,
        )
        messages = _ok(op("tickets_messages_list").sync_detailed(ticket.id, client=client), 200)
        # The answer's comment opens the thread; our reply follows.
        assert [(m.direction, m.body) for m in messages.results] == [
            ("inbound", "Paczka przyszła po tygodniu."),
            ("outbound", "Przepraszamy, wysyłamy kod rabatowy."),
        ]
        resolved = _ok(
            op("tickets_resolve_create").sync_detailed(
                ticket.id,
                client=client,
                body=models.TicketResolveRequest(root_cause=cause.pk, resolution="Refunded."),
            ),
            200,
        )
        assert resolved.status == "resolved"

        # The worker delivers every event, signed; the delivery log says so too.
        def all_delivered() -> list[Any] | None:
            log = op("webhook_deliveries_list").sync_detailed(client=client, endpoint=endpoint.id)
            rows = _ok(log, 200).results
            done = all(str(d.status) == "succeeded" for d in rows)
            return rows if done and {str(d.event) for d in rows} == set(EVENTS) else None

        rows = wait_for(all_delivered, timeout=60, every=0.5)
        assert len(receiver.requests) == len(rows)
        verifier = Webhook(endpoint.secret)
        assert {verifier.verify(r.body, r.headers)["type"] for r in receiver.requests} == set(
            EVENTS
        )

        figures = _ok(op("metrics_list").sync_detailed(client=client, survey=survey.pk), 200)
        assert isinstance(figures, models.Metrics)
        assert (figures.scores.nps.n, figures.scores.nps.value) == (1, -100.0)
        assert figures.loop.resolve.n == 1
        assert (figures.tickets.open_, figures.tickets.overdue) == (0, 0)  # resolved above
