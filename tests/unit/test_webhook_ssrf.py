"""Webhook URLs cannot be aimed inward (issue 15, items 1 and 7): every URL form that reaches
this machine or a private network is refused at registration (API 400, admin field error) and
at delivery (rows written before the rules), and a real listener on loopback gets nothing;
redirects are not followed; the name is resolved once and the connection goes to the address
vetted; the reply is read only as far as the log keeps it.

No packet leaves this machine: names are answered by a stand-in resolver (no DNS query), and
network_guard stops any connect to a non-loopback address before it is made."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
import trustme
from django.test import Client, override_settings

from cxcrm.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from cxcrm.webhooks.events import event_publish
from cxcrm.webhooks.safety import address_is_public
from cxcrm.webhooks.sending import RESPONSE_BODY_CHARS
from cxcrm.webhooks.services import webhook_deliver, webhook_endpoint_create
from cxcrm.webhooks.signing import new_secret
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.factories import UserFactory
from tests.network_guard import connections_guarded
from tests.webhook_receiver import ALPHABET, tcp_listener, webhook_receiver

pytestmark = pytest.mark.django_db
PRODUCTION = override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=False)
DEVELOPMENT = override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=True)
EVENT = "ticket.updated"
NON_PUBLIC = "resolves to a non-public address"

INVALID = "Enter a valid URL."  # Django's URL validator, before the URL rules are asked
# (URL with {port} of the loopback listener, what registration says, what delivery says)
LOOPBACK_FORMS = [
    ("http://127.0.0.1:{port}/", NON_PUBLIC, NON_PUBLIC),
    ("http://localhost:{port}/", NON_PUBLIC, NON_PUBLIC),
    ("http://[::1]:{port}/", NON_PUBLIC, NON_PUBLIC),
    ("http://[::ffff:127.0.0.1]:{port}/", NON_PUBLIC, NON_PUBLIC),
    ("http://2130706433:{port}/", INVALID, NON_PUBLIC),  # decimal
    ("http://0x7f000001:{port}/", INVALID, NON_PUBLIC),  # hex
    ("http://127.1:{port}/", INVALID, NON_PUBLIC),  # short
    ("http://0.0.0.0:{port}/", NON_PUBLIC, NON_PUBLIC),
    ("http://127.0.0.1:{port}\\@8.8.8.8/", "must not contain a backslash", "backslash"),
    ("http://user@127.0.0.1:{port}/", "must not contain a user name", "user name"),
]
PRIVATE_URLS = [
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "http://224.0.0.1/hook",  # multicast
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://240.0.0.1/hook",  # reserved
    "http://[fe80::1]/hook",  # IPv6 link-local
    "http://[fc00::1]/hook",  # IPv6 unique local
    "http://[2002:7f00:1::1]/hook",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a00:1]/hook",  # NAT64 around 10.0.0.1
    "http://private.test/hook",  # a name (stand-in DNS) that answers 10.1.2.3
]


@pytest.fixture
def admin_client(db: Any) -> Client:
    # No password: hashing one would cost each of the many cases here half a second.
    client = Client()
    client.force_login(UserFactory(username="boss", is_superuser=True, password=None))
    return client


def _ids(forms: list[tuple[str, str, str]]) -> list[str]:
    return [form.replace("{port}", "P") for form, *_ in forms]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A stand-in resolver: names in ``answers`` get those addresses (a list: one answer per
    lookup, the last repeated), localhost and IP literals the real answer, other names fail.
    ``lookups`` counts the lookups of each name."""
    real = socket.getaddrinfo
    state: dict[str, Any] = {"answers": {"private.test": ["10.1.2.3"]}, "lookups": {}}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = str(host)
        state["lookups"][name] = state["lookups"].get(name, 0) + 1
        answers = state["answers"].get(name)
        if answers is None:
            if name == "localhost" or _is_literal(name):
                return real(host, port, *args, **kwargs)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = answers[min(state["lookups"][name], len(answers)) - 1]
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield state


def _is_literal(name: str) -> bool:
    try:
        socket.inet_aton(name)  # what getaddrinfo accepts too: 127.1, 2130706433, 0x7f000001
        return True
    except OSError:
        pass
    try:
        ip_address(name.split("%")[0])
        return True
    except ValueError:
        return False


def _row(url: str) -> WebhookDelivery:
    """An endpoint written before the rules (no check), and one event for it."""
    WebhookEndpoint.objects.create(url=url, events=[EVENT], secret=new_secret())
    event_publish(EVENT, {"id": 1}, subject="")
    return WebhookDelivery.objects.get()


def _deliver(delivery: WebhookDelivery) -> WebhookDelivery:
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _admin_url_errors(admin_client: Any, url: str) -> list[str]:
    page = admin_client.post(
        "/admin/cxcrm/webhookendpoint/add/", {"url": url, "events": [EVENT], "active": "on"}
    )
    assert page.status_code == 200  # the form again, with its errors (a save redirects)
    return list(page.context["adminform"].form.errors.get("url", []))


# --- Every loopback form, against a real listener ------------------------------------------------


@PRODUCTION
@pytest.mark.parametrize(("form", "refusal", "error"), LOOPBACK_FORMS, ids=_ids(LOOPBACK_FORMS))
def test_loopback_forms_are_refused_and_reach_nothing(
    form: str,
    refusal: str,
    error: str,
    write_client: Any,
    admin_client: Any,
    dns: dict[str, Any],
) -> None:
    with tcp_listener() as listener, connections_guarded() as guard:
        if "[::1]" in form and not listener.ipv6:
            pytest.skip("this machine has no IPv6 loopback to listen on")
        url = form.format(port=listener.port)

        registered = write_client.post(
            "/api/v1/webhooks/", {"url": url, "events": [EVENT]}, format="json"
        )
        admin_errors = _admin_url_errors(admin_client, url)
        delivery = _deliver(_row(url))

    assert registered.status_code == 400
    assert refusal in registered.json()["url"][0]
    assert admin_errors and refusal in admin_errors[0]
    assert WebhookEndpoint.objects.count() == 1  # only the row written directly
    assert delivery.status == DeliveryStatus.PENDING  # refused, and retried later
    assert delivery.error.startswith("refused:") or "must not contain" in delivery.error
    assert error in delivery.error
    assert delivery.response_code is None
    assert listener.connections == []
    assert guard.to_port(listener.port) == []  # not even an attempt


@PRODUCTION
def test_doubled_userinfo_names_its_own_reason(write_client: Any) -> None:
    # Django's validator refuses it before the URL rules do: still a 400 on the field.
    url = "http://user:pw@8.8.8.8@127.0.0.1:9/"
    reply = write_client.post("/api/v1/webhooks/", {"url": url, "events": [EVENT]}, format="json")
    assert reply.status_code == 400 and reply.json()["url"]
    assert "must not contain a user name" in _deliver(_row(url)).error


@PRODUCTION
@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_and_link_local_urls_are_refused(
    url: str, write_client: Any, admin_client: Any, dns: dict[str, Any]
) -> None:
    with connections_guarded() as guard:
        registered = write_client.post(
            "/api/v1/webhooks/", {"url": url, "events": [EVENT]}, format="json"
        )
        admin_errors = _admin_url_errors(admin_client, url)
        delivery = _deliver(_row(url))

    assert registered.status_code == 400
    assert NON_PUBLIC in registered.json()["url"][0]
    assert admin_errors and NON_PUBLIC in admin_errors[0]
    assert delivery.error.startswith("refused:") and NON_PUBLIC in delivery.error
    assert guard.attempts == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("2002:808:808::1", True),  # 6to4 around 8.8.8.8
        ("127.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("0.0.0.0", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:a00:1::1", False),  # 6to4 around 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("ff02::1", False),
        ("224.0.0.251", False),
        ("198.18.0.1", False),  # benchmarking
        ("192.0.2.1", False),  # documentation
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert address_is_public(ip_address(address)) is public


@PRODUCTION
def test_an_unresolvable_host_is_refused_at_registration(
    write_client: Any, dns: dict[str, Any]
) -> None:
    reply = write_client.post(
        "/api/v1/webhooks/",
        {"url": "https://nowhere.test/hook", "events": [EVENT]},
        format="json",
    )
    assert reply.status_code == 400
    assert reply.json()["url"][0].startswith("cannot resolve nowhere.test")


@PRODUCTION
def test_a_public_host_is_accepted_and_an_update_to_a_private_one_is_not(
    write_client: Any, dns: dict[str, Any]
) -> None:
    dns["answers"]["hooks.example.com"] = ["93.184.215.14"]
    made = write_client.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/cx", "events": [EVENT]},
        format="json",
    )
    assert made.status_code == 201

    moved = write_client.patch(
        f"/api/v1/webhooks/{made.json()['id']}/", {"url": "http://10.0.0.1/"}, format="json"
    )
    assert moved.status_code == 400 and NON_PUBLIC in moved.json()["url"][0]
    assert WebhookEndpoint.objects.get().url == "https://hooks.example.com/cx"


@DEVELOPMENT
def test_with_private_allowed_loopback_registers_but_ambiguous_forms_still_do_not(
    write_client: Any,
) -> None:
    ok = write_client.post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/", "events": [EVENT]}, format="json"
    )
    backslash = write_client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9\\@8.8.8.8/", "events": [EVENT]},
        format="json",
    )
    assert ok.status_code == 201
    assert backslash.status_code == 400


# --- Redirects, DNS rebinding, timeouts, the size of the reply ---------------------------------


@DEVELOPMENT
@override_settings(CXCRM_WEBHOOK_RETRY_SCHEDULE=[])
def test_a_redirect_is_not_followed() -> None:
    # The second place only counts connections: a followed 302 may arrive as a GET.
    with webhook_receiver() as first, tcp_listener() as second:
        first.statuses = [302]
        first.location = f"http://127.0.0.1:{second.port}/hooks"
        webhook_endpoint_create(url=first.url, events=[EVENT])
        event_publish(EVENT, {"id": 1}, subject="")

        delivery = _deliver(WebhookDelivery.objects.get())

    assert len(first.requests) == 1
    assert second.connections == []
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.FAILED, 302)


@PRODUCTION
def test_the_name_is_resolved_once_and_the_vetted_address_is_the_one_called(
    dns: dict[str, Any],
) -> None:
    with tcp_listener() as listener, connections_guarded() as guard:
        # Public at the check, loopback on any later lookup (DNS rebinding).
        dns["answers"]["rebind.test"] = ["8.8.8.8", "127.0.0.1"]
        delivery = _deliver(_row(f"http://rebind.test:{listener.port}/hook"))

    assert dns["lookups"]["rebind.test"] == 1
    # The one connect went to the vetted address (stopped by the guard: nothing left here).
    assert guard.to_port(listener.port) == [("8.8.8.8", listener.port)]
    assert listener.connections == []
    assert delivery.status == DeliveryStatus.PENDING and "test guard" in delivery.error


@DEVELOPMENT
def test_each_attempt_resolves_once_and_names_the_host(dns: dict[str, Any]) -> None:
    with webhook_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        # Nothing listens on 127.0.0.2: a second lookup would make the attempt fail.
        dns["answers"]["hooks.test"] = ["127.0.0.1", "127.0.0.2"]
        delivery = _deliver(_row(f"http://hooks.test:{port}/in"))

    assert delivery.status == DeliveryStatus.SUCCEEDED, delivery.error
    assert dns["lookups"]["hooks.test"] == 1
    (received,) = receiver.requests
    assert received.headers["Host"] == f"hooks.test:{port}"


@DEVELOPMENT
@override_settings(CXCRM_WEBHOOK_TIMEOUT_SECONDS=1)
def test_a_receiver_that_does_not_answer_times_out() -> None:
    with webhook_receiver() as receiver:
        receiver.delay = 30  # released when the receiver stops
        delivery = _deliver(_row(receiver.url))

    assert delivery.status == DeliveryStatus.PENDING
    assert "timed out" in delivery.error


@DEVELOPMENT
def test_only_the_start_of_a_big_reply_is_read_and_kept() -> None:
    with webhook_receiver() as receiver:
        receiver.reply_bytes = 20_000_000
        delivery = _deliver(_row(receiver.url))

    assert (delivery.status, delivery.response_code) == (DeliveryStatus.SUCCEEDED, 200)
    expected = (ALPHABET * (RESPONSE_BODY_CHARS // len(ALPHABET) + 1)).decode()
    assert delivery.response_body == expected[:RESPONSE_BODY_CHARS]
    # The connection was closed, not drained: most of the reply was never taken off the wire.
    assert receiver.sent < receiver.reply_bytes


@pytest.fixture
def tls_hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context whose certificate names hooks.test, from a CA the sender trusts."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setattr("cxcrm.webhooks.sending.CA_CERTS", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.test").configure_cert(context)
    return context


@DEVELOPMENT
def test_tls_names_the_host_and_verifies_its_certificate(
    dns: dict[str, Any], tls_hooks: ssl.SSLContext
) -> None:
    # Both names lead to the same address; only hooks.test is on the certificate.
    dns["answers"] |= {"hooks.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]}
    with webhook_receiver(tls=tls_hooks) as receiver:
        good = _deliver(_row(f"https://hooks.test:{receiver.port}/in"))
        WebhookEndpoint.objects.all().delete()
        bad = _deliver(_row(f"https://impostor.test:{receiver.port}/in"))

    assert good.status == DeliveryStatus.SUCCEEDED, good.error
    # SNI names the host, though the connection went to the address.
    assert receiver.server_names[0] == "hooks.test"
    assert receiver.requests[0].headers["Host"] == f"hooks.test:{receiver.port}"
    assert bad.status == DeliveryStatus.PENDING
    assert "hostname 'impostor.test' doesn't match 'hooks.test'" in bad.error
    assert len(receiver.requests) == 1
