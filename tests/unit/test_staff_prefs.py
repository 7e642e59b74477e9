"""Each staff member's language and time zone (cxcrm.staff_prefs): chosen on
/admin/preferences/, kept in the session from sign-in, applied to every back-office page
without a query, and used for the emails sent to them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cxcrm.models import StaffPreference
from cxcrm.staff_prefs import Locale, recipients_by_locale, staff_locale
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def agent(username: str = "olga", email: str = "olga@example.com") -> Any:
    user = UserFactory(username=username, email=email, password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="Agent"))
    return user


def signed_in(user: Any, **headers: str) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


def choose(client: Client, **values: str) -> Any:
    data = {"language": "", "time_zone": "", **values}
    return client.post(reverse("staff-preferences"), data)


def test_without_a_choice_the_browser_language_decides() -> None:
    client = signed_in(agent(), HTTP_ACCEPT_LANGUAGE="pl")
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert '<html lang="pl"' in page.content.decode()


def test_the_chosen_language_wins_over_the_browser_and_follows_the_next_pages() -> None:
    user = agent()
    client = signed_in(user, HTTP_ACCEPT_LANGUAGE="pl")
    reply = choose(client, language="ru")
    assert reply.status_code == 302
    assert StaffPreference.objects.get(user=user).language == "ru"
    page = client.get(reverse("admin:index"))
    html = page.content.decode()
    assert '<html lang="ru"' in html
    assert "Выйти" in html  # Django's own Russian "Log out"
    assert page["Content-Language"] == "ru"


def test_the_choice_is_applied_again_at_the_next_sign_in() -> None:
    user = agent()
    StaffPreference.objects.create(user=user, language="zh-hans")
    client = signed_in(user, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans"' in client.get(reverse("admin:index")).content.decode()


def test_arabic_turns_the_back_office_right_to_left() -> None:
    client = signed_in(agent())
    choose(client, language="ar")
    html = client.get(reverse("admin:index")).content.decode()
    assert 'dir="rtl"' in html


def test_clearing_the_language_returns_to_the_browser() -> None:
    user = agent()
    client = signed_in(user, HTTP_ACCEPT_LANGUAGE="pl")
    choose(client, language="ru")
    choose(client, language="")
    assert '<html lang="pl"' in client.get(reverse("admin:index")).content.decode()


def test_the_chosen_time_zone_is_the_pages_time_zone() -> None:
    client = signed_in(agent())
    choose(client, time_zone="Asia/Shanghai")
    page = client.get(reverse("staff-preferences"))
    assert page.context["now"].tzinfo.key == "Asia/Shanghai"
    assert page.context["form"].initial["time_zone"] == "Asia/Shanghai"
    # The request's activation does not leak into what runs after it.
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.parametrize(
    "values", [{"language": "xx"}, {"time_zone": "Mars/Olympus"}, {"language": "ru" * 40}]
)
def test_an_unknown_language_or_zone_is_refused_and_nothing_is_saved(
    values: dict[str, str],
) -> None:
    user = agent()
    reply = choose(signed_in(user), **values)
    assert reply.status_code == 200
    assert reply.context["form"].errors
    assert not StaffPreference.objects.filter(user=user).exists()


def test_the_page_is_for_staff_only() -> None:
    customer_like = UserFactory(username="not-staff", password=None, is_staff=False)
    reply = signed_in(customer_like).get(reverse("staff-preferences"))
    assert reply.status_code == 302
    assert "login" in reply["Location"]


def test_a_chosen_language_costs_no_query() -> None:
    plain, chosen = agent("a", "a@example.com"), agent("b", "b@example.com")
    StaffPreference.objects.create(user=chosen, language="ar", time_zone="Asia/Riyadh")
    counts = []
    for user in (plain, chosen):
        client = signed_in(user)
        client.get(reverse("admin:index"))  # warm per-process caches (content types, MFA)
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("admin:index"))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_recipients_are_grouped_by_their_accounts_locale(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    ru = agent("ru", "ru@example.com")
    StaffPreference.objects.create(user=ru, language="ru", time_zone="Europe/Moscow")
    ar = agent("ar", "ar@example.com")
    StaffPreference.objects.create(user=ar, language="ar")
    agent("plain", "plain@example.com")
    groups = recipients_by_locale(
        ["ru@example.com", "plain@example.com", "ar@example.com", "outside@example.com", ""]
    )
    assert groups == [
        (Locale("ru", "Europe/Moscow"), ["ru@example.com"]),
        (Locale("en", "UTC"), ["plain@example.com", "outside@example.com"]),
        (Locale("ar", "UTC"), ["ar@example.com"]),
    ]
    assert recipients_by_locale([]) == []


def test_a_stale_choice_falls_back_to_the_site(settings: Any) -> None:
    user = agent()
    StaffPreference.objects.create(user=user, language="tlh", time_zone="Nowhere/Atlantis")
    assert recipients_by_locale([user.email]) == [(Locale("en", settings.TIME_ZONE), [user.email])]


def test_staff_locale_activates_language_and_time_zone_for_its_block() -> None:
    with staff_locale(Locale("pl", "Europe/Warsaw")):
        assert translation.get_language() == "pl"
        assert timezone.get_current_timezone_name() == "Europe/Warsaw"
    assert translation.get_language() != "pl"


def test_the_webhook_disabled_email_reaches_its_owner() -> None:
    from cxcrm.models import WebhookEndpoint
    from cxcrm.webhooks.services import webhook_endpoint_disable
    from feedback.surveys.models import OutboundEmail

    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/cx", secret="s", owner_email="olga@example.com"
    )
    assert webhook_endpoint_disable(endpoint_id=endpoint.pk, reason="it answered 410 Gone.")
    email = OutboundEmail.objects.get(to_email="olga@example.com")
    assert "https://hooks.example.com/cx" in email.subject
    assert "it answered 410 Gone." in email.body_text


def test_generated_ticket_subjects_are_written_in_the_sites_language(settings: Any) -> None:
    """Stored once, so in LANGUAGE_CODE, not in the language of whoever's request made it."""
    from feedback.tickets.services import ticket_sync_for_response
    from tests.factories import CustomerFactory, ResponseFactory, TouchpointFactory

    def subject(name: str) -> str:
        customer = CustomerFactory(name=name)
        response = ResponseFactory(
            score=0,
            invitation__customer=customer,
            invitation__interaction__customer=customer,
            invitation__interaction__touchpoint=TouchpointFactory(name="Home delivery"),
        )
        with translation.override("ar"):  # the request's language does not matter
            ticket = ticket_sync_for_response(response_id=response.pk).ticket
        assert ticket is not None
        return ticket.subject

    assert subject("Emma Smith").endswith(" from Emma Smith at Home delivery")
    settings.LANGUAGE_CODE = "pl"
    polish = subject("Zofia Nowak")
    with translation.override("pl"):
        expected = translation.gettext("%(kind)s %(score)s from %(who)s at %(where)s")
    assert expected != "%(kind)s %(score)s from %(who)s at %(where)s"  # Polish exists
    assert "Zofia Nowak" in polish and "Home delivery" in polish and " from " not in polish
