"""Survey dispatch throughput: the real pipeline against raw smtplib, same SMTP server, same run.

``python -m bench.dispatch [--n N] [--quick]``

1. A counting aiosmtpd server starts in a process of its own (bench/smtp_server.py).
2. A private PostgreSQL database (default ``cxcrm_bench``, dropped and created afresh) is
   migrated and seeded with bulk_create: N customers in en/ru/pl/zh-hans/ar, one touchpoint,
   NPS/CSAT/CES surveys with texts in those languages, N interactions and N invitations due now.
3. Baseline: the same N emails are rendered beforehand with feedback.surveys.emails (not timed),
then
   raw ``smtplib.SMTP`` sends the bytes over one persistent connection (timed).
4. Ours: a real ``celery -A cxcrm worker`` (prefork, the Procfile's default concurrency) on the
   bench database and Redis db 14. The clock starts when ``feedback.dispatch_due`` is enqueued
   and stops at the server's receipt of the N-th message. Beat is stood in for by enqueuing
   ``feedback.dispatch_due`` again every ``--interval`` seconds, as beat would.
5. The database is checked (N invitations sent, N OutboundEmail rows), the worker's peak RSS is
   read from /proc (VmHWM of its main process and pool children) before it is stopped.

The last line printed is one JSON object; a human-readable summary precedes it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.common import drop_database, recreate_database
from bench.common import stop_process as stop

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.4
LANGUAGES = ["en", "ru", "pl", "zh-hans", "ar"]
SEED = 20240601

# Survey texts per kind and language: subject, question and an intro line, as a real survey has.
TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "nps": {
        "en": {
            "subject": "How was your order?",
            "question": "How likely are you to recommend us to a friend?",
            "intro": "Thank you for your recent order.",
        },
        "ru": {
            "subject": "Как прошёл ваш заказ?",
            "question": "Насколько вероятно, что вы порекомендуете нас другу?",
            "intro": "Спасибо за ваш недавний заказ.",
        },
        "pl": {
            "subject": "Jak oceniasz zamówienie?",
            "question": "Jak bardzo prawdopodobne jest, że polecisz nas znajomemu?",
            "intro": "Dziękujemy za ostatnie zamówienie.",
        },
        "zh-hans": {
            "subject": "您的订单体验如何？",
            "question": "您有多大可能向朋友推荐我们？",
            "intro": "感谢您最近的订单。",
        },
        "ar": {
            "subject": "كيف كانت تجربة طلبك؟",
            "question": "ما مدى احتمال أن توصي بنا لصديق؟",
            "intro": "شكرًا لك على طلبك الأخير.",
        },
    },
    "csat": {
        "en": {"subject": "Was your delivery OK?", "question": "How satisfied are you?"},
        "ru": {"subject": "Как прошла доставка?", "question": "Насколько вы довольны?"},
        "pl": {"subject": "Jak minęła dostawa?", "question": "Jak bardzo jesteś zadowolony?"},
        "zh-hans": {"subject": "配送顺利吗？", "question": "您的满意度如何？"},
        "ar": {"subject": "هل كان التوصيل جيدًا؟", "question": "ما مدى رضاك؟"},
    },
    "ces": {
        "en": {"subject": "Was it easy?", "question": "How easy was it to check out?"},
        "ru": {"subject": "Было ли легко?", "question": "Насколько легко было оформить заказ?"},
        "pl": {"subject": "Czy było łatwo?", "question": "Jak łatwo było złożyć zamówienie?"},
        "zh-hans": {"subject": "操作简单吗？", "question": "结账过程有多简单？"},
        "ar": {"subject": "هل كان الأمر سهلاً؟", "question": "ما مدى سهولة إتمام الطلب؟"},
    },
}
FIRST_NAMES = {
    "en": ["Alice", "Bob", "Carol", "Dave", "Eve", "O'Brien & Sons"],
    "ru": ["Анна", "Борис", "Вера", "Глеб", "Дарья"],
    "pl": ["Zofia", "Łukasz", "Małgorzata", "Paweł", "Żaneta"],
    "zh-hans": ["王芳", "李伟", "张敏", "刘洋", "陈静"],
    "ar": ["أحمد", "فاطمة", "محمد", "ليلى", "يوسف"],
}


class Sink(Protocol):
    """What the timed runs need of the SMTP server: one (ServerHandle) or several."""

    @property
    def pids(self) -> list[int]: ...

    def query(self, command: str = "STATS") -> dict[str, Any]: ...

    def recipients(self) -> int: ...


@dataclass
class ServerHandle:
    process: subprocess.Popen[str]
    smtp_port: int
    control_port: int

    @property
    def pids(self) -> list[int]:
        return [self.process.pid]

    def recipients(self) -> int:
        """Distinct recipients of the messages received since the last RESET."""
        return int(self.query()["recipients"])

    def query(self, command: str = "STATS") -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as sock:
            sock.sendall(command.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return dict(json.loads(data))


@contextmanager
def smtp_server() -> Iterator[ServerHandle]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if len(line) != 3 or line[0] != "READY":
            raise RuntimeError(f"the SMTP server did not start: {line!r}")
        yield ServerHandle(process, int(line[1]), int(line[2]))
    finally:
        stop(process)


def bench_environment(
    server: ServerHandle, db: str, redis: str, var_dir: Path, interval: float
) -> dict[str, str]:
    """The environment of this process and of the workers it starts (also made this
    process's own): the bench database, broker and SMTP server, DEBUG off."""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "CELERY_BROKER_URL": redis,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{server.smtp_port}",
        "CXCRM_VAR_DIR": str(var_dir),
        # As in production: DEBUG keeps every query in memory and Celery warns of it.
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "CXCRM_DISPATCH_INTERVAL_SECONDS": str(max(1, round(interval))),
        "DJANGO_SETTINGS_MODULE": "cxcrm.settings",
    }
    os.environ.update(env)
    return env


def set_up(db: str, n: int) -> float:
    """Recreate the database, start Django, migrate and seed n due invitations; seconds."""
    recreate_database(db)
    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    seed(n)
    return time.monotonic() - started


def reset_invitations() -> None:
    """Make the seeded invitations due again for another repetition (and forget the emails)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE feedback_outboundemail")
        cursor.execute(
            # Message-IDs stay: they are drawn when an invitation is made, as in production.
            "UPDATE feedback_invitation SET state = 'scheduled', sent_at = NULL, "
            "claimed_at = NULL, claimed_by = '', attempts = 0, last_error = '', "
            "scheduled_for = now() - interval '1 minute'"
        )
        # Like the first repetition, start from a table without the last run's dead rows.
        cursor.execute("VACUUM ANALYZE feedback_invitation")


def seed(n: int) -> None:
    """N due invitations with bulk_create; a fixed seed so every run sends the same mix."""
    from datetime import timedelta

    from django.utils import timezone

    from customers.models import Customer
    from feedback.surveys.models import Invitation, Survey
    from touchpoints.models import Interaction, Touchpoint

    rng = random.Random(SEED)
    now = timezone.now()
    checkout = Touchpoint.objects.create(
        name="Checkout", slug="checkout", stage="order", channel="web"
    )
    surveys = [
        Survey.objects.create(
            name=f"{kind.upper()} after purchase",
            slug=f"{kind}-after-purchase",
            kind=kind,
            trigger_stage="order",
            delay=timedelta(0),
            texts=texts,
        )
        for kind, texts in TEXTS.items()
    ]
    customers = Customer.objects.bulk_create(
        (
            Customer(
                external_id=f"bench-{i}",
                email=f"bench-{i}@example.com",
                name=rng.choice(FIRST_NAMES[LANGUAGES[i % len(LANGUAGES)]]),
                language=LANGUAGES[i % len(LANGUAGES)],
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    interactions = Interaction.objects.bulk_create(
        (
            Interaction(
                customer=customer,
                touchpoint=checkout,
                occurred_at=now - timedelta(hours=2),
                source="bench",
                external_id=f"order-{i}",
            )
            for i, customer in enumerate(customers)
        ),
        batch_size=2000,
    )
    Invitation.objects.bulk_create(
        (
            Invitation(
                survey=surveys[i % len(surveys)],
                customer=interaction.customer,
                interaction=interaction,
                scheduled_for=now - timedelta(seconds=rng.randint(1, 3600)),
                expires_at=now + timedelta(days=14),
            )
            for i, interaction in enumerate(interactions)
        ),
        batch_size=2000,
    )


@dataclass
class Prepared:
    sender: str
    recipient: str
    payload: bytes


def render_all() -> list[Prepared]:
    """The baseline's messages: the same emails, rendered by the same code, before the clock."""
    from feedback.surveys.emails import build_invitation_message, new_message_id, render_invitation
    from feedback.surveys.models import EmailKind, Invitation

    prepared = []
    invitations = Invitation.objects.select_related("survey", "customer").order_by(
        "scheduled_for", "id"
    )
    for invitation in invitations.iterator(chunk_size=2000):
        rendered = render_invitation(invitation)
        message = build_invitation_message(
            invitation, rendered, message_id=new_message_id(), kind=EmailKind.SURVEY
        )
        prepared.append(
            Prepared(
                sender=message.from_email,
                recipient=message.recipients()[0],
                payload=message.message().as_bytes(linesep="\r\n"),
            )
        )
    return prepared


@dataclass
class Phase:
    seconds: float
    # CPU seconds spent per message by each party during the phase: where the time goes.
    cpu_ms: dict[str, float]


def run_baseline(server: ServerHandle, prepared: list[Prepared]) -> Phase:
    """Raw smtplib delivering every message over one connection."""
    server.query("RESET")
    pg = PostgresCpu()
    pg.start()
    cpu_before = (cpu_seconds([server.process.pid]), time.process_time(), 0.0)
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        for item in prepared:
            smtp.sendmail(item.sender, [item.recipient], item.payload)
    stats = server.query()
    cpu_after = (
        cpu_seconds([server.process.pid]),
        time.process_time(),
        pg.poll(),
    )
    if stats["messages"] != len(prepared):
        raise RuntimeError(f"baseline: the server got {stats['messages']} of {len(prepared)}")
    per_msg = [(b - a) * 1000 / len(prepared) for a, b in zip(cpu_before, cpu_after, strict=True)]
    # The server's receipt of the last message ends both measurements alike.
    return Phase(
        seconds=float(stats["last_at"]) - started,
        cpu_ms=dict(zip(("smtp_server", "client", "postgres"), per_msg, strict=True)),
    )


def process_tree(root: int) -> list[int]:
    """The process and its descendants (a prefork worker's pool children), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (utime and stime in /proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (backends, WAL writer...), for CPU accounting.

    Backends come and go with connections: scan again at the end of a phase, and count a
    backend unseen at the start from zero."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class PostgresCpu:
    """CPU spent by the PostgreSQL server since ``start()``, sampled by ``poll()``.

    Celery closes a task's database connections when the task ends, so a worker's backend
    processes are gone by the end of the run: poll during the run and keep the last CPU time
    seen per process. What a backend spends after its last poll is missed (approximate)."""

    def __init__(self) -> None:
        self.before: dict[int, float] = {}
        self.seen: dict[int, float] = {}

    def start(self) -> None:
        self.before = {pid: cpu_seconds([pid]) for pid in postgres_pids()}
        self.seen = dict(self.before)

    def poll(self) -> float:
        for pid in postgres_pids():
            self.seen[pid] = max(self.seen.get(pid, 0.0), cpu_seconds([pid]))
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def start_worker(
    env: dict[str, str], concurrency: int, log: Path, hostname: str = "bench@%h"
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "cxcrm",
        "worker",
        "--loglevel",
        "INFO",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        hostname,
        "--without-gossip",
        "--without-mingle",
        "--queues",
        env.get("CELERY_TASK_DEFAULT_QUEUE", "cxcrm"),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_until(
            lambda: process.poll() is not None or "ready." in log.read_text(errors="replace"),
            60,
            "the worker to start",
        )
    except TimeoutError:
        stop(process)
        raise
    if process.poll() is not None:
        raise RuntimeError(f"the worker exited:\n{log.read_text(errors='replace')[-4000:]}")
    return process


@dataclass
class OursResult(Phase):
    first_message_s: float
    peak_rss_kb: int
    peak_rss_total_kb: int
    processes: int
    ticks: int
    # Cores kept busy, during the timed window, by processes that are not part of the run
    # (other jobs on the machine): the whole machine's busy time (/proc/stat) less the worker,
    # SMTP server, PostgreSQL and this process. Approximate (PostgreSQL's background processes
    # and the kernel's share count as "other"), but a run measured beside another job shows.
    other_cores: float


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs have spent busy since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_ours(
    server: Sink,
    n: int,
    env: dict[str, str],
    concurrency: int,
    interval: float,
    log: Path,
    timeout: float,
    other_workers: tuple[int, ...] = (),
) -> OursResult:
    """Start a worker, enqueue dispatch_due and time the N emails to the server's receipt.

    ``other_workers``: pids of workers already running on the same queue (bench.dispatch_scale),
    whose CPU counts as the worker's."""
    import redis
    from django.conf import settings

    from cxcrm.celery import app
    from feedback.surveys.models import EmailStatus, Invitation, InvitationState, OutboundEmail

    # Redis db 14 is the bench's own: stale tasks from an interrupted run must not count.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    server.query("RESET")
    worker = start_worker(env, concurrency, log)
    try:
        pg = PostgresCpu()
        pg.start()
        parties = {
            "smtp_server": lambda: cpu_seconds(server.pids),
            "worker": lambda: sum(
                cpu_seconds(process_tree(pid)) for pid in (worker.pid, *other_workers)
            ),
            "postgres": pg.poll,
        }
        cpu_before = {name: read() for name, read in parties.items()}
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        started = time.monotonic()
        app.send_task("feedback.dispatch_due")
        ticks, next_tick = 1, started + interval
        next_poll = started
        deadline = started + timeout
        while True:
            stats = server.query()
            if stats["messages"] >= n:
                break
            now = time.monotonic()
            if worker.poll() is not None:
                raise RuntimeError(f"the worker died:\n{log.read_text(errors='replace')[-4000:]}")
            if now > deadline:
                raise TimeoutError(
                    f"ours: {stats['messages']} of {n} messages after {timeout:.0f}s; "
                    f"worker log:\n{log.read_text(errors='replace')[-4000:]}"
                )
            if now >= next_poll:
                pg.poll()
                next_poll += 0.25
            if now >= next_tick:
                # Beat's stand-in: a sender that spent its time budget is followed by the next
                # tick's senders, as in production.
                app.send_task("feedback.dispatch_due")
                ticks += 1
                next_tick += interval
            time.sleep(0.02)
        seconds = float(stats["last_at"]) - started
        window = time.monotonic() - started
        ours_cpu = sum(read() - cpu_before[name] for name, read in parties.items())
        ours_cpu += time.process_time() - own_before
        other_cores = (machine_busy_seconds() - busy_before - ours_cpu) / window
        # The state update follows the server's 250: give the worker a moment to record it.
        wait_until(
            lambda: (
                Invitation.objects.filter(state=InvitationState.SENT).count() == n
                and OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == n
            ),
            60,
            "every invitation and OutboundEmail to be recorded as sent",
        )
        cpu_ms = {name: (read() - cpu_before[name]) * 1000 / n for name, read in parties.items()}
        pids = process_tree(worker.pid)
        peaks = [peak_rss_kb(pid) for pid in pids]
        recipients = server.recipients()
    finally:
        stop(worker, timeout=60)
    if recipients != n:
        raise RuntimeError(f"ours: {recipients} distinct recipients for {n} messages")
    return OursResult(
        seconds=seconds,
        cpu_ms=cpu_ms,
        first_message_s=float(stats["first_at"]) - started,
        peak_rss_kb=max(peaks),
        peak_rss_total_kb=sum(peaks),
        processes=len(pids),
        ticks=ticks,
        other_cores=max(0.0, other_cores),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="n = 2,000")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="worker processes (Procfile default: 4)"
    )
    parser.add_argument("--db", default="cxcrm_bench", help="PostgreSQL database (recreated)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="Celery broker")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between dispatch_due ticks"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after (s)")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    parser.add_argument(
        "--reps", type=int, default=5, help="repetitions; the median ratio is reported (5)"
    )
    args = parser.parse_args(argv)
    n = 2000 if args.quick else args.n
    if args.db in {"cxcrm", "test_cxcrm"} or args.redis.rstrip("/").endswith("/15"):
        parser.error("cxcrm, test_cxcrm and Redis db 15 belong to the test suite")

    var_dir = Path(tempfile.mkdtemp(prefix="cxcrm-bench-"))
    try:
        with smtp_server() as server:
            env = bench_environment(server, args.db, args.redis, var_dir, args.interval)
            setup_s = set_up(args.db, n)
            from django.conf import settings
            from django.db import connections

            t = time.monotonic()
            prepared = render_all()
            render_s = time.monotonic() - t
            if len(prepared) != n:
                raise RuntimeError(f"seeded {len(prepared)} invitations, wanted {n}")
            mean_size = sum(len(p.payload) for p in prepared) / n

            # Each repetition measures the baseline and ours back to back, so the ratio of a
            # pair is taken under the same machine conditions; the median pair is reported.
            pairs: list[tuple[float, Any, Any]] = []
            for rep in range(args.reps):
                if rep:
                    reset_invitations()
                baseline = run_baseline(server, prepared)
                ours = run_ours(
                    server,
                    n,
                    env,
                    args.concurrency,
                    args.interval,
                    var_dir / f"worker-{rep}.log",
                    args.timeout,
                )
                connections.close_all()
                pairs.append((baseline.seconds / ours.seconds, baseline, ours))
                print(f"  repetition {rep + 1}: ratio {pairs[-1][0]:.3f}", flush=True)
            ratios = sorted(pair[0] for pair in pairs)
            _ratio, baseline, ours = sorted(pairs, key=lambda pair: pair[0])[len(pairs) // 2]
            baseline_s = baseline.seconds
    finally:
        if not args.keep_db:
            drop_database(args.db)
        shutil.rmtree(var_dir, ignore_errors=True)

    ours_per_s = n / ours.seconds
    baseline_per_s = n / baseline_s
    ratio = ours_per_s / baseline_per_s  # the median repetition's
    print(f"dispatch: {n} survey emails to aiosmtpd (own process), {os.cpu_count()} CPUs")
    print(f"  setup (migrate + seed): {setup_s:.1f}s; baseline rendering: {render_s:.1f}s")
    print(f"  mean message size: {mean_size:.0f} bytes")
    print(f"  baseline, raw smtplib, one connection: {baseline_s:.2f}s = {baseline_per_s:.0f}/s")
    print(
        f"  ours, celery worker (prefork x{args.concurrency}, batch "
        f"{settings.CXCRM_DISPATCH_BATCH_SIZE}): {ours.seconds:.2f}s = {ours_per_s:.0f}/s "
        f"({ours.ticks} dispatch_due ticks)"
    )
    print(
        f"  worker peak RSS: {ours.peak_rss_kb / 1024:.0f} MiB per process "
        f"(max of {ours.processes}), {ours.peak_rss_total_kb / 1024:.0f} MiB summed"
    )

    def cpu_line(cpu: dict[str, float]) -> str:
        return ", ".join(f"{name} {ms:.2f}" for name, ms in cpu.items())

    print(f"  CPU ms per message, baseline: {cpu_line(baseline.cpu_ms)}")
    print(f"  CPU ms per message, ours: {cpu_line(ours.cpu_ms)} (postgres: all its processes)")
    print(f"  ours: first message {ours.first_message_s:.2f}s after enqueuing")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"  ratio {ratio:.2f} {verdict} the target {TARGET}")
    result = {
        "bench": "dispatch",
        "n": n,
        "ours_per_s": round(ours_per_s, 1),
        "baseline_per_s": round(baseline_per_s, 1),
        "ours": round(ours_per_s, 1),
        "baseline": round(baseline_per_s, 1),
        "ratio": round(ratio, 3),
        "ratios": [round(r, 3) for r in ratios],
        "reps": args.reps,
        "target": TARGET,
        "ok": ratio >= TARGET,
        "ours_s": round(ours.seconds, 3),
        "baseline_s": round(baseline_s, 3),
        "worker_concurrency": args.concurrency,
        "batch_size": int(settings.CXCRM_DISPATCH_BATCH_SIZE),
        "worker_peak_rss_mb": round(ours.peak_rss_kb / 1024, 1),
        "worker_peak_rss_total_mb": round(ours.peak_rss_total_kb / 1024, 1),
        "worker_processes": ours.processes,
        "mean_message_bytes": round(mean_size),
        "first_message_s": round(ours.first_message_s, 3),
        "cpu_ms_per_message": {
            "baseline": {k: round(v, 3) for k, v in baseline.cpu_ms.items()},
            "ours": {k: round(v, 3) for k, v in ours.cpu_ms.items()},
        },
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
