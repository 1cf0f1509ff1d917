"""A small body's orbit solution: elements at an epoch (TDB), uncertainty, non-gravitational terms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .elements import cometary_to_state, ecliptic_to_equatorial, keplerian_to_state

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class PhysicalParameter:
    """One physical parameter as the source publishes it: SBDB's ``phys_par`` values are free text
    (``'50-500'``, ``'0.5047 x 0.4918 x 0.4567'``, ``'85.4522/-60.3678'``), so the value is kept
    as text with its units; :attr:`number` is the value only where the text is a plain number."""

    name: str
    value: str
    units: str | None = None
    sigma: str | None = None
    title: str = ""
    ref: str | None = None

    @property
    def number(self) -> float | None:
        """The value as a float when the text is one plain number (``'0.34'``, ``'4.8904e-9'``), else None."""
        text = self.value.strip()
        return float(text) if _PLAIN_NUMBER.fullmatch(text) else None

    def __str__(self) -> str:
        sigma = f" +/- {self.sigma}" if self.sigma else ""
        units = f" {self.units}" if self.units else ""
        return f"{self.name} = {self.value}{sigma}{units}"


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
    physical: tuple[PhysicalParameter, ...] = ()

    def physical_parameter(self, name: str) -> PhysicalParameter | None:
        """The physical parameter called ``name`` (SBDB's names: H, G, diameter, GM, I, extent...)."""
        return next((p for p in self.physical if p.name == name), None)


def heliocentric_states(orbits: list[SmallBodyOrbit]) -> np.ndarray:
    """Heliocentric ICRF equatorial states (n, 6; au, au/day), each at its own epoch."""
    out = np.empty((len(orbits), 6))
    kep = [k for k, o in enumerate(orbits) if o.a_au is not None and o.ma_deg is not None and o.e < 1.0]
    kep_set = set(kep)
    com = [k for k in range(len(orbits)) if k not in kep_set]
    if kep:
        sub = [orbits[k] for k in kep]
        out[kep] = keplerian_to_state(
            [o.a_au for o in sub],
            [o.e for o in sub],
            [o.i_deg for o in sub],
            [o.om_deg for o in sub],
            [o.w_deg for o in sub],
            [o.ma_deg for o in sub],
        )
    if com:
        sub = [orbits[k] for k in com]
        missing = [o.designation for o in sub if o.q_au is None or o.tp_jd_tdb is None]
        if missing:
            raise InputError(f"orbits without (a, M) or (q, tp): {', '.join(missing[:5])}")
        out[com] = cometary_to_state(
            [o.q_au for o in sub],
            [o.e for o in sub],
            [o.i_deg for o in sub],
            [o.om_deg for o in sub],
            [o.w_deg for o in sub],
            [o.tp_jd_tdb for o in sub],
            [o.epoch_jd_tdb for o in sub],
        )
    return ecliptic_to_equatorial(out)


_COMETARY = ("e", "q", "tp", "node", "peri", "i")
_KEPLERIAN = ("a", "e", "i", "node", "peri", "M")


def cartesian_covariance(orbit: SmallBodyOrbit) -> tuple[np.ndarray, np.ndarray]:
    """Heliocentric ICRF state (6,) at the epoch and its 6x6 covariance (au, au/day), mapped from
    the orbit's element covariance by a central-difference Jacobian: cometary elements (SBDB
    labels e, q, tp, node, peri, i) or Keplerian ones (NEOCC: a, e, i, node, peri, M); angles in
    degrees. Non-gravitational rows are left out."""
    if orbit.covariance is None:
        raise InputError(f"{orbit.designation}: the orbit has no covariance")
    labels = list(orbit.covariance_labels)
    if all(k in labels for k in _KEPLERIAN) and orbit.a_au is not None and orbit.ma_deg is not None:
        names = _KEPLERIAN
        x0 = np.array([orbit.a_au, orbit.e, orbit.i_deg, orbit.om_deg, orbit.w_deg, orbit.ma_deg], float)

        def state(x: np.ndarray) -> np.ndarray:
            return ecliptic_to_equatorial(keplerian_to_state(*x))[0]

    else:
        names = _COMETARY
        missing = [k for k in _COMETARY if k not in labels]
        if missing:
            raise InputError(f"{orbit.designation}: covariance lacks {', '.join(missing)}")
        q = orbit.q_au if orbit.q_au is not None else (orbit.a_au or 0.0) * (1.0 - orbit.e)
        x0 = np.array([orbit.e, q, orbit.tp_jd_tdb, orbit.om_deg, orbit.w_deg, orbit.i_deg], float)

        def state(x: np.ndarray) -> np.ndarray:
            s = cometary_to_state(x[1], x[0], x[5], x[3], x[4], x[2], orbit.epoch_jd_tdb)
            return ecliptic_to_equatorial(s)[0]

    idx = [labels.index(k) for k in names]
    cov_el = np.asarray(orbit.covariance, float)[np.ix_(idx, idx)]
    sig = np.sqrt(np.clip(np.diag(cov_el), 1e-300, None))
    J = np.empty((6, 6))
    for k in range(6):
        h = np.zeros(6)
        h[k] = 1e-3 * sig[k]
        J[:, k] = (state(x0 + h) - state(x0 - h)) / (2 * h[k])
    return state(x0), J @ cov_el @ J.T
