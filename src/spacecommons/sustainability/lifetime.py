"""Orbital lifetime: when an object re-enters, from orbit-averaged drag decay under NRLMSIS 2.1.

Method. Drag is the only force that changes a LEO orbit's energy secularly, so the semi-major
axis a and eccentricity e are integrated with the Gauss variational equations for a tangential
drag acceleration ``f = -1/2 rho B v^2 F`` (B = Cd A/m in m^2/kg, F = (1 - r w_E cos i / v)^2
for the co-rotating atmosphere; King-Hele 1987, "Satellite orbits in an atmosphere", ch. 3)::

    da/dt = 2 a^2 v f / mu,     de/dt = 2 (e + cos nu) f / v

averaged over one revolution with a Gauss-Legendre rule in eccentric anomaly (time weight
1 - e cos E). The orbit orientation moves with the J2 secular rates of the node and perigee
(Vallado 2013, eqs. 9-41/9-42), so the density is sampled where the object really flies:
latitude, longitude (through Greenwich sidereal time) and local time of each quadrature point.
Density comes from NRLMSIS 2.1 through :func:`spacecommons.propagation.atmosphere.density_kg_m3`
— the drag model of the numerical (Cowell) propagator, so there is one atmosphere in the code base —
with F10.7, F10.7a and Ap of :mod:`spacecommons.propagation.space_weather`. Averaging instead of a
Cowell integration costs nothing in accuracy that matters here (drag lifetime is dominated by the density's ±20-50%
uncertainty) and runs 10^3-10^4 times faster, which a 25-year question over a catalog needs.

Steps are adaptive: each object steps by 5% of the time its perigee would take, at its current
rate, to fall to the reentry altitude (at most ``max_step_days``), with a second-order (midpoint)
rule, until its perigee falls to ``REENTRY_PERIGEE_KM`` (reentry follows within hours from there)
or ``max_days`` passes.

Ballistic coefficient, when mass and area are unknown (:func:`ballistic_coefficient`):
``history`` — a least-squares line through the mean motions of several element sets of the
object (the observed decay rate) matched to the model's decay rate at the mid epoch; ``ndot``
— the same from one element set's MEAN_MOTION_DOT (SGP4's first derivative /2); ``bstar`` —
``B = 12.741621 B*`` (Vallado et al. 2006) when the decay rate is unusable (not positive).

The fast method (:class:`TabulatedDensity`) for whole-catalog reports replaces the point-wise
NRLMSIS calls by a table of NRLMSIS densities averaged over latitude, longitude and local time,
against altitude and F10.7 — the same atmosphere model, without its diurnal/latitude structure.
Units: km, s, days; B in m^2/kg; density kg/m^3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..catalog.elements import ElementSet
from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY
from ..errors import InputError
from ..propagation.atmosphere import ConstantSpaceWeather, SpaceWeather, density_kg_m3

REENTRY_PERIGEE_KM = 100.0  # perigee altitude at which the object is counted as re-entered
EARTH_ROTATION_RAD_S = 7.292115e-5  # IERS Conventions 2010, nominal mean angular velocity
J2_WGS72 = 0.001082616  # the J2 SGP4 uses (Vallado et al. 2006, WGS-72)
BSTAR_TO_B = 12.741621  # B [m^2/kg] = 12.741621 B* [1/earth radii] (Vallado et al. 2006)
N_QUAD = 12  # Gauss-Legendre points per revolution; >= 12 keeps e <= 0.1 orbits within 1%
DensityModel = Callable[[np.ndarray, np.ndarray], np.ndarray]
# (jd_utc (...), r_ecef_km (..., 3)) -> density kg/m^3 (...)


def msis_density(space_weather: SpaceWeather) -> DensityModel:
    """Point-wise NRLMSIS 2.1 total mass density (:func:`spacecommons.propagation.atmosphere.density_kg_m3`,
    the drag model of the numerical propagator) with the given space weather."""

    def density(jd: np.ndarray, r_ecef_km: np.ndarray) -> np.ndarray:
        rho = density_kg_m3(np.ravel(jd), np.reshape(r_ecef_km, (-1, 3)), space_weather)
        return rho.reshape(np.shape(jd))

    return density


@dataclass(frozen=True)
class TabulatedDensity:
    """NRLMSIS 2.1 densities averaged over the globe and the day, on an altitude x F10.7 grid.

    ``log_rho[i, j]``: log of the mean density at ``alt_km[i]`` for F10.7 = F10.7a = ``f107[j]``,
    Ap = 15. Interpolated bilinearly in (altitude, F10.7) on the log.
    """

    alt_km: np.ndarray
    f107: np.ndarray
    log_rho: np.ndarray
    space_weather: SpaceWeather

    @classmethod
    def build(cls, space_weather: SpaceWeather) -> TabulatedDensity:
        alt, f107, table = _global_mean_table()
        return cls(alt, f107, table, space_weather)

    def __call__(self, jd: np.ndarray, r_ecef_km: np.ndarray) -> np.ndarray:
        _, f107a, _ = self.space_weather.indices(np.ravel(jd))
        fa = f107a.reshape(np.shape(jd))
        alt = np.linalg.norm(r_ecef_km, axis=-1) - EARTH_RADIUS_WGS72_KM
        x = np.clip(alt, self.alt_km[0], self.alt_km[-1])
        ia = np.clip(np.searchsorted(self.alt_km, x) - 1, 0, self.alt_km.size - 2)
        ta = (x - self.alt_km[ia]) / (self.alt_km[ia + 1] - self.alt_km[ia])
        y = np.clip(fa, self.f107[0], self.f107[-1])
        jf = np.clip(np.searchsorted(self.f107, y) - 1, 0, self.f107.size - 2)
        tf = (y - self.f107[jf]) / (self.f107[jf + 1] - self.f107[jf])
        t = self.log_rho
        v = (
            (1 - ta) * (1 - tf) * t[ia, jf]
            + ta * (1 - tf) * t[ia + 1, jf]
            + (1 - ta) * tf * t[ia, jf + 1]
            + ta * tf * t[ia + 1, jf + 1]
        )
        return np.exp(v)


@lru_cache(maxsize=1)
def _global_mean_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Altitudes, F10.7 values and log mean densities of :class:`TabulatedDensity`, computed once per
    process (read-only arrays): the table does not depend on the space weather the density is built
    with (that only picks the F10.7a column at each epoch), so the CLI's three scenarios and the
    sustainability report share it instead of running NRLMSIS over the grid once each (3 CPU s)."""
    alt = np.arange(80.0, 1001.0, 10.0)
    f107 = np.array([65.0, 80.0, 100.0, 125.0, 150.0, 175.0, 200.0, 250.0, 300.0])
    lon = np.radians(np.arange(0.0, 360.0, 45.0))
    lat = np.radians(np.arange(-75.0, 76.0, 25.0))
    # equinoxes and solstices of 2020, at noon UTC: the seasonal and local-time structure averages out
    days = 2458929.0 + np.array([0.0, 93.0, 186.0, 276.0])
    d, lo, la, h = np.meshgrid(days, lon, lat, alt, indexing="ij")
    rad = EARTH_RADIUS_WGS72_KM + h
    r = np.stack([rad * np.cos(la) * np.cos(lo), rad * np.cos(la) * np.sin(lo), rad * np.sin(la)], axis=-1)
    w = np.cos(la)  # area weight of each latitude band
    table = np.empty((alt.size, f107.size))
    for j, f in enumerate(f107):
        rho = density_kg_m3(d.ravel(), r.reshape(-1, 3), ConstantSpaceWeather(f, f, 15.0)).reshape(d.shape)
        table[:, j] = np.log((rho * w).sum(axis=(0, 1, 2)) / w.sum(axis=(0, 1, 2)))
    for a in (alt, f107, table):
        a.flags.writeable = False
    return alt, f107, table


@dataclass(frozen=True)
class OrbitState:
    """Mean orbits of n objects: arrays (n,). Angles in radians, epoch as UTC Julian date."""

    a_km: np.ndarray
    ecc: np.ndarray
    incl: np.ndarray
    raan: np.ndarray
    argp: np.ndarray
    jd: np.ndarray

    @classmethod
    def from_elements(cls, elements: Sequence[ElementSet]) -> OrbitState:
        n_rev = np.array([e.mean_motion_rev_day for e in elements], dtype=float)
        n_rad_s = n_rev * 2 * np.pi / SECONDS_PER_DAY
        return cls(
            (GM_EARTH_WGS72_KM3_S2 / n_rad_s**2) ** (1 / 3),
            np.array([e.eccentricity for e in elements], dtype=float),
            np.radians([float(e.fields["INCLINATION"]) for e in elements]),
            np.radians([float(e.fields["RA_OF_ASC_NODE"]) for e in elements]),
            np.radians([float(e.fields["ARG_OF_PERICENTER"]) for e in elements]),
            np.array([e.epoch_jd + e.epoch_fr for e in elements], dtype=float),
        )


_XQ, _WQ = np.polynomial.legendre.leggauss(N_QUAD)
_E_NODES = np.pi * (_XQ + 1.0)  # eccentric anomaly on [0, 2 pi]
_E_WEIGHTS = np.pi * _WQ / (2 * np.pi)  # weights of the mean over [0, 2 pi]


def _gmst_rad(jd: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal angle (IAU 1982, the linear part; ample for local time of density)."""
    return np.radians((280.46061837 + 360.98564736629 * (jd - 2451545.0)) % 360.0)


def decay_rates(
    a: np.ndarray,
    e: np.ndarray,
    incl: np.ndarray,
    raan: np.ndarray,
    argp: np.ndarray,
    jd: np.ndarray,
    b_m2_kg: np.ndarray,
    density: DensityModel,
) -> tuple[np.ndarray, np.ndarray]:
    """Orbit-averaged da/dt (km/day) and de/dt (1/day) of drag, arrays (n,)."""
    mu = GM_EARTH_WGS72_KM3_S2
    E = _E_NODES[None, :]
    a2, e2 = a[:, None], e[:, None]
    r = a2 * (1 - e2 * np.cos(E))
    v = np.sqrt(mu * (2 / r - 1 / a2))  # km/s
    cos_nu = (np.cos(E) - e2) / (1 - e2 * np.cos(E))
    sin_nu = np.sqrt(1 - e2**2) * np.sin(E) / (1 - e2 * np.cos(E))
    u = argp[:, None] + np.arctan2(sin_nu, cos_nu)
    i2, o2 = incl[:, None], raan[:, None]
    x = np.cos(o2) * np.cos(u) - np.sin(o2) * np.sin(u) * np.cos(i2)
    y = np.sin(o2) * np.cos(u) + np.cos(o2) * np.sin(u) * np.cos(i2)
    z = np.sin(u) * np.sin(i2)
    theta = _gmst_rad(jd)[:, None]  # inertial -> Earth-fixed: a rotation by Greenwich sidereal time
    c, s_ = np.cos(theta), np.sin(theta)
    r_ecef = r[..., None] * np.stack([c * x + s_ * y, -s_ * x + c * y, z], axis=-1)
    jd2 = np.broadcast_to(jd[:, None], r.shape)
    rho = density(jd2, r_ecef)  # kg/m^3
    wind = (1 - r * EARTH_ROTATION_RAD_S * np.cos(i2) / v) ** 2
    # f in km/s^2: rho [kg/m^3] * B [m^2/kg] * v^2 [km^2/s^2] * 1000 m/km -> km/s^2
    f = -0.5 * rho * b_m2_kg[:, None] * v**2 * wind * 1e3
    da = 2 * a2**2 * v * f / mu
    de = 2 * (e2 + cos_nu) * f / v
    w = _E_WEIGHTS[None, :] * (1 - e2 * np.cos(E))
    return (da * w).sum(axis=1) * SECONDS_PER_DAY, (de * w).sum(axis=1) * SECONDS_PER_DAY


def _j2_rates(a: np.ndarray, e: np.ndarray, incl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Secular node and perigee rates (rad/day) from J2 (Vallado 2013, eqs. 9-41, 9-42)."""
    n = np.sqrt(GM_EARTH_WGS72_KM3_S2 / a**3)
    p = a * (1 - e**2)
    k = 1.5 * n * J2_WGS72 * (EARTH_RADIUS_WGS72_KM / p) ** 2 * SECONDS_PER_DAY
    return -k * np.cos(incl), k * (2 - 2.5 * np.sin(incl) ** 2)


@dataclass(frozen=True)
class DecayResult:
    """Reentry Julian dates (UTC, ``inf`` when not within ``max_days``) and the days from each epoch."""

    reentry_jd: np.ndarray
    days: np.ndarray


def decay(
    state: OrbitState,
    b_m2_kg: np.ndarray,
    density: DensityModel,
    *,
    max_days: float = 365.25 * 30,
    max_step_days: float = 5.0,
    step_fraction: float = 0.05,
) -> DecayResult:
    """Integrate the orbit-averaged decay of every object until its perigee reaches 100 km."""
    a, e = state.a_km.copy(), np.clip(state.ecc.copy(), 0.0, 0.99)
    incl, raan, argp = state.incl.copy(), state.raan.copy(), state.argp.copy()
    jd = state.jd.copy()
    b = np.asarray(b_m2_kg, dtype=float)
    if np.any(~(b > 0)):
        raise InputError("ballistic coefficients must be positive")
    t_end = state.jd + max_days
    done = a * (1 - e) - EARTH_RADIUS_WGS72_KM <= REENTRY_PERIGEE_KM
    reentry = np.where(done, state.jd, np.inf)
    active = np.flatnonzero(~done)
    while active.size:
        ia = active
        da, de = decay_rates(a[ia], e[ia], incl[ia], raan[ia], argp[ia], jd[ia], b[ia], density)
        # time scale of the fall to the reentry perigee: what is left of it over its rate
        dhp = -(da * (1 - e[ia]) - a[ia] * de)
        left = a[ia] * (1 - e[ia]) - EARTH_RADIUS_WGS72_KM - REENTRY_PERIGEE_KM
        scale = left / np.maximum(dhp, 1e-12)
        h = np.minimum(np.minimum(step_fraction * scale, max_step_days), t_end[ia] - jd[ia])
        h = np.maximum(h, 1e-4)
        am = a[ia] + 0.5 * h * da
        em = np.clip(e[ia] + 0.5 * h * de, 0.0, 0.99)
        dO, dw = _j2_rates(a[ia], e[ia], incl[ia])
        da2, de2 = decay_rates(
            am, em, incl[ia], raan[ia] + 0.5 * h * dO, argp[ia] + 0.5 * h * dw, jd[ia] + 0.5 * h, b[ia], density
        )
        a_new = a[ia] + h * da2
        e_new = np.clip(e[ia] + h * de2, 0.0, 0.99)
        perigee_new = a_new * (1 - e_new) - EARTH_RADIUS_WGS72_KM
        perigee_old = a[ia] * (1 - e[ia]) - EARTH_RADIUS_WGS72_KM
        landed = perigee_new <= REENTRY_PERIGEE_KM
        # linear interpolation of the crossing within the step
        frac = np.clip((perigee_old - REENTRY_PERIGEE_KM) / np.maximum(perigee_old - perigee_new, 1e-9), 0, 1)
        reentry[ia[landed]] = jd[ia[landed]] + frac[landed] * h[landed]
        a[ia], e[ia] = a_new, e_new
        raan[ia] += h * dO
        argp[ia] += h * dw
        jd[ia] += h
        timed_out = jd[ia] >= t_end[ia] - 1e-9
        active = ia[~landed & ~timed_out]
    return DecayResult(reentry, reentry - state.jd)


B_RANGE_M2_KG = (1e-3, 2.0)  # Cd A/m of dense rocket bodies (A/m ~ 5e-4) to light MLI debris (A/m ~ 1)


def _observed_ndot(history: Sequence[ElementSet], min_span_days: float) -> tuple[float, ElementSet, float, str]:
    """dn/dt (rev/day^2), the reference set, its epoch (UTC JD) and where the rate came from."""
    latest = max(history, key=lambda s: s.epoch_jd + s.epoch_fr)
    t = np.array([s.epoch_jd + s.epoch_fr for s in history])
    if t.size >= 2 and t.max() - t.min() >= min_span_days:
        n = np.array([s.mean_motion_rev_day for s in history])
        ref = history[int(np.argmin(np.abs(t - t.mean())))]
        return float(np.polyfit(t - t.mean(), n, 1)[0]), ref, float(t.mean()), "history"
    ndot = 2.0 * float(latest.fields.get("MEAN_MOTION_DOT", "0") or 0.0)  # SGP4 carries ndot / 2
    return ndot, latest, float(t.max()), "ndot"


def ballistic_coefficients(
    histories: Sequence[Sequence[ElementSet]],
    density: DensityModel,
    *,
    min_span_days: float = 1.0,
    default_b_m2_kg: float | None = None,
) -> tuple[np.ndarray, list[str]]:
    """B = Cd A/m (m^2/kg) of each object from its element sets, and how each was found.

    The observed mean-motion rate dn/dt (a least-squares line through several sets spanning at
    least ``min_span_days``, else the latest set's MEAN_MOTION_DOT) gives da/dt = -2/3 a (dn/dt)/n;
    B is the ratio of that to the model's da/dt for B = 1 (averaged over one day of geometry).
    Where the rate is not positive: ``12.741621 B*`` (``bstar``), then ``default_b_m2_kg``
    (``default``; a manoeuvring object or a bad fit), else :class:`InputError`. Results are
    limited to 0.001..2 m^2/kg (``-clipped``), the physical range, because the decay rate of an
    object above ~700 km is mostly fit noise.
    """
    obs = [_observed_ndot(h, min_span_days) for h in histories]
    state = OrbitState.from_elements([o[1] for o in obs])
    jd0 = np.array([o[2] for o in obs])
    ndot = np.array([o[0] for o in obs])
    n_ref = np.array([o[1].mean_motion_rev_day for o in obs])
    da_obs = -2.0 / 3.0 * state.a_km * ndot / n_ref  # km/day
    ones = np.ones(len(obs))
    da_model = np.zeros(len(obs))
    for k in range(4):
        da_model += (
            decay_rates(state.a_km, state.ecc, state.incl, state.raan, state.argp, jd0 + 0.25 * k, ones, density)[0] / 4
        )
    b = np.full(len(obs), np.nan)
    methods = [""] * len(obs)
    for k, (_, ref, _, how) in enumerate(obs):
        if ndot[k] > 0 and da_model[k] < 0:
            b[k], methods[k] = da_obs[k] / da_model[k], f"{how}-fit"
            continue
        bstar = float(ref.fields.get("BSTAR", "0") or 0.0)
        if bstar > 0:
            b[k], methods[k] = BSTAR_TO_B * bstar, "bstar"
        elif default_b_m2_kg is not None:
            b[k], methods[k] = default_b_m2_kg, "default"
        else:
            raise InputError(
                f"{ref.source}:{ref.line}: object {ref.norad_id}: no usable decay rate "
                "(MEAN_MOTION_DOT <= 0, BSTAR <= 0); give its mass and area or a default"
            )
    clipped = (b < B_RANGE_M2_KG[0]) | (b > B_RANGE_M2_KG[1])
    for k in np.flatnonzero(clipped):
        methods[k] += "-clipped"
    return np.clip(b, *B_RANGE_M2_KG), methods


def ballistic_coefficient(
    history: Sequence[ElementSet],
    density: DensityModel,
    min_span_days: float = 1.0,
    default_b_m2_kg: float | None = None,
) -> tuple[float, str]:
    """:func:`ballistic_coefficients` of one object."""
    b, m = ballistic_coefficients([history], density, min_span_days=min_span_days, default_b_m2_kg=default_b_m2_kg)
    return float(b[0]), m[0]


@dataclass(frozen=True)
class LifetimePrediction:
    """One object's reentry: UTC Julian dates (``inf``: not within the span), nominal and band."""

    norad_id: int
    name: str
    epoch_jd: float
    reentry_jd: float
    reentry_jd_early: float
    reentry_jd_late: float
    b_m2_kg: float
    method: str

    @property
    def days_remaining(self) -> float:
        return self.reentry_jd - self.epoch_jd


def group_histories(elements: Sequence[ElementSet]) -> list[list[ElementSet]]:
    """Element sets grouped per object (catalog number), in first-seen order."""
    groups: dict[int, list[ElementSet]] = {}
    for e in elements:
        groups.setdefault(e.norad_id, []).append(e)
    return list(groups.values())


def predict_lifetimes(
    elements: Sequence[ElementSet],
    density_for: Callable[[str], DensityModel],
    *,
    method: str = "orbit-averaged NRLMSIS 2.1",
    max_days: float = 365.25 * 30,
    max_step_days: float = 5.0,
    default_b_m2_kg: float | None = None,
    b_m2_kg: dict[int, float] | None = None,
) -> list[LifetimePrediction]:
    """Reentry of every object in ``elements`` (several sets of one object make its history).

    ``density_for(scenario)`` gives the density model under the ``nominal``, ``high`` (early
    reentry) and ``low`` (late reentry) space-weather scenarios. ``b_m2_kg`` overrides the fitted
    ballistic coefficient of the objects it names (known mass and area: Cd A/m).
    """
    histories = group_histories(elements)
    if not histories:
        return []
    nominal = density_for("nominal")
    b, how = ballistic_coefficients(histories, nominal, default_b_m2_kg=default_b_m2_kg)
    for k, h in enumerate(histories):
        if b_m2_kg and h[0].norad_id in b_m2_kg:
            b[k], how[k] = b_m2_kg[h[0].norad_id], "given"
    latest = [max(h, key=lambda s: s.epoch_jd + s.epoch_fr) for h in histories]
    state = OrbitState.from_elements(latest)
    runs = {
        sc: decay(
            state, b, density_for(sc) if sc != "nominal" else nominal, max_days=max_days, max_step_days=max_step_days
        )
        for sc in ("nominal", "high", "low")
    }
    return [
        LifetimePrediction(
            norad_id=e.norad_id,
            name=e.name,
            epoch_jd=float(state.jd[k]),
            reentry_jd=float(runs["nominal"].reentry_jd[k]),
            reentry_jd_early=float(runs["high"].reentry_jd[k]),
            reentry_jd_late=float(runs["low"].reentry_jd[k]),
            b_m2_kg=float(b[k]),
            method=f"{method}; B from {how[k]}",
        )
        for k, e in enumerate(latest)
    ]
