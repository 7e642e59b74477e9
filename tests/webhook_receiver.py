"""A real HTTP receiver on loopback for webhook tests: http.server in a thread, answering with
the status codes it is told, recording every request (headers and body); and a bare TCP
listener that only counts who connects."""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALPHABET = bytes(range(ord("a"), ord("z") + 1))  # a streamed reply is this, over and over


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in turn; then `otherwise`
    requests: list[Received] = field(default_factory=list)
    otherwise: int = 200
    # A slow receiver: each request waits this long before it is answered, or until
    # `released` is set (then every waiting request is answered at once).
    delay: float = 0.0
    released: threading.Event = field(default_factory=threading.Event)
    location: str = ""  # sent as the Location header (a redirect, with a 3xx status)
    # A huge reply: this many bytes of body, written in chunks as the client reads them
    # (never held in memory here); `sent` counts what got through before the client hung up.
    reply_bytes: int = 0
    sent: int = 0
    port: int = 0
    server_names: list[str | None] = field(default_factory=list)  # TLS SNI, as received


@contextmanager
def webhook_receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """With ``tls`` (a server context holding a certificate), the receiver speaks HTTPS."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received(dict(self.headers.items()), body))
            if receiver.delay:
                receiver.released.wait(receiver.delay)
            status = receiver.statuses.pop(0) if receiver.statuses else receiver.otherwise
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            if receiver.location:
                self.send_header("Location", receiver.location)
            if receiver.reply_bytes:
                self.send_header("Content-Length", str(receiver.reply_bytes))
                self.end_headers()
                self._stream(receiver.reply_bytes)
                return
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"try again")

        def _stream(self, size: int) -> None:
            chunk = ALPHABET * 2521  # 65,546 bytes
            try:
                while receiver.sent < size:
                    piece = chunk[: size - receiver.sent]
                    self.wfile.write(piece)
                    receiver.sent += len(piece)
            except OSError:
                pass  # the client read what it wanted and closed the connection

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    receiver.url = f"{'https' if tls else 'http'}://127.0.0.1:{receiver.port}/hooks/cx"
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: receiver.server_names.append(name)
        # The handshake runs at accept(); one the client aborts is dropped by socketserver.
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    # A short poll interval: shutdown() waits for it, and tests start many receivers.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()


@dataclass
class Listener:
    """A TCP port on loopback (127.0.0.1, and ::1 where the machine has it) that counts the
    connections it accepts; anything that reaches it was sent where it must not be."""

    port: int
    ipv6: bool
    connections: list[str] = field(default_factory=list)


@contextmanager
def tcp_listener() -> Iterator[Listener]:
    listener = Listener(port=0, ipv6=False)

    class Counter(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            listener.connections.append(str(self.client_address[0]))

    class V6Server(socketserver.ThreadingTCPServer):
        address_family = socket.AF_INET6

    servers: list[socketserver.ThreadingTCPServer] = [
        socketserver.ThreadingTCPServer(("127.0.0.1", 0), Counter)
    ]
    listener.port = servers[0].server_address[1]
    try:
        servers.append(V6Server(("::1", listener.port), Counter))
        listener.ipv6 = True
    except OSError:
        pass  # no IPv6 loopback here (or the port is taken on it): the test says so
    for server in servers:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield listener
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
