"""Typed readers for configuration from environment variables.

Every reader raises ``ImproperlyConfigured`` naming the variable, so a malformed value stops
start-up with a message that says which variable is wrong and why, instead of a traceback
somewhere deep inside a library.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ is None else environ).get(name)


def bad(name: str, value: str, why: str) -> ImproperlyConfigured:
    shown = value if len(value) <= 80 else value[:77] + "..."
    return ImproperlyConfigured(f"Environment variable {name}={shown!r} is invalid: {why}")


def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if "\x00" in value:
        raise bad(name, value.replace("\x00", "\\0"), "contains a NUL byte")
    return value


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise bad(name, value, "expected one of true/false, 1/0, yes/no, on/off")


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str] | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise bad(name, value, "expected a whole number") from None
    if minimum is not None and number < minimum:
        raise bad(name, value, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise bad(name, value, f"must be at most {maximum}")
    return number


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise bad(name, value, "expected a comma-separated list without empty items")
    return items


def env_url(
    name: str, default: str, schemes: set[str], environ: Mapping[str, str] | None = None
) -> str:
    value = env_str(name, default, environ).strip()
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise bad(name, value, f"expected a URL with one of the schemes {allowed}")
    if parts.scheme.startswith("http") and not parts.hostname:
        raise bad(name, value, "the URL has no host")
    return value.rstrip("/")


def database_config(
    name: str, default: str, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """DATABASE_URL: postgres:// (psycopg 3) or sqlite:///path."""
    value = env_str(name, default, environ).strip()
    scheme = urlsplit(value).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise bad(name, value, "expected postgres://USER@HOST:PORT/NAME or sqlite:///PATH")
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(value, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise bad(name, value, str(exc) or "could not be parsed") from None
    if not config.get("NAME"):
        raise bad(name, value, "the URL names no database")
    if scheme != "sqlite":
        try:
            urlsplit(value).port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise bad(name, value, "the port is not a number between 0 and 65535") from None
    return config


@dataclass(frozen=True)
class EmailConfig:
    """Which email backend to use and how to reach it (parsed from EMAIL_URL)."""

    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: int = 30
    extra: dict[str, str] = field(default_factory=dict)


_EMAIL_BACKENDS = {
    "outbox": "feedback.surveys.backends.OutboxBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
}


def email_config(name: str, default: str, environ: Mapping[str, str] | None = None) -> EmailConfig:
    """EMAIL_URL: ``outbox://`` (default: stored, shown in the admin), ``console://``,
    ``smtp://user:pass@host:port`` (plain, STARTTLS with ``?tls=1``), ``smtp+tls://`` (STARTTLS)
    or ``smtps://`` (implicit TLS), ``?timeout=N`` sets the socket timeout in seconds; or an ESP
    through anymail, ``anymail+postmark://`` (credentials in ANYMAIL_* variables)."""
    value = env_str(name, default, environ).strip()
    parts = urlsplit(value)
    if parts.scheme.startswith("anymail+"):
        esp = parts.scheme.removeprefix("anymail+").replace("-", "_")
        module = f"anymail.backends.{esp}"
        if not esp.isidentifier() or importlib.util.find_spec(module) is None:
            raise bad(name, value, f"anymail has no ESP backend named {esp!r}")
        return EmailConfig(backend=f"{module}.EmailBackend")
    backend = _EMAIL_BACKENDS.get(parts.scheme)
    if backend is None:
        allowed = ", ".join(f"{s}://" for s in _EMAIL_BACKENDS)
        raise bad(
            name, value, f"expected one of {allowed} or anymail+ESP:// (e.g. anymail+postmark://)"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if not parts.scheme.startswith("smtp"):
        return EmailConfig(backend=backend, extra=query)
    if not parts.hostname:
        raise bad(name, value, "an SMTP URL needs a host, e.g. smtp://127.0.0.1:1025")
    try:
        port = parts.port
    except ValueError:
        raise bad(name, value, "the port is not a number between 0 and 65535") from None
    tls_flag = query.get("tls", "").lower() in _TRUE
    try:
        timeout = int(query.get("timeout", "30"))
    except ValueError:
        raise bad(name, value, "timeout must be a whole number of seconds") from None
    if timeout <= 0:
        raise bad(name, value, "timeout must be positive")
    use_ssl = parts.scheme == "smtps"
    return EmailConfig(
        backend=backend,
        host=parts.hostname,
        port=port or (465 if use_ssl else 25),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=parts.scheme == "smtp+tls" or tls_flag,
        use_ssl=use_ssl,
        timeout=timeout,
        extra=query,
    )


def broker_url(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    value = env_str(name, default, environ).strip()
    scheme = urlsplit(value).scheme
    if scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory"}:
        raise bad(name, value, "expected a redis://, amqp:// or filesystem:// URL")
    if scheme in {"redis", "rediss", "amqp", "amqps", "pyamqp"}:
        try:
            urlsplit(value).port  # noqa: B018
        except ValueError:
            raise bad(name, value, "the port is not a number between 0 and 65535") from None
    return value


def anymail_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """ANYMAIL_<NAME> variables become anymail's settings (ANYMAIL_POSTMARK_SERVER_TOKEN →
    POSTMARK_SERVER_TOKEN). Without ANYMAIL_WEBHOOK_SECRET the webhooks fail closed: a random
    secret nobody knows, so no forged bounce can suppress a customer."""
    source = os.environ if environ is None else environ
    config = {
        key.removeprefix("ANYMAIL_"): value
        for key, value in source.items()
        if key.startswith("ANYMAIL_") and value
    }
    secret = config.get("WEBHOOK_SECRET", "")
    if secret and ":" not in secret:
        raise bad("ANYMAIL_WEBHOOK_SECRET", "***", "expected user:password (HTTP basic auth)")
    if not secret:
        config["WEBHOOK_SECRET"] = f"unset:{secrets.token_urlsafe(32)}"
    return config
