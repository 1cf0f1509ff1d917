"""A small body's orbit solution: elements at an epoch (TDB), uncertainty, non-gravitational terms."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .elements import cometary_to_state, ecliptic_to_equatorial, keplerian_to_state


@dataclass(frozen=True)
class SmallBodyOrbit:
    """Heliocentric ecliptic J2000 elements at ``epoch_jd_tdb`` (angles in degrees).

    Elliptic orbits carry ``a_au`` and ``ma_deg``; every orbit may carry the cometary pair
    ``q_au``/``tp_jd_tdb`` (used when ``a_au`` is absent, as for e >= 1). ``nongrav`` holds
    the Marsden A1, A2, A3 (au/day^2). ``covariance`` is over ``covariance_labels`` (SBDB's
    names: e, q, tp, node, peri, i, A1, ...), angles in degrees, as JPL publishes it."""

    designation: str
    name: str
    epoch_jd_tdb: float
    a_au: float | None
    e: float
    i_deg: float
    om_deg: float
    w_deg: float
    ma_deg: float | None
    h_mag: float | None
    orbit_id: str
    moid_au: float | None = None  # JPL's Earth MOID, when the source gives it
    q_au: float | None = None
    tp_jd_tdb: float | None = None
    nongrav: tuple[float, float, float] = (0.0, 0.0, 0.0)
    diameter_km: float | None = None
    albedo: float | None = None
    covariance_labels: tuple[str, ...] = ()
    covariance: tuple[tuple[float, ...], ...] | None = None
    source: str = ""
    line: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def heliocentric_states(orbits: list[SmallBodyOrbit]) -> np.ndarray:
    """Heliocentric ICRF equatorial states (n, 6; au, au/day), each at its own epoch."""
    out = np.empty((len(orbits), 6))
    kep = [k for k, o in enumerate(orbits) if o.a_au is not None and o.ma_deg is not None and o.e < 1.0]
    com = [k for k in range(len(orbits)) if k not in set(kep)]
    if kep:
        sub = [orbits[k] for k in kep]
        out[kep] = keplerian_to_state(
            [o.a_au for o in sub], [o.e for o in sub], [o.i_deg for o in sub],
            [o.om_deg for o in sub], [o.w_deg for o in sub], [o.ma_deg for o in sub],
        )  # fmt: skip
    if com:
        sub = [orbits[k] for k in com]
        missing = [o.designation for o in sub if o.q_au is None or o.tp_jd_tdb is None]
        if missing:
            raise ValueError(f"orbits without (a, M) or (q, tp): {', '.join(missing[:5])}")
        out[com] = cometary_to_state(
            [o.q_au for o in sub], [o.e for o in sub], [o.i_deg for o in sub], [o.om_deg for o in sub],
            [o.w_deg for o in sub], [o.tp_jd_tdb for o in sub], [o.epoch_jd_tdb for o in sub],
        )  # fmt: skip
    return ecliptic_to_equatorial(out)
