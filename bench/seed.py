"""Fill a migrated PostgreSQL database with millions of rows, fast and reproducibly.

``python -m bench.seed --customers 200000 --interactions 1000000 --responses 1000000
--tickets 1000000 [--db NAME] [--seed N] [--keep-existing]``

The database (default ``cxcrm_scale``) is dropped, created and migrated (``manage.py migrate``
with ``DATABASE_URL``), a small catalogue (staff users, touchpoints, surveys, root causes) is
made with the ORM, then every big table is filled with psycopg 3 ``COPY … FROM STDIN`` from rows
drawn from ``random.Random(seed)``: the same arguments give the same rows (tokens included).
Ids are written explicitly (so rows can refer to each other without reading them back) and
the sequences are moved past them afterwards; ``ANALYZE`` ends the run.

The rows satisfy the model constraints: a response's category is ``categorize(kind, score)``
and its score is in the kind's range; resolved and closed tickets have a root cause and
``resolved_at``; invitations are unique per (survey, interaction) (one per interaction) and
their tokens are unique (43 hex characters from the rng); interactions are unique per
(source, external_id). Tickets with a response point at an unhappy answer (one ticket per
response at most). Most tickets are resolved or closed, as in a system that has run for years;
``OPEN_SHARE`` of them are in the queue (new, open or pending).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import PG, database_url, drop_database, recreate_database  # noqa: F401 - drop_database: the benches call seeding.drop_database

ROOT = Path(__file__).resolve().parents[1]
SEED = 20260101
REFUSED = {"cxcrm", "test_cxcrm", "postgres"}
LANGUAGES = ["en", "en", "en", "de", "fr", "pl", "ru", "zh-hans"]
COUNTRIES = ["US", "GB", "DE", "FR", "PL", "CN", "IN", "BR"]
SEGMENTS = ["retail", "retail", "smb", "enterprise", "vip"]
STAGES = ["discovery", "engagement", "order", "payment", "usage", "support"]
CHANNELS = ["web", "mobile_app", "store", "phone", "email", "chat", "delivery"]
ROOT_CAUSES = ["Late delivery", "Damaged item", "Billing error", "Rude staff", "Bug", "Other"]
# Share of tickets still in the queue (new, open, pending); the rest are resolved or closed.
OPEN_SHARE = 0.08
# Rows are sent to COPY in text chunks of about this many bytes.
CHUNK = 1 << 20
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_S = 3 * 365 * 86400


def ts(seconds: float) -> str:
    """A timestamptz literal COPY reads, ``seconds`` after EPOCH."""
    return (EPOCH + timedelta(seconds=seconds)).isoformat()


NULL = r"\N"


def migrate(name: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url(name), "DEBUG": "true"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0", "--no-input"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def rollups_rebuild(name: str) -> None:
    """The COPYed rows bypass the services that keep the rollups: build them from scratch."""
    env = {**os.environ, "DATABASE_URL": database_url(name), "DEBUG": "true"}
    subprocess.run(
        [sys.executable, "manage.py", "rollups_rebuild", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def copy_rows(conn: object, table: str, columns: list[str], rows: Iterator[str]) -> int:
    """COPY text lines (tab-separated, newline-terminated, no escaping needed: the generators
    only produce tab-, newline- and backslash-free values) into ``table``."""
    n = 0
    buf = io.StringIO()
    with (
        conn.cursor() as cur,
        cur.copy(  # type: ignore[attr-defined]
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy,
    ):
        for line in rows:
            buf.write(line)
            n += 1
            if buf.tell() > CHUNK:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())
    return n


def set_sequence(conn: object, table: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT COALESCE(max(id), 1) FROM {table}))"
    )


def catalogue(rng: random.Random) -> dict[str, list[int]]:
    """Staff users, touchpoints, surveys and root causes, with the ORM (a few rows)."""
    from django.contrib.auth import get_user_model

    from feedback.surveys.models import Survey
    from feedback.tickets.models import RootCause
    from touchpoints.models import Touchpoint

    users = [
        get_user_model().objects.create(username=f"agent{i}", is_staff=True) for i in range(10)
    ]
    get_user_model().objects.create_superuser(username="admin", password="admin", email="")
    touchpoints = [
        Touchpoint.objects.create(
            name=f"{stage.title()} {channel}",
            slug=f"{stage}-{channel}",
            stage=stage,
            channel=channel,
            owner=rng.choice(users),
        )
        for stage in STAGES
        for channel in CHANNELS[:2]
    ]
    surveys = [
        Survey.objects.create(
            name=f"{kind.upper()} survey", slug=f"{kind}-survey", kind=kind, trigger_stage=stage
        )
        for kind, stage in (("nps", "order"), ("csat", "support"), ("ces", "payment"))
    ]
    causes = [
        RootCause.objects.create(name=name, slug=f"cause-{n}") for n, name in enumerate(ROOT_CAUSES)
    ]
    return {
        "users": [u.pk for u in users],
        "touchpoints": [t.pk for t in touchpoints],
        "surveys": [s.pk for s in surveys],
        "survey_kinds": [0, 1, 2],
        "causes": [c.pk for c in causes],
    }


class Seeder:
    def __init__(self, rng: random.Random, cat: dict[str, list[int]], counts: dict[str, int]):
        from feedback.surveys.models import Survey

        self.rng = rng
        self.cat = cat
        self.counts = counts
        self.kinds = {s.pk: s.kind for s in Survey.objects.all()}
        self.now = datetime.now(UTC).isoformat()
        # Drawn while writing responses, read while writing tickets.
        self.bad_responses: list[tuple[int, int, int]] = []  # (id, customer, touchpoint)
        self.interaction_customer: list[int] = []
        self.interaction_touchpoint: list[int] = []
        self.interaction_time: list[int] = []

    def customers(self) -> Iterator[str]:
        rng = self.rng
        for i in range(1, self.counts["customers"] + 1):
            lang = rng.choice(LANGUAGES)
            created = ts(rng.randrange(SPAN_S))
            yield (
                f"{i}\tc-{i:08d}\tc{i}@example.com\tCustomer {i}\t\t{lang}\t"
                f"{rng.choice(COUNTRIES)}\t{rng.choice(SEGMENTS)}\t[]\t{{}}\t\\N\t\\N\t\t0\t"
                f"\\N\t{created}\t{created}\n"
            )

    CUSTOMER_COLUMNS = [
        "id",
        "external_id",
        "email",
        "name",
        "phone",
        "language",
        "country",
        "segment",
        "tags",
        "attributes",
        "unsubscribed_at",
        "suppressed_at",
        "suppression_reason",
        "soft_bounce_count",
        "erased_at",
        "created_at",
        "updated_at",
    ]

    def interactions(self) -> Iterator[str]:
        rng, n_cust = self.rng, self.counts["customers"]
        tps = self.cat["touchpoints"]
        for i in range(1, self.counts["interactions"] + 1):
            customer = rng.randrange(1, n_cust + 1)
            touchpoint = rng.choice(tps)
            at = rng.randrange(SPAN_S)
            self.interaction_customer.append(customer)
            self.interaction_touchpoint.append(touchpoint)
            self.interaction_time.append(at)
            yield (
                f"{i}\t{customer}\t{touchpoint}\t{ts(at)}\tshop\to-{i:09d}\tA-{i}\t"
                f"{rng.randrange(100, 50000) / 100:.2f}\tEUR\t{{}}\t{ts(at)}\n"
            )

    INTERACTION_COLUMNS = [
        "id",
        "customer_id",
        "touchpoint_id",
        "occurred_at",
        "source",
        "external_id",
        "order_ref",
        "amount",
        "currency",
        "metadata",
        "created_at",
    ]

    def invitations(self) -> Iterator[str]:
        """One invitation per answered interaction (the first min(responses, interactions)),
        each to one survey: unique (survey, interaction) by construction."""
        rng, surveys = self.rng, self.cat["surveys"]
        for i in range(1, self.n_invitations() + 1):
            survey = surveys[i % len(surveys)]
            at = self.interaction_time[i - 1] + 7200
            token = f"{rng.getrandbits(172):043x}"
            yield (
                f"{i}\t{survey}\t{self.interaction_customer[i - 1]}\t{i}\t\\N\tsurvey\t"
                f"{token}\tresponded\t{ts(at)}\t\\N\t{ts(at + 5)}\t\\N\t{ts(at + 14 * 86400)}\t"
                f"1\t\t\t{ts(at - 7200)}\t{ts(at + 5)}\n"
            )

    INVITATION_COLUMNS = [
        "id",
        "survey_id",
        "customer_id",
        "interaction_id",
        "ticket_id",
        "purpose",
        "token",
        "state",
        "scheduled_for",
        "claimed_at",
        "sent_at",
        "reminded_at",
        "expires_at",
        "attempts",
        "last_error",
        "message_id",
        "created_at",
        "updated_at",
    ]

    def n_invitations(self) -> int:
        return min(self.counts["responses"], self.counts["interactions"])

    def responses(self) -> Iterator[str]:
        from feedback.surveys.scoring import categorize, score_range, sentiment_of

        rng, surveys = self.rng, self.cat["surveys"]
        n_inv, n_cust = self.n_invitations(), self.counts["customers"]
        tps = self.cat["touchpoints"]
        # Precomputed per (kind, score): the category and whether it is unhappy.
        table = {}
        for kind in set(self.kinds.values()):
            low, high = score_range(kind)
            for score in range(low, high + 1):
                table[kind, score] = (
                    str(categorize(kind, score)),
                    str(sentiment_of(kind, score)) == "bad",
                )
        ranges = {kind: score_range(kind) for kind in set(self.kinds.values())}
        for i in range(1, self.counts["responses"] + 1):
            if i <= n_inv:
                invitation = str(i)
                survey = surveys[i % len(surveys)]
                customer = self.interaction_customer[i - 1]
                touchpoint = self.interaction_touchpoint[i - 1]
                at = self.interaction_time[i - 1] + 7200 + rng.randrange(60, 86400)
            else:  # More answers than interactions: answers given through the API.
                invitation = NULL
                survey = rng.choice(surveys)
                customer = rng.randrange(1, n_cust + 1)
                touchpoint = rng.choice(tps)
                at = rng.randrange(SPAN_S)
            kind = self.kinds[survey]
            low, high = ranges[kind]
            score = rng.randint(low, high)
            category, bad = table[kind, score]
            if bad:
                self.bad_responses.append((i, customer, touchpoint))
            comment = "Too slow" if bad and rng.random() < 0.5 else ""
            channel = rng.choice(("email_click", "email_click", "web", "reply"))
            yield (
                f"{i}\t{invitation}\t{survey}\t{kind}\t{customer}\t{touchpoint}\t{score}\t"
                f"{category}\t{comment}\t{{}}\ten\t{channel}\t{ts(at)}\t{ts(at)}\t[]\n"
            )

    RESPONSE_COLUMNS = [
        "id",
        "invitation_id",
        "survey_id",
        "kind",
        "customer_id",
        "touchpoint_id",
        "score",
        "category",
        "comment",
        "answers",
        "language",
        "channel",
        "submitted_at",
        "updated_at",
        "history",
    ]

    def tickets(self) -> Iterator[str]:
        rng, n_cust = self.rng, self.counts["customers"]
        users, causes, tps = self.cat["users"], self.cat["causes"], self.cat["touchpoints"]
        bad = self.bad_responses
        now_s = int((datetime.now(UTC) - EPOCH).total_seconds())
        for i in range(1, self.counts["tickets"] + 1):
            if i <= len(bad):
                response, customer, touchpoint = bad[i - 1]
                source = "response"
                subject = f"Unhappy answer from customer {customer}"
            else:
                response, customer = NULL, rng.randrange(1, n_cust + 1)
                touchpoint = rng.choice(tps)
                source = rng.choice(("email", "api", "staff"))
                subject = f"Question from customer {customer}"
            is_open = rng.random() < OPEN_SHARE
            if is_open:  # recent: the queue holds the last weeks' work
                created = now_s - rng.randrange(30 * 86400)
                status = rng.choice(("new", "open", "open", "pending"))
            else:
                created = rng.randrange(max(now_s - 30 * 86400, 1))
                status = rng.choice(("resolved", "closed", "closed"))
            priority = rng.choice((1, 2, 2, 2, 3, 3, 4))
            due = created + rng.choice((4, 24, 48, 72)) * 3600
            assignee = rng.choice(users) if rng.random() < 0.7 else NULL
            contacted = ts(created + rng.randrange(600, 86400)) if rng.random() < 0.6 else NULL
            if is_open:
                resolved = cause = NULL
                resolution = ""
                recovered = NULL
            else:
                resolved = ts(created + rng.randrange(3600, 7 * 86400))
                cause = str(rng.choice(causes))
                resolution = "Refunded"
                recovered = rng.choice(("t", "f", NULL))
            yield (
                f"{i}\t{customer}\t{response}\t{touchpoint}\t{source}\t{subject}\t{status}\t"
                f"{priority}\t{assignee}\t{ts(due)}\t{contacted}\t{resolved}\t\\N\t{cause}\t"
                f"{resolution}\t{recovered}\t{ts(created)}\t{ts(created)}\n"
            )

    TICKET_COLUMNS = [
        "id",
        "customer_id",
        "response_id",
        "touchpoint_id",
        "source",
        "subject",
        "status",
        "priority",
        "assignee_id",
        "due_at",
        "first_contact_at",
        "resolved_at",
        "escalated_at",
        "root_cause_id",
        "resolution",
        "recovered",
        "created_at",
        "updated_at",
    ]


def seed(name: str, counts: dict[str, int], seed_value: int) -> dict[str, float]:
    """Migrate and fill ``name``; returns seconds per step."""
    import psycopg

    timings: dict[str, float] = {}
    started = time.perf_counter()
    migrate(name)
    timings["migrate"] = time.perf_counter() - started

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cxcrm.settings",
            "DATABASE_URL": database_url(name),
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-seed-not-secret-" + "x" * 40,
            "LOG_LEVEL": "ERROR",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    rng = random.Random(seed_value)
    cat = catalogue(rng)
    seeder = Seeder(rng, cat, counts)
    steps: list[tuple[str, str, list[str], Callable[[], Iterator[str]]]] = [
        ("customers", "customers_customer", Seeder.CUSTOMER_COLUMNS, seeder.customers),
        (
            "interactions",
            "touchpoints_interaction",
            Seeder.INTERACTION_COLUMNS,
            seeder.interactions,
        ),
        ("invitations", "feedback_invitation", Seeder.INVITATION_COLUMNS, seeder.invitations),
        ("responses", "feedback_response", Seeder.RESPONSE_COLUMNS, seeder.responses),
        ("tickets", "feedback_ticket", Seeder.TICKET_COLUMNS, seeder.tickets),
    ]
    with psycopg.connect(f"{PG}/{name}") as conn:
        # One transaction per table; COPY into the migrated tables with their indexes.
        for label, table, columns, rows in steps:
            t0 = time.perf_counter()
            n = copy_rows(conn, table, columns, rows())
            set_sequence(conn, table)
            conn.commit()
            timings[label] = time.perf_counter() - t0
            print(f"  {label}: {n:,} rows in {timings[label]:.1f}s", flush=True)
        conn.autocommit = True
        t0 = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rollups_rebuild(name)
    timings["rollups"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", default="cxcrm_scale")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    if args.db in REFUSED:
        parser.error(f"refusing to use the database {args.db!r}")
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    counts = {
        "customers": args.customers,
        "interactions": args.interactions,
        "responses": args.responses,
        "tickets": args.tickets,
    }
    print(f"seeding {args.db}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    recreate_database(args.db)
    timings = seed(args.db, counts, args.seed)
    print(f"  migrate {timings['migrate']:.1f}s, VACUUM ANALYZE {timings['vacuum_analyze']:.1f}s")
    print(f"seeded in {timings['total']:.1f}s")
    print(
        json.dumps(
            {
                "bench": "seed",
                "db": args.db,
                **counts,
                "seconds": {k: round(v, 2) for k, v in timings.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
