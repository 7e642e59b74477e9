"""What one inbound message may cost to read: header bytes, addresses, MIME parts, nesting and
time. Checked on the raw bytes before the stdlib parser sees them, because the parser's cost
grows steeply with exactly these (a To: of 32,000 addresses or 32,000 parts took 36 s each);
a message over a cap is kept with the reason instead of being read.

Pure functions, no database.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from django.conf import settings

# Every header that holds addresses: the parser reads each of them when asked for recipients.
ADDRESS_HEADERS = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Resent-To",
    "Resent-Cc",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
)
HEADER_END = re.compile(rb"\r?\n\r?\n")
BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.I)
DELIMITER = re.compile(rb"^--([^\r\n]{1,202})", re.M)
ENCAPSULATED = re.compile(rb"content-type:\s*message/", re.I)


class OverLimit(Exception):
    """The message is over a cap; str(exc) says which, by how much, and the setting."""


@dataclass(frozen=True)
class Limits:
    header_bytes: int
    addresses: int
    parts: int
    depth: int
    seconds: float

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            header_bytes=int(settings.CXCRM_INBOUND_MAX_HEADER_BYTES),
            addresses=int(settings.CXCRM_INBOUND_MAX_ADDRESSES),
            parts=int(settings.CXCRM_INBOUND_MAX_PARTS),
            depth=int(settings.CXCRM_INBOUND_MAX_DEPTH),
            seconds=float(settings.CXCRM_INBOUND_TIME_BUDGET_SECONDS),
        )


class Deadline:
    """The time budget of reading one message, checked between the steps."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self, step: str) -> None:
        if time.monotonic() > self.ends:
            raise OverLimit(
                f"Reading it took longer than {self.seconds:g} s (at {step}); the limit is "
                "CXCRM_INBOUND_TIME_BUDGET_SECONDS."
            )


def _over(what: str, found: int, limit: int, setting: str) -> OverLimit:
    return OverLimit(f"It has {found:,} {what}; the limit is {limit:,} ({setting}).")


def precheck(raw: bytes, limits: Limits) -> None:
    """Raise OverLimit when the raw message is over a cap. Linear scans only: what is counted
    is an upper bound of what the parser would build (an '@' per address, a delimiter line of
    a declared boundary per part), so nothing under the caps is refused by mistake."""
    end = HEADER_END.search(raw)
    head = raw if end is None else raw[: end.start()]
    if len(head) > limits.header_bytes:
        raise _over(
            "header bytes", len(head), limits.header_bytes, "CXCRM_INBOUND_MAX_HEADER_BYTES"
        )
    # compat32 keeps header values as the strings they came as: nothing is parsed here.
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(head)
    found = sum(
        str(value).count("@") for name in ADDRESS_HEADERS for value in headers.get_all(name) or []
    )
    if found > limits.addresses:
        raise _over("addresses", found, limits.addresses, "CXCRM_INBOUND_MAX_ADDRESSES")
    boundaries: set[bytes] = set()
    for match in BOUNDARY.finditer(raw):
        boundaries.add((match.group(1) or match.group(2)).rstrip())
        if len(boundaries) > limits.parts:
            raise _over("MIME parts", len(boundaries), limits.parts, "CXCRM_INBOUND_MAX_PARTS")
    parts = len(ENCAPSULATED.findall(raw))
    if boundaries:
        for match in DELIMITER.finditer(raw):
            # "--boundary" opens a part; "--boundary--" closes the multipart.
            if match.group(1).rstrip() in boundaries:
                parts += 1
    if parts > limits.parts:
        raise _over("MIME parts", parts, limits.parts, "CXCRM_INBOUND_MAX_PARTS")


def check_structure(msg: Message, limits: Limits) -> None:
    """The parsed message's exact part count and nesting depth (cheap once parsed)."""
    parts = 0
    stack: list[tuple[Message, int]] = [(msg, 1)]
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > limits.parts:
            raise _over("MIME parts", parts, limits.parts, "CXCRM_INBOUND_MAX_PARTS")
        if depth > limits.depth:
            raise OverLimit(
                f"Its MIME parts nest deeper than {limits.depth} levels (CXCRM_INBOUND_MAX_DEPTH)."
            )
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in children)
