"""Partners, members and API keys. A key is shown once; only its prefix and an argon2 hash stay."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from .tables import ApiKey, AuditEntry, Member, Partner

ROLES = ("admin", "operator", "analyst", "observer")
AUDIT_FIELD_CHARS = 256  # longer paths and query strings are cut, marked with an ellipsis


def _cut(text: str, limit: int = AUDIT_FIELD_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Identity:
    """Who is calling: resolved from an API key (``anonymous()`` when there is none)."""

    partner_id: int | None
    partner: str | None
    member_id: int | None
    member: str | None
    role: str | None
    key_id: int | None = None

    @staticmethod
    def anonymous() -> Identity:
        return Identity(None, None, None, None, None)

    @property
    def is_anonymous(self) -> bool:
        return self.role is None


@lru_cache(maxsize=1)
def key_hasher() -> Any:
    """The one hasher of API keys, for storing them here and for the service's verification and its
    dummy hash (``service.limits``): pwdlib's Argon2Hasher with its defaults (argon2id, t=3, m=64 MiB,
    p=4: RFC 9106's second recommended option; ``tests/test_security_limits.py`` pins them)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),))


def partner_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Partner.id).where(Partner.name == name)) is not None


def partner_members(session: Session) -> list[dict]:
    """Every partner with its members, their roles and the prefixes of their active keys (one row
    per member; a partner without members has one row with ``member`` None), by partner name."""
    rows = []
    for p in session.scalars(select(Partner).order_by(Partner.name)):
        members = list(session.scalars(select(Member).where(Member.partner_id == p.id).order_by(Member.name)))
        for m in members or [None]:
            keys = []
            if m is not None:
                q = select(ApiKey.prefix).where(ApiKey.member_id == m.id, ApiKey.revoked_at.is_(None))
                keys = sorted(session.scalars(q))
            rows.append(
                {
                    "partner_id": p.id,
                    "partner": p.name,
                    "member": m.name if m else None,
                    "role": m.role if m else None,
                    "active_keys": keys,
                    "created_at": p.created_at,
                }
            )
    return rows


def create_partner(session: Session, name: str, created_at: datetime) -> Partner:
    if session.scalar(select(Partner).where(Partner.name == name)):
        raise ValueError(f"partner {name!r} exists")
    p = Partner(name=name, created_at=created_at)
    session.add(p)
    session.flush()
    return p


def add_member(session: Session, partner_name: str, member: str, role: str, created_at: datetime) -> Member:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    p = session.scalar(select(Partner).where(Partner.name == partner_name))
    if p is None:
        raise ValueError(f"no partner {partner_name!r}")
    m = session.scalar(select(Member).where(Member.partner_id == p.id, Member.name == member))
    if m is None:
        m = Member(partner_id=p.id, name=member, role=role, created_at=created_at)
        session.add(m)
        session.flush()
    elif m.role != role:
        raise ValueError(f"member {member!r} of {partner_name!r} already has role {m.role!r}")
    return m


def issue_key(session: Session, member_id: int, created_at: datetime) -> str:
    """A new key for the member: ``sc_<prefix>_<secret>``; returned once, stored hashed."""
    prefix = secrets.token_hex(4)
    key = f"sc_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(member_id=member_id, prefix=prefix, key_hash=key_hasher().hash(key), created_at=created_at))
    session.flush()
    return key


def revoke_key(session: Session, prefix: str, revoked_at: datetime) -> bool:
    k = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if k is None or k.revoked_at:
        return False
    k.revoked_at = revoked_at
    return True


def find_key(session: Session, key: str) -> tuple[str | None, Identity | None]:
    """The stored argon2 hash and identity of a presented key: ``(None, None)`` when its prefix is
    unknown, malformed or revoked. The caller verifies the hash (``service.limits.verify_key`` runs
    one argon2 verification even for ``None``, so unknown prefixes cost what known ones do)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "sc":
        return None, None
    row = session.execute(
        select(ApiKey, Member, Partner)
        .join(Member, ApiKey.member_id == Member.id)
        .join(Partner, Member.partner_id == Partner.id)
        .where(ApiKey.prefix == parts[1][:16])
    ).first()
    if row is None:
        return None, None
    k, m, p = row
    if k.revoked_at:
        return None, None
    return k.key_hash, Identity(p.id, p.name, m.id, m.name, m.role, k.id)


def resolve_key(session: Session, key: str) -> Identity | None:
    """The identity of a valid, unrevoked key; None otherwise."""
    stored, who = find_key(session, key)
    if stored is None or not key_hasher().verify(key, stored):
        return None
    return who


# built once: SQLAlchemy computes a statement's cache key once per object, and this one runs on every request
_REVOCATION_MARK = select(func.count(ApiKey.id), func.max(ApiKey.id)).where(ApiKey.revoked_at.is_not(None))


def revocation_mark(session: Session | Connection) -> tuple[int, int]:
    """A watermark that changes whenever a key is revoked, in any process: (number of revoked
    keys, highest revoked key id). One indexed aggregate per authenticated request; servers clear
    their key cache when it moves (``service.security.KeyCache``)."""
    count, top = session.execute(_REVOCATION_MARK).one()
    return int(count or 0), int(top or 0)


def audit_entries(session: Session, limit: int) -> list[AuditEntry]:
    """The audit log, newest first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def audit(
    session: Session, at: datetime, who: Identity, method: str, path: str, status: int, detail: str | None
) -> None:
    """One audit row; ``path`` and ``detail`` are cut to :data:`AUDIT_FIELD_CHARS` (a caller
    chooses their length, the log's size must not be theirs to choose)."""
    path, detail = _cut(path), _cut(detail) if detail is not None else None
    session.add(
        AuditEntry(
            at=at,
            partner_id=who.partner_id,
            member_id=who.member_id,
            method=method[:8],
            path=path,
            status=status,
            detail=detail,
        )
    )
