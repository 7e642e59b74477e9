"""A database outage seen from outside: gunicorn serving the product on a private PostgreSQL
cluster, which the test stops and starts again under it.

While the database is down, the API answers 503 in its JSON error shape with Retry-After, the
survey, unknown-token and sign-in pages the translated 503 page (no traceback, DEBUG on), and
/healthz names the database. Once it is back, the same server process answers 200/201 again:
Django's connection health checks replace the dead connection, nobody restarts anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.integration.conftest import ROOT, PrivatePostgres, wait_for
from tests.smtp import free_port

pytestmark = pytest.mark.integration

HEADING = "We can't reach our records right now"
API_DETAIL = "The service is temporarily unavailable: try again in a moment."

# Run in the app's environment (manage.py shell): a touchpoint to buy at, a customer, and an
# emailed invitation whose survey page opens.
SEED = """
from django.utils import timezone
from feedback.surveys.models import InvitationState
from tests.factories import CustomerFactory, InvitationFactory, TouchpointFactory
TouchpointFactory(slug="checkout")
CustomerFactory(external_id="c-1")
invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
print(invitation.token)
"""


@dataclass
class Reply:
    status: int
    headers: Any
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class App:
    base: str
    key: str
    token: str
    log: Path

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read().decode())

    def purchase(self, number: int) -> Reply:
        item = {
            "source": "shop",
            "external_id": f"outage-{number}",
            "customer_external_id": "c-1",
            "touchpoint": "checkout",
            "occurred_at": "2026-01-05T10:00:00Z",
        }
        return self.call("POST", "/api/v1/interactions/", item, Authorization=f"Bearer {self.key}")


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def app_on_private_postgres(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> Iterator[tuple[App, PrivatePostgres]]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=private_postgres.create_database("cxcrm_outage"),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CXCRM_VAR_DIR=str(tmp_path / "var"),
        DEBUG="true",  # the harsher case: Django would show its traceback page
        LOG_LEVEL="WARNING",
    )
    manage(env, "migrate", "--noinput")
    key = manage(env, "create_api_key", "--name", "outage", "--scopes", "read,write")
    token = manage(env, "shell", "-c", SEED).strip().splitlines()[-1]
    port = free_port()
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cxcrm.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    app = App(f"http://127.0.0.1:{port}", key.strip().splitlines()[-1], token, log)
    try:
        wait_for(lambda: _answers(app), timeout=60)
        yield app, private_postgres
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(app: App) -> bool:
    try:
        return app.call("GET", "/healthz").status in (200, 503)
    except OSError:
        return False


def pages(app: App) -> dict[str, Reply]:
    return {
        "survey": app.call("GET", f"/s/{app.token}/?score=9"),
        "unknown token": app.call("GET", "/s/no-such-token-at-all/"),
        "sign-in": app.call("GET", "/accounts/login/"),
    }


def test_a_database_outage_is_503s_and_the_same_server_recovers(
    app_on_private_postgres: tuple[App, PrivatePostgres],
) -> None:
    app, postgres = app_on_private_postgres
    assert app.call("GET", "/healthz").json()["status"] == "ok"
    assert app.purchase(1).status == 201
    statuses = {name: reply.status for name, reply in pages(app).items()}
    assert statuses == {"survey": 200, "unknown token": 404, "sign-in": 200}

    postgres.stop("fast")

    api = app.purchase(2)
    assert api.status == 503, api.body[:500]
    assert api.headers["Retry-After"] == "30"
    assert api.headers["Content-Type"] == "application/json"
    assert api.json() == {"detail": API_DETAIL}
    listed = app.call("GET", "/api/v1/customers/", Authorization=f"Bearer {app.key}")
    assert (listed.status, listed.json()) == (503, {"detail": API_DETAIL})
    for name, reply in pages(app).items():
        assert reply.status == 503, (name, reply.body[:500])
        assert reply.headers["Retry-After"] == "30", name
        assert HEADING in reply.body, name
        assert "Traceback" not in reply.body, name
    polish = app.call("GET", "/accounts/login/", Accept_Language="pl")
    assert "Nie mamy teraz dostępu do naszych danych" in polish.body
    health = app.call("GET", "/healthz")
    assert health.status == 503
    assert health.json() == {
        "status": "fail",
        "checks": {"database": "fail", "broker": "ok", "cache": "ok"},
    }

    postgres.start()

    # Progress, not a clock: the server's next request finds the database again.
    wait_for(lambda: app.call("GET", "/healthz").status == 200, timeout=60)
    assert app.purchase(2).status == 201
    statuses = {name: reply.status for name, reply in pages(app).items()}
    assert statuses == {"survey": 200, "unknown token": 404, "sign-in": 200}
    log = app.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "database unavailable, answered 503" in log
