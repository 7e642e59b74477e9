"""Configuration from the environment: good values parse, bad ones stop start-up by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cxcrm.env import broker_url, database_config, email_config, env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def test_database_url_postgres_and_sqlite() -> None:
    pg = database_config("DATABASE_URL", "", {"DATABASE_URL": "postgres://u:p@db.local:5433/cx"})
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["HOST"], pg["PORT"], pg["NAME"], pg["USER"]) == ("db.local", 5433, "cx", "u")
    lite = database_config("DATABASE_URL", "sqlite:////tmp/x.sqlite3", {})
    assert lite["ENGINE"] == "django.db.backends.sqlite3"
    assert lite["NAME"] == "/tmp/x.sqlite3"


@pytest.mark.parametrize(
    "value", ["mysql://root@localhost/db", "postgres://h:notaport/db", "not a url", "postgres://h/"]
)
def test_bad_database_url_names_the_variable(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_config("DATABASE_URL", "", {"DATABASE_URL": value})


def test_email_url_variants() -> None:
    assert (
        email_config("EMAIL_URL", "outbox://", {}).backend
        == "feedback.surveys.backends.OutboxBackend"
    )
    smtp = email_config("EMAIL_URL", "", {"EMAIL_URL": "smtp://me%40x.org:s3cret@127.0.0.1:1025"})
    assert smtp.backend.endswith("smtp.EmailBackend")
    assert (smtp.host, smtp.port, smtp.user, smtp.password) == (
        "127.0.0.1",
        1025,
        "me@x.org",
        "s3cret",
    )
    assert not smtp.use_tls and not smtp.use_ssl
    assert email_config("E", "", {"E": "smtp+tls://mail.example.com:587"}).use_tls
    ssl = email_config("E", "", {"E": "smtps://mail.example.com"})
    assert ssl.use_ssl and ssl.port == 465
    assert email_config("E", "", {"E": "smtp://h:25?timeout=5"}).timeout == 5


@pytest.mark.parametrize(
    "value",
    ["pop3://x", "smtp://", "smtp://h:99999", "smtp://h:25?timeout=abc", "smtp://h?timeout=0"],
)
def test_bad_email_url_names_the_variable(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_config("EMAIL_URL", "", {"EMAIL_URL": value})


def test_broker_url() -> None:
    assert broker_url("B", "filesystem://", {}) == "filesystem://"
    assert broker_url("B", "", {"B": "redis://127.0.0.1:6379/0"}).startswith("redis://")
    assert broker_url("B", "", {"B": "amqp://guest:guest@127.0.0.1:5672//"}).startswith("amqp")
    with pytest.raises(ImproperlyConfigured, match="B="):
        broker_url("B", "", {"B": "kafka://x"})
    with pytest.raises(ImproperlyConfigured, match="port"):
        broker_url("B", "", {"B": "redis://h:port/0"})


def test_bool_int_list() -> None:
    assert env_bool("D", False, {"D": "yes"}) is True
    assert env_bool("D", True, {"D": "0"}) is False
    with pytest.raises(ImproperlyConfigured, match="D='maybe'"):
        env_bool("D", True, {"D": "maybe"})
    assert env_int("N", 3, {"N": " 7 "}) == 7
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 3, {"N": "7.5"})
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 3, {"N": "-1"}, minimum=0)
    assert env_list("L", [], {"L": "a.com, b.com"}) == ["a.com", "b.com"]
    with pytest.raises(ImproperlyConfigured, match="empty items"):
        env_list("L", [], {"L": "a.com,,b.com"})


def _check(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `manage.py check` in a fresh process with this environment."""
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    full.update({"CXCRM_VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "perhaps"),
        ("DATABASE_URL", "oracle://scott@tiger/db"),
        ("CELERY_BROKER_URL", "sqs://"),
        ("EMAIL_URL", "smtp://:notaport"),
        ("SITE_URL", "ftp://example.com"),
        ("ALLOWED_HOSTS", "a.com,,b.com"),
        ("DEFAULT_FROM_EMAIL", "no-address-here"),
        ("INBOUND_EMAIL_DOMAIN", "reply@example.com"),
        ("LOG_LEVEL", "LOUD"),
        ("CACHE_URL", "memcached://127.0.0.1"),
        ("LANGUAGE_CODE", "de"),
    ],
)
def test_malformed_variable_stops_start_up_naming_it(name: str, value: str, tmp_path: Path) -> None:
    result = _check({name: value}, tmp_path)
    assert result.returncode != 0
    assert f"Environment variable {name}=" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_is_required_without_debug(tmp_path: Path) -> None:
    result = _check({"DEBUG": "false"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_defaults_start_cleanly(tmp_path: Path) -> None:
    result = _check({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
