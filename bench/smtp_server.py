"""A counting SMTP server for the benchmarks: aiosmtpd in a process of its own.

``python -m bench.smtp_server --port P [--control-port C]`` accepts every message (250) and
counts it. It runs in its own process so that it never shares a GIL with the code being
measured: both sides of a comparison talk to the same, independent server.

It prints ``READY <smtp port> <control port>`` once listening. The control port answers one
line per request: ``STATS`` → a JSON object (messages, distinct recipients, bytes, and the
``time.monotonic()`` of the first and last message: CLOCK_MONOTONIC is system-wide on Linux,
so the caller can use the server's own receipt time as the end of its measurement instead of
its polling time); ``RECIPIENTS`` → the addresses themselves (to count distinct recipients
across several servers); ``RESET`` zeroes the counters between measured phases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class CountingHandler:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.bytes = 0
        # Distinct recipients prove that N messages are N different emails, not retries of one.
        self.recipients: set[str] = set()
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.monotonic()
        content = envelope.original_content or envelope.content or b""
        self.messages += 1
        self.bytes += len(content)
        self.recipients.update(envelope.rcpt_tos)
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        return "250 Message accepted for delivery"

    def stats(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "recipients": len(self.recipients),
            "bytes": self.bytes,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }


async def _serve(host: str, port: int, control_port: int) -> None:
    handler = CountingHandler()
    loop = asyncio.get_running_loop()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                command = line.strip().upper()
                if command == b"RESET":
                    handler.reset()
                    reply: dict[str, Any] = {"ok": True}
                elif command == b"RECIPIENTS":
                    # Once per run, not per poll: for the distinct count across several servers.
                    reply = {"recipients": sorted(handler.recipients)}
                else:
                    reply = handler.stats()
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    smtp = await loop.create_server(
        lambda: SMTP(handler, hostname="bench.localhost", data_size_limit=10_000_000),
        host=host,
        port=port,
    )
    ctl = await asyncio.start_server(control, host=host, port=control_port)
    smtp_port = smtp.sockets[0].getsockname()[1]
    ctl_port = ctl.sockets[0].getsockname()[1]
    print(f"READY {smtp_port} {ctl_port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    smtp.close()
    ctl.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--control-port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.control_port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
