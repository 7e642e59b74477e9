"""What every benchmark needs: a PostgreSQL database of its own, made afresh and dropped."""

from __future__ import annotations

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
