"""API keys: made once and shown once, stored as a SHA-256 of the secret, found by prefix.

A key reads ``cx_<prefix>_<secret>``: the 8-character prefix is public (shown in the admin and
in logs) and indexes the row; the secret is 256 random bits. SHA-256 without a salt or a slow
hash is enough because the secret is random and long (no dictionary to attack), and it keeps
authentication to one indexed read per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cxcrm.errors import ServiceError
from cxcrm.models import ApiKey, ApiScope

KEY_PREFIX = "cx"
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 8
SECRET_BYTES = 32
# last_used_at is for people ("is this key still in use?"); a write per request would turn
# every read into a write and serialise concurrent requests of one key on its row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ServiceError, ValueError):
    pass


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    key: str  # the full key: shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_scopes(scopes: list[str] | tuple[str, ...] | str) -> list[str]:
    if isinstance(scopes, str):
        scopes = [s.strip() for s in scopes.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown or not scopes:
        raise ApiKeyError(
            f"Scopes must be among {', '.join(ApiScope.values)}; got {', '.join(scopes) or '—'}."
        )
    # write implies read: a key that may create interactions may read back what it wrote.
    wanted = set(scopes) | ({ApiScope.READ} if ApiScope.WRITE in scopes else set())
    return [s for s in ApiScope.values if s in wanted]


@transaction.atomic
def api_key_create(*, name: str, scopes: list[str] | str, created_by: Any = None) -> NewApiKey:
    name = (name or "").replace("\x00", "").strip()
    if not name:
        raise ApiKeyError("A key needs a name.")
    scopes = clean_scopes(scopes)
    for _ in range(5):
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        secret = secrets.token_urlsafe(SECRET_BYTES)
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    name=name[:120],
                    prefix=prefix,
                    secret_hash=hash_secret(secret),
                    scopes=scopes,
                    created_by=created_by if getattr(created_by, "pk", None) else None,
                )
        except IntegrityError:  # 36^8 prefixes: a collision is rare but possible
            continue
        return NewApiKey(api_key, f"{KEY_PREFIX}_{prefix}_{secret}")
    raise ApiKeyError("Could not find a free key prefix; try again.")


@transaction.atomic
def api_key_revoke(*, api_key_id: int) -> bool:
    return bool(
        ApiKey.objects.filter(pk=api_key_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def parse_key(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH:
        return None
    prefix, secret = parts[1], parts[2]
    if not secret or len(secret) > 128 or not all(c in PREFIX_ALPHABET for c in prefix):
        return None
    return prefix, secret


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key that ``raw`` names, or None. One indexed read; a timestamp write at most
    once a minute per key (a conditional update, so concurrent requests write once)."""
    parsed = parse_key(raw)
    if parsed is None:
        return None
    prefix, secret = parsed
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is None:
        # Compare anyway so an unknown prefix costs the same as a wrong secret.
        hmac.compare_digest(hash_secret(secret), "0" * 64)
        return None
    if not hmac.compare_digest(hash_secret(secret), api_key.secret_hash):
        return None
    if api_key.revoked_at is not None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
