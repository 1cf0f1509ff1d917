"""SGP4/SDP4 over many objects and times on ``sgp4``'s C++ ``SatrecArray``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec, SatrecArray

from ..catalog.elements import ElementSet
from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2

NONPHYSICAL = 7
OUTSIDE_EPHEMERIS = 8
# The old names, still imported by cdm/generate.py; remove once it uses catalog.elements.orbit_regime.
EARTH_RADIUS_KM = EARTH_RADIUS_WGS72_KM
MU_KM3_S2 = GM_EARTH_WGS72_KM3_S2
# python-sgp4 error codes (sgp4/api.py, Vallado 2006), phrased so a person can act on them.
SGP4_ERRORS = {
    1: "mean eccentricity is outside 0 <= e < 1: the element set is invalid at this time",
    2: "mean motion is below zero: the element set is invalid at this time",
    3: "perturbed eccentricity is outside 0 <= e <= 1: elements are too old or invalid",
    4: "semi-latus rectum is below zero: elements are too old or invalid",
    5: "epoch elements are sub-orbital (error 5 is no longer raised by sgp4)",
    6: "mrt is less than 1.0: the satellite has decayed",
    # Ours, not sgp4's: SGP4 can return garbage without an error code for degenerate elements.
    NONPHYSICAL: "non-physical state (beyond apogee, above escape speed or inside the Earth): "
    "the element set is invalid at this time",
    # Ours: an object whose states come from an owner/operator ephemeris (spacecommons.ephemeris.track)
    OUTSIDE_EPHEMERIS: "outside the span of the object's ephemeris (OEM): no state there",
}


@dataclass(frozen=True)
class Ephemeris:
    """TEME states. ``r_km``, ``v_km_s``: (n_obj, n_t, 3); ``error``: (n_obj, n_t) SGP4 codes."""

    norad_ids: np.ndarray
    jd: np.ndarray
    fr: np.ndarray
    r_km: np.ndarray
    v_km_s: np.ndarray
    error: np.ndarray

    def failures(self) -> dict[int, str]:
        """First SGP4 error of each object that had one, as a readable message with its time."""
        from ..timescales import jd_to_iso

        out: dict[int, str] = {}
        for i in np.flatnonzero(self.error.any(axis=1)):
            k = int(np.flatnonzero(self.error[i])[0])
            code = int(self.error[i, k])
            when = jd_to_iso(self.jd[k], self.fr[k])
            out[int(self.norad_ids[i])] = f"SGP4 error {code} from {when}: {SGP4_ERRORS.get(code, '?')}"
        return out


def max_radius_km(satrecs: Sequence[Satrec]) -> np.ndarray:
    """Largest believable distance (km) of each record: SGP4 never takes a bound object beyond its
    mean apogee; 50% and 1000 km of slack."""
    return np.array([1.5 * s.a * (1.0 + s.ecco) * EARTH_RADIUS_WGS72_KM + 1000.0 for s in satrecs])


def nonphysical_states(r: np.ndarray, v: np.ndarray, r_max: np.ndarray) -> np.ndarray:
    """(n, m) bool: states no bound SGP4 orbit can have — 10% above escape speed (v**2 r > 2.42 mu,
    squared to avoid a sqrt), inside the Earth, beyond ``r_max`` (n,) — or not finite."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r2 = np.einsum("...i,...i->...", r, r)
        v2 = np.einsum("...i,...i->...", v, v)
        return (
            (v2 * v2 * r2 > (1.21 * 2.0 * GM_EARTH_WGS72_KM3_S2) ** 2)
            | (r2 < (EARTH_RADIUS_WGS72_KM - 200.0) ** 2)
            | (r2 > (r_max**2)[:, None])
            | ~np.isfinite(r2)
        )


def propagate_satrecs(
    satrecs: Sequence[Satrec], jd: np.ndarray, fr: np.ndarray, array: SatrecArray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(error (n, m), r_km (n, m, 3), v_km_s (n, m, 3)); failed states are NaN, never raised.

    ``array``: a prebuilt ``SatrecArray`` of the same records, to skip building it again.
    Records that are not ``Satrec`` (an ephemeris state source with ``sgp4_array``, see
    ``spacecommons.ephemeris.track``) give their own states.
    """
    plain = [k for k, s in enumerate(satrecs) if isinstance(s, Satrec)]
    if len(plain) < len(satrecs):
        shape = (len(satrecs), np.size(jd))
        e = np.zeros(shape, dtype=np.int64)
        r = np.full((*shape, 3), np.nan)
        v = np.full((*shape, 3), np.nan)
        if plain:
            e[plain], r[plain], v[plain] = propagate_satrecs([satrecs[k] for k in plain], jd, fr)
        for k, s in enumerate(satrecs):
            if not isinstance(s, Satrec):
                e[k], r[k], v[k] = s.sgp4_array(np.asarray(jd, dtype=float), np.asarray(fr, dtype=float))
        return e, r, v
    arr = array if array is not None else SatrecArray(list(satrecs))
    r_max = max_radius_km(satrecs)
    jd = np.ascontiguousarray(jd, dtype=float)
    fr = np.ascontiguousarray(fr, dtype=float)
    e, r, v = arr.sgp4(jd, fr)
    nonphysical = nonphysical_states(r, v, r_max)
    e = np.where((e == 0) & nonphysical, NONPHYSICAL, e).astype(e.dtype)
    bad = e != 0
    if bad.any():
        r[bad] = np.nan
        v[bad] = np.nan
    return e, r, v


def propagate(elements: Sequence[ElementSet], jd: np.ndarray, fr: np.ndarray) -> Ephemeris:
    """Propagate element sets to UTC two-part Julian dates ``jd + fr`` (each shape (m,))."""
    jd = np.atleast_1d(np.asarray(jd, dtype=float))
    fr = np.atleast_1d(np.asarray(fr, dtype=float))
    jd, fr = np.broadcast_arrays(jd, fr)
    e, r, v = propagate_satrecs([el.satrec() for el in elements], jd, fr)
    ids = np.array([el.norad_id for el in elements], dtype=np.int64)
    return Ephemeris(ids, jd.copy(), fr.copy(), r, v, e)
