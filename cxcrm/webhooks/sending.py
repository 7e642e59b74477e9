"""One POST to a vetted webhook target (cxcrm.webhooks.safety): to its addresses, never its
name (no second DNS lookup), no redirects, bounded in time, and only the start of the reply
read (a receiver answering with gigabytes must not fill a worker's memory).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import certifi
from urllib3 import BaseHTTPResponse, HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from cxcrm.webhooks.safety import Target

RESPONSE_BODY_CHARS = 1000
# Bytes of the reply read at most: RESPONSE_BODY_CHARS of UTF-8 fit in four times as many.
RESPONSE_READ_BYTES = 4 * RESPONSE_BODY_CHARS
CONNECT_SECONDS = 5.0
# The same trust store as requests had (certifi), so no receiver's certificate changes status.
CA_CERTS = certifi.where()


@dataclass(frozen=True)
class Reply:
    status: int
    body: str  # the first RESPONSE_BODY_CHARS characters, for the delivery log


class SendError(Exception):
    """No HTTP answer (connection refused, timeout, TLS failure...); the message says which."""


def target_post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
    """POST ``body`` to the first of the target's addresses that accepts a connection. The
    whole attempt, from the first connect to the last byte kept, gets ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    sent_headers = {
        **headers,
        "Host": target.host_header,
        # The reply is cut short, so it must not be compressed (nor a decompression bomb).
        "Accept-Encoding": "identity",
    }
    failure: Exception | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        pool = _pool(target, address)
        try:
            response = pool.urlopen(
                "POST",
                target.request_uri,
                body=body,
                headers=sent_headers,
                # A redirect could lead the signed body anywhere, and a retry would reconnect:
                # the receiver answers in place, and the retry schedule does the retrying.
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                timeout=Timeout(connect=min(CONNECT_SECONDS, remaining), read=remaining),
            )
        except (NewConnectionError, ConnectTimeoutError) as exc:
            pool.close()
            failure = exc  # this address is down: another of the vetted ones may answer
            continue
        except (HTTPError, OSError) as exc:
            pool.close()
            raise SendError(str(exc)) from None
        try:
            return Reply(response.status, _start_of(response, deadline))
        finally:
            # Closing (not releasing) the connection drops the rest of the reply unread.
            response.close()
            pool.close()
    raise SendError(str(failure) if failure else "timed out before connecting")


def _pool(target: Target, address: str) -> HTTPConnectionPool:
    if target.scheme == "https":
        # urllib3's documented custom-SNI setup: connect to the address, while TLS names
        # (and the certificate is verified against) the host of the URL.
        return HTTPSConnectionPool(
            address,
            target.port,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=CA_CERTS,
            server_hostname=target.name,
            assert_hostname=target.name,
        )
    return HTTPConnectionPool(address, target.port, maxsize=1)


def _start_of(response: BaseHTTPResponse, deadline: float) -> str:
    """At most RESPONSE_READ_BYTES of the body, read as they come, until the deadline."""
    kept = bytearray()
    try:
        while len(kept) < RESPONSE_READ_BYTES and time.monotonic() < deadline:
            chunk = response.read1(RESPONSE_READ_BYTES - len(kept))
            if not chunk:
                break
            kept += chunk
    except (HTTPError, OSError):
        pass  # the status came; a body cut off or too slow is logged as far as it got
    # PostgreSQL text cannot hold NUL; the log is for people, so a stand-in will do.
    text = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text[:RESPONSE_BODY_CHARS]
