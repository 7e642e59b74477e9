"""The private PostgreSQL cluster the fault tests crash and restart (conftest.PrivatePostgres)."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.integration


def test_a_crashed_private_cluster_recovers_its_committed_rows(private_postgres) -> None:
    url = private_postgres.create_database("probe")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
    private_postgres.stop("immediate")
    assert not private_postgres.running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    private_postgres.start()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT sum(n) FROM t").fetchone() == (3,)
