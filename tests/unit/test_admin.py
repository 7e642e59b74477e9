"""The back-office: every model registered, pages render, changelists run a constant number of
queries, search finds the right rows, and customer-supplied HTML never runs in the admin."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEntry, Customer
from customers.privacy import audit_record
from cxcrm.api.keys import api_key_create
from cxcrm.models import (
    ApiKey,
    StaffPreference,
    WebhookDelivery,
    WebhookEndpoint,
    WorkerHeartbeat,
)
from cxcrm.services import heartbeat_record
from cxcrm.webhooks.services import webhook_endpoint_create
from feedback.inbound.models import InboundEmail
from feedback.insights.models import (
    CommentInsight,
    EngineState,
    InsightAlert,
    Topic,
    TopicAssignment,
)
from feedback.surveys.models import Invitation, OutboundEmail, Response, Survey
from feedback.tickets.models import (
    MessageDirection,
    RootCause,
    SavedReply,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    OutboundEmailFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketEventFactory,
    TicketFactory,
    TicketMessageFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import Interaction, JourneyStage, Touchpoint

pytestmark = pytest.mark.django_db

OUR_APPS = ["cxcrm", "customers", "touchpoints", "feedback"]
_hostnames = itertools.count()


def _staff() -> Any:
    # An unusable password skips the hasher: these users only fill foreign keys.
    return UserFactory(password=None)


def _survey() -> Survey:
    survey = SurveyFactory()
    survey.trigger_touchpoints.add(TouchpointFactory(), TouchpointFactory())
    return survey


def _response() -> Response:
    response = ResponseFactory(score=3, comment="The courier left it in the rain.")
    TicketFactory(response=response, customer=response.customer, touchpoint=response.touchpoint)
    return response


def _inbound_email() -> InboundEmail:
    invitation = InvitationFactory()
    return InboundEmail.objects.create(
        source="command",
        raw=b"From: a@example.com\n\nHello\n",
        status="unmatched",
        invitation=invitation,
        ticket=TicketFactory(customer=invitation.customer),
    )


_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_default_topics() -> None:
    # The migrations seed ten topics; the lists here count the rows the test made.
    Topic.objects.all().delete()


def _topic() -> Topic:
    n = next(_serial)
    return Topic.objects.create(
        name=f"Topic {n}", slug=f"topic-{n}", description="Gift wrap", examples=["wrap it"]
    )


def _insight(*, topic: bool = True) -> CommentInsight:
    response = ResponseFactory(comment="The courier left it in the rain.")
    insight = CommentInsight.objects.create(
        source="answer",
        source_id=response.pk,
        text=response.comment,
        occurred_at=response.submitted_at,
        response=response,
        customer=response.customer,
        touchpoint=response.touchpoint,
        language="en",
        embedding=bytes(768),
        sentiment="negative",
        sentiment_confidence=0.9,
    )
    if topic:
        TopicAssignment.objects.create(insight=insight, topic=_topic(), confidence=0.8)
    return insight


def _assignment() -> TopicAssignment:
    return TopicAssignment.objects.create(
        insight=_insight(topic=False),
        topic=_topic(),
        confidence=1,
        by_staff=True,
        corrected_by=_staff(),
    )


def _alert() -> InsightAlert:
    n = next(_serial)
    return InsightAlert.objects.create(
        kind="topic_surge",
        episode=f"surge:{n}",
        topic=_topic(),
        touchpoint=TouchpointFactory(),
        summary="Delivery complaints doubled",
    )


def _engine_state() -> EngineState:
    return EngineState.objects.create(kind=f"kind-{next(_serial)}", version="v1", state=b"x")


def _heartbeat() -> WorkerHeartbeat:
    return heartbeat_record(hostname=f"worker-{next(_hostnames)}")


# One row per call, each with its own related rows (customer, touchpoint, user...), so a
# column that reads a relation per row would show up as extra queries.
def _webhook_endpoint() -> WebhookEndpoint:
    return webhook_endpoint_create(url="https://hooks.example.com/cx", events=["ticket.created"])


def _webhook_delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=_webhook_endpoint(), event="ticket.created", message_id="msg_1", payload={}
    )


BUILDERS: dict[type[Model], Callable[[], Model]] = {
    ApiKey: lambda: api_key_create(name="shop", scopes="read", created_by=_staff()).api_key,
    WebhookEndpoint: _webhook_endpoint,
    WebhookDelivery: _webhook_delivery,
    WorkerHeartbeat: _heartbeat,
    StaffPreference: lambda: StaffPreference.objects.create(user=_staff(), language="ru"),
    Customer: CustomerFactory,
    Touchpoint: lambda: TouchpointFactory(owner=_staff()),
    Interaction: lambda: InteractionFactory(
        order_ref="A-1", amount=Decimal("12.50"), currency="EUR"
    ),
    Survey: _survey,
    Invitation: InvitationFactory,
    Response: _response,
    RootCause: RootCauseFactory,
    SavedReply: lambda: SavedReply.objects.create(name="Sorry", body="Hello {customer_name}"),
    Ticket: lambda: TicketFactory(assignee=_staff()),
    TicketMessage: lambda: TicketMessageFactory(author=_staff()),
    TicketEvent: lambda: TicketEventFactory(actor=_staff()),
    OutboundEmail: lambda: OutboundEmailFactory(customer=CustomerFactory()),
    InboundEmail: _inbound_email,
    AuditEntry: lambda: audit_record(
        actor=_staff(), action="viewed", object_type="customer", object_id=1
    ),
    Topic: _topic,
    CommentInsight: _insight,
    TopicAssignment: _assignment,
    InsightAlert: _alert,
    EngineState: _engine_state,
}

VIEW_ONLY = {
    WorkerHeartbeat,
    WebhookDelivery,
    TicketMessage,
    TicketEvent,
    OutboundEmail,
    InboundEmail,
    AuditEntry,
    CommentInsight,
    TopicAssignment,
    InsightAlert,
    EngineState,
}

# Queries per changelist page, whatever the number of rows. Every page starts with
#   1. the session, 2. the user, 3. the sign-in middleware's "is this user in the Admin group"
#      (MFA; cached afterwards, measured cold here);
# big tables (show_full_result_count = False) then run
#   4. COUNT(*) of the filtered rows (paginator), 5. the page, with its relations joined;
# small tables run two COUNT(*)s (filtered and full) before the page. Then, per model:
CHANGELIST_QUERIES: dict[type[Model], int] = {
    # 4 capped COUNT, 5 page (languages from settings, no date hierarchy: no DISTINCT).
    Customer: 5,
    # 4-5 COUNTs, 6 page joined with owner.
    Touchpoint: 6,
    # 4 capped COUNT, 5 page joined with customer and touchpoint.
    Interaction: 5,
    # 4-5 COUNTs, 6 page, 7 prefetch of the trigger touchpoints of the page.
    Survey: 7,
    # 4 surveys for the survey filter, 5 capped COUNT, 6 page joined with customer and survey.
    Invitation: 6,
    # 4 surveys for the survey filter, 5 capped COUNT, 6 page joined with customer, survey,
    # touchpoint and ticket.
    Response: 6,
    # 4-5 COUNTs, 6 page.
    RootCause: 6,
    # 4 the languages in use (language filter), 5-6 COUNTs, 7 page joined with owner.
    SavedReply: 7,
    # The triage queue: 4 staff users for the assignee filter, 5 touchpoints for the
    # touchpoint filter, 6 the capped COUNT of the open tickets, 7 page joined with customer,
    # response (+ survey), assignee, touchpoint and root cause.
    Ticket: 7,
    # 4 capped COUNT, 5 page joined with ticket and author.
    TicketMessage: 5,
    # 4 capped COUNT, 5 page joined with ticket and actor.
    TicketEvent: 5,
    # 4 capped COUNT, 5 page joined with customer.
    OutboundEmail: 5,
    # 4-5 COUNTs, 6 page.
    WorkerHeartbeat: 6,
    # 4-5 COUNTs, 6 page joined with the user.
    StaffPreference: 6,
    # 4-5 COUNTs, 6 page joined with the creator.
    ApiKey: 6,
    # 4-5 COUNTs, 6 page.
    WebhookEndpoint: 6,
    # 4 capped COUNT, 5 page joined with the endpoint (events from the catalogue).
    WebhookDelivery: 5,
    # 4 capped COUNT, 5 page (raw deferred) joined with the invitation's customer and the ticket.
    InboundEmail: 5,
    # 4 capped COUNT, 5 page (no relation shown; object types and channels from a list).
    AuditEntry: 5,
    # 4-5 COUNTs, 6 page.
    Topic: 6,
    # 4 the topics (topic filter), 5 the topics again (correction menus), 6 capped COUNT,
    # 7 page, 8 prefetch of the page's live topics joined with their topic.
    CommentInsight: 8,
    # 4 capped COUNT, 5 page joined with insight, topic and the correcting user.
    TopicAssignment: 5,
    # 4 capped COUNT, 5 page joined with touchpoint and topic.
    InsightAlert: 5,
    # 4-5 COUNTs, 6 page (state deferred).
    EngineState: 6,
}


def _url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _ids(model: type[Model]) -> str:
    return model._meta.label


def _count_queries(client: Client, url: str) -> tuple[int, Any]:
    # Change pages look up a content type (history link) once per process; start cold so the
    # count does not depend on which test ran first.
    ContentType.objects.clear_cache()
    # Likewise the sign-in middleware caches "this user needs no MFA" (one query when cold).
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200, page.status_code
    return len(ctx), page


def _found(page: Any) -> list[Model]:
    return list(page.context["cl"].result_list)


# --- Registration and pages ----------------------------------------------------------------------


# Derived tables: the reporting rollups are rebuilt from the raw rows (rollups_rebuild) and are
# nobody's to view or edit one by one.
DERIVED_MODULES = {"feedback.reporting.models"}


def test_every_model_of_our_apps_is_registered() -> None:
    models = [
        m
        for label in OUR_APPS
        for m in apps.get_app_config(label).get_models()
        if m.__module__ not in DERIVED_MODULES
    ]
    missing = [m._meta.label for m in models if not admin.site.is_registered(m)]
    assert missing == []
    assert set(models) == set(BUILDERS)


@pytest.mark.parametrize("model", list(BUILDERS), ids=_ids)
def test_change_form_shows_every_field(
    rf: RequestFactory, superuser: Any, model: type[Model]
) -> None:
    """The admins list their fields explicitly; a field added to a model must be placed too."""
    model_admin = admin.site.get_model_admin(model)
    request = rf.get("/")
    request.user = superuser
    obj = BUILDERS[model]()
    shown = set(flatten_fieldsets(model_admin.get_fieldsets(request, obj)))
    fields = [*model._meta.fields, *model._meta.many_to_many]
    # InboundEmail.raw (bytes) is shown decoded and escaped by its admin's raw_block.
    shown |= {"raw"} if "raw_block" in shown else set()
    # OutboundEmail's bodies are shown as rendered (text_preview, html_source): a survey
    # email's stored columns are empty and it is rendered again from its invitation.
    shown |= {"body_text", "body_html"} if {"text_preview", "html_source"} <= shown else set()
    # Insights' embeddings and the engine's state are bytes, shown by their size.
    shown |= {"embedding"} if "embedding_summary" in shown else set()
    shown |= {"state"} if "state_summary" in shown else set()
    # OutboundEmail.possibly_delivered is shown in words by delivery_doubt (what it means).
    shown |= {"possibly_delivered"} if "delivery_doubt" in shown else set()
    assert {f.name for f in fields if not f.primary_key} - shown == set()


@pytest.mark.parametrize("model", list(BUILDERS), ids=_ids)
def test_changelist_query_count_does_not_grow_with_rows(
    admin_client: Client, model: type[Model]
) -> None:
    url = _url(model, "changelist")
    for _ in range(2):
        BUILDERS[model]()
    few, page = _count_queries(admin_client, url)
    assert len(_found(page)) == 2
    for _ in range(18):
        BUILDERS[model]()
    many, page = _count_queries(admin_client, url)
    assert len(_found(page)) == 20

    assert few == many
    assert many == CHANGELIST_QUERIES[model]


@pytest.mark.parametrize("model", list(BUILDERS), ids=_ids)
def test_change_page_renders(admin_client: Client, model: type[Model]) -> None:
    obj = BUILDERS[model]()
    page = admin_client.get(_url(model, "change", obj.pk))
    assert page.status_code == 200


@pytest.mark.parametrize("model", [m for m in BUILDERS if m not in VIEW_ONLY], ids=_ids)
def test_add_page_renders(admin_client: Client, model: type[Model]) -> None:
    assert admin_client.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", sorted(VIEW_ONLY, key=_ids), ids=_ids)
def test_system_written_rows_are_view_only(admin_client: Client, model: type[Model]) -> None:
    obj = BUILDERS[model]()
    assert admin_client.get(_url(model, "add")).status_code == 403
    page = admin_client.get(_url(model, "change", obj.pk))
    assert page.status_code == 200
    # A view-only page has no submit row.
    assert b'name="_save"' not in page.content


# --- Ticket page ---------------------------------------------------------------------------------


def _ticket_with_history(entries: int) -> Ticket:
    ticket = TicketFactory(assignee=_staff(), response=ResponseFactory(score=2))
    for _ in range(entries):
        TicketMessageFactory(ticket=ticket, author=_staff())
        TicketEventFactory(ticket=ticket, actor=_staff())
    return ticket


def test_ticket_change_page_query_count_does_not_grow_with_messages(admin_client: Client) -> None:
    few, _ = _count_queries(admin_client, _url(Ticket, "change", _ticket_with_history(2).pk))
    many, page = _count_queries(admin_client, _url(Ticket, "change", _ticket_with_history(20).pk))
    assert page.content.count(b"The parcel arrived late.") == 20

    assert few == many
    # 1 session, 2 user, 3 the MFA group check, 4 the audit entry (viewed), 5 the ticket joined
    # with customer, assignee, touchpoint, response, survey, its interaction and root cause,
    # 6-12 the page's context (tests/unit/test_ticket_admin.py names them), 13 the next ticket
    # in the queue, 14 saved replies (picker), 15 the comment's insight (the insights panel,
    # none here: no more), 16 staff users (work panel), 17 active root causes (resolve form).
    assert many == 17


def test_a_note_added_on_the_ticket_page_is_authored_by_the_staff_user(
    admin_client: Client, superuser: Any
) -> None:
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket, body="First message from the customer.")

    page = admin_client.post(
        reverse("admin:feedback_ticket_note", args=[ticket.pk]), {"body": "Called her back."}
    )

    assert page.status_code == 302
    note = ticket.messages.get(body="Called her back.")
    assert note.direction == MessageDirection.NOTE
    assert note.author == superuser
    assert ticket.messages.count() == 2


def test_the_ticket_page_has_no_form_to_post(admin_client: Client) -> None:
    """Status, priority and assignee change through the workspace's action endpoints (services
    write the TicketEvent); a crafted POST to the change page is refused and changes nothing."""
    ticket = TicketFactory()
    other = _staff()
    data = {"subject": "Changed", "status": TicketStatus.RESOLVED, "priority": "4"}

    page = admin_client.post(_url(Ticket, "change", ticket.pk), {**data, "assignee": other.pk})

    assert page.status_code == 405
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.status, ticket.priority) != ("Changed", "resolved", 4)
    assert ticket.assignee_id is None
    assert not ticket.events.exists()


def test_a_response_added_by_hand_is_categorised(admin_client: Client) -> None:
    survey = SurveyFactory()
    customer = CustomerFactory()
    data = {
        "survey": survey.pk,
        "kind": survey.kind,
        "customer": customer.pk,
        "score": 4,
        "comment": "Told us on the phone",
        "answers": "{}",
        "language": "en",
        "channel": "web",
        "submitted_at_0": "2025-03-01",
        "submitted_at_1": "10:00:00",
    }

    page = admin_client.post(_url(Response, "add"), data)

    assert page.status_code == 302, page.context["adminform"].form.errors
    assert Response.objects.get(customer=customer).category == "detractor"


def test_a_ticket_added_with_a_first_message(admin_client: Client, superuser: Any) -> None:
    customer = CustomerFactory()
    page = admin_client.get(_url(Ticket, "add"))
    (formset,) = [inline.formset for inline in page.context["inline_admin_formsets"]]
    data = {
        "subject": "Called about a refund",
        "customer": customer.pk,
        "source": "staff",
        "status": TicketStatus.NEW,
        "priority": 2,
        f"{formset.prefix}-TOTAL_FORMS": 1,
        f"{formset.prefix}-INITIAL_FORMS": 0,
        f"{formset.prefix}-0-direction": MessageDirection.INBOUND,
        f"{formset.prefix}-0-body": "Wants a refund for order 42.",
    }

    page = admin_client.post(_url(Ticket, "add"), data)

    assert page.status_code == 302, page.context["adminform"].form.errors
    (message,) = Ticket.objects.get(customer=customer).messages.all()
    assert message.body == "Wants a refund for order 42."
    assert message.author == superuser


@pytest.mark.parametrize(
    ("model", "field", "term", "label"),
    [
        (Ticket, "customer", "frank@", "Frank"),
        (Ticket, "assignee", "frank", "frank"),
        (Ticket, "root_cause", "late", "Late delivery"),
        (Response, "survey", "relational", "Relational NPS"),
        (Survey, "trigger_touchpoints", "checkout", "Checkout"),
        (Invitation, "interaction", "ord-frank", "shop:ord-frank"),
    ],
)
def test_autocomplete_finds_related_rows(
    admin_client: Client, model: type[Model], field: str, term: str, label: str
) -> None:
    CustomerFactory(name="Frank", email="frank@shop.example")
    UserFactory(username="frank", password=None)
    RootCauseFactory(name="Late delivery")
    SurveyFactory(name="Relational NPS")
    TouchpointFactory(name="Checkout")
    InteractionFactory(external_id="ord-frank")
    params = {
        "app_label": model._meta.app_label,
        "model_name": model._meta.model_name,
        "field_name": field,
        "term": term,
    }

    page = admin_client.get(reverse("admin:autocomplete"), params)

    assert page.status_code == 200
    assert [r["text"] for r in page.json()["results"]] == [label]


# --- Search and filters -------------------------------------------------------------------------


def test_ticket_search_by_customer_email(admin_client: Client) -> None:
    wanted = TicketFactory(customer=CustomerFactory(email="alice@shop.example"))
    TicketFactory(customer=CustomerFactory(email="bob@shop.example"))

    page = admin_client.get(_url(Ticket, "changelist"), {"q": "alice@shop.example"})

    assert page.status_code == 200
    assert _found(page) == [wanted]


def test_ticket_search_by_response_comment(admin_client: Client) -> None:
    wanted = TicketFactory(response=ResponseFactory(score=1, comment="Box was crushed"))
    TicketFactory(response=ResponseFactory(score=2, comment="Too slow"))
    TicketFactory()

    page = admin_client.get(_url(Ticket, "changelist"), {"q": "crushed"})

    assert _found(page) == [wanted]


def test_response_search_by_comment_and_customer_email(admin_client: Client) -> None:
    by_comment = ResponseFactory(comment="Lovely staff in the store")
    by_email = ResponseFactory(customer=CustomerFactory(email="carol@shop.example"))
    ResponseFactory(comment="Fine")
    url = _url(Response, "changelist")

    assert _found(admin_client.get(url, {"q": "lovely"})) == [by_comment]
    # A customer's email matches exactly (an index), not a part of it.
    assert _found(admin_client.get(url, {"q": "carol@shop.example"})) == [by_email]
    assert _found(admin_client.get(url, {"q": "carol@shop"})) == []


def test_customer_search_by_name_email_and_exact_external_id(admin_client: Client) -> None:
    dana = CustomerFactory(name="Dana Scully", email="dana@fbi.example", external_id="X-1")
    CustomerFactory(name="Fox Mulder", email="fox@fbi.example", external_id="X-10")
    url = _url(Customer, "changelist")

    assert _found(admin_client.get(url, {"q": "scully"})) == [dana]
    assert _found(admin_client.get(url, {"q": "dana@fbi"})) == [dana]
    # External ids match exactly: X-1 must not find X-10.
    assert _found(admin_client.get(url, {"q": "X-1"})) == [dana]


def test_interaction_search_by_external_id_order_ref_and_customer_email(
    admin_client: Client,
) -> None:
    wanted = InteractionFactory(
        external_id="ord-77", order_ref="R-2024-77", customer=CustomerFactory(email="eve@x.example")
    )
    InteractionFactory(external_id="ord-770", order_ref="R-2024-770")
    url = _url(Interaction, "changelist")

    for term in ("ord-77", "R-2024-77", "eve@x.example"):
        assert _found(admin_client.get(url, {"q": term})) == [wanted], term


def test_invitation_search_by_token(admin_client: Client) -> None:
    wanted = InvitationFactory()
    InvitationFactory()

    page = admin_client.get(_url(Invitation, "changelist"), {"q": wanted.token})

    assert _found(page) == [wanted]


def test_customer_consent_filter(admin_client: Client) -> None:
    reachable = CustomerFactory()
    unsubscribed = CustomerFactory(unsubscribed_at=timezone.now())
    suppressed = CustomerFactory(suppressed_at=timezone.now(), suppression_reason="hard_bounce")
    url = _url(Customer, "changelist")

    assert _found(admin_client.get(url, {"consent": "reachable"})) == [reachable]
    assert _found(admin_client.get(url, {"consent": "unsubscribed"})) == [unsubscribed]
    assert _found(admin_client.get(url, {"consent": "suppressed"})) == [suppressed]


def test_ticket_filter_by_touchpoint_stage(admin_client: Client) -> None:
    wanted = TicketFactory(touchpoint=TouchpointFactory(stage=JourneyStage.PAYMENT))
    TicketFactory(touchpoint=TouchpointFactory(stage=JourneyStage.ORDER))

    page = admin_client.get(
        _url(Ticket, "changelist"), {"touchpoint__stage__exact": JourneyStage.PAYMENT}
    )

    assert _found(page) == [wanted]


# --- Outbox --------------------------------------------------------------------------------------


def test_outbound_email_html_is_shown_in_a_sandbox_and_never_runs(admin_client: Client) -> None:
    hostile = '<p>Hi</p><script>alert(1)</script>"><img src=x onerror=alert(2)>'
    email = OutboundEmailFactory(body_html=hostile, body_text="<script>alert(3)</script>")

    page = admin_client.get(_url(OutboundEmail, "change", email.pk))

    assert page.status_code == 200
    html = page.content.decode()
    for raw in ("<script>alert(", "<img src=x", '"><img'):
        assert raw not in html
    # The body is escaped into the sandboxed frame's srcdoc attribute.
    assert (
        'sandbox="" referrerpolicy="no-referrer" srcdoc="&lt;p&gt;Hi&lt;/p&gt;'
        '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"'
    ) in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html


def test_outbound_email_without_html_shows_no_frame(admin_client: Client) -> None:
    email = OutboundEmailFactory(body_html="")

    page = admin_client.get(_url(OutboundEmail, "change", email.pk))

    assert b"<iframe" not in page.content


# --- Heartbeats ---------------------------------------------------------------------------------


def test_heartbeat_list_flags_stale_workers(admin_client: Client) -> None:
    heartbeat_record(hostname="alive-worker")
    stale = heartbeat_record(hostname="stale-worker")
    WorkerHeartbeat.objects.filter(pk=stale.pk).update(seen_at=timezone.now() - timedelta(hours=1))

    page = admin_client.get(_url(WorkerHeartbeat, "changelist"))

    html = page.content.decode()
    assert html.count('alt="True"') == 1
    assert html.count('alt="False"') == 1


@pytest.mark.django_db
def test_comments_read_in_their_own_direction_in_the_answer_list_and_form(
    admin_client: Client,
) -> None:
    # An Arabic comment in a left-to-right list, or English typed on an Arabic answer, reads
    # right only when the browser picks the direction from the text itself.
    response = ResponseFactory(score=2, comment="لم يصل الطرد. nobody told me")
    listing = admin_client.get(_url(Response, "changelist")).content.decode()
    assert '<span dir="auto">لم يصل الطرد. nobody told me</span>' in listing
    form = admin_client.get(_url(Response, "change", response.pk)).content.decode()
    assert re.search(r'<textarea name="comment"[^>]*dir="auto"', form)
