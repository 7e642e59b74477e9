"""The embedded email backend: messages are kept as OutboundEmail rows, readable in the admin.

Selected with ``EMAIL_URL=outbox://`` (the default), so a machine without a mail server still
shows every survey, reply and alert the product would have sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from feedback.surveys.models import EmailStatus, OutboundEmail


def _html_part(message: EmailMessage) -> str:
    if isinstance(message, EmailMultiAlternatives):
        for content, mimetype in message.alternatives:
            if mimetype == "text/html":
                return str(content)
    if message.content_subtype == "html":
        return str(message.body)
    return ""


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        kept = 0
        for message in email_messages:
            kept += 1
            if getattr(message, "cxcrm_recorded", False):
                # The sending service records its own OutboundEmail row (with what it was
                # about); it asks us for the status, see feedback.surveys.services.dispatch.
                continue
            mime = message.message()
            fields = {
                "status": EmailStatus.OUTBOX,
                "message_id": str(mime.get("Message-ID", "")),
                "sent_at": timezone.now(),
            }
            text = message.body if message.content_subtype != "html" else ""
            OutboundEmail.objects.create(
                to_email=", ".join(message.recipients())[:254],
                from_email=str(message.from_email or "")[:254],
                subject=str(message.subject)[:255],
                body_text=str(text),
                body_html=_html_part(message),
                headers={k: str(v) for k, v in mime.items()},
                **fields,
            )
        return kept


def delivered_status(backend: BaseEmailBackend) -> str:
    """What a successful send means with this backend: kept in the outbox, or really sent."""
    return EmailStatus.OUTBOX if isinstance(backend, OutboxBackend) else EmailStatus.SENT
