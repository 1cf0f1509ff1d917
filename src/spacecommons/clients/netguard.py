"""Webhook targets that cannot reach inside: URL and address checks against SSRF, and a pinned send.

A partner registers a URL; the server later POSTs alerts to it. Without checks that makes the
server a proxy into its own network (loopback, the cloud metadata address, private ranges) and,
through the delivery log, a port scanner. So:

- :func:`check_url` parses the URL, refuses anything but ``http``/``https`` without user info,
  reads numeric hosts the way a browser or ``inet_aton`` does (``2130706433``, ``0x7f.1``,
  ``017700000001`` are all 127.0.0.1), resolves the host through an injectable resolver and
  accepts it only when EVERY resolved address is public unicast (:func:`is_public_unicast`).
- :func:`send_pinned` connects to the address that was checked, never to a second DNS answer
  (no DNS rebinding), while the Host header, TLS SNI and certificate verification still use the
  host name. Redirects are not followed, the whole exchange has one deadline, and at most
  :data:`MAX_RESPONSE_BYTES` of the answer are read.
- Failures carry a :class:`Reason`, a short generic text that may be shown to the partner; the
  raw exception (which would tell a port scanner what answered) is never part of it.

``allow_loopback`` admits 127.0.0.0/8 and ::1 only, for local development and tests (setting
``SPACECOMMONS_WEBHOOK_ALLOW_LOOPBACK``); every other non-public address stays refused.

References: IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates),
WHATWG URL Standard section 3.5 "IPv4 parser", RFC 4291 section 2.5.5 (IPv4-embedded IPv6),
RFC 3056 (6to4), RFC 4380 (Teredo), RFC 6052 (NAT64 well-known prefix).
"""

from __future__ import annotations

import enum
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore

from ..errors import InputError, SpacecommonsError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]  # socket.getaddrinfo's signature and result

MAX_RESPONSE_BYTES = 4096  # a receiver's answer is read this far, then the connection is closed
DEFAULT_TIMEOUT_S = 5.0  # the whole exchange: connect, TLS, send, status line and the bytes read

# IANA IPv4 Special-Purpose Address Registry (RFC 6890, RFC 6598, RFC 7526) and multicast (RFC 5771).
BLOCKED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "this network (RFC 791)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space, CGNAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback (RFC 1122)"),
        ("169.254.0.0/16", "link-local (RFC 3927), incl. cloud metadata 169.254.169.254"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
        ("192.88.99.0/24", "6to4 relay anycast, deprecated (RFC 7526)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
        ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
        ("224.0.0.0/4", "multicast (RFC 5771)"),
        ("240.0.0.0/4", "reserved, incl. broadcast 255.255.255.255 (RFC 1112, RFC 919)"),
    )
)
# IPv6 unicast is allocated from 2000::/3 only (IANA IPv6 Address Space); inside it these are not public.
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
BLOCKED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("2001::/23", "IETF protocol assignments (RFC 2928); Teredo is checked before"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("3fff::/20", "documentation (RFC 9637)"),
    )
)
MAPPED_V6 = ipaddress.IPv6Network("::ffff:0:0/96")  # IPv4-mapped (RFC 4291 2.5.5.2)
COMPATIBLE_V6 = ipaddress.IPv6Network("::/96")  # IPv4-compatible, deprecated (RFC 4291 2.5.5.1)
NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")  # NAT64 well-known prefix (RFC 6052)
SIXTOFOUR_V6 = ipaddress.IPv6Network("2002::/16")  # 6to4 (RFC 3056)
TEREDO_V6 = ipaddress.IPv6Network("2001::/32")  # Teredo (RFC 4380)
LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
LOOPBACK_V6 = ipaddress.IPv6Address("::1")

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")


class Reason(enum.StrEnum):
    """Why a delivery did or did not happen: generic words that are safe to show a partner."""

    DELIVERED = "delivered"
    INVALID_URL = "invalid URL"
    ADDRESS_NOT_ALLOWED = "address not allowed"
    HOST_NOT_FOUND = "host not found"
    CONNECTION_FAILED = "connection failed"
    TIMEOUT = "timeout"
    REDIRECT_NOT_FOLLOWED = "redirect not followed"
    HTTP_4XX = "HTTP 4xx"
    HTTP_5XX = "HTTP 5xx"


class TargetRefused(SpacecommonsError, ValueError):
    """A webhook URL refused before any connection; ``reason`` is the generic text for the partner."""

    def __init__(self, reason: Reason) -> None:
        self.reason = reason
        super().__init__(str(reason))


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed :func:`check_url`, with the address the connection must go to."""

    url: str  # as registered
    scheme: str  # "http" | "https"
    host: str  # lower-case host name or address literal (no brackets): Host header, SNI, certificate
    port: int
    target: str  # path and query sent in the request line ("/" when empty)
    address: IPAddress  # the checked address the connection goes to
    addresses: tuple[IPAddress, ...]  # every address the resolver gave (all checked)

    @property
    def origin_url(self) -> str:
        """The URL the request is written with: the host name, not the address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.target}"


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one send did: ``reason`` is for the partner, ``status_code`` for the server's own log."""

    reason: Reason
    status_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason is Reason.DELIVERED


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if ip in MAPPED_V6 or ip in NAT64_V6 or (ip in COMPATIBLE_V6 and int(ip) > 1):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in SIXTOFOUR_V6:
        return [ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)]
    if ip in TEREDO_V6:
        server, client = ip.teredo  # type: ignore[misc]  # the client is stored XOR 0xffffffff
        return [server, client]
    return []


def is_public_unicast(ip: IPAddress) -> bool:
    """True when ``ip`` is a public unicast address: not loopback, private, link-local, multicast,
    reserved, unspecified, shared (CGNAT) or documentation, and, for IPv6 that embeds IPv4
    (mapped, compatible, NAT64, 6to4, Teredo), only when every embedded IPv4 address is public.

    >>> is_public_unicast(ipaddress.ip_address("93.184.216.34"))
    True
    >>> is_public_unicast(ipaddress.ip_address("::ffff:10.0.0.1"))
    False
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global and not any(ip in net for net, _ in BLOCKED_V4)
    embedded = _embedded_v4(ip)
    if embedded:
        return all(is_public_unicast(v4) for v4 in embedded)
    return ip in GLOBAL_UNICAST_V6 and not any(ip in net for net, _ in BLOCKED_V6)


def is_loopback(ip: IPAddress) -> bool:
    """127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z), the only addresses ``allow_loopback`` admits."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in MAPPED_V6:
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip in LOOPBACK_V4 if isinstance(ip, ipaddress.IPv4Address) else ip == LOOPBACK_V6


def _allowed(ip: IPAddress, allow_loopback: bool) -> bool:
    return is_public_unicast(ip) or (allow_loopback and is_loopback(ip))


def _ipv4_number(part: str) -> int:
    """One dotted part as the WHATWG URL IPv4 parser reads it: 0x hex, leading-0 octal, decimal."""
    if part[:2].lower() == "0x":
        return int(part[2:], 16) if part[2:] else 0
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    if not part.isdigit():
        raise InputError(part)
    return int(part)


def parse_numeric_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host "ending in a number" denotes, as a browser reads it; None for names.

    Raises :class:`TargetRefused` when the host ends in a number but is not a valid IPv4 address
    (a browser refuses such a URL too).

    >>> parse_numeric_host("0x7f.1"), parse_numeric_host("017700000001"), parse_numeric_host("2130706433")
    (IPv4Address('127.0.0.1'), IPv4Address('127.0.0.1'), IPv4Address('127.0.0.1'))
    >>> parse_numeric_host("hooks.example.org") is None
    True
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts = parts[:-1]
    last = parts[-1]
    hexlike = last[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in last[2:])
    if not (last.isdigit() or hexlike):
        return None
    try:
        if len(parts) > 4 or any(p == "" for p in parts):
            raise InputError(host)
        numbers = [_ipv4_number(p) for p in parts]
        if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
            raise InputError(host)
    except ValueError:
        raise TargetRefused(Reason.INVALID_URL) from None
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _split(url: str) -> tuple[str, str, int, str]:
    """scheme, host (lower case, no brackets), port and request target of ``url``; refuses odd URLs."""
    if not isinstance(url, str) or len(url) > 2048 or any(ord(c) <= 0x20 or ord(c) >= 0x7F or c == "\\" for c in url):
        raise TargetRefused(Reason.INVALID_URL)  # whitespace, controls, non-ASCII, backslashes: parsers disagree
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(Reason.INVALID_URL) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
        raise TargetRefused(Reason.INVALID_URL)
    host = parts.hostname.lower()
    if port is None:
        port = 443 if scheme == "https" else 80
    if port == 0:
        raise TargetRefused(Reason.INVALID_URL)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, target


def _literal(host: str) -> IPAddress | None:
    """The address a host literal denotes (IPv6 in brackets, or any IPv4 spelling), else None."""
    if ":" in host:
        if "%" in host:  # a zone id only makes sense for link-local addresses
            raise TargetRefused(Reason.ADDRESS_NOT_ALLOWED)
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise TargetRefused(Reason.INVALID_URL) from None
    if not set(host) <= _HOST_CHARS or ".." in host or host.startswith("."):
        raise TargetRefused(Reason.INVALID_URL)  # percent-encoding, IDN forms etc.: refuse, don't guess
    return parse_numeric_host(host)


def _resolve(host: str, port: int, resolver: Resolver) -> tuple[IPAddress, ...]:
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(Reason.HOST_NOT_FOUND) from None
    found: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # an IPv6 scope id follows '%'
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise TargetRefused(Reason.ADDRESS_NOT_ALLOWED) from None
        if ip not in found:
            found.append(ip)
    if not found:
        raise TargetRefused(Reason.HOST_NOT_FOUND)
    return tuple(found)


def check_url(url: str, resolver: Resolver = socket.getaddrinfo, allow_loopback: bool = False) -> CheckedTarget:
    """The checked target of a webhook ``url``, or :class:`TargetRefused` with a generic reason.

    Every address the host resolves to must be public unicast (or loopback when
    ``allow_loopback``); the first one is the address :func:`send_pinned` connects to.
    Call it when the URL is registered and again right before each send.

    >>> t = check_url("https://hooks.example.org/in", resolver=fixed_resolver({"hooks.example.org": ["93.184.216.34"]}))
    >>> (t.host, t.port, t.target, str(t.address))
    ('hooks.example.org', 443, '/in', '93.184.216.34')
    >>> check_url("http://0x7f.1/", resolver=fixed_resolver({}))
    Traceback (most recent call last):
    ...
    spacecommons.clients.netguard.TargetRefused: address not allowed
    """
    scheme, host, port, target = _split(url)
    literal = _literal(host)
    addresses = (literal,) if literal is not None else _resolve(host, port, resolver)
    if not all(_allowed(ip, allow_loopback) for ip in addresses):
        raise TargetRefused(Reason.ADDRESS_NOT_ALLOWED)
    if literal is not None:
        host = str(literal)  # the canonical spelling is what goes in the Host header
    return CheckedTarget(url, scheme, host, port, target, addresses[0], addresses)


def fixed_resolver(table: Mapping[str, Iterable[str]]) -> Resolver:
    """A resolver answering from ``table`` (host -> addresses) with getaddrinfo's shape, for tests
    and local set-ups; an unknown host is ``socket.gaierror``, as from DNS."""

    def resolve(host: str, port: int, *_args: Any, **_kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "not in the fixed table")
        out = []
        for text in table[host]:
            ip = ipaddress.ip_address(text)
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sockaddr = (text, port, 0, 0) if ip.version == 6 else (text, port)
            out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return out

    return resolve


class _DeadlineStream(httpcore.NetworkStream):
    """A stream whose every read, write and TLS handshake ends by one shared deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner, self._deadline = inner, deadline

    def _left(self, timeout: float | None, exc: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise exc("deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the checked address whatever host the request names: no second DNS lookup."""

    def __init__(self, address: IPAddress, deadline: float) -> None:
        self._address, self._deadline = address, deadline
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("deadline passed")
        left = left if timeout is None else min(timeout, left)
        stream = self._sync.connect_tcp(str(self._address), port, left, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook targets")


def send_pinned(
    target: CheckedTarget,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    allow_loopback: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryOutcome:
    """POST ``body`` to ``target`` over a connection to ``target.address``, within ``timeout_s`` in all.

    The Host header, TLS SNI and certificate check use ``target.host``; redirects are reported,
    not followed; at most :data:`MAX_RESPONSE_BYTES` of the answer are read. The address is
    checked once more here, so a hand-made target cannot skip the rule. Never raises for network
    trouble: the outcome's ``reason`` says what happened in words safe for the partner.
    """
    if not _allowed(target.address, allow_loopback):
        return DeliveryOutcome(Reason.ADDRESS_NOT_ALLOWED)
    deadline = time.monotonic() + timeout_s
    context = ssl_context if ssl_context is not None else ssl.create_default_context()
    pool = httpcore.ConnectionPool(
        ssl_context=context, max_connections=1, retries=0, network_backend=_PinnedBackend(target.address, deadline)
    )
    sent = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items() if k.lower() != "host"]
    sent += [(b"Host", _host_header(target).encode("ascii")), (b"Connection", b"close")]
    per_step = {"connect": timeout_s, "read": timeout_s, "write": timeout_s, "pool": timeout_s}
    try:
        with (
            pool,
            pool.stream("POST", target.origin_url, headers=sent, content=body, extensions={"timeout": per_step}) as r,
        ):
            read = 0
            for chunk in r.iter_stream():  # drain a little so the receiver sees a clean close
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
            status = r.status
    except httpcore.TimeoutException:
        return DeliveryOutcome(Reason.TIMEOUT)
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, ssl.SSLError, OSError):
        return DeliveryOutcome(Reason.CONNECTION_FAILED)
    if 200 <= status < 300:
        return DeliveryOutcome(Reason.DELIVERED, status)
    if 300 <= status < 400:
        return DeliveryOutcome(Reason.REDIRECT_NOT_FOLLOWED, status)
    if 400 <= status < 500:
        return DeliveryOutcome(Reason.HTTP_4XX, status)
    return DeliveryOutcome(Reason.HTTP_5XX, status)


def _host_header(target: CheckedTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def deliver(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    resolver: Resolver = socket.getaddrinfo,
    allow_loopback: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryOutcome:
    """Check ``url`` now (send-time check) and POST to the checked address: the one call a
    delivery worker needs. A refused URL is an outcome, not an exception."""
    try:
        target = check_url(url, resolver=resolver, allow_loopback=allow_loopback)
    except TargetRefused as refused:
        return DeliveryOutcome(refused.reason)
    return send_pinned(target, body, headers, timeout_s, allow_loopback=allow_loopback, ssl_context=ssl_context)
