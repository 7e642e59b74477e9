"""The outbox email backend, the first superuser, and the worker heartbeat task."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from cxcrm.models import WorkerHeartbeat
from cxcrm.tasks import heartbeat
from feedback.surveys.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db


@override_settings(EMAIL_BACKEND="feedback.surveys.backends.OutboxBackend")
def test_outbox_backend_keeps_every_email_with_both_bodies() -> None:
    message = mail.EmailMultiAlternatives(
        subject="How did we do?",
        body="Plain text",
        from_email="Brand <fb@example.com>",
        to=["ana@example.com"],
    )
    message.attach_alternative("<p>Rich <b>text</b></p>", "text/html")
    assert message.send() == 1

    kept = OutboundEmail.objects.get()
    assert kept.status == EmailStatus.OUTBOX
    assert kept.to_email == "ana@example.com"
    assert kept.body_text == "Plain text"
    assert kept.body_html == "<p>Rich <b>text</b></p>"
    assert kept.message_id.startswith("<") and kept.message_id == kept.headers["Message-ID"]
    assert kept.sent_at is not None


@override_settings(EMAIL_BACKEND="feedback.surveys.backends.OutboxBackend")
def test_outbox_backend_leaves_recording_to_a_sender_that_records_its_own() -> None:
    message = mail.EmailMessage("s", "body", "fb@example.com", ["b@example.com"])
    message.cxcrm_recorded = True  # type: ignore[attr-defined]
    assert message.send() == 1
    assert not OutboundEmail.objects.exists()


def test_ensure_superuser_generates_and_reuses_credentials(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("CXCRM_ADMIN_PASSWORD", raising=False)
    first, second = StringIO(), StringIO()
    call_command("ensure_superuser", stdout=first)
    call_command("ensure_superuser", stdout=second)

    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff
    password = first.getvalue().strip().rsplit(" / ", 1)[1]
    assert user.check_password(password)
    assert f"admin / {password}" in second.getvalue()
    assert (tmp_path / "admin-credentials.txt").stat().st_mode & 0o077 == 0


def test_ensure_superuser_takes_credentials_from_env(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("CXCRM_ADMIN_USERNAME", "ops")
    monkeypatch.setenv("CXCRM_ADMIN_PASSWORD", "a-long-passphrase-1")
    call_command("ensure_superuser", stdout=StringIO())
    assert get_user_model().objects.get(username="ops").check_password("a-long-passphrase-1")
    assert not (tmp_path / "admin-credentials.txt").exists()


def test_ensure_superuser_refuses_a_bad_email(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management.base import CommandError

    monkeypatch.setenv("CXCRM_ADMIN_EMAIL", "not-an-email")
    with pytest.raises(CommandError, match="CXCRM_ADMIN_EMAIL"):
        call_command("ensure_superuser", stdout=StringIO())
    assert not get_user_model().objects.exists()


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_heartbeat_counts_beats_per_worker() -> None:
    heartbeat.apply(kwargs={"label": "x"})
    heartbeat.apply(kwargs={"label": "x"})
    heartbeat.apply(kwargs={"label": "y"})
    beats = dict(WorkerHeartbeat.objects.values_list("hostname", "beats"))
    assert sorted(beats.values()) == [1, 2]
    assert all(name.endswith(("/x", "/y")) for name in beats)
