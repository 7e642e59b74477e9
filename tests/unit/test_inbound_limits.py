"""Inbound mail that cannot be starved (issue 15): the webhook stores and answers, a task
reads; reading is capped and timed; nothing stays "received"; no input gets a 500; NUL never
reaches a text column."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from feedback.inbound import parsing as inbound
from feedback.inbound.limits import Limits, OverLimit, precheck
from feedback.inbound.models import InboundEmail, InboundSource, InboundStatus
from feedback.inbound.services import inbound_email_process, inbound_email_store
from feedback.inbound.tasks import inbound_sweep
from feedback.surveys.models import Response
from tests.unit.test_inbound import (  # noqa: F401 - the fixtures are used by name
    DOMAIN,
    TOKEN,
    _auth,
    _post,
    _postmark_raw,
    answered_invitation,
    eml,
    inbound_settings,
    sent_invitation,
    via_command,
    via_service,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

REPLY_TO = f"reply+{TOKEN}@{DOMAIN}"
# The issue's own bound for a header bomb, end to end (store and read to a final status).
BOMB_SECONDS = 2.0


def address_bomb(count: int) -> bytes:
    # Seven bytes an address, as in the report (32,000 of them: 224 KB).
    to = "a@b.co," * count
    return f"From: a@example.com\nTo: {REPLY_TO}, {to}\nSubject: Re: How did we do?\n\n9\n".encode()


def parts_bomb(count: int, nested: bool = False) -> bytes:
    if nested:
        body = "x\n"
        for i in range(count):
            body = f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n{body}--b{i}--\n"
        return f"From: a@example.com\nTo: {REPLY_TO}\n{body}".encode()
    parts = "".join(f"--b\nContent-Type: text/plain\n\nx{i}\n" for i in range(count))
    return (
        f"From: a@example.com\nTo: {REPLY_TO}\nContent-Type: multipart/mixed; boundary=b\n\n"
        f"{parts}--b--\n"
    ).encode()


# --- Caps ---------------------------------------------------------------------------------------


def test_a_32000_address_to_is_kept_over_the_limit_in_under_two_seconds() -> None:
    sent_invitation()
    raw = address_bomb(32_000)
    assert len(raw) > 224_000  # under the header cap (256 KB): the address cap answers
    started = time.perf_counter()
    row = via_service(raw)
    elapsed = time.perf_counter() - started
    assert elapsed < BOMB_SECONDS, f"{elapsed:.2f} s"
    assert row.status == InboundStatus.OVER_LIMIT
    assert "32,002 addresses; the limit is 1,000 (CXCRM_INBOUND_MAX_ADDRESSES)" in row.note
    assert bytes(InboundEmail.objects.get().raw) == raw  # kept whole
    assert not Response.objects.exists()


def test_32000_mime_parts_are_kept_over_the_limit_fast() -> None:
    raw = parts_bomb(32_000)
    started = time.perf_counter()
    row = via_service(raw)
    elapsed = time.perf_counter() - started
    assert elapsed < BOMB_SECONDS, f"{elapsed:.2f} s"
    assert row.status == InboundStatus.OVER_LIMIT
    assert "32,000 MIME parts; the limit is 500 (CXCRM_INBOUND_MAX_PARTS)" in row.note


def test_header_bytes_over_the_cap(settings: Any) -> None:
    settings.CXCRM_INBOUND_MAX_HEADER_BYTES = 4096
    raw = b"From: a@example.com\nX-Pad: " + b"y" * 5000 + b"\n\nHello\n"
    row = via_service(raw)
    assert row.status == InboundStatus.OVER_LIMIT
    assert "header bytes" in row.note and "CXCRM_INBOUND_MAX_HEADER_BYTES" in row.note


def test_nesting_over_the_cap() -> None:
    row = via_service(parts_bomb(30, nested=True))
    assert row.status == InboundStatus.OVER_LIMIT
    assert "nest deeper than 20 levels (CXCRM_INBOUND_MAX_DEPTH)" in row.note


def test_time_budget(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.CXCRM_INBOUND_TIME_BUDGET_SECONDS = 1
    clock = iter([0.0, 0.5, 5.0, 5.0, 5.0, 5.0])
    monkeypatch.setattr("feedback.inbound.limits.time.monotonic", lambda: next(clock))
    row = via_service(eml("gmail_reply.eml"))
    assert row.status == InboundStatus.OVER_LIMIT
    assert "longer than 1 s (at addresses)" in row.note


def test_messages_under_the_caps_are_not_refused() -> None:
    limits = Limits.from_settings()
    for name in ("gmail_reply.eml", "with_attachment.eml", "outlook_reply.eml", "malformed.eml"):
        precheck(eml(name), limits)
    precheck(address_bomb(990), limits)
    precheck(parts_bomb(499), limits)
    with pytest.raises(OverLimit):
        precheck(address_bomb(1000), limits)


def test_the_command_keeps_its_exit_code_zero_for_a_message_over_a_cap() -> None:
    # Stored is what the MTA needs to know; the reason is on the row (and in the output).
    row = via_command(parts_bomb(600))
    assert row.status == InboundStatus.OVER_LIMIT


# --- The webhook answers before reading ----------------------------------------------------------


def test_the_webhook_stores_and_answers_without_reading(
    django_capture_on_commit_callbacks: Any,
) -> None:
    answered_invitation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = _post(_postmark_raw("gmail_reply.eml"), **_auth())
    assert page.status_code == 200
    row = InboundEmail.objects.get()
    assert (row.status, row.text, row.from_email, row.attempts) == ("received", "", "", 0)
    assert len(callbacks) == 1  # the task, enqueued once the row commits


def test_with_eager_celery_the_task_reads_it_once_committed(celery_inline: Any) -> None:
    response = answered_invitation()
    with celery_inline():
        assert _post(_postmark_raw("gmail_reply.eml"), **_auth()).status_code == 200
    row = InboundEmail.objects.get()
    assert (row.status, row.attempts) == (InboundStatus.MATCHED_RESPONSE, 1)
    response.refresh_from_db()
    assert "soaked through" in response.comment


def test_a_header_bomb_through_the_webhook_answers_at_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    payload = {"RawEmail": address_bomb(32_000).decode(), "Headers": []}
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=False):
        page = _post(payload, **_auth())
    assert time.perf_counter() - started < BOMB_SECONDS
    assert page.status_code == 200
    row = inbound_email_process(inbound_email_id=InboundEmail.objects.get().pk)
    assert row.status == InboundStatus.OVER_LIMIT


def test_processing_twice_records_once() -> None:
    answered_invitation()
    row = inbound_email_store(raw=eml("gmail_reply.eml"), source=InboundSource.WEBHOOK)
    first = inbound_email_process(inbound_email_id=row.pk)
    second = inbound_email_process(inbound_email_id=row.pk)
    assert first.status == second.status == InboundStatus.MATCHED_RESPONSE
    assert InboundEmail.objects.get().attempts == 1  # the second found nothing to claim


# --- The sweep ------------------------------------------------------------------------------------


def _stored(minutes_ago: float, attempts: int = 0) -> InboundEmail:
    row = inbound_email_store(raw=eml("gmail_reply.eml"), source=InboundSource.WEBHOOK)
    then = timezone.now() - timedelta(minutes=minutes_ago)
    InboundEmail.objects.filter(pk=row.pk).update(
        received_at=then, attempts=attempts, last_attempt_at=then if attempts else None
    )
    return row


def test_the_sweep_reads_what_was_left_received(celery_inline: Any) -> None:
    response = answered_invitation()
    stale, fresh = _stored(minutes_ago=10), _stored(minutes_ago=1)
    with celery_inline():
        assert inbound_sweep() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.attempts) == (InboundStatus.MATCHED_RESPONSE, 1)
    assert fresh.status == InboundStatus.RECEIVED  # its own task may still be on the way
    response.refresh_from_db()
    assert "soaked through" in response.comment


def test_the_sweep_gives_up_after_the_attempts_with_the_reason(celery_inline: Any) -> None:
    given_up = _stored(minutes_ago=30, attempts=3)
    with celery_inline():
        assert inbound_sweep() == 0
    given_up.refresh_from_db()
    assert given_up.status == InboundStatus.ERROR
    assert "started 3 times and never finished" in given_up.note
    again = inbound_email_process(inbound_email_id=given_up.pk, again=True)
    assert again.status == InboundStatus.UNMATCHED  # nothing to match it here, but read


# --- No 500 from the webhook's input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps({"RecordType": "Bounce", "Email": "x@example.com"}), b"not an inbound"),
        ("[" * 100_000 + "]" * 100_000, b"nests too deeply"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, b"nests too deeply"),
        (json.dumps({"RawEmail": 5}), b"Malformed"),
        (json.dumps({"RawEmail": " "}), b"Malformed"),
        (json.dumps({"FromFull": "x", "ToFull": 3}), b"Malformed"),
        (json.dumps({"Headers": [1]}), b"Malformed"),
        (json.dumps("a string"), b"Malformed"),
        (json.dumps(None), b"Malformed"),
        ("1e999", b"Malformed"),
        (json.dumps({"Attachments": "x"}), b"Malformed"),
    ],
)
def test_unusable_webhook_bodies_are_a_400(body: str, reason: bytes) -> None:
    page = _post(body, **_auth())
    assert page.status_code == 400
    assert reason in page.content
    assert not InboundEmail.objects.exists()


# --- NUL ------------------------------------------------------------------------------------------


def test_nul_in_a_reply_is_stripped_from_text_and_kept_in_the_raw_bytes() -> None:
    response = answered_invitation()
    raw = eml("gmail_reply.eml").replace(b"The courier left", b"The cou\x00rier left")
    raw = raw.replace(b"Subject: Re: How", b"Subject: Re:\x00 How")
    row = via_service(raw)
    assert row.status == InboundStatus.MATCHED_RESPONSE, row.note
    row.refresh_from_db()
    assert "The courier left" in row.text and "\x00" not in row.text + row.subject
    assert bytes(row.raw) == raw
    response.refresh_from_db()
    assert "The courier left" in response.comment


def test_scrub_removes_token_addresses_links_and_nul() -> None:
    text = (
        f"see <{REPLY_TO}> or unsubscribe+{TOKEN}@{DOMAIN}\x00 and "
        f"https://cx.example.com/s/{TOKEN}/?score=9 or https://cx.example.com/u/{TOKEN}/"
    )
    assert inbound.scrub(text) == (
        "see <[address removed]> or [address removed] and [link removed] or [link removed]"
    )
