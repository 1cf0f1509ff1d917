"""Who may see what: the one access-policy module every path that returns derived data asks.

Two kinds of objects are shared unevenly between partners:

- **screening runs** (and everything derived from one: its events, CDMs, CZML, alerts, webhook
  deliveries, counts and error messages) by the run's visibility, decided here by
  :func:`can_see_run`;
- **lunar-exchange products** (metadata and data) by embargo and grants, decided in
  :mod:`spacecommons.exchange.policy` and re-exported here, so that a reader finds every rule in
  one import.

Core: pure functions of their arguments, no I/O and no clock ("now" is an argument). A caller is
identified by its partner id; ``None`` is an anonymous caller (or a process acting for no partner).
"""

from __future__ import annotations

import enum

from .exchange.policy import Access, can_read_data, can_see_metadata, may_decide_access, release_dates, released


class RunVisibility(enum.StrEnum):
    """Who sees a screening run and what derives from it."""

    PUBLIC = "public"  # everyone, anonymous callers included
    PARTNERS = "partners"  # every station partner (any API key), not anonymous callers
    PRIVATE = "private"  # the owner partner only


def can_see_run(visibility: str, owner_partner_id: int | None, caller_partner_id: int | None) -> bool:
    """Whether a caller (``caller_partner_id``, ``None`` for anonymous) may see a run, or anything
    derived from it. A visibility this policy does not know is treated as private; a private run
    without an owner (only the node's own processes write such rows) is seen by no partner.

    >>> can_see_run("public", 1, None), can_see_run("partners", 1, None), can_see_run("partners", 1, 2)
    (True, False, True)
    >>> can_see_run("private", 1, 1), can_see_run("private", 1, 2), can_see_run("private", None, 2)
    (True, False, False)
    """
    if visibility == RunVisibility.PUBLIC:
        return True
    if caller_partner_id is None:
        return False
    if visibility == RunVisibility.PARTNERS:
        return True
    return owner_partner_id is not None and owner_partner_id == caller_partner_id


class ObservationVisibility(enum.StrEnum):
    """Who sees an astrometric observation a partner submitted (and what derives from it)."""

    PUBLIC = "public"  # everyone; observations loaded by the node itself (CLI) are public
    PARTNERS = "partners"  # every station partner, not anonymous callers
    PRIVATE = "private"  # the submitting partner only (e.g. follow-up not yet released)


def can_see_observation(visibility: str, owner_partner_id: int | None, caller_partner_id: int | None) -> bool:
    """Whether a caller may see an observation (the same three levels as a screening run; an
    unknown visibility counts as private).

    >>> can_see_observation("public", 1, None), can_see_observation("partners", 1, None)
    (True, False)
    >>> can_see_observation("private", 1, 1), can_see_observation("private", 1, 2)
    (True, False)
    """
    return can_see_run(visibility, owner_partner_id, caller_partner_id)


def can_see_ephemeris(visibility: str, owner_partner_id: int | None, caller_partner_id: int | None) -> bool:
    """Whether a caller may see an uploaded ephemeris (OEM) and what derives from it: the same rule
    as a run's (:func:`can_see_run`), with the uploading partner as owner.

    >>> can_see_ephemeris("private", 3, 3), can_see_ephemeris("private", 3, 4), can_see_ephemeris("public", 3, None)
    (True, False, True)
    """
    return can_see_run(visibility, owner_partner_id, caller_partner_id)


_WIDTH = {RunVisibility.PRIVATE: 0, RunVisibility.PARTNERS: 1, RunVisibility.PUBLIC: 2}


def may_screen_ephemeris(
    ephemeris_visibility: str, ephemeris_owner: int | None, caller_partner_id: int | None, run_visibility: str
) -> bool:
    """Whether a caller may screen an uploaded ephemeris in a run of ``run_visibility``: it may see the
    ephemeris, and the run (whose events, CDMs and CZML derive from it) is no wider than the
    ephemeris, so no one sees the run who may not see the ephemeris (an unknown visibility counts
    as private, as everywhere here).

    >>> may_screen_ephemeris("private", 3, 3, "private"), may_screen_ephemeris("private", 3, 3, "partners")
    (True, False)
    >>> may_screen_ephemeris("partners", 3, 4, "partners"), may_screen_ephemeris("partners", 3, 4, "public")
    (True, False)
    >>> may_screen_ephemeris("private", 3, 4, "private")
    False
    """
    if not can_see_ephemeris(ephemeris_visibility, ephemeris_owner, caller_partner_id):
        return False
    return _WIDTH.get(run_visibility, 0) <= _WIDTH.get(ephemeris_visibility, 0)


def may_upload_ephemeris(object_owner_partner_id: int | None, caller_partner_id: int | None) -> bool:
    """Whether a partner may upload an ephemeris for an object: only for its own objects (the object's
    owner partner, assigned by an administrator, ``space_objects.owner_partner_id``).

    >>> may_upload_ephemeris(3, 3), may_upload_ephemeris(3, 4), may_upload_ephemeris(None, 4)
    (True, False, False)
    """
    return caller_partner_id is not None and object_owner_partner_id == caller_partner_id


__all__ = [
    "Access",
    "ObservationVisibility",
    "RunVisibility",
    "can_read_data",
    "can_see_ephemeris",
    "can_see_metadata",
    "can_see_observation",
    "can_see_run",
    "may_decide_access",
    "may_screen_ephemeris",
    "may_upload_ephemeris",
    "release_dates",
    "released",
]
