"""Where a webhook may be sent: the URL rules (README "Webhook URL rules").

API keys register webhook URLs, so a URL is untrusted input that would make the server call
whatever it names. The URL is parsed once, by urllib3 (the client that then connects, so the
host checked is the host called), its host resolved once, and every address checked; the
delivery then connects to one of those addresses (cxcrm.webhooks.sending), never to the name,
so a second DNS answer cannot point it elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from cxcrm.errors import ServiceError

DEFAULT_PORTS = {"http": 80, "https": 443}
# Prefixes that carry an IPv4 address inside an IPv6 one: the IPv4 address is where the
# packets end up (NAT64's well-known prefix; 6to4 and Teredo are read by ipaddress itself).
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookError(ServiceError, ValueError):
    """A webhook endpoint or event that cannot be used as given; the message says why."""


class WebhookUrlError(WebhookError):
    """The URL is refused: malformed, ambiguous, unresolvable or aimed at a private network."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: what to connect to (addresses) and what to call it (name, for the Host
    header, TLS SNI and the certificate check)."""

    scheme: str
    name: str  # ASCII host name or IP literal, without brackets
    port: int
    host_header: str
    request_uri: str
    addresses: tuple[str, ...]


def url_parse(url: str) -> Url:
    """The URL as urllib3 reads it, or WebhookUrlError. Userinfo and backslashes are refused
    outright: parsers disagree on where such a URL's host is (``http://a:1\\@b/``)."""
    if "\\" in url:
        raise WebhookUrlError("The URL must not contain a backslash.")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise WebhookUrlError("The URL must not contain spaces or control characters.")
    try:
        parsed = parse_url(url)
    except LocationParseError:
        raise WebhookUrlError("Enter an http(s) URL.") from None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host:
        raise WebhookUrlError("Enter an http(s) URL.")
    if parsed.auth is not None or "@" in (parsed.netloc or ""):
        raise WebhookUrlError("The URL must not contain a user name or password.")
    if parsed.port == 0:
        raise WebhookUrlError("The URL's port must be between 1 and 65535.")
    return parsed


def address_is_public(address: IpAddress) -> bool:
    """Whether packets to this address leave for the public internet (not loopback, private,
    link-local, multicast, unspecified or reserved, including IPv4 hidden inside IPv6)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: list[IpAddress] = []
        if address.ipv4_mapped is not None:
            embedded.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            embedded.append(address.sixtofour)
        if address.teredo is not None:
            embedded.extend(address.teredo)
        if address in NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.is_site_local or not all(address_is_public(e) for e in embedded):
            return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


def target_resolve(url: str, *, allow_private: bool | None = None) -> Target:
    """Parse, resolve (one getaddrinfo call) and vet ``url``; WebhookUrlError says why not.
    ``allow_private`` defaults to CXCRM_WEBHOOK_ALLOW_PRIVATE (development and tests)."""
    if allow_private is None:
        allow_private = settings.CXCRM_WEBHOOK_ALLOW_PRIVATE
    parsed = url_parse(url)
    scheme, host = parsed.scheme or "http", parsed.host or ""
    name = host[1:-1] if host.startswith("[") else host
    port = parsed.port or DEFAULT_PORTS[scheme]
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlError(f"cannot resolve {name}: {exc}") from None
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0])
        if not allow_private and not address_is_public(ipaddress.ip_address(text)):
            raise WebhookUrlError(f"refused: {name} resolves to a non-public address ({text})")
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise WebhookUrlError(f"cannot resolve {name}: no address")
    return Target(
        scheme=scheme,
        name=name,
        port=port,
        host_header=host if parsed.port is None else f"{host}:{parsed.port}",
        request_uri=parsed.request_uri,
        addresses=tuple(addresses),
    )


def url_check(url: str) -> str:
    """A URL fit to register: one that delivery would call (with private addresses allowed,
    the DNS is not asked: development hosts need not resolve yet)."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookUrlError("Enter an http(s) URL.") from None
    if settings.CXCRM_WEBHOOK_ALLOW_PRIVATE:
        url_parse(url)
    else:
        target_resolve(url, allow_private=False)
    return url
