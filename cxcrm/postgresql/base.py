"""Django's PostgreSQL backend (psycopg 3), with a health check that costs no round trip when
the connection is plainly fine.

With CONN_HEALTH_CHECKS on, Django runs ``SELECT 1`` before the first query of every request
(and of every Celery task) on a reused connection, so that a connection PostgreSQL dropped
(a restart, ``pg_terminate_backend``, an idle timeout, a pooler closing it) is replaced
instead of failing the request. That round trip was a fifth of the survey page's database
time (python -m bench.survey_page). A server that ends a connection tells the client: it
sends a FATAL error and closes the socket, or the kernel closes it when the backend dies;
either way the idle socket becomes readable. So the check here asks the socket first, without
waiting: nothing to read on an idle connection in a good state means usable; anything to read
(or a connection psycopg already knows is bad) falls back to Django's own ``SELECT 1``, which
decides. What neither check can see early is a peer that vanished without a word (a host gone,
a NAT entry dropped): Django's ``SELECT 1`` would then wait for TCP to give up as well, and
CONN_MAX_AGE bounds how long such a connection is kept.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        pgconn = raw.pgconn
        idle = (
            pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
        )
        if not idle or not hasattr(select, "poll"):
            return bool(super().is_usable())
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        if poller.poll(0):
            return bool(super().is_usable())
        return True
