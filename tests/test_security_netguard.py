"""Webhook URL checks (SSRF) and the pinned send, written as the URLs a hostile partner registers.

Every address check uses a stub resolver; the only traffic these tests send goes to receivers on
127.0.0.1 with ``allow_loopback=True``. Expected values: the IANA IPv4/IPv6 Special-Purpose
Address Registries (RFC 6890), WHATWG URL Standard 3.5 (IPv4 parser), RFC 4291 2.5.5, RFC 3056
(6to4), RFC 4380 (Teredo), RFC 6052 (NAT64) and, independently, glibc's ``inet_aton``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacecommons.clients.netguard import (
    CheckedTarget,
    Reason,
    TargetRefused,
    check_url,
    deliver,
    fixed_resolver,
    is_public_unicast,
    parse_numeric_host,
    send_pinned,
)


def no_dns(*_args, **_kwargs):
    raise AssertionError("a literal address must not be resolved")


def refused(url: str, resolver=no_dns, allow_loopback: bool = False) -> Reason:
    with pytest.raises(TargetRefused) as info:
        check_url(url, resolver=resolver, allow_loopback=allow_loopback)
    return info.value.reason


# --- scheme, user info, malformed ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.org/",
        "file:///etc/passwd",
        "gopher://hooks.example.org:70/",
        "javascript:alert(1)",
        "http://user:pw@hooks.example.org/",  # user info: which host is meant differs between parsers
        "http://hooks.example.org@127.0.0.1/",
        "http:///path-only",
        "http://hooks.example.org:99999/",
        "http://hooks.example.org:0/",
        "http://hooks.exa mple.org/",
        "http://hooks.example.org\\@127.0.0.1/",
        "http://%31%32%37.0.0.1/",  # a browser decodes this host to 127.0.0.1
        "http://hooks.example.org/\r\nX-Injected: 1",
    ],
)
def test_refuses_other_schemes_userinfo_and_malformed_urls(url):
    assert refused(url, resolver=fixed_resolver({"hooks.example.org": ["93.184.216.34"]})) is Reason.INVALID_URL


# --- numeric spellings of loopback (WHATWG IPv4 parser / inet_aton) ------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",  # decimal
        "http://0x7f000001/",  # hex
        "http://0x7f.1/",  # hex + a 24-bit tail
        "http://017700000001/",  # octal
        "http://0177.0.0.1/",
        "http://127.0.0.1./",  # trailing dot
        "http://0/",  # 0.0.0.0 reaches the local host on Linux
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped (RFC 4291 2.5.5.2)
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",  # IPv4-compatible (RFC 4291 2.5.5.1)
        "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1 (RFC 3056)
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1 (RFC 6052)
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1 XOR ffffffff (RFC 4380)
        "http://[fe80::1%25eth0]/",  # zone id
    ],
)
def test_refuses_every_spelling_of_loopback(url):
    assert refused(url) is Reason.ADDRESS_NOT_ALLOWED


@pytest.mark.parametrize("host", ["256.0.0.1", "1.2.3.4.5", "09", "0xfffffffff", "1.256.0.0", "4294967296", "1..2"])
def test_numeric_hosts_that_are_no_address_are_invalid(host):
    # WHATWG URL 3.5: a host ending in a number must parse as IPv4 or the URL fails
    assert refused(f"http://{host}/") is Reason.INVALID_URL


def _spell(value: int, parts: int, bases: list[int]) -> str:
    """``value`` written in ``parts`` dotted parts (inet_aton's a, a.b, a.b.c, a.b.c.d forms)."""
    octets = value.to_bytes(4, "big")
    numbers = list(octets[: parts - 1]) + [int.from_bytes(octets[parts - 1 :], "big")]
    fmt = {10: str, 16: hex, 8: lambda n: "0" + oct(n)[2:]}
    return ".".join(fmt[b](n) for n, b in zip(numbers, bases, strict=False))


@settings(deadline=None)  # a shared 2-core machine: no per-example time limit
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 4),
    st.lists(st.sampled_from([10, 16, 8]), min_size=4, max_size=4),
)
def test_numeric_hosts_read_as_inet_aton_reads_them(value, parts, bases):
    host = _spell(value, parts, bases)
    ours = parse_numeric_host(host)
    assert ours == ipaddress.IPv4Address(value)
    assert ours == ipaddress.IPv4Address(socket.inet_aton(host))  # glibc: an independent parser


# --- resolved names: every address must be public -------------------------------------------

NOT_PUBLIC = [
    "10.1.2.3",  # RFC 1918
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # CGNAT (RFC 6598)
    "0.0.0.0",
    "192.0.0.8",  # IETF protocol assignments
    "192.0.2.1",  # TEST-NET-1
    "198.18.0.1",  # benchmarking
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "127.0.0.1",
    "::1",
    "fd00::1",  # ULA fc00::/7
    "fe80::1",  # link-local
    "fec0::1",  # site-local, deprecated (Python 3.11 calls it global)
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (Python 3.11 calls it global)
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1 (Python 3.11 calls it global)
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_refuses_names_that_resolve_inside(address):
    resolver = fixed_resolver({"hooks.example.org": [address]})
    assert refused("https://hooks.example.org/in", resolver=resolver) is Reason.ADDRESS_NOT_ALLOWED


def test_one_private_answer_among_public_ones_refuses_the_name():
    resolver = fixed_resolver({"hooks.example.org": ["93.184.216.34", "2606:2800:220:1::1", "10.0.0.5"]})
    assert refused("https://hooks.example.org/", resolver=resolver) is Reason.ADDRESS_NOT_ALLOWED


def test_allow_loopback_admits_loopback_only():
    resolver = fixed_resolver({"localhost": ["127.0.0.1", "::1"], "lan.test": ["192.168.1.10"]})
    target = check_url("http://localhost:8080/hook", resolver=resolver, allow_loopback=True)
    assert str(target.address) == "127.0.0.1" and target.port == 8080
    assert refused("http://lan.test/", resolver=resolver, allow_loopback=True) is Reason.ADDRESS_NOT_ALLOWED
    assert refused("http://169.254.169.254/", allow_loopback=True) is Reason.ADDRESS_NOT_ALLOWED
    assert refused("http://localhost:8080/hook", resolver=resolver) is Reason.ADDRESS_NOT_ALLOWED  # off by default


def test_unknown_host_is_host_not_found():
    assert refused("https://nowhere.example.org/", resolver=fixed_resolver({})) is Reason.HOST_NOT_FOUND


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
        "::ffff:93.184.216.34",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server 65.54.227.120, client ~f7f7f7f7 = 8.8.8.8
    ],
)
def test_public_addresses_pass_and_are_pinned(address):
    calls = []

    def resolver(host, port, *args, **kwargs):
        calls.append(host)
        return fixed_resolver({"hooks.example.org": [address]})(host, port)

    target = check_url("https://hooks.example.org:8443/in?x=1", resolver=resolver)
    assert target.address == ipaddress.ip_address(address)
    assert (target.host, target.port, target.target) == ("hooks.example.org", 8443, "/in?x=1")
    assert target.origin_url == "https://hooks.example.org:8443/in?x=1"
    assert calls == ["hooks.example.org"]


def test_python_is_global_gaps_are_closed():
    # Python 3.11's is_global says True for these; each embeds or is a non-public address
    for text in ("2002:7f00:1::", "64:ff9b::7f00:1", "::127.0.0.1", "fec0::1"):
        assert not is_public_unicast(ipaddress.ip_address(text)), text


# --- the pinned send, against receivers on loopback ---------------------------------------


class Receiver:
    """A loopback HTTP server that records requests and answers with ``status`` (and ``headers``)."""

    def __init__(self, status: int = 204, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("content-length", 0))
                outer.requests.append((self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def pinned(port: int, host: str = "hooks.test") -> CheckedTarget:
    # ".test" never resolves in real DNS (RFC 6761): a connection that arrives proves no second lookup
    return check_url(f"http://{host}:{port}/in", resolver=fixed_resolver({host: ["127.0.0.1"]}), allow_loopback=True)


def test_send_connects_to_the_checked_address_with_the_host_name_in_host():
    with Receiver() as rx:
        outcome = send_pinned(pinned(rx.port), b'{"alert": 1}', {"X-Signature": "abc"}, 5.0, allow_loopback=True)
    assert outcome.ok and outcome.reason is Reason.DELIVERED and outcome.status_code == 204
    path, headers, body = rx.requests[0]
    assert (path, body) == ("/in", b'{"alert": 1}')
    assert headers["Host"] == f"hooks.test:{rx.port}" and headers["X-Signature"] == "abc"


def test_redirects_are_not_followed():
    with Receiver() as inner, Receiver(302, {"Location": f"http://127.0.0.1:{inner.port}/admin"}) as rx:
        outcome = send_pinned(pinned(rx.port), b"{}", {}, 5.0, allow_loopback=True)
        assert outcome.reason is Reason.REDIRECT_NOT_FOLLOWED
        assert inner.requests == []


@pytest.mark.parametrize(
    ("status", "reason"), [(404, Reason.HTTP_4XX), (503, Reason.HTTP_5XX), (200, Reason.DELIVERED)]
)
def test_status_classes(status, reason):
    with Receiver(status, body=b"x" * 100_000) as rx:
        assert send_pinned(pinned(rx.port), b"{}", {}, 5.0, allow_loopback=True).reason is reason


def test_closed_port_is_a_generic_connection_failure():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    outcome = deliver(f"http://127.0.0.1:{port}/", b"{}", {}, allow_loopback=True, timeout_s=2.0)
    assert outcome.reason is Reason.CONNECTION_FAILED and str(outcome.reason) == "connection failed"


def test_a_receiver_that_never_answers_times_out_within_the_deadline():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel completes the handshake; nobody ever reads or answers
        t0 = time.monotonic()
        outcome = send_pinned(pinned(listener.getsockname()[1]), b"{}", {}, 0.5, allow_loopback=True)
        assert outcome.reason is Reason.TIMEOUT
        assert time.monotonic() - t0 < 5.0


def test_a_receiver_that_drips_bytes_is_cut_at_the_total_deadline():
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def drip():
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.05):  # one header byte every 50 ms, each within a read timeout
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        return

        thread = threading.Thread(target=drip, daemon=True)
        thread.start()
        t0 = time.monotonic()
        outcome = send_pinned(pinned(listener.getsockname()[1]), b"{}", {}, 0.6, allow_loopback=True)
        elapsed = time.monotonic() - t0
        stop.set()
        thread.join(5)
    assert outcome.reason is Reason.TIMEOUT
    assert elapsed < 5.0


def test_a_hand_made_target_inside_is_refused_without_connecting():
    target = CheckedTarget("http://x/", "http", "x", 80, "/", ipaddress.ip_address("10.0.0.1"), ())
    assert send_pinned(target, b"{}", {}, 1.0).reason is Reason.ADDRESS_NOT_ALLOWED
    loop = CheckedTarget("http://x/", "http", "x", 80, "/", ipaddress.ip_address("127.0.0.1"), ())
    assert send_pinned(loop, b"{}", {}, 1.0).reason is Reason.ADDRESS_NOT_ALLOWED  # loopback off by default


def test_deliver_rechecks_at_send_time():
    # registration saw a public address; at send time the name points inside (DNS rebinding)
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    def resolver(host, port, *args, **kwargs):
        return fixed_resolver({host: next(answers)})(host, port)

    check_url("https://hooks.example.org/", resolver=resolver)
    assert deliver("https://hooks.example.org/", b"{}", {}, resolver=resolver).reason is Reason.ADDRESS_NOT_ALLOWED


# --- TLS: SNI and certificate checked against the host name, connection to the address ------


def _self_signed(tmp_path, name: str) -> tuple[str, str, bytes]:
    """A throw-away certificate for DNS name ``name`` (key file, cert file, PEM)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=36500))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_file, cert_file = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(pem)
    return str(key_file), str(cert_file), pem


@pytest.mark.parametrize(("cert_name", "expected"), [("hooks.test", Reason.DELIVERED), ("other.test", None)])
def test_tls_uses_the_host_name_for_sni_and_verification(tmp_path, cert_name, expected):
    import ssl

    key_file, cert_file, pem = _self_signed(tmp_path, cert_name)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    seen_sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    with Receiver() as rx:
        rx.server.socket = server_ctx.wrap_socket(rx.server.socket, server_side=True)
        target = check_url(
            f"https://hooks.test:{rx.port}/in",
            resolver=fixed_resolver({"hooks.test": ["127.0.0.1"]}),
            allow_loopback=True,
        )
        client_ctx = ssl.create_default_context(cadata=pem.decode())  # trusts only this certificate
        outcome = send_pinned(target, b"{}", {}, 5.0, allow_loopback=True, ssl_context=client_ctx)
    assert seen_sni == ["hooks.test"]
    if expected is None:  # a certificate for another name: refused, and the partner learns only this
        assert outcome.reason is Reason.CONNECTION_FAILED and rx.requests == []
    else:
        assert outcome.reason is expected and rx.requests[0][1]["Host"] == f"hooks.test:{rx.port}"
