"""Our ticket queue beside django-helpdesk's staff ticket list, on the same tickets.

``python -m bench.peer [--quick] [--db NAME] [--peer-db NAME] [--reps N] [--keep]``

1. Ours: the database of ``bench.admin`` (``bench.seed``, fixed seed: 1,000,000 tickets;
   --quick 100,000, a tenth of everything) in ``cxcrm_scale`` (--quick
   ``cxcrm_scale_quick``), reused when it already holds exactly those counts.
2. The peer: django-helpdesk (``HELPDESK``), installed from PyPI at bench time into its own
   virtual environment ``var/bench/helpdesk-venv`` with the same Django, psycopg and gunicorn
   versions as ours (rebuilt only when those pins change), run by a minimal Django project
   that this module writes to ``var/bench/helpdesk-project`` (helpdesk's required apps, teams
   mode off because its optional pinax-teams extra is not installed). Its database
   (``cxcrm_bench_peer_helpdesk``) is on the same PostgreSQL server, made afresh and
   migrated; it gets our users and one queue per touchpoint (same ids), then every ticket
   of ours, streamed ``COPY (SELECT …) TO STDOUT`` → ``COPY helpdesk_ticket FROM STDIN``:
   same ids, titles, created/modified and due dates, assignees, the customer's email as
   submitter; status new/open → Open, pending → Open and on hold, resolved → Resolved,
   closed → Closed (so both apps' default lists hold the same open tickets); priority
   urgent/high/normal/low → 1 Critical/2 High/3 Normal/4 Low; queue = touchpoint. Then
   ``VACUUM ANALYZE``, as bench.seed ends ours.
3. Each app runs under its own gunicorn (the same version; one sync worker; DEBUG off;
   persistent database connections, 60 s; a local-memory cache; plain static storage) on a
   free port of 127.0.0.1. This process requests both with ``requests`` as the signed-in
   superuser (a session made by the test client's ``force_login`` in each app's own
   environment, sent as the session cookie). No static files are fetched on either side.
4. Ours: GET /admin/feedback/ticket/, the triage queue staff work from (the ticket
   changelist, server-rendered, 50 rows; /admin/queue/ redirects to it). The peer: GET
   /helpdesk/tickets/ (``helpdesk:list``) with its default query (status Open or Reopened, by
   creation date); that page draws its rows with DataTables from a JSON endpoint, so its time
   is the page plus the request the browser then makes for the first page
   (``datatables_ticket_list/<query>`` with draw=1, start=0, length = the page size, an empty
   search; the URL is read from the page itself). The superuser's helpdesk
   ``tickets_per_page`` is set to our page size, so both show the same number of rows.
5. Two warm-ups each, then ``--reps`` (default 7, at least 5) alternately; medians.
   ``ratio = peer ms / ours ms`` (bigger is better for us). The issue names no figure, so
   the target is 1.0: ours at least as fast as the peer.

Both databases are dropped at the end unless --keep. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import admin as admin_bench
from bench import seed as seeding
from bench.common import PG, drop_database, recreate_database, stop_process

ROOT = Path(__file__).resolve().parents[1]
HELPDESK = "django-helpdesk==2.6.1"
VAR = ROOT / "var" / "bench"
VENV = VAR / "helpdesk-venv"
PROJECT = VAR / "helpdesk-project"
PEER_DB = "cxcrm_bench_peer_helpdesk"
TARGET = 1.0
# Both servers: one sync worker (as small as a deployment gets), a generous request timeout.
GUNICORN = ["--workers", "1", "--timeout", "600", "--log-level", "warning"]
# The triage queue staff work from: the ticket changelist.
OURS_URL = "/admin/feedback/ticket/"
PEER_URL = "/helpdesk/tickets/"
# helpdesk's ticket list passes its query to the JSON endpoint in the URL (base64).
DATA_URL = re.compile(r'"(/helpdesk/datatables_ticket_list/[A-Za-z0-9+/=%]+)"')

# --- The peer's project, written at run time (our code; nothing of helpdesk is copied) ---

PEER_SETTINGS = '''"""Written by bench/peer.py: the smallest project that serves django-helpdesk."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = {secret!r}
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {{
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        }},
    }}
]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {database!r},
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        # As ours (cxcrm/settings.py): persistent connections, checked before reuse.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }}
}}
CACHES = {{"default": {{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_ROOT = BASE_DIR / "media"
SITE_ID = 1
LOGIN_URL = "/helpdesk/login/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Teams need helpdesk's optional "teams" extra (pinax-teams), which is not installed.
HELPDESK_TEAMS_MODE_ENABLED = False
'''

PEER_URLS = '''"""Written by bench/peer.py."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("helpdesk/", include("helpdesk.urls")),
]
'''

PEER_WSGI = '''"""Written by bench/peer.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
application = get_wsgi_application()
'''

PEER_SETUP = '''"""Written by bench/peer.py, run with the helpdesk venv's python.

Migrate, add our users (same ids) and one queue per touchpoint (same ids), set the
superuser's page size and sign them in. Reads a JSON spec on stdin, prints the session cookie.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django

django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from helpdesk.models import Queue, UserSettings

spec = json.load(sys.stdin)
call_command("migrate", verbosity=0, interactive=False)
User = get_user_model()
for user in spec["users"]:
    User.objects.create(password="!", **user)
for queue in spec["queues"]:
    Queue.objects.create(**queue)
with connection.cursor() as cursor:
    for table in ("auth_user", "helpdesk_queue"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
admin = User.objects.get(username=spec["admin"])
UserSettings.objects.filter(user=admin).update(tickets_per_page=spec["page_size"])
client = Client()
client.force_login(admin)
name = settings.SESSION_COOKIE_NAME
print(json.dumps({"cookie": f"{name}={client.cookies[name].value}"}))
'''

# Ours under gunicorn: the product's settings, with what bench.admin changes for its test
# client (no collectstatic manifest, a local-memory cache, no TOTP for the bench's superuser).
OURS_SETTINGS = '''"""Written by bench/peer.py: cxcrm's settings for the bench's gunicorn."""

from cxcrm.settings import *  # noqa: F403

ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CXCRM_MFA_REQUIRED_FOR_SUPERUSERS = False
CXCRM_MFA_REQUIRED_FOR_ALL_STAFF = False
'''

# Columns written into helpdesk_ticket, and the SELECT on our database that produces them.
PEER_TICKET_COLUMNS = [
    "id",
    "title",
    "queue_id",
    "created",
    "modified",
    "submitter_email",
    "assigned_to_id",
    "status",
    "on_hold",
    "description",
    "resolution",
    "priority",
    "due_date",
    "last_escalation",
    "secret_key",
]
OURS_TICKETS_AS_PEER = """
SELECT t.id, left(t.subject, 200), COALESCE(t.touchpoint_id, {fallback_queue}),
       t.created_at, t.updated_at, c.email, t.assignee_id,
       CASE t.status WHEN 'resolved' THEN 3 WHEN 'closed' THEN 4 ELSE 1 END,
       t.status = 'pending', '', NULLIF(t.resolution, ''),
       5 - t.priority, t.due_at, t.escalated_at, md5('ticket-' || t.id)::uuid::text
FROM feedback_ticket t JOIN customers_customer c ON c.id = t.customer_id
ORDER BY t.id
"""


@contextmanager
def step(timings: dict[str, float], key: str, label: str) -> Iterator[None]:
    """Time a setup step: printed as it ends, kept under ``key`` for the JSON line."""
    started = time.perf_counter()
    yield
    timings[key] = time.perf_counter() - started
    print(f"  {label}: {timings[key]:.1f}s", flush=True)


def requirements() -> list[str]:
    """helpdesk pinned; Django, psycopg and gunicorn at our versions, so the framework, the
    driver and the server are the same on both sides."""
    return [
        HELPDESK,
        f"Django=={version('Django')}",
        f"psycopg[binary]=={version('psycopg')}",
        f"gunicorn=={version('gunicorn')}",
    ]


def ensure_venv() -> str:
    """Build var/bench/helpdesk-venv unless it already holds exactly ``requirements()``."""
    wanted = "\n".join(requirements()) + "\n"
    stamp = VENV / "bench-requirements.txt"
    python = VENV / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return "reused"
    if VENV.exists():
        shutil.rmtree(VENV)
    VAR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pins = requirements()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"pip install into {VENV} failed:\n{done.stderr[-3000:]}")
    stamp.write_text(wanted)
    return "built"


def write_project(peer_db: str) -> None:
    PROJECT.mkdir(parents=True, exist_ok=True)
    files = {
        "peer_settings.py": PEER_SETTINGS.format(
            secret=secrets.token_urlsafe(48), database=peer_db
        ),
        "peer_urls.py": PEER_URLS,
        "peer_wsgi.py": PEER_WSGI,
        "peer_setup.py": PEER_SETUP,
        "ours_settings.py": OURS_SETTINGS,
    }
    for name, text in files.items():
        (PROJECT / name).write_text(text)


def ours_catalogue(name: str) -> dict[str, Any]:
    """Our users and touchpoints, as the peer's users and queues."""
    import psycopg

    with psycopg.connect(f"{PG}/{name}") as c:
        users = [
            dict(
                zip(
                    (
                        "id",
                        "username",
                        "email",
                        "first_name",
                        "last_name",
                        "is_staff",
                        "is_superuser",
                    ),
                    row,
                    strict=True,
                )
            )
            for row in c.execute(
                "SELECT id, username, email, first_name, last_name, is_staff, is_superuser "
                "FROM auth_user ORDER BY id"
            )
        ]
        queues = [
            {"id": pk, "title": title[:100], "slug": slug[:50]}
            for pk, title, slug in c.execute(
                "SELECT id, name, slug FROM touchpoints_touchpoint ORDER BY id"
            )
        ]
    return {"users": users, "queues": queues}


def setup_peer(peer_db: str, spec: dict[str, Any]) -> str:
    """Create, migrate and populate the peer's catalogue; returns the superuser's session
    cookie (``name=value``)."""
    recreate_database(peer_db)
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "peer_setup.py"],
        cwd=PROJECT,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=peer_env(),
    )
    if done.returncode != 0:
        raise SystemExit(f"helpdesk setup failed:\n{done.stderr[-3000:]}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["cookie"])


def copy_tickets(ours_db: str, peer_db: str, fallback_queue: int) -> int:
    """Stream our tickets into helpdesk_ticket, mapped in SQL on our side."""
    import psycopg

    select = OURS_TICKETS_AS_PEER.format(fallback_queue=int(fallback_queue))
    into = f"COPY helpdesk_ticket ({', '.join(PEER_TICKET_COLUMNS)}) FROM STDIN"
    with psycopg.connect(f"{PG}/{ours_db}") as src, psycopg.connect(f"{PG}/{peer_db}") as dst:
        with (
            src.cursor() as out_cur,
            dst.cursor() as in_cur,
            out_cur.copy(f"COPY ({select}) TO STDOUT") as out,
            in_cur.copy(into) as copy_in,
        ):
            for chunk in out:
                copy_in.write(chunk)
        dst.execute(
            "SELECT setval(pg_get_serial_sequence('helpdesk_ticket', 'id'), "
            "(SELECT COALESCE(max(id), 1) FROM helpdesk_ticket))"
        )
        row = dst.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()
        dst.commit()
        dst.autocommit = True
        dst.execute("VACUUM ANALYZE")
    assert row is not None
    return int(row[0])


def open_counts(ours_db: str, peer_db: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(f"{PG}/{ours_db}") as c:
        ours = c.execute(
            "SELECT count(*) FROM feedback_ticket WHERE status IN ('new', 'open', 'pending')"
        ).fetchone()
    with psycopg.connect(f"{PG}/{peer_db}") as c:
        peer = c.execute("SELECT count(*) FROM helpdesk_ticket WHERE status IN (1, 2)").fetchone()
    assert ours is not None and peer is not None
    return int(ours[0]), int(peer[0])


def peer_env() -> dict[str, str]:
    """The peer's processes see none of our settings' environment."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"DJANGO_SETTINGS_MODULE": "peer_settings", "PYTHONPATH": str(PROJECT)})
    return env


def ours_env() -> dict[str, str]:
    env = dict(os.environ)  # bench.admin's environment: DATABASE_URL, SECRET_KEY, DEBUG off
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ours_settings",
            "PYTHONPATH": os.pathsep.join([str(PROJECT), str(ROOT)]),
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(python: Path, app: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """One gunicorn, one sync worker, on a free port; yields its base URL."""
    import requests

    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(python), "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", *GUNICORN],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn {app} exited:\n{log.read_text()[-3000:]}")
            try:
                requests.get(f"{base}/", timeout=60)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn {app} did not answer on {base}") from None
                time.sleep(0.2)
        yield base
    finally:
        stop_process(proc)


class Sides:
    """The two pages, requested the same way; every reply is checked before it counts."""

    def __init__(self, ours_base: str, ours_cookie: str, peer_base: str, peer_cookie: str) -> None:
        import requests

        # Sent as a header, not through a cookie jar: both servers are on 127.0.0.1 and both
        # call their cookie "sessionid".
        self.ours = requests.Session()
        self.ours.headers["Cookie"] = ours_cookie
        self.peer = requests.Session()
        self.peer.headers["Cookie"] = peer_cookie
        self.ours_base, self.peer_base = ours_base, peer_base
        self.expect_rows = 0
        self.expect_open = 0

    def get(self, session: Any, url: str) -> tuple[float, Any]:
        started = time.perf_counter()
        reply = session.get(url, timeout=600, allow_redirects=False)
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status_code != 200:
            raise RuntimeError(f"{url}: {reply.status_code} {reply.text[:300]!r}")
        return elapsed, reply

    def ours_once(self) -> float:
        from feedback.tickets.admin.tickets import TicketAdmin

        ms, reply = self.get(self.ours, self.ours_base + OURS_URL)
        rows = reply.text.count('name="_selected_action"')
        capped = self.expect_open > TicketAdmin.count_cap
        marker = "cx-count--capped" if capped else f"{self.expect_open} tickets"
        if rows != self.expect_rows or marker not in reply.text:
            raise RuntimeError(f"ours: {rows} rows, {marker!r} missing: {reply.text[:300]!r}")
        return ms

    def peer_once(self) -> tuple[float, float]:
        page_ms, page = self.get(self.peer, self.peer_base + PEER_URL)
        found = DATA_URL.search(page.text)
        if found is None:
            raise RuntimeError(f"peer: no datatables URL in {page.text[:300]!r}")
        query = (
            f"?draw=1&start=0&length={self.expect_rows}&search%5Bvalue%5D=&search%5Bregex%5D=false"
        )
        data_ms, data = self.get(self.peer, self.peer_base + found.group(1) + query)
        body = data.json()
        if body["recordsFiltered"] != self.expect_open or len(body["data"]) != self.expect_rows:
            raise RuntimeError(
                f"peer: {body['recordsFiltered']} open, {len(body['data'])} rows; expected "
                f"{self.expect_open}, {self.expect_rows}"
            )
        return page_ms, data_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 tickets")
    parser.add_argument("--db", default=None, help="ours (default as bench.admin)")
    parser.add_argument("--peer-db", default=PEER_DB, help="django-helpdesk's")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep both databases afterwards")
    args = parser.parse_args()
    name = args.db or ("cxcrm_scale_quick" if args.quick else "cxcrm_scale")
    for db in (name, args.peer_db):
        if db in seeding.REFUSED:
            parser.error(f"refusing to use the database {db!r}")
    if name == args.peer_db:
        parser.error("--db and --peer-db must differ")
    reps = max(5, args.reps)
    counts = admin_bench.counts_for(args.quick)
    timings: dict[str, float] = {}
    print(f"peer: {HELPDESK} beside our ticket queue, {counts['tickets']:,} tickets")
    try:
        with step(timings, "venv", f"helpdesk venv ({VENV.relative_to(ROOT)})"):
            print(f"  venv {ensure_venv()}: " + ", ".join(requirements()), flush=True)
        with step(timings, "ours_db", f"ours: {name}"):
            seeded = admin_bench.prepare(name, counts)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connections
        from django.test import Client

        from feedback.tickets.admin.tickets import TicketAdmin

        page_size = TicketAdmin.list_per_page
        client = Client()
        client.force_login(get_user_model().objects.get(username="admin"))
        cookie_name = settings.SESSION_COOKIE_NAME
        ours_cookie = f"{cookie_name}={client.cookies[cookie_name].value}"
        connections.close_all()

        write_project(args.peer_db)
        spec = {**ours_catalogue(name), "admin": "admin", "page_size": page_size}
        with step(timings, "peer_db", f"helpdesk: {args.peer_db} made, migrated, users, queues"):
            peer_cookie = setup_peer(args.peer_db, spec)
        with step(timings, "peer_tickets", "helpdesk: tickets by COPY, VACUUM ANALYZE"):
            copied = copy_tickets(name, args.peer_db, spec["queues"][0]["id"])
        print(f"  {copied:,} tickets copied", flush=True)
        ours_open, peer_open = open_counts(name, args.peer_db)
        if copied != counts["tickets"] or ours_open != peer_open:
            raise SystemExit(f"copy mismatch: {copied} tickets, open {ours_open} vs {peer_open}")

        with ExitStack() as servers:
            with step(timings, "servers", "both gunicorns up"):
                ours_base = servers.enter_context(
                    gunicorn(
                        Path(sys.executable),
                        "cxcrm.wsgi:application",
                        ROOT,
                        ours_env(),
                        PROJECT / "ours-gunicorn.log",
                    )
                )
                peer_base = servers.enter_context(
                    gunicorn(
                        VENV / "bin" / "python",
                        "peer_wsgi:application",
                        PROJECT,
                        peer_env(),
                        PROJECT / "peer-gunicorn.log",
                    )
                )
            sides = Sides(ours_base, ours_cookie, peer_base, peer_cookie)
            sides.expect_open = ours_open
            sides.expect_rows = min(page_size, ours_open)
            for _ in range(2):  # connections, imports, templates, caches
                sides.ours_once()
                sides.peer_once()
            ours_ms: list[float] = []
            page_ms: list[float] = []
            data_ms: list[float] = []
            for _ in range(reps):
                ours_ms.append(sides.ours_once())
                page, data = sides.peer_once()
                page_ms.append(page)
                data_ms.append(data)
        ours = statistics.median(ours_ms)
        baseline = statistics.median(p + d for p, d in zip(page_ms, data_ms, strict=True))
        ratio = baseline / ours
        print(
            f"ticket list on {copied:,} tickets ({ours_open:,} open, {sides.expect_rows} a page), "
            f"median of {reps}: ours {ours:.1f} ms, django-helpdesk {baseline:.1f} ms "
            f"(page {statistics.median(page_ms):.1f} ms + data "
            f"{statistics.median(data_ms):.1f} ms)"
        )
        print(
            "  ours   " + " ".join(f"{v:.0f}" for v in ours_ms) + "\n"
            "  peer   " + " ".join(f"{p + d:.0f}" for p, d in zip(page_ms, data_ms, strict=True))
        )
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"  ratio peer/ours {ratio:.2f} {verdict} the target {TARGET:g}")
        result = {
            "bench": "peer",
            "peer": HELPDESK,
            "tickets": copied,
            "open_tickets": ours_open,
            "page_rows": sides.expect_rows,
            "reps": reps,
            "ours": round(ours, 2),
            "baseline": round(baseline, 2),
            "ratio": round(ratio, 3),
            "target": TARGET,
            "ok": ratio >= TARGET,
            "baseline_page": round(statistics.median(page_ms), 2),
            "baseline_data": round(statistics.median(data_ms), 2),
            "seed_s": round(seeded, 1),
            "setup_s": {k: round(v, 1) for k, v in timings.items()},
        }
        print(json.dumps(result))
    finally:
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            drop_database(args.peer_db)
            drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
