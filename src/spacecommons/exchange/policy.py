"""Who may read what, when: one module for every decision (the clock is a parameter).

Metadata and data are decided separately:
- the owner partner reads its products' metadata and data at any time;
- metadata is visible to every station partner from ingest, and to the public from the public
  release date;
- data is readable by station partners from the partner release date (end of the proprietary
  period) and by everyone from the public release date;
- an approved access request opens a product's data to that partner before release;
- a withdrawn (tombstoned) version keeps its metadata visible to those who could see it, never
  its data.
Dates are ISO-8601 UTC strings (comparable as text); ``None`` means "not scheduled"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    owner_partner_id: int
    partners_release_at: str | None
    public_release_at: str | None
    tombstoned: bool = False


def released(at: str | None, now: str) -> bool:
    return at is not None and at <= now


def can_see_metadata(access: Access, partner_id: int | None, now: str) -> bool:
    if partner_id is not None:
        return True  # every station partner sees what exists (and the owner sees its own)
    return released(access.public_release_at, now)


def can_read_data(access: Access, partner_id: int | None, now: str, granted: bool = False) -> bool:
    if access.tombstoned:
        return False
    if partner_id is not None and partner_id == access.owner_partner_id:
        return True
    if released(access.public_release_at, now):
        return True
    if partner_id is None:
        return False
    return granted or released(access.partners_release_at, now)


def release_dates(ingest: str, proprietary_days: float, public_after_days: float) -> tuple[str, str]:
    """Release dates computed at ingest: partners after the proprietary period, the public later."""
    from datetime import datetime, timedelta

    t = datetime.fromisoformat(ingest.replace("Z", "+00:00"))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (
        (t + timedelta(days=proprietary_days)).strftime(fmt),
        (t + timedelta(days=proprietary_days + public_after_days)).strftime(fmt),
    )
