"""Federation of exchange nodes, the core: node keys (Ed25519), canonical JSON, signed feed pages
and signed requests, and the manifest check a mirror runs on every byte it fetched.

No I/O and no clock: keys are bytes or text, "now" is an argument. A page's signature covers the
canonical JSON of the page without its ``signature`` field (keys sorted, no spaces, UTF-8, as in
RFC 8785 for the values used here: strings, integers, null, lists and objects; no floats). Keys are
raw 32-byte Ed25519 keys in URL-safe base64 (RFC 8032 signatures).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import InputError, SpacecommonsError

REQUEST_SKEW = timedelta(minutes=5)  # a signed request older or newer than this is refused


class FederationError(SpacecommonsError):
    """A feed page, request or fetched file that does not verify (the message names which)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InputError(f"{what} is not URL-safe base64") from None


def _ed25519():
    # imported on first use: `import spacecommons.api` stays free of cryptography (tests/test_api.py)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    return Ed25519PrivateKey, Ed25519PublicKey


def new_private_key() -> bytes:
    """A fresh node key: 32 raw private bytes."""
    from cryptography.hazmat.primitives import serialization

    Ed25519PrivateKey, _ = _ed25519()
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_key_text(private: bytes) -> str:
    """The public key of a node key, as exchanged out of band (URL-safe base64 of 32 bytes)."""
    from cryptography.hazmat.primitives import serialization

    Ed25519PrivateKey, _ = _ed25519()
    pub = Ed25519PrivateKey.from_private_bytes(private).public_key()
    return _b64(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def check_public_key(text: str) -> str:
    """``text`` if it is an Ed25519 public key in URL-safe base64; InputError otherwise."""
    raw = _unb64(text.strip(), "the node key")
    if len(raw) != 32:
        raise InputError("the node key must be 32 bytes (Ed25519) in URL-safe base64")
    return _b64(raw)


def canonical_json(obj) -> bytes:
    """Canonical JSON bytes: keys sorted, no whitespace, UTF-8; floats are refused (their text is
    not canonical across implementations)."""

    def check(v):
        if isinstance(v, float):
            raise InputError("canonical JSON carries no floats: send them as strings")
        if isinstance(v, dict):
            for x in v.values():
                check(x)
        elif isinstance(v, list | tuple):
            for x in v:
                check(x)

    check(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(private: bytes, message: bytes) -> str:
    Ed25519PrivateKey, _ = _ed25519()
    return _b64(Ed25519PrivateKey.from_private_bytes(private).sign(message))


def verify(public: str, message: bytes, signature: str, what: str) -> None:
    """FederationError unless ``signature`` is ``public``'s Ed25519 signature of ``message``."""
    from cryptography.exceptions import InvalidSignature

    _, Ed25519PublicKey = _ed25519()
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(public, "the node key")).verify(
            _unb64(signature, f"the signature of {what}"), message
        )
    except (InvalidSignature, ValueError, InputError):
        raise FederationError(f"{what}: the signature does not verify with the peer's key") from None


def sign_page(private: bytes, page: dict) -> dict:
    """The page with its ``signature`` (over the canonical JSON of everything else)."""
    body = {k: v for k, v in page.items() if k != "signature"}
    return {**body, "signature": sign(private, canonical_json(body))}


def verify_page(public: str, page: dict) -> dict:
    """The page without its signature, if the signature verifies; FederationError otherwise."""
    if not isinstance(page, dict) or not isinstance(page.get("signature"), str):
        raise FederationError("feed page: no signature")
    body = {k: v for k, v in page.items() if k != "signature"}
    verify(public, canonical_json(body), page["signature"], "feed page")
    return body


def request_message(method: str, path_and_query: str, date: str) -> bytes:
    """What a node signs to call a peer: method, path with query, and the instant it signs at."""
    return f"spacecommons-node-v1\n{method.upper()}\n{path_and_query}\n{date}".encode()


def check_request_time(signed_at: datetime, now: datetime) -> None:
    if abs(now - signed_at) > REQUEST_SKEW:
        raise FederationError("signed request: its date is more than 5 minutes from the server's clock")


@dataclass(frozen=True)
class ManifestFile:
    name: str
    sha256: str
    size: int


def check_bytes(expected: ManifestFile, sha256: str, size: int, where: str) -> None:
    """FederationError unless the fetched bytes match the publisher's manifest entry."""
    if size != expected.size:
        raise FederationError(f"{where}: {size} bytes fetched, the manifest says {expected.size}")
    if sha256 != expected.sha256:
        raise FederationError(f"{where}: sha256 {sha256} fetched, the manifest says {expected.sha256}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
