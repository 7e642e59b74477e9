"""The public survey page under load on gunicorn, beside a minimal Django view in the same server.

``python -m bench.survey_page [--quick] [--db NAME] [--keep] [--reps N] [--duration S]
[--workers N] [--invitations N] [--cache-url URL] [--what-if-no-health-checks]``

1. A PostgreSQL database of the bench's own (default ``cxcrm_bench_survey``; the test suite's
   are refused), migrated, with an NPS survey and ``--invitations`` sent invitations (100,000;
   --quick 20,000), each for its own interaction, to customers in the product's languages
   (two invitations a customer), tokens drawn from ``random.Random(SEED)``. A database kept
   with --keep is reused when it holds exactly that many unanswered invitations.
2. One gunicorn as the Procfile starts it (``cxcrm.wsgi``, sync workers, ``--workers 2``,
   ``--timeout 60``, access log on), DEBUG off, the product's middleware, its compressed
   manifest static storage (``collectstatic`` into a temporary CXCRM_VAR_DIR) and the cache
   as production is deployed: ``CACHE_URL`` = ``--cache-url`` (Redis, default
   redis://127.0.0.1:6379/11). ``--cache-url file`` measures the embedded default, the file
   cache under CXCRM_VAR_DIR, instead.
   The settings are ``bench.survey_settings``: cxcrm.settings with a URLconf that adds
   ``/bench/minimal/<token>/`` (a fixed ``HttpResponse``) before the product's URLs.
3. Ours: ``GET /s/<token>/`` (the question for the invitation, nothing recorded). Baseline:
   ``GET /bench/minimal/<token>/``. Both driven by the same wrk Lua script (written to a temp
   file) that picks one of the tokens at random for every request, so wrk does the same work
   for both and ours reads invitations from all over the table, as emailed links do.
4. wrk: 32 connections, 2 threads, 30 s a run (--quick 5 s), ``--latency``. Each repetition
   runs both, alternating which goes first; ``--reps`` (default 5, at least 5) repetitions
   after a short warm-up of each. A run with a non-2xx/3xx response or a socket error fails
   the bench. Medians of requests/s and of the latency percentiles; also the CPU each side
   cost per request in gunicorn, in this database's PostgreSQL backends and in wrk (all on
   the same machine), from /proc and getrusage.
5. ``ratio = ours rps / baseline rps``, target ≥ 0.4.

The per-IP rate limit on the token pages (cxcrm.ratelimit, 60 a minute by default) would
answer 429 to almost every request, since wrk comes from one address. The bench lifts it with
the product's own setting, CXCRM_TOKEN_RATE_LIMIT (a very large limit), in the server's
environment only: the limiter still runs on every request, so its cost (an ``incr`` on the
cache) is in the figure, and the product's default is untouched. Spreading the load over
fabricated client addresses instead would need the bench to trust X-Forwarded-For (off by
default) and would create one counter per address, a cost set by how many addresses the
bench invents rather than by the product.

--what-if-no-health-checks measures both again on a second gunicorn whose settings turn
CONN_HEALTH_CHECKS off (the product has it on: a ``SELECT 1`` before each request's first
query); a what-if for the figures, not a setting of the product.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PG, RESERVED, database_url, drop_database, recreate_database, stop_process
from bench.dispatch import cpu_seconds, process_tree

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261108
TARGET = 0.4
CONNECTIONS = 32
THREADS = 2
# Seconds per wrk run, full and --quick; the warm-up run of each side before the repetitions.
DURATION = 30
QUICK_DURATION = 5
WARMUP = 3
WRK_TIMEOUT = "10s"
# The Procfile's default (WEB_CONCURRENCY unset): two sync workers, one per core here.
WORKERS = 2
INVITATIONS = 100_000
QUICK_INVITATIONS = 20_000
# Customers' languages, weighted like a mostly English audience; all but "de" and "fr" are
# languages the survey page is translated into, those two fall back to English.
LANGUAGES = ["en", "en", "en", "en", "de", "fr", "pl", "ru", "zh-hans", "ar"]
OURS_PREFIX = "/s/"
BASELINE_PREFIX = "/bench/minimal/"
# Far above what wrk can send in a minute from one address: the limiter runs but never refuses.
LIFTED_TOKEN_RATE_LIMIT = "1000000000"
# The cache production runs with (README: CACHE_URL); a database no other bench flushes.
CACHE_URL = "redis://127.0.0.1:6379/11"


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "wrk is not installed: run `make bench-deps` (installs Debian's wrk), then again "
            "`python -m bench.survey_page`"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_environment(
    name: str, var_dir: Path, port: int, cache_url: str = CACHE_URL
) -> dict[str, str]:
    """The environment of gunicorn (and of this process while it seeds): production-like;
    ``cache_url`` "file" leaves CACHE_URL unset (the embedded default, the file cache)."""
    environ = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    if cache_url != "file":
        environ["CACHE_URL"] = cache_url
    return {
        **environ,
        "DJANGO_SETTINGS_MODULE": "bench.survey_settings",
        "DATABASE_URL": database_url(name),
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "CXCRM_VAR_DIR": str(var_dir),
        "CXCRM_TOKEN_RATE_LIMIT": LIFTED_TOKEN_RATE_LIMIT,
        "PYTHONPATH": str(ROOT),
    }


def seed(n: int) -> list[str]:
    """An NPS survey and ``n`` sent, unanswered, unexpired invitations; returns their tokens."""
    import django

    django.setup()
    from customers.models import Customer
    from feedback.surveys.models import Invitation, InvitationState, Survey
    from touchpoints.models import Interaction, Touchpoint

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    touchpoint = Touchpoint.objects.create(
        name="Checkout web", slug="checkout-web", stage="order", channel="web"
    )
    survey = Survey.objects.create(
        name="NPS after purchase", slug="nps-after-purchase", kind="nps", trigger_stage="order"
    )
    batch = 5000
    customers = Customer.objects.bulk_create(
        (
            Customer(
                external_id=f"c-{i:07d}",
                email=f"c{i}@example.com",
                name=f"Customer {i}",
                language=rng.choice(LANGUAGES),
            )
            for i in range((n + 1) // 2)
        ),
        batch_size=batch,
    )
    interactions = Interaction.objects.bulk_create(
        (
            Interaction(
                customer=customers[i // 2],
                touchpoint=touchpoint,
                occurred_at=now - timedelta(hours=3 + rng.randrange(72)),
                source="shop",
                external_id=f"o-{i:08d}",
            )
            for i in range(n)
        ),
        batch_size=batch,
    )
    tokens = [f"{rng.getrandbits(172):043x}" for _ in range(n)]
    Invitation.objects.bulk_create(
        (
            Invitation(
                survey=survey,
                customer=interaction.customer,
                interaction=interaction,
                token=token,
                state=InvitationState.SENT,
                scheduled_for=interaction.occurred_at + survey.delay,
                sent_at=interaction.occurred_at + survey.delay,
                expires_at=now + timedelta(days=survey.expires_after_days),
                attempts=1,
            )
            for interaction, token in zip(interactions, tokens, strict=True)
        ),
        batch_size=batch,
    )
    from django.db import connection, connections

    with connection.cursor() as c:
        c.execute("ANALYZE")
    connections.close_all()
    return tokens


def existing_tokens(name: str, n: int) -> list[str] | None:
    """The tokens of a database this bench seeded and kept (--keep) with the same size."""
    import psycopg

    try:
        with psycopg.connect(f"{PG}/{name}") as c:
            rows = c.execute(
                "SELECT token FROM feedback_invitation WHERE state = 'sent' ORDER BY id"
            ).fetchall()
            answered = c.execute("SELECT count(*) FROM feedback_response").fetchone()
    except psycopg.Error:
        return None
    if len(rows) != n or answered != (0,):
        return None
    return [row[0] for row in rows]


def prepare(name: str, n: int, env: dict[str, str]) -> list[str]:
    """Reuse the database when it holds this bench's data at this size, else seed it afresh;
    migrated either way (a kept database may predate a migration)."""
    tokens = existing_tokens(name, n)
    if tokens is None:
        print(f"seeding {name}: {n:,} sent invitations", flush=True)
        recreate_database(name)
    else:
        print(f"reusing {name} ({n:,} sent invitations)", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    if tokens is None:
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        tokens = seed(n)
    return tokens


def collectstatic(env: dict[str, str]) -> None:
    """The compressed manifest the product serves with DEBUG off ({% static %} reads it)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log: Path, db: str) -> Iterator[Server]:
    """The Procfile's web process on ``port`` (its access log to ``log``)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "cxcrm.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--timeout",
        "60",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                fetch(f"{base}{BASELINE_PREFIX}ready/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not answer on {base}") from None
                time.sleep(0.2)
        yield Server(base=base, pid=process.pid, db=db)
    finally:
        stop_process(process)


def check_pages(base: str, tokens: list[str]) -> None:
    """Before timing: both answer 200 with what they should show, and GET records nothing."""
    for token in tokens[:3]:
        status, body = fetch(f"{base}{OURS_PREFIX}{token}/")
        if status != 200 or b'id="score-form"' not in body:
            raise SystemExit(f"survey page for {token}: {status} {body[:500]!r}")
    status, body = fetch(f"{base}{BASELINE_PREFIX}{tokens[0]}/")
    if status != 200 or body != b"ok\n":
        raise SystemExit(f"minimal view: {status} {body[:500]!r}")


def answers_recorded(name: str) -> int:
    """Responses in the database: a GET of the survey page must record none."""
    import psycopg

    with psycopg.connect(f"{PG}/{name}") as c:
        row = c.execute("SELECT count(*) FROM feedback_response").fetchone()
    assert row is not None
    return int(row[0])


LUA = """-- Written by bench/survey_page.py: one token per request, picked at random.
local prefix = "{prefix}"
local tokens = {{}}
for line in io.lines("{tokens}") do tokens[#tokens + 1] = line end
local n = #tokens
local started = 0

function setup(thread)
  thread:set("thread_number", started)
  started = started + 1
end

function init(args)
  math.randomseed({seed} + thread_number)
end

function request()
  return wrk.format(nil, prefix .. tokens[math.random(n)] .. "/")
end
"""


def write_script(directory: Path, label: str, prefix: str, tokens_file: Path) -> Path:
    path = directory / f"{label}.lua"
    path.write_text(LUA.format(prefix=prefix, tokens=tokens_file, seed=SEED))
    return path


@dataclass
class WrkRun:
    rps: float
    requests: int
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    # CPU milliseconds per request: gunicorn (master and workers), the PostgreSQL backends
    # of this database, wrk itself.
    gunicorn_cpu_ms: float = 0.0
    postgres_cpu_ms: float = 0.0
    wrk_cpu_ms: float = 0.0


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable wrk duration {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkRun:
    """Requests/s and the --latency percentiles; a non-2xx/3xx answer or a socket error fails."""
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if bad and int(bad.group(1)):
        raise SystemExit(f"wrk saw {bad.group(1)} non-2xx/3xx responses:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors and any(int(x) for x in errors.groups()):
        raise SystemExit(f"wrk saw socket errors ({errors.group(0)}):\n{output}")
    rps = re.search(r"Requests/sec:\s*([0-9.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if not rps or not total or len(pct) != 4:
        raise SystemExit(f"unreadable wrk output:\n{output}")
    return WrkRun(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        p50_ms=to_ms(pct["50"]),
        p75_ms=to_ms(pct["75"]),
        p90_ms=to_ms(pct["90"]),
        p99_ms=to_ms(pct["99"]),
    )


@dataclass
class Server:
    base: str
    pid: int
    db: str


class CpuMeter:
    """CPU seconds spent since ``start`` by gunicorn's process tree and by this database's
    PostgreSQL backends, polled while wrk runs.

    The workers' connections last CONN_MAX_AGE (60 s), so backends end and begin during a
    30-s run: each process's CPU is taken from its first sighting (zero for one that began
    after ``start``) to its last, and what a backend spends after its last poll (at most
    ``POLL`` seconds) is missed. Approximate, as CPU accounting from /proc is."""

    POLL = 0.5

    def __init__(self, server: Server) -> None:
        import psycopg

        self.server = server
        self.pg = psycopg.connect(f"{PG}/postgres", autocommit=True)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = False

    def _backends(self) -> list[int]:
        rows = self.pg.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.server.db]
        ).fetchall()
        return [row[0] for row in rows]

    def poll(self) -> None:
        for pid in self._backends():
            cpu = cpu_seconds([pid])
            if cpu == 0.0 and pid in self.last:  # ended between the two reads
                continue
            self.first.setdefault(pid, cpu if not self.started else 0.0)
            self.last[pid] = cpu
        self.started = True

    def start(self) -> None:
        self.web_start = cpu_seconds(process_tree(self.server.pid))
        self.poll()

    def stop(self) -> tuple[float, float]:
        self.poll()
        self.pg.close()
        web = cpu_seconds(process_tree(self.server.pid)) - self.web_start
        return web, sum(self.last[pid] - self.first[pid] for pid in self.last)


def run_wrk(wrk: str, server: Server, script: Path, seconds: int) -> WrkRun:
    """One wrk run, with the CPU each side spent on it per request."""
    command = [
        wrk,
        "--threads",
        str(THREADS),
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "--latency",
        "--script",
        str(script),
        server.base + "/",
    ]
    meter = CpuMeter(server)
    meter.start()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + seconds + 60
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("wrk did not finish")
        meter.poll()
        time.sleep(CpuMeter.POLL)
    stdout, stderr = process.communicate()
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    web_cpu, pg_cpu = meter.stop()
    if process.returncode != 0:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
    run = parse_wrk(stdout)
    per_request = 1000 / max(run.requests, 1)
    run.gunicorn_cpu_ms = web_cpu * per_request
    run.postgres_cpu_ms = pg_cpu * per_request
    run.wrk_cpu_ms = (
        wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime
    ) * per_request
    return run


def median_of(runs: list[WrkRun], field: str) -> float:
    return float(statistics.median(getattr(run, field) for run in runs))


def measure(
    wrk: str,
    env: dict[str, str],
    port: int,
    workdir: Path,
    args: argparse.Namespace,
    tokens: list[str],
    scripts: dict[str, Path],
    seconds: int,
    reps: int,
) -> dict[str, list[WrkRun]]:
    """One gunicorn; a warm-up run of each side, then ``reps`` repetitions of both, the
    side that goes first alternating."""
    runs: dict[str, list[WrkRun]] = {"ours": [], "baseline": []}
    with gunicorn(env, port, args.workers, workdir / f"gunicorn-{port}.log", args.db) as server:
        check_pages(server.base, tokens)
        # Worker imports, template and translation caches, database connections.
        for script in scripts.values():
            run_wrk(wrk, server, script, WARMUP)
        for rep in range(reps):
            order = ["ours", "baseline"] if rep % 2 == 0 else ["baseline", "ours"]
            for label in order:
                run = run_wrk(wrk, server, scripts[label], seconds)
                runs[label].append(run)
                print(
                    f"  rep {rep + 1} {label:8}: {run.rps:8.1f} req/s, p50 "
                    f"{run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms ({run.requests:,}); "
                    f"CPU ms/request gunicorn {run.gunicorn_cpu_ms:.2f}, postgres "
                    f"{run.postgres_cpu_ms:.2f}, wrk {run.wrk_cpu_ms:.2f}",
                    flush=True,
                )
    return runs


def summary(runs: dict[str, list[WrkRun]]) -> dict[str, Any]:
    """Medians of both sides and their ratio (requests per second, ours / baseline)."""
    ours, baseline = median_of(runs["ours"], "rps"), median_of(runs["baseline"], "rps")
    ratios = [o.rps / b.rps for o, b in zip(runs["ours"], runs["baseline"], strict=True)]
    return {
        "ours": round(ours, 1),
        "baseline": round(baseline, 1),
        "ratio": round(ours / baseline, 3),
        "ours_p99_ms": round(median_of(runs["ours"], "p99_ms"), 2),
        "baseline_p99_ms": round(median_of(runs["baseline"], "p99_ms"), 2),
        "ours_p50_ms": round(median_of(runs["ours"], "p50_ms"), 2),
        "baseline_p50_ms": round(median_of(runs["baseline"], "p50_ms"), 2),
        # Each repetition's own ratio (its two runs back to back), and their median: steadier
        # than the ratio of the medians when other work on the machine comes and goes.
        "ratios": [round(r, 3) for r in ratios],
        "median_of_ratios": round(statistics.median(ratios), 3),
        "ours_rps": [round(r.rps, 1) for r in runs["ours"]],
        "baseline_rps": [round(r.rps, 1) for r in runs["baseline"]],
        "cpu_ms_per_request": {
            side: {
                part: round(median_of(side_runs, f"{part}_cpu_ms"), 3)
                for part in ("gunicorn", "postgres", "wrk")
            }
            for side, side_runs in runs.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s runs, 20,000 invitations")
    parser.add_argument("--db", default="cxcrm_bench_survey")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (at least 5)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--invitations", type=int, default=None)
    parser.add_argument(
        "--cache-url",
        default=CACHE_URL,
        help="the product's CACHE_URL (Redis, as deployed); 'file' for the embedded file cache",
    )
    parser.add_argument(
        "--what-if-no-health-checks",
        action="store_true",
        help="then measure both again with CONN_HEALTH_CHECKS off (not the product's setting)",
    )
    args = parser.parse_args()
    if args.db in RESERVED:
        parser.error(f"refusing to use the database {args.db!r}")
    wrk = wrk_binary()
    reps = max(5, args.reps)
    seconds = args.duration or (QUICK_DURATION if args.quick else DURATION)
    n = args.invitations or (QUICK_INVITATIONS if args.quick else INVITATIONS)
    workdir = Path(tempfile.mkdtemp(prefix="cxcrm-bench-survey-"))
    port = free_port()
    env = server_environment(args.db, workdir / "var", port, args.cache_url)
    try:
        started = time.perf_counter()
        tokens = prepare(args.db, n, env)
        collectstatic(env)
        seed_s = time.perf_counter() - started
        tokens_file = workdir / "tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        scripts = {
            "ours": write_script(workdir, "ours", OURS_PREFIX, tokens_file),
            "baseline": write_script(workdir, "baseline", BASELINE_PREFIX, tokens_file),
        }
        print(
            f"  ready in {seed_s:.1f}s; gunicorn --workers {args.workers}; wrk -t{THREADS} "
            f"-c{CONNECTIONS} -d{seconds}s, {reps} repetitions",
            flush=True,
        )
        figures = summary(measure(wrk, env, port, workdir, args, tokens, scripts, seconds, reps))
        what_if: dict[str, Any] = {}
        if args.what_if_no_health_checks:
            print("what-if: CONN_HEALTH_CHECKS off (no SELECT 1 before a request's first query)")
            port = free_port()
            other = {
                **env,
                "SITE_URL": f"http://127.0.0.1:{port}",
                "BENCH_CONN_HEALTH_CHECKS": "false",
            }
            runs = measure(wrk, other, port, workdir, args, tokens, scripts, seconds, reps)
            what_if = {"what_if_no_health_checks": summary(runs)}
        if answers_recorded(args.db):
            raise SystemExit("the survey page's GETs recorded answers: they must record nothing")
        ratio = figures["ratio"]
        print(
            f"survey page {figures['ours']:.1f} req/s (p99 {figures['ours_p99_ms']:.1f} ms), "
            f"minimal view {figures['baseline']:.1f} req/s (p99 "
            f"{figures['baseline_p99_ms']:.1f} ms), medians of {reps}"
        )
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"  ratio ours/baseline {ratio:.3f} {verdict} the target {TARGET:g}")
        if what_if:
            other_ratio = what_if["what_if_no_health_checks"]["ratio"]
            print(f"  what-if without health checks: ratio {other_ratio:.3f}")
        result = {
            "bench": "survey_page",
            "ours": figures.pop("ours"),
            "baseline": figures.pop("baseline"),
            "ratio": figures.pop("ratio"),
            "target": TARGET,
            "ok": ratio >= TARGET,
            "unit": "requests/s",
            **figures,
            "wrk": {
                "connections": CONNECTIONS,
                "threads": THREADS,
                "duration_s": seconds,
                "timeout": WRK_TIMEOUT,
            },
            "gunicorn_workers": args.workers,
            "cache": "file" if args.cache_url == "file" else "redis",
            "reps": reps,
            "invitations": n,
            "seed_s": round(seed_s, 1),
            **what_if,
        }
        print(json.dumps(result))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep:
            drop_database(args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
