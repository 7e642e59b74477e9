"""The setup API: touchpoints, surveys and root causes created (upsert by slug), updated and
deleted through /api/v1/, with the admin's rules; and a fresh deployment configured only
through the API that receives a purchase and sends the survey."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cxcrm.roles import AGENT, MANAGER
from feedback.surveys.models import EmailKind, OutboundEmail, Survey
from feedback.surveys.tasks import dispatch_due
from feedback.tickets.models import RootCause
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import key_client, staff_member
from tests.factories import (
    InvitationFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import Touchpoint

pytestmark = pytest.mark.django_db

TOUCHPOINTS = "/api/v1/touchpoints/"
SURVEYS = "/api/v1/surveys/"
ROOT_CAUSES = "/api/v1/root-causes/"

TEXTS = {
    "en": ("How was your order?", "How likely are you to recommend us?"),
    "ru": ("Как прошёл ваш заказ?", "Порекомендуете ли вы нас друзьям?"),
    "pl": ("Jak oceniasz zamówienie?", "Czy poleciłbyś nas znajomym?"),
    "zh-hans": ("您的订单体验如何？", "您向朋友推荐我们的可能性有多大？"),
    "ar": ("كيف كانت تجربة طلبك؟", "ما مدى احتمال أن توصي بنا؟"),
}


def nps_texts() -> dict[str, Any]:
    return {
        language: {
            "subject": subject,
            "question": question,
            "followup": {"detractor": "What went wrong?", "promoter": "What did you like?"},
        }
        for language, (subject, question) in TEXTS.items()
    }


def survey_body(**overrides: Any) -> dict[str, Any]:
    return {
        "slug": "nps-after-purchase",
        "name": "NPS after purchase",
        "kind": "nps",
        "trigger_stage": "order",
        "delay_seconds": 0,
        "texts": nps_texts(),
        **overrides,
    }


def role_client(role: str) -> APIClient:
    client = APIClient()
    client.force_login(staff_member(role))
    return client


# --- Who may ------------------------------------------------------------------------------------

BODIES = {
    TOUCHPOINTS: {"slug": "checkout", "name": "Checkout", "stage": "order", "channel": "web"},
    SURVEYS: survey_body(),
    ROOT_CAUSES: {"slug": "late-delivery", "name": "Late delivery"},
}


@pytest.mark.parametrize("url", list(BODIES))
@pytest.mark.parametrize(
    ("who", "expected"),
    [("agent", 403), ("manager", 201), ("read_key", 403), ("write_key", 201), ("nobody", 401)],
)
def test_managers_and_write_keys_set_up_agents_and_read_keys_do_not(
    url: str, who: str, expected: int
) -> None:
    client = {
        "agent": lambda: role_client(AGENT),
        "manager": lambda: role_client(MANAGER),
        "read_key": lambda: key_client("read"),
        "write_key": lambda: key_client("read,write"),
        "nobody": APIClient,
    }[who]()

    reply = client.post(url, BODIES[url], format="json")

    assert reply.status_code == expected, reply.content[:300]


# --- Touchpoints --------------------------------------------------------------------------------


def test_touchpoint_upsert_creates_then_updates_only_the_fields_sent(write_client: Any) -> None:
    owner = UserFactory(username="olga")
    first = write_client.post(
        TOUCHPOINTS,
        {**BODIES[TOUCHPOINTS], "owner": "olga", "owner_team": "Web shop"},
        format="json",
    )
    second = write_client.post(
        TOUCHPOINTS, {"slug": "checkout", "channel": "mobile_app"}, format="json"
    )

    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["owner"] == "olga"
    touchpoint = Touchpoint.objects.get(slug="checkout")
    assert (touchpoint.name, touchpoint.channel, touchpoint.owner) == (
        "Checkout",
        "mobile_app",
        owner,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "new"}, "name"),  # a new touchpoint needs name, stage and channel
        ({"slug": "new", "name": "New", "channel": "web"}, "stage"),
        ({**BODIES[TOUCHPOINTS], "stage": "checkout"}, "stage"),
        ({**BODIES[TOUCHPOINTS], "owner": "nobody-here"}, "owner"),
        ({**BODIES[TOUCHPOINTS], "slug": "not a slug"}, "slug"),
        ({**BODIES[TOUCHPOINTS], "name": "Two\nlines"}, "name"),
        ({**BODIES[TOUCHPOINTS], "active": 1}, "active"),  # JSON booleans only
        ({**BODIES[TOUCHPOINTS], "owner": ""}, "owner"),  # null for none
    ],
)
def test_bad_touchpoint_is_a_400_naming_the_field(
    write_client: Any, body: dict[str, Any], field: str
) -> None:
    reply = write_client.post(TOUCHPOINTS, body, format="json")

    assert reply.status_code == 400
    assert field in reply.json()
    assert not Touchpoint.objects.exists()


def test_touchpoint_patch_and_delete(write_client: Any) -> None:
    unused = TouchpointFactory(slug="kiosk")
    used = TicketFactory().touchpoint
    url = f"{TOUCHPOINTS}{unused.pk}/"

    patched = write_client.patch(url, {"active": False, "slug": "old-kiosk"}, format="json")
    refused = write_client.delete(f"{TOUCHPOINTS}{used.pk}/")
    deleted = write_client.delete(url)

    assert patched.status_code == 200
    assert (patched.json()["active"], patched.json()["slug"]) == (False, "old-kiosk")
    assert refused.status_code == 409
    assert "tickets" in refused.json()["detail"] and "deactivate" in refused.json()["detail"]
    assert Touchpoint.objects.filter(pk=used.pk).exists()
    assert deleted.status_code == 204
    assert not Touchpoint.objects.filter(pk=unused.pk).exists()


def test_patch_to_a_slug_taken_is_a_400(write_client: Any) -> None:
    TouchpointFactory(slug="taken")
    other = TouchpointFactory(slug="other")

    reply = write_client.patch(f"{TOUCHPOINTS}{other.pk}/", {"slug": "taken"}, format="json")

    assert reply.status_code == 400 and "slug" in reply.json()


# --- Surveys ------------------------------------------------------------------------------------


def test_survey_with_every_admin_field_round_trips(write_client: Any) -> None:
    TouchpointFactory(slug="checkout")
    TouchpointFactory(slug="delivery")
    body = survey_body(
        kind="nps",
        active=True,
        trigger_touchpoints=["checkout", "delivery"],
        trigger_stage="",
        delay_seconds=7200,
        reminder_after_days=None,
        expires_after_days=10,
        contact_frequency_days=30,
        sample_percent=50,
        default_language="pl",
        loop_enabled=True,
        ticket_categories=["detractor", "passive"],
        sla_hours=24,
        acknowledge_customer=True,
    )

    reply = write_client.post(SURVEYS, body, format="json")

    assert reply.status_code == 201, reply.json()
    data = reply.json()
    sent = {k: v for k, v in body.items() if k != "trigger_touchpoints"}
    assert {k: data[k] for k in sent} == sent
    assert sorted(data["trigger_touchpoints"]) == ["checkout", "delivery"]
    survey = Survey.objects.get(slug="nps-after-purchase")
    assert survey.delay == timedelta(hours=2) and survey.loop_categories == [
        "detractor",
        "passive",
    ]


def test_survey_upsert_updates_and_replaces_the_triggers_only_when_sent(write_client: Any) -> None:
    TouchpointFactory(slug="checkout")
    TouchpointFactory(slug="delivery")
    first = write_client.post(SURVEYS, survey_body(trigger_touchpoints=["checkout"]), format="json")
    renamed = write_client.post(
        SURVEYS, {"slug": "nps-after-purchase", "name": "NPS"}, format="json"
    )
    moved = write_client.patch(
        f"{SURVEYS}{first.json()['id']}/", {"trigger_touchpoints": ["delivery"]}, format="json"
    )

    assert (first.status_code, renamed.status_code, moved.status_code) == (201, 200, 200)
    assert renamed.json()["trigger_touchpoints"] == ["checkout"]
    assert renamed.json()["name"] == "NPS"
    assert moved.json()["trigger_touchpoints"] == ["delivery"]
    assert Survey.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"texts": {"de": {"subject": "Wie war's?", "question": "?"}}}, "texts", "de: not a"),
        ({"texts": {"en": {"question": "How likely?"}}}, "texts", "en.subject: required"),
        (
            {"texts": {"en": {"subject": "Hi", "question": "Q", "footer": "x"}}},
            "texts",
            "en.footer: not a known text",
        ),
        (
            {"texts": {"en": {"subject": "Hi", "question": "Q", "followup": {"satisfied": "?"}}}},
            "texts",
            "en.followup.satisfied: not a category",
        ),
        ({"texts": {"en": {"subject": "Hi\r\nBcc: x", "question": "Q"}}}, "texts", "en.subject"),
        ({"texts": {"en": "Hi"}}, "texts", "en: must be an object"),
        ({"default_language": "ru", "texts": {"en": nps_texts()["en"]}}, "default_language", ""),
        ({"default_language": "de"}, "default_language", "supported"),
        ({"ticket_categories": ["dissatisfied"]}, "ticket_categories", "dissatisfied"),
        ({"trigger_touchpoints": ["nowhere"]}, "trigger_touchpoints", "nowhere"),
        ({"sample_percent": 0}, "sample_percent", ""),
        ({"kind": "stars"}, "kind", ""),
        ({"expires_after_days": 0}, "expires_after_days", ""),
        ({"delay_seconds": -1}, "delay_seconds", ""),
        ({"name": ""}, "name", ""),
    ],
)
def test_bad_survey_is_a_400_naming_the_field(
    write_client: Any, overrides: dict[str, Any], field: str, words: str
) -> None:
    reply = write_client.post(SURVEYS, survey_body(**overrides), format="json")

    assert reply.status_code == 400
    assert words in " ".join(map(str, reply.json()[field]))
    assert not Survey.objects.exists()


def test_a_survey_needs_its_texts_when_created(write_client: Any) -> None:
    reply = write_client.post(
        SURVEYS, {"slug": "bare", "name": "Bare", "kind": "nps", "texts": {}}, format="json"
    )

    assert reply.status_code == 400 and "texts" in reply.json()


def test_the_admin_form_and_the_api_refuse_texts_with_the_same_words(
    write_client: Any, superuser: Any
) -> None:
    texts = {"pl": {"question": "Czy poleciłbyś nas?"}, "xx": {"subject": "?", "question": "?"}}
    request = RequestFactory().post("/")
    request.user = superuser
    form_class = admin.site.get_model_admin(Survey).get_form(request)
    form = form_class(
        data={
            "name": "NPS",
            "slug": "nps",
            "kind": "nps",
            "default_language": "pl",
            "delay": "0",
            "expires_after_days": 14,
            "sample_percent": 100,
            "sla_hours": 48,
            "texts": json.dumps(texts),
            "ticket_categories": "[]",
        }
    )

    reply = write_client.post(
        SURVEYS, survey_body(slug="nps", default_language="pl", texts=texts), format="json"
    )

    assert not form.is_valid()
    assert reply.status_code == 400
    assert form.errors["texts"] == reply.json()["texts"]
    assert any("pl.subject: required" in e for e in form.errors["texts"])


def test_survey_delete_refuses_one_with_invitations(write_client: Any) -> None:
    used = InvitationFactory().survey
    unused = SurveyFactory()

    refused = write_client.delete(f"{SURVEYS}{used.pk}/")
    deleted = write_client.delete(f"{SURVEYS}{unused.pk}/")

    assert refused.status_code == 409 and "invitations" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert list(Survey.objects.values_list("pk", flat=True)) == [used.pk]


def test_survey_upsert_query_count_does_not_grow_with_its_triggers(write_client: Any) -> None:
    slugs = [TouchpointFactory().slug for _ in range(12)]
    write_client.post(SURVEYS, survey_body(), format="json")  # created; the key warmed

    def count(triggers: list[str]) -> int:
        body = {"slug": "nps-after-purchase", "trigger_touchpoints": triggers}
        write_client.post(SURVEYS, {**body, "trigger_touchpoints": []}, format="json")
        with CaptureQueriesContext(connection) as ctx:
            reply = write_client.post(SURVEYS, body, format="json")
        assert reply.status_code == 200
        return len(ctx)

    # 1 the key, 2 the slugs resolved, 3 and 15 the service's savepoint, 4 the survey locked,
    # 5 its slug still unique, 6-11 the two check constraints (each in a savepoint), 12 UPDATE,
    # 13-14 the triggers set, 16-17 the answer with its triggers.
    assert count(slugs[:2]) == count(slugs) == 17


# --- Root causes --------------------------------------------------------------------------------


def test_root_cause_upsert_patch_and_unique_names(write_client: Any) -> None:
    first = write_client.post(ROOT_CAUSES, BODIES[ROOT_CAUSES], format="json")
    second = write_client.post(
        ROOT_CAUSES, {"slug": "late-delivery", "description": "Parcel late"}, format="json"
    )
    clash = write_client.post(ROOT_CAUSES, {"slug": "late", "name": "Late delivery"}, format="json")
    patched = write_client.patch(
        f"{ROOT_CAUSES}{first.json()['id']}/", {"active": False}, format="json"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() | {"active": True} == {
        "id": first.json()["id"],
        "slug": "late-delivery",
        "name": "Late delivery",
        "description": "Parcel late",
        "active": True,
    }
    assert clash.status_code == 400 and "name" in clash.json()
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert RootCause.objects.count() == 1


def test_root_cause_delete_refuses_one_that_resolved_a_ticket(write_client: Any) -> None:
    used = RootCauseFactory()
    TicketFactory(root_cause=used, status="resolved", resolved_at="2026-01-01T00:00:00Z")
    unused = RootCauseFactory()

    refused = write_client.delete(f"{ROOT_CAUSES}{used.pk}/")
    deleted = write_client.delete(f"{ROOT_CAUSES}{unused.pk}/")

    assert refused.status_code == 409
    assert deleted.status_code == 204
    assert list(RootCause.objects.values_list("pk", flat=True)) == [used.pk]


# --- The slugs given to existing rows -----------------------------------------------------------


def test_migration_backfills_unique_slugs_from_names() -> None:
    names = ["Après l'achat", "Apres l'achat", "购买后", "调查"]
    for n, name in enumerate(names):
        SurveyFactory(name=name, slug=f"tmp-{n}")
    migration = importlib.import_module("feedback.migrations.0013_survey_rootcause_slug")

    migration.backfill(apps, None)

    slugs = list(Survey.objects.order_by("id").values_list("slug", flat=True))
    assert slugs == ["apres-lachat", "apres-lachat-2", "survey", "survey-2"]


# --- A fresh deployment, configured only through the API ----------------------------------------


def test_fresh_deployment_set_up_through_the_api_sends_the_survey(
    write_client: Any, celery_inline: Any
) -> None:
    assert not Touchpoint.objects.exists() and not Survey.objects.exists()
    setup = [
        (TOUCHPOINTS, BODIES[TOUCHPOINTS]),
        (SURVEYS, survey_body(trigger_stage="", trigger_touchpoints=["checkout"])),
        (ROOT_CAUSES, BODIES[ROOT_CAUSES]),
    ]
    for url, body in setup:
        assert write_client.post(url, body, format="json").status_code == 201
    for language in TEXTS:
        customer = {"external_id": f"c-{language}", "email": f"{language}@example.com"}
        customer["language"] = language
        assert write_client.post("/api/v1/customers/", customer, format="json").status_code == 201

    with celery_inline():
        purchases = [
            {
                "source": "shop",
                "external_id": f"order-{language}",
                "customer_external_id": f"c-{language}",
                "touchpoint": "checkout",
                "occurred_at": timezone.now().isoformat(),
                "amount": "19.99",
                "currency": "EUR",
            }
            for language in TEXTS
        ]
        reply = write_client.post("/api/v1/interactions/", purchases, format="json")
    with celery_inline():
        dispatch_due.delay()

    assert reply.status_code == 200
    assert [r["invitations"] for r in reply.json()["results"]] == [1] * len(TEXTS)
    sent = dict(
        OutboundEmail.objects.filter(kind=EmailKind.SURVEY).values_list("to_email", "subject")
    )
    assert sent == {f"{language}@example.com": subject for language, (subject, _) in TEXTS.items()}
