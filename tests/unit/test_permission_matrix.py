"""Who may do what, in one table: each principal (the three roles, a read key, a write key,
nobody) against every admin page, admin action, staff page and API endpoint + method.

The rows to check are generated from the URL conf, the router and the admin registry; the
expectations are written out below. A page, action or endpoint without a row fails
``test_every_*_has_a_row``, so nothing new ships without someone deciding who may use it.
Each principal's requests run against one small world of rows, each inside a savepoint that
is rolled back, so an allowed erase or delete does not change what the next request sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.test import APIClient

from customers.models import AuditEntry
from cxcrm.api.keys import api_key_create
from cxcrm.models import StaffPreference, WebhookDelivery, WebhookEndpoint, WorkerHeartbeat
from cxcrm.roles import ADMIN, AGENT, MANAGER, MANAGER_PERMISSIONS
from feedback.inbound.models import InboundEmail, InboundSource
from feedback.insights.models import (
    CommentInsight,
    EngineState,
    InsightAlert,
    Topic,
    TopicAssignment,
)
from feedback.tickets.models import SavedReply
from tests.factories import (
    OutboundEmailFactory,
    ResponseFactory,
    RootCauseFactory,
    TicketEventFactory,
    TicketFactory,
    TicketMessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STAFF = ("agent", "manager", "admin")
KEYS = ("read", "write")
EVERYONE = ("anonymous", *STAFF, *KEYS)

# --- The table ----------------------------------------------------------------------------------
# Admin pages of each registered model: the letters each role may use — v: the list and the
# object's page and history (read-only without c), a: add, c: change, d: delete. Nobody
# signed out, and no API key, reaches any admin page.
ALL = {"admin": "vacd"}
MODELS: dict[str, dict[str, str]] = {
    "auth.group": ALL,
    "auth.user": ALL,
    "django_celery_beat.periodictask": ALL,
    "django_celery_beat.clockedschedule": ALL,
    "django_celery_beat.crontabschedule": ALL,
    "django_celery_beat.solarschedule": ALL,
    "django_celery_beat.intervalschedule": ALL,
    "account.emailaddress": ALL,
    "mfa.authenticator": ALL,
    "socialaccount.socialapp": ALL,
    "socialaccount.socialtoken": ALL,
    "socialaccount.socialaccount": ALL,
    "cxcrm.workerheartbeat": {"admin": "vd"},
    "cxcrm.staffpreference": ALL,
    "cxcrm.apikey": ALL,
    "cxcrm.webhookendpoint": {"manager": "vacd", "admin": "vacd"},
    "cxcrm.webhookdelivery": {"manager": "v", "admin": "vd"},
    "customers.customer": {"agent": "v", "manager": "v", "admin": "vacd"},
    "customers.auditentry": {"admin": "v"},
    "touchpoints.touchpoint": {"agent": "v", "manager": "vacd", "admin": "vacd"},
    "touchpoints.interaction": {"agent": "v", "manager": "v", "admin": "vacd"},
    "feedback.survey": {"agent": "v", "manager": "vacd", "admin": "vacd"},
    "feedback.invitation": {"agent": "v", "manager": "vc", "admin": "vacd"},
    "feedback.response": {"agent": "v", "manager": "v", "admin": "vacd"},
    "feedback.outboundemail": {"agent": "v", "manager": "v", "admin": "vd"},
    "feedback.inboundemail": {"agent": "v", "manager": "v", "admin": "vd"},
    "feedback.rootcause": {"agent": "v", "manager": "vacd", "admin": "vacd"},
    "feedback.ticketmessage": {"agent": "v", "manager": "v", "admin": "vd"},
    "feedback.ticketevent": {"agent": "v", "manager": "v", "admin": "vd"},
    "feedback.ticket": {"agent": "vac", "manager": "vac", "admin": "vacd"},
    "feedback.savedreply": {"agent": "v", "manager": "vacd", "admin": "vacd"},
    "feedback.topic": {"agent": "v", "manager": "vacd", "admin": "vacd"},
    "feedback.commentinsight": {"agent": "v", "manager": "v", "admin": "vd"},
    "feedback.topicassignment": {"agent": "v", "manager": "v", "admin": "vd"},
    "feedback.insightalert": {"manager": "v", "admin": "vd"},
    "feedback.enginestate": {"admin": "vd"},
}
STAFF_ONLY = STAFF  # pages every signed-in staff member may open
MANAGERS = ("manager", "admin")
# Staff pages that are not a model's list, add, change, history or delete page.
PAGES: dict[str, tuple[str, ...]] = {
    "admin:index": STAFF_ONLY,
    "admin:app_list": STAFF_ONLY,  # an app whose models the role may not see: 404 for it
    "admin:password_change": STAFF_ONLY,
    "admin:password_change_done": STAFF_ONLY,
    "admin:jsi18n": STAFF_ONLY,
    "admin:autocomplete": STAFF_ONLY,
    "admin:view_on_site": (),  # no model of ours has a public page: 404 for everyone
    "admin:logout": EVERYONE,
    "admin:login": STAFF_ONLY,  # staff go on to the index; the others to allauth's sign-in
    "dashboard": MANAGERS,
    "journey-map": MANAGERS,
    "ticket-queue": STAFF_ONLY,
    "emerging-themes": MANAGERS,
    # Public: load balancers and monitoring probe it with no key or session; it shows no data.
    "healthz": EVERYONE,
    "system-status": MANAGERS,
    # Everyone's own language and time zone.
    "staff-preferences": STAFF_ONLY,
    "admin:customers_customer_import": ("admin",),
    "admin:customers_customer_export": STAFF_ONLY,
    "admin:touchpoints_interaction_import": ("admin",),
    "admin:touchpoints_interaction_export": STAFF_ONLY,
    "admin:auth_user_password_change": ("admin",),
    "admin:feedback_ticket_reply": STAFF_ONLY,
    "admin:feedback_ticket_note": STAFF_ONLY,
    "admin:feedback_ticket_work": STAFF_ONLY,
    "admin:feedback_ticket_contact": STAFF_ONLY,
    "admin:feedback_ticket_resolve": STAFF_ONLY,
    "admin:feedback_ticket_reopen": STAFF_ONLY,
    # One-click topic corrections (POST only; GET answers 405 to whoever may post).
    "admin:feedback_commentinsight_correct": STAFF_ONLY,
}
# Admin actions ("app.model:action") → the roles that get them.
ACTIONS: dict[str, tuple[str, ...]] = {
    "customers.customer:export_json": ("admin",),
    "customers.customer:erase_personal_data": ("admin",),
    "feedback.invitation:resend_now": MANAGERS,
    "feedback.invitation:cancel_unsent": MANAGERS,
    "feedback.inboundemail:process_again": MANAGERS,
    "feedback.inboundemail:create_ticket": STAFF,
    "feedback.inboundemail:attach_to_customer": STAFF,
    "cxcrm.apikey:revoke": ("admin",),
    "cxcrm.webhookdelivery:redeliver": MANAGERS,
    "auth.user:invite_by_email": ("admin",),
    "feedback.ticket:assign_to_me": STAFF,
    "feedback.ticket:assign_to": STAFF,
    "feedback.ticket:set_open": STAFF,
    "feedback.ticket:set_pending": STAFF,
    "feedback.ticket:set_priority": STAFF,
    "account.emailaddress:make_verified": ("admin",),
    "django_celery_beat.periodictask:enable_tasks": ("admin",),
    "django_celery_beat.periodictask:disable_tasks": ("admin",),
    "django_celery_beat.periodictask:toggle_tasks": ("admin",),
    "django_celery_beat.periodictask:run_tasks": ("admin",),
}
# On every list: "Export selected rows as CSV" (cxcrm.csv_export) to whoever sees the list,
# Django's "Delete selected" to whoever may delete.
for _label, _rights in MODELS.items():
    ACTIONS[f"{_label}:export_csv"] = tuple(r for r in STAFF if "v" in _rights.get(r, ""))
    if "d" in _rights.get("admin", ""):
        ACTIONS[f"{_label}:delete_selected"] = tuple(r for r in STAFF if "d" in _rights.get(r, ""))
# API: "route METHOD" → who may. Keys go by scope (read: safe methods; write: all).
READERS = ("read", "write")
API: dict[str, tuple[str, ...]] = {
    "customer-list GET": (*STAFF, *READERS),
    "customer-list POST": ("admin", "write"),
    "customer-detail GET": (*STAFF, *READERS),
    "customer-export GET": ("admin", *READERS),
    "customer-erase POST": ("admin", "write"),
    "touchpoint-list GET": (*STAFF, *READERS),
    "touchpoint-list POST": (*MANAGERS, "write"),
    "touchpoint-detail GET": (*STAFF, *READERS),
    "touchpoint-detail PATCH": (*MANAGERS, "write"),
    "touchpoint-detail DELETE": (*MANAGERS, "write"),
    "interaction-list GET": (*STAFF, *READERS),
    "interaction-list POST": ("admin", "write"),
    "interaction-detail GET": (*STAFF, *READERS),
    "survey-list GET": (*STAFF, *READERS),
    "survey-list POST": (*MANAGERS, "write"),
    "survey-detail GET": (*STAFF, *READERS),
    "survey-detail PATCH": (*MANAGERS, "write"),
    "survey-detail DELETE": (*MANAGERS, "write"),
    "invitation-list GET": (*STAFF, *READERS),
    "invitation-detail GET": (*STAFF, *READERS),
    "response-list GET": (*STAFF, *READERS),
    "response-list POST": ("admin", "write"),
    "response-detail GET": (*STAFF, *READERS),
    "ticket-list GET": (*STAFF, *READERS),
    "ticket-list POST": (*STAFF, "write"),
    "ticket-detail GET": (*STAFF, *READERS),
    "ticket-detail PATCH": (*STAFF, "write"),
    "ticket-assign POST": (*STAFF, "write"),
    "ticket-resolve POST": (*STAFF, "write"),
    "ticket-reopen POST": (*STAFF, "write"),
    "ticket-messages GET": (*STAFF, *READERS),
    "ticket-messages POST": (*STAFF, "write"),
    "rootcause-list GET": (*STAFF, *READERS),
    "rootcause-list POST": (*MANAGERS, "write"),
    "rootcause-detail GET": (*STAFF, *READERS),
    "rootcause-detail PATCH": (*MANAGERS, "write"),
    "rootcause-detail DELETE": (*MANAGERS, "write"),
    "metrics-list GET": (*MANAGERS, *READERS),
    "insights-topic-metrics GET": (*MANAGERS, *READERS),
    "insights-drivers GET": (*MANAGERS, *READERS),
    "topic-list GET": (*STAFF, *READERS),
    "topic-list POST": (*MANAGERS, "write"),
    "topic-detail GET": (*STAFF, *READERS),
    "topic-detail PATCH": (*MANAGERS, "write"),
    "topic-detail DELETE": (*MANAGERS, "write"),
    # Analyzing stores nothing: a read key may POST it.
    "insights-analyze POST": (*STAFF, *READERS),
    "webhookendpoint-list GET": (*MANAGERS, *READERS),
    "webhookendpoint-list POST": (*MANAGERS, "write"),
    "webhookendpoint-detail GET": (*MANAGERS, *READERS),
    "webhookendpoint-detail PATCH": (*MANAGERS, "write"),
    "webhookendpoint-detail DELETE": (*MANAGERS, "write"),
    "webhookdelivery-list GET": (*MANAGERS, *READERS),
    "webhookdelivery-detail GET": (*MANAGERS, *READERS),
    "schema GET": EVERYONE,  # the API's description is public; its data is not
    "docs GET": EVERYONE,
    "redoc GET": EVERYONE,
    "getting-started GET": EVERYONE,  # how to use the API, no data
}


# --- The world ----------------------------------------------------------------------------------


@dataclass
class World:
    objects: dict[str, Any]  # "app.model" → one row of it
    clients: dict[str, Client]
    users: dict[str, Any]  # the three roles' users


def staff_user(role: str) -> Any:
    user = UserFactory(username=f"matrix-{role}", password=None)
    user.groups.add(Group.objects.get(name=role))
    if role == ADMIN:  # Admins must have MFA (cxcrm.accounts): enrolled here
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    return user


def build_world() -> World:
    users = {"agent": staff_user(AGENT), "manager": staff_user(MANAGER), "admin": staff_user(ADMIN)}
    ticket = TicketFactory(response=ResponseFactory(score=2))
    response = ticket.response
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/cx", events=["ticket.created"], secret="whsec_x"
    )
    owner = users["admin"]
    app = SocialApp.objects.create(provider="openid_connect", name="SSO", client_id="x")
    account = SocialAccount.objects.create(user=owner, provider="openid_connect", uid="1")
    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    objects: dict[str, Any] = {
        "auth.group": Group.objects.get(name=AGENT),
        "auth.user": users["agent"],
        "django_celery_beat.intervalschedule": interval,
        "django_celery_beat.periodictask": PeriodicTask.objects.create(
            name="matrix", task="cxcrm.heartbeat", interval=interval
        ),
        "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(
            clocked_time=ticket.created_at
        ),
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.create(),
        "django_celery_beat.solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude=1, longitude=1
        ),
        "account.emailaddress": EmailAddress.objects.create(user=owner, email=owner.email),
        "mfa.authenticator": Authenticator.objects.get(user=owner),
        "socialaccount.socialapp": app,
        "socialaccount.socialaccount": account,
        "socialaccount.socialtoken": SocialToken.objects.create(
            app=app, account=account, token="t"
        ),
        "cxcrm.workerheartbeat": WorkerHeartbeat.objects.create(hostname="celery@matrix"),
        "cxcrm.staffpreference": StaffPreference.objects.create(user=owner, language="pl"),
        "cxcrm.apikey": api_key_create(name="matrix", scopes="read", created_by=owner).api_key,
        "cxcrm.webhookendpoint": endpoint,
        "cxcrm.webhookdelivery": WebhookDelivery.objects.create(
            endpoint=endpoint, event="ticket.created", message_id="msg_1", payload={}
        ),
        "customers.customer": ticket.customer,
        "customers.auditentry": AuditEntry.objects.create(
            action="exported", object_type="customer", object_id=ticket.customer_id
        ),
        "touchpoints.touchpoint": ticket.touchpoint,
        "touchpoints.interaction": response.invitation.interaction,
        "feedback.survey": response.survey,
        "feedback.invitation": response.invitation,
        "feedback.response": response,
        "feedback.outboundemail": OutboundEmailFactory(),
        "feedback.inboundemail": InboundEmail.objects.create(
            source=InboundSource.WEBHOOK, raw=b"Subject: hi\r\n\r\nhello"
        ),
        "feedback.rootcause": RootCauseFactory(),
        "feedback.ticketmessage": TicketMessageFactory(ticket=ticket),
        "feedback.ticketevent": TicketEventFactory(ticket=ticket),
        "feedback.ticket": ticket,
        "feedback.savedreply": SavedReply.objects.create(
            name="Sorry", body="Hello {customer_name}, about {order}: {agent}"
        ),
    }
    topic = Topic.objects.get(slug="delivery")
    insight = CommentInsight.objects.create(
        source="answer",
        source_id=response.pk,
        text="Late again",
        occurred_at=response.submitted_at,
        response=response,
    )
    objects["feedback.topic"] = topic
    objects["feedback.commentinsight"] = insight
    objects["feedback.topicassignment"] = TopicAssignment.objects.create(
        insight=insight, topic=topic, confidence=0.9
    )
    objects["feedback.insightalert"] = InsightAlert.objects.create(
        kind="topic_surge", episode="matrix", topic=topic, summary="Delivery doubled"
    )
    objects["feedback.enginestate"] = EngineState.objects.create(
        kind="sentiment", version="v", state=b"x"
    )
    LogEntry.objects.log_actions(
        user_id=owner.pk, queryset=[ticket.customer], action_flag=ADDITION, single_object=True
    )
    clients: dict[str, Client] = {"anonymous": APIClient()}
    # APIClient for everyone (it sends JSON by default: admin forms pass format="multipart").
    for role, user in users.items():
        clients[role] = APIClient()
        clients[role].force_login(user)
    for scope, scopes in (("read", "read"), ("write", "read,write")):
        key = api_key_create(name=f"matrix {scope}", scopes=scopes, created_by=owner).key
        clients[scope] = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    return World(objects=objects, clients=clients, users=users)


@pytest.fixture
def world() -> World:
    return build_world()


def rolled_back(call: Any) -> Any:
    """Make one request inside a savepoint that is undone: allowed writes leave no trace."""
    with transaction.atomic():
        reply = call()
        transaction.set_rollback(True)
    return reply


# --- What there is ------------------------------------------------------------------------------


def url_patterns(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def staff_pages() -> dict[str, URLPattern]:
    """Every named page under /admin/ that is not a model's stock page, plus the staff pages
    mounted beside the admin and the public health check."""
    stock = {
        f"admin:{label.replace('.', '_')}_{page}"
        for label in registered_models()
        for page in ("changelist", "add", "change", "history", "delete")
    }
    pages = {}
    for name, pattern in url_patterns(get_resolver().url_patterns):
        beside = (
            "dashboard",
            "journey-map",
            "ticket-queue",
            "emerging-themes",
            "healthz",
            "system-status",
            "staff-preferences",
        )
        in_admin = name.startswith("admin:") or name in beside
        if in_admin and name not in stock:
            pages[name] = pattern
    return pages


def api_routes() -> dict[str, str]:
    """ "route METHOD" → URL name, from the router (format-suffix twins left out) and the
    schema and docs views."""
    routes = {}
    for name, pattern in url_patterns(get_resolver().url_patterns):
        if not name.startswith("api:") or "format" in str(pattern.pattern):
            continue
        actions = getattr(pattern.callback, "actions", None)
        methods = [m.upper() for m in actions] if actions else ["GET"]
        for method in methods:
            if method in ("HEAD", "OPTIONS"):
                continue
            routes[f"{name.removeprefix('api:')} {method}"] = name
    return routes


def registered_models() -> dict[str, Any]:
    return {m._meta.label_lower: m for m in apps.get_models() if admin.site.is_registered(m)}


def admin_actions() -> dict[str, str]:
    """ "app.model:action" → the model's label, for every action of every model admin as a
    superuser sees them (stock ``delete_selected`` and the site-wide CSV export included)."""
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(username="matrix-root", is_superuser=True, password=None)
    found = {}
    for label, model in registered_models().items():
        for name in admin.site.get_model_admin(model).get_actions(request):
            found[f"{label}:{name}"] = label
    return found


def test_every_admin_model_has_a_row() -> None:
    assert set(registered_models()) == set(MODELS), "give each model admin a row in MODELS"


def test_every_staff_page_has_a_row() -> None:
    assert set(staff_pages()) == set(PAGES), "give each staff page a row in PAGES"


def test_every_admin_action_has_a_row() -> None:
    assert set(admin_actions()) == set(ACTIONS), "give each admin action a row in ACTIONS"


def test_every_api_endpoint_has_a_row() -> None:
    assert set(api_routes()) == set(API), "give each API route and method a row in API"


def test_every_role_permission_exists() -> None:
    # cxcrm.roles skips unknown names with a warning (for databases migrated backwards).
    from django.contrib.auth.models import Permission

    known = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.all()}
    assert MANAGER_PERMISSIONS - known == set()


# --- The checks ---------------------------------------------------------------------------------


AUTOCOMPLETE = {"app_label": "feedback", "model_name": "ticket", "field_name": "customer"}


def refused(reply: Any, *, api: bool) -> bool:
    """A refusal: 401/403, a redirect to sign in (or to set up MFA), or in the admin a 404 for
    what the role may not see (an app list with none of its models)."""
    chain = [url for url, _ in getattr(reply, "redirect_chain", [])]
    if any("/login" in url or "/accounts/" in url for url in chain):
        return True
    if reply.status_code in (401, 403):
        return True
    if reply.status_code in (301, 302):
        where = reply.get("Location", "")
        return "/login" in where or "/accounts/" in where
    return reply.status_code == 404 and not api


def object_kwargs(pattern: URLPattern, world: World, label: str | None) -> dict[str, Any]:
    """Values for a pattern's arguments, from the world's rows."""
    names = set(pattern.pattern.regex.groupindex)
    values: dict[str, Any] = {}
    if "object_id" in names:
        values["object_id"] = world.objects[label or "feedback.ticket"].pk
    if "id" in names:
        values["id"] = world.objects["auth.user"].pk
    if "pk" in names:
        values["pk"] = world.objects[label].pk  # type: ignore[index]
    if "content_type_id" in names:
        customer = world.objects["customers.customer"]
        values["content_type_id"] = ContentType.objects.get_for_model(customer).pk
        values["object_id"] = customer.pk
    if "app_label" in names:
        values["app_label"] = "feedback"
    return values


def check_models(who: str, world: World) -> list[str]:
    client = world.clients[who]
    wrong = []
    for label, rights in MODELS.items():
        letters = rights.get(who, "")
        opts = label.replace(".", "_")
        pk = world.objects[label].pk
        pages = {
            "changelist": ([], "v"),
            "add": ([], "a"),
            "change": ([pk], "v"),
            "history": ([pk], "v"),
            "delete": ([pk], "d"),
        }
        for page, (args, letter) in pages.items():
            url = reverse(f"admin:{opts}_{page}", args=args)
            reply = rolled_back(lambda url=url: client.get(url))
            allowed = not refused(reply, api=False)
            if allowed != (letter in letters):
                wrong.append(
                    f"{label} {page}: {'allowed' if allowed else 'refused'} ({reply.status_code})"
                )
        # Saving the object's page: what the admin itself asks before it saves.
        request = RequestFactory().post("/")
        request.user = world.users.get(who, AnonymousUser())
        model_admin = admin.site.get_model_admin(world.objects[label].__class__)
        may_change = model_admin.has_change_permission(request, world.objects[label])
        if may_change != ("c" in letters):
            wrong.append(f"{label} change (save): {'allowed' if may_change else 'refused'}")
    return wrong


def check_pages(who: str, world: World) -> list[str]:
    wrong = []
    for name, pattern in staff_pages().items():
        url = reverse(name, kwargs=object_kwargs(pattern, world, None))
        client = world.clients[who]
        query = AUTOCOMPLETE if name == "admin:autocomplete" else {}
        if name.startswith("admin:feedback_ticket_") or name == "admin:logout":
            # POST-only views. A copy of the client, so a sign-out leaves the original signed in.
            twin = type(client)(**client.defaults)
            twin.cookies.update(client.cookies)
            reply = rolled_back(lambda twin=twin, url=url: twin.post(url, {}, format="multipart"))
        else:
            reply = rolled_back(
                lambda client=client, url=url, query=query: client.get(url, query, follow=True)
            )
        allowed = not refused(reply, api=False)
        if allowed != (who in PAGES[name]):
            wrong.append(
                f"page {name}: {'allowed' if allowed else 'refused'} ({reply.status_code})"
            )
    return wrong


def check_actions(who: str, world: World) -> list[str]:
    """Django offers (and accepts on POST) exactly the actions ``get_actions`` returns for the
    user, on a list they may open; the dangerous ones are also posted by the wrong roles in
    the tests below."""
    request = RequestFactory().get("/admin/")
    request.user = world.users.get(who, AnonymousUser())
    wrong = []
    for name, label in admin_actions().items():
        model_admin = admin.site.get_model_admin(apps.get_model(label))
        # An action is posted to the list: it is usable when the list opens and offers it
        # (a few third-party admins declare no permission on their actions, only the list).
        offered = model_admin.has_view_or_change_permission(request) and name.split(":", 1)[
            1
        ] in model_admin.get_actions(request)
        if offered != (who in ACTIONS[name]):
            wrong.append(f"action {name}: {'offered' if offered else 'withheld'}")
    return wrong


def check_api(who: str, world: World) -> list[str]:
    client = world.clients[who]
    wrong = []
    patterns = dict(url_patterns(get_resolver().url_patterns))
    for row, name in api_routes().items():
        method = row.split()[1]
        pattern = patterns[name]
        basename = name.removeprefix("api:").rsplit("-", 1)[0]
        label = next((k for k in world.objects if k.endswith(f".{basename}")), None)
        url = reverse(name, kwargs=object_kwargs(pattern, world, label))
        send = getattr(client, method.lower())
        if method == "GET":
            reply = rolled_back(lambda send=send, url=url: send(url))
        else:
            reply = rolled_back(lambda send=send, url=url: send(url, {}, format="json"))
        allowed = not refused(reply, api=True)
        if allowed != (who in API[row]):
            wrong.append(f"api {row}: {'allowed' if allowed else 'refused'} ({reply.status_code})")
    return wrong


@pytest.mark.parametrize("who", EVERYONE)
def test_permission_matrix(who: str, world: World) -> None:
    wrong = (
        check_models(who, world)
        + check_pages(who, world)
        + check_actions(who, world)
        + check_api(who, world)
    )
    assert not wrong, f"{who} differs from the table:\n" + "\n".join(wrong)


# --- Each role can do its job (positive cases), and the wrong role's POST changes nothing ----


def test_an_agent_replies_to_a_ticket_and_assigns_it_to_themselves(world: World) -> None:
    ticket = world.objects["feedback.ticket"]
    agent = world.clients["agent"]
    reply = agent.post(
        f"/api/v1/tickets/{ticket.pk}/messages/",
        {"kind": "note", "body": "Called the customer, parcel found."},
        format="json",
    )
    assert reply.status_code == 201, reply.content
    page = agent.post(
        reverse("admin:feedback_ticket_changelist"),
        {"action": "assign_to_me", "_selected_action": [ticket.pk]},
        format="multipart",
    )
    assert page.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == world.users["agent"]


def test_a_manager_reads_the_metrics_and_registers_a_webhook(world: World, settings: Any) -> None:
    settings.CXCRM_WEBHOOK_ALLOW_PRIVATE = True  # no DNS here; the URL rules have own tests
    manager = world.clients["manager"]
    assert manager.get("/api/v1/metrics/").status_code == 200
    made = manager.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/in", "events": ["ticket.created"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert manager.get(reverse("dashboard")).status_code == 200


def test_an_admin_erases_a_customer_in_the_admin(world: World) -> None:
    customer = world.objects["customers.customer"]
    reply = world.clients["admin"].post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase_personal_data", "_selected_action": [customer.pk], "confirm": "yes"},
        format="multipart",
    )
    assert reply.status_code == 302
    customer.refresh_from_db()
    assert customer.erased_at is not None


def test_keys_read_and_write_by_scope(world: World) -> None:
    assert world.clients["read"].get("/api/v1/customers/").status_code == 200
    made = world.clients["write"].post(
        "/api/v1/customers/", {"external_id": "matrix-1", "name": "Ada"}, format="json"
    )
    assert made.status_code == 201, made.content


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_the_wrong_role_posting_an_admin_action_changes_nothing(who: str, world: World) -> None:
    client = world.clients[who]
    customer = world.objects["customers.customer"]
    erase = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase_personal_data", "_selected_action": [customer.pk], "confirm": "yes"},
        format="multipart",
    )
    export = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "export_json", "_selected_action": [customer.pk]},
        format="multipart",
    )
    assert erase.status_code in (200, 302) and export.status_code in (200, 302)
    assert "attachment" not in export.get("Content-Disposition", "")
    customer.refresh_from_db()
    assert customer.erased_at is None
    assert (
        not AuditEntry.objects.filter(object_id=customer.pk, action="exported")
        .exclude(pk=world.objects["customers.auditentry"].pk)
        .exists()
    )
    if who == "agent":
        invitation = world.objects["feedback.invitation"]
        state = invitation.state
        client.post(
            reverse("admin:feedback_invitation_changelist"),
            {"action": "cancel_unsent", "_selected_action": [invitation.pk]},
            format="multipart",
        )
        invitation.refresh_from_db()
        assert invitation.state == state


def test_an_agent_session_cannot_reach_manager_endpoints(world: World) -> None:
    agent = world.clients["agent"]
    assert agent.get("/api/v1/metrics/").status_code == 403
    webhook = agent.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/in", "events": ["ticket.created"]},
        format="json",
    )
    assert webhook.status_code == 403
    assert webhook.json()["detail"] == "Your role may not do that."
    customer = agent.post("/api/v1/customers/", {"external_id": "x-1"}, format="json")
    assert customer.status_code == 403
    assert not WebhookEndpoint.objects.filter(url="https://hooks.example.com/in").exists()
