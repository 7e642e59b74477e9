"""Real servers for the integration tests: PostgreSQL, Redis and a Celery worker process.

`make test` runs this directory with DATABASE_URL pointing at PostgreSQL and CELERY_BROKER_URL
at Redis. Where a server cannot be reached the tests skip with the reason, except with CI=true,
where an unreachable server is a failure: CI must exercise the real parts.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str, default_port: int) -> str | None:
    """None when a TCP connection to the URL's host succeeds, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc})"


def _why_not_ready() -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return "DATABASE_URL is not PostgreSQL (run them through `make integration`)"
    db = settings.DATABASES["default"]
    problem = _reachable(
        f"postgres://{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}", 5432
    )
    if problem:
        return f"PostgreSQL {problem}"
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        return "CELERY_BROKER_URL is not Redis (run them through `make integration`)"
    problem = _reachable(broker, 6379)
    if problem:
        return f"Redis {problem}"
    return None


@pytest.hookimpl(trylast=True)  # after `-m` has deselected what this run does not include
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = [item for item in items if item.get_closest_marker("integration")]
    if not wanted:
        return
    why = _why_not_ready()
    if why is None:
        return
    if IN_CI:
        raise pytest.UsageError(f"CI=true and the integration servers are not ready: {why}")
    for item in wanted:
        item.add_marker(pytest.mark.skip(reason=f"integration servers not ready: {why}"))


def _redis_client():  # type: ignore[no-untyped-def]
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@pytest.fixture
def redis_broker() -> Iterator[object]:
    """The broker's Redis database, emptied before and after the test."""
    client = _redis_client()
    client.flushdb()
    yield client
    client.flushdb()


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def worker_env(var_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker or beat process: the test database, the test broker."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    env["CXCRM_VAR_DIR"] = str(var_dir)
    env.update(extra or {})
    return env


@pytest.fixture
def celery_worker(
    django_db_setup: None, redis_broker: object, tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    """Start real `celery worker` (or, with beat=True, `celery beat`) processes on the test
    database and Redis; extra environment variables configure them (EMAIL_URL...); ``queues``
    is the worker's ``-Q`` (default: the default queue only).

    The worker is a separate process: it reads DATABASE_URL naming the test database that
    pytest-django created, so it sees only what the test committed.
    """
    started: list[Worker] = []

    def start(
        name: str = "it",
        concurrency: int = 1,
        pool: str = "solo",
        env: dict[str, str] | None = None,
        beat: bool = False,
        queues: str | None = None,
    ) -> Worker:
        full = worker_env(tmp_path / f"var-{name}", env)
        log = tmp_path / f"{'beat' if beat else 'worker'}-{name}.log"
        if beat:
            command = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxcrm",
                "beat",
                "--loglevel",
                "INFO",
                "--max-interval",
                "1",
            ]
            ready = "beat: Starting"
        else:
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
                pool,
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--queues",
                queues or settings.CELERY_TASK_DEFAULT_QUEUE,
            ]
            ready = "ready."
        process = subprocess.Popen(
            command, cwd=ROOT, env=full, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        worker = Worker(process, log)
        started.append(worker)
        deadline = time.monotonic() + 30
        while ready not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[5]} did not start:\n{worker.output()}")
            time.sleep(0.2)
        return worker

    yield start
    # All at once: each warm shutdown takes a second or two, and they need not queue.
    running = [worker for worker in reversed(started) if worker.process.poll() is None]
    for worker in running:
        worker.process.terminate()
    deadline = time.monotonic() + 20
    for worker in running:
        try:
            worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
    # The worker's connections are gone; the test database can be dropped.


class PrivateRedis:
    """A redis-server of the test's own on a free port, so a test can stop and restart it
    without touching the machine's shared Redis."""

    def __init__(self, tmp_path: Path) -> None:
        from tests.smtp import free_port

        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=(self.dir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: _reachable(self.url, self.port) is None, timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class PrivatePostgres:
    """A PostgreSQL 15 cluster of the test's own (initdb in a temporary directory, a free port,
    trust auth, fsync off: a crash here is the server's, not the machine's, so commits
    survive it), so a fault test can crash, stop and restart it without touching the
    machine's shared server. As root the cluster runs as the `postgres` user (PostgreSQL
    refuses root). `url` is a DATABASE_URL for its `postgres` database; `create_database`
    makes another."""

    def __init__(self) -> None:
        from tests.smtp import free_port

        self.port = free_port()
        self.bin = _postgres_bin()
        # Not pytest's tmp_path: its parent is private to the user running pytest, and the
        # server may run as `postgres`.
        self.dir = Path(tempfile.mkdtemp(prefix="cxcrm-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self._as = []

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "120",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, the next start recovers from the WAL."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        done = subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
        )
        return done.returncode == 0

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_bin() -> Path:
    """The newest installed server's binaries (Debian keeps them off PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.init()
    server.start()
    yield server
    server.destroy()


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, every: float = 0.1) -> object:
    """Poll until predicate() is truthy; return its value or fail with the time spent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")
