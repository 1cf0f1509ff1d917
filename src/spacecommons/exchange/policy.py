"""Who may read what, when: one module for every decision (the clock is a parameter).

Metadata and data are decided separately:
- the owner partner reads its products' metadata and data at any time;
- metadata is visible to every station partner from ingest, and to the public from the public
  release date;
- data is readable by station partners from the partner release date (end of the proprietary
  period) and by everyone from the public release date;
- an approved access request opens a product's data to that partner before release;
- a withdrawn (tombstoned) version keeps its metadata visible to those who could see it, never
  its data;
- a product mirrored from another node (``mirrored``) is shown by the mirror exactly as far as
  its origin would: to the public from the public release date, and to a station partner only from
  the partner release date and only if the origin admits that partner (``admitted``: the mirror's
  partner ids matching the names the origin admits; ``None``: every partner). Its metadata follows
  the same rule (the mirror only holds what the origin released to it), and no access request opens
  it early (the owner who would decide is on the origin).
Dates and "now" are instants (timezone-aware ``datetime``; naive ones are refused, since their
zone is unknown); ``None`` means "not scheduled"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import TimeError


@dataclass(frozen=True)
class Access:
    owner_partner_id: int
    partners_release_at: datetime | None
    public_release_at: datetime | None
    tombstoned: bool = False
    mirrored: bool = False
    admitted: frozenset[int] | None = None


def _aware(t: datetime, what: str) -> datetime:
    if t.tzinfo is None:
        raise TimeError(f"{what} {t!r} is naive: embargo times must carry their zone (UTC)")
    return t


def released(at: datetime | None, now: datetime) -> bool:
    """Whether the release instant ``at`` has come by ``now`` (instants compared, whatever their zones)."""
    return at is not None and _aware(at, "release date") <= _aware(now, "now")


def _mirror_admits(access: Access, partner_id: int | None, now: datetime) -> bool:
    if released(access.public_release_at, now):
        return True
    if partner_id is None or not released(access.partners_release_at, now):
        return False
    return access.admitted is None or partner_id in access.admitted


def can_see_metadata(access: Access, partner_id: int | None, now: datetime) -> bool:
    if access.mirrored:
        return _mirror_admits(access, partner_id, now)
    if partner_id is not None:
        return True  # every station partner sees what exists (and the owner sees its own)
    return released(access.public_release_at, now)


def can_read_data(access: Access, partner_id: int | None, now: datetime, granted: bool = False) -> bool:
    if access.tombstoned:
        return False
    if access.mirrored:
        return _mirror_admits(access, partner_id, now)
    if partner_id is not None and partner_id == access.owner_partner_id:
        return True
    if released(access.public_release_at, now):
        return True
    if partner_id is None:
        return False
    return granted or released(access.partners_release_at, now)


def may_decide_access(access: Access, partner_id: int | None) -> bool:
    """Whether a partner sees and decides the access requests on a product: its owner partner only;
    no one on a mirror (the owner who would decide is on the origin)."""
    return partner_id is not None and not access.mirrored and partner_id == access.owner_partner_id


def release_dates(ingest: datetime, proprietary_days: float, public_after_days: float) -> tuple[datetime, datetime]:
    """Release dates computed at ingest: partners after the proprietary period, the public later.
    Release dates have a resolution of one second: fractions of the ingest time are dropped."""
    t = _aware(ingest, "ingest time")
    partners = t + timedelta(days=proprietary_days)
    public = t + timedelta(days=proprietary_days + public_after_days)
    return partners.replace(microsecond=0), public.replace(microsecond=0)
