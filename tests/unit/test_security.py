"""Staff sign-in (allauth + MFA), CSRF on every state-changing form, token strength, and the
production settings check."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from feedback.surveys.models import TOKEN_BYTES, Invitation, InvitationState, new_token
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()  # allauth's rate limits live in the cache


@pytest.fixture
def staff():  # type: ignore[no-untyped-def]
    return UserFactory(username="sam", email="sam@staff.example.com")


def login(client: Client, password: str, email: str = "sam@staff.example.com"):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_admin_sends_anonymous_staff_to_the_allauth_login() -> None:
    response = Client().get("/admin/")
    assert response.status_code == 302
    follow = Client().get(response["Location"])
    assert follow.status_code == 302 and follow["Location"].startswith("/accounts/login/")


def test_allauth_login_lets_staff_into_the_admin(staff) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert login(client, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_login_form_cannot_be_used_to_sign_in(staff) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = client.post(
        "/admin/login/", {"username": "sam", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_sixth_failed_login_within_five_minutes_is_refused(staff) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(5):
        failed = login(client, "wrong-password")
        assert failed.status_code == 200  # the form again, with an error
        assert not client.session.get("_auth_user_id")
    # The 6th attempt is refused even with the right password...
    sixth = login(client, PASSWORD)
    assert not client.session.get("_auth_user_id")
    assert sixth.status_code in (200, 429)
    assert client.get("/admin/").status_code == 302
    # ...and the admin's login URL offers no way around it.
    via_admin = client.post("/admin/login/", {"username": "sam", "password": PASSWORD})
    assert "/accounts/login/" in via_admin["Location"]
    assert login(client, PASSWORD).status_code in (200, 429)
    assert not client.session.get("_auth_user_id")


def test_signup_is_closed_unless_allowed(settings) -> None:  # type: ignore[no-untyped-def]
    closed = Client().get("/accounts/signup/")
    assert closed.status_code == 200 and "closed" in closed.content.decode().lower()
    settings.ACCOUNT_ALLOW_REGISTRATION = True
    opened = Client().get("/accounts/signup/")
    assert 'name="password1"' in opened.content.decode()


def test_mfa_is_demanded_for_the_admin_group(staff) -> None:  # type: ignore[no-untyped-def]
    staff.groups.add(Group.objects.get_or_create(name="Admin")[0])
    client = Client()
    login(client, PASSWORD)
    page = client.get("/admin/")
    assert page.status_code == 302 and page["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/admin/feedback/ticket/").status_code == 302

    # With TOTP enrolled, signing in asks for a code, and the admin opens after it.
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    client = Client()
    step = login(client, PASSWORD)
    assert step.status_code == 302 and "/accounts/2fa/authenticate/" in step["Location"]
    assert client.get("/admin/").status_code == 302  # not yet
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    done = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_mfa_for_everyone_is_a_setting(staff, settings) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    login(client, PASSWORD)
    assert client.get("/admin/").status_code == 200
    settings.CXCRM_MFA_REQUIRED_FOR_ALL_STAFF = True
    cache.clear()  # the "no MFA needed" answer is cached for a few minutes
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def _csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_every_state_changing_form_rejects_a_missing_csrf_token(staff) -> None:  # type: ignore[no-untyped-def]
    invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
    anonymous_posts = {
        "/accounts/login/": {"login": "sam", "password": PASSWORD},
        "/accounts/password/reset/": {"email": "sam@staff.example.com"},
        f"/s/{invitation.token}/": {"step": "score", "score": "5"},
        f"/u/{invitation.token}/": {},
        f"/u/{invitation.token}/resubscribe/": {},
    }
    for url, data in anonymous_posts.items():
        assert _csrf_client().post(url, data).status_code == 403, url
    signed_in = _csrf_client()
    signed_in.force_login(staff)
    staff.is_superuser = True
    staff.save()
    staff_posts = {
        "/admin/customers/customer/add/": {"email": "x@example.com", "language": "en"},
        "/admin/feedback/rootcause/add/": {"name": "Typo"},
        "/accounts/logout/": {},
        "/accounts/password/change/": {"oldpassword": PASSWORD, "password1": "n3w-Passw0rd!x"},
    }
    for url, data in staff_posts.items():
        assert signed_in.post(url, data).status_code == 403, url
    assert not Invitation.objects.filter(state=InvitationState.RESPONDED).exists()


def test_tokens_are_long_random_and_unique() -> None:
    tokens = [new_token() for _ in range(2000)]
    assert len(set(tokens)) == 2000
    assert TOKEN_BYTES * 8 >= 128
    assert all(len(t) >= 43 for t in tokens)
    alphabet = set("".join(tokens))
    assert alphabet <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(alphabet) == 64  # every symbol of the url-safe alphabet shows up: no bias


def test_unknown_and_wrong_tokens_look_the_same() -> None:
    invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
    near_miss = invitation.token[:-1] + ("A" if invitation.token[-1] != "A" else "B")
    random_token = secrets.token_urlsafe(32)
    client = Client()
    pages = [client.get(f"/s/{t}/") for t in (near_miss, random_token)]
    assert [p.status_code for p in pages] == [404, 404]
    assert pages[0].content == pages[1].content
    unsub = [client.get(f"/u/{t}/") for t in (near_miss, random_token)]
    assert unsub[0].content == unsub[1].content


def test_pages_send_security_headers() -> None:
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_inline_scripts_in_our_pages(staff) -> None:  # type: ignore[no-untyped-def]
    invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
    client = Client()
    for url in (f"/s/{invitation.token}/?score=3", f"/u/{invitation.token}/", "/accounts/login/"):
        html = client.get(url).content.decode()
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), url


def _check_deploy(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    full.update({"CXCRM_VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_passes_with_the_documented_production_variables(tmp_path: Path) -> None:
    result = _check_deploy(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "cx.example.com",
            "SITE_URL": "https://cx.example.com",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_admin_invites_staff_by_email_with_a_set_password_link(admin_client, settings) -> None:  # type: ignore[no-untyped-def]
    import re

    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    newcomer = UserFactory(username="nina", email="nina@staff.example.com", password=None)
    newcomer.set_unusable_password()
    newcomer.save()
    page = admin_client.post(
        "/admin/auth/user/", {"action": "invite_by_email", "_selected_action": [newcomer.pk]}
    )
    assert page.status_code == 302
    [email] = mail.outbox
    assert email.to == ["nina@staff.example.com"]
    link = re.search(r"http://[^\s]+/accounts/password/reset/key/[^\s]+/", email.body)
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    client = Client()
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else "/" + path,
        {"password1": "a-new-Passphrase-42", "password2": "a-new-Passphrase-42"},
    )
    assert done.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.check_password("a-new-Passphrase-42")
