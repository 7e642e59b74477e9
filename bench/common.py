"""What every benchmark needs: a PostgreSQL database of its own, made afresh and dropped."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

PG = "postgresql://postgres@127.0.0.1:5432"
# The test suite's databases: a benchmark must never touch them.
RESERVED = {"cxcrm", "test_cxcrm", "postgres"}


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def recreate_database(name: str) -> None:
    import psycopg

    if name in RESERVED:
        raise SystemExit(f"refusing to recreate the database {name!r}")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    if name in RESERVED:
        raise SystemExit(f"refusing to drop the database {name!r}")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_process(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds: to the whole process group when the
    process leads one of its own (started with ``start_new_session``), else to it alone."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
