"""Outgoing webhooks are signed with the Standard Webhooks scheme
(https://www.standardwebhooks.com/) through its reference library, so receivers verify them
with that scheme's library in their language (Python: ``Webhook(secret).verify(body, headers)``)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """An endpoint secret in the scheme's format: ``whsec_`` + base64 of the key bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def headers(
    secret: str, message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The request headers of one delivery attempt. The timestamp is the attempt's (receivers
    refuse stale ones against replay); the id is the message's, the same on every retry."""
    moment = datetime.now(tz=UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
        "content-type": "application/json",
    }
