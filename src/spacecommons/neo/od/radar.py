"""Computed radar delay and Doppler of a small body, and their partials, for the orbit fit.

Model (Ostro 1993, Rev. Mod. Phys. 65, 1235; Moyer 2000, *Formulation for Observed and Computed
Values of Deep Space Network Data Types*, ch. 8 and 11, simplified as below). The receive epoch
t_r is the record's UTC converted to TDB; the bounce epoch t_b solves the down leg
c (t_r - t_b) = |r(t_b) - R(t_r)| + S; the transmit epoch t_t solves the up leg
c (t_b - t_t) = |r(t_b) - T(t_t)| + S, with R, T the barycentric receiver and transmitter
(station on the rotating Earth, ``neo.astrometry.observatories``) and S the Shapiro delay by the
Sun, (1 + gamma) GM/c^3 ln((r1 + r2 + r12)/(r1 + r2 - r12)), gamma = 1 (about 1-2 us per round
trip for a near-Earth body; JPL's radar sigmas are 0.1-10 us). Delay = t_r - t_t (TDB seconds;
TDB - TT rate terms are below 1e-9 of 200 s). Doppler shift = f (dt_t/dt_r - 1), with
dt_b/dt_r = (1 + u_d . V_R / c) / (1 + u_d . v / c) and dt_t/dt_b = (1 - u_u . v / c) /
(1 - u_u . V_T / c) (u: unit vectors from the station to the body; exact for straight light
paths in the barycentric frame). The echo is taken from the centre of mass: JPL's ``C`` records;
a ``P`` (peak power) record would need the body's shape and is fitted as if ``C``. Troposphere and
ionosphere (a few metres, < 0.05 us) are not modelled.

Partials (first order in v/c): d delay / d r = (u_d + u_u)/c; d Doppler / d r and d v from
Doppler ~ -(f/c)(rho_dot_d + rho_dot_u), rho_dot = u . (v - V).
Units: au, au/day, TDB Julian dates inside; delay residuals in microseconds, Doppler in Hz."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError
from .apparent import C_AU_D, SUN_SCHWARZSCHILD_AU

SECONDS_PER_DAY = 86_400.0
MICROSECOND_S = 1e-6
_STATION_CACHE_DAYS = 1e-7  # transmitter positions are reused within 8.6 ms (station moves < 5 m)

StationsFunction = Callable[[list[str], np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RadarArc:
    """Radar measurements of one object ready for fitting: receive epochs, values in seconds (delay)
    or Hz (Doppler), their sigmas, transmitter frequency (Hz), and the barycentric receiver position
    and velocity (au, au/day) at the receive epoch."""

    designation: str
    jd_utc: np.ndarray
    jd_tdb: np.ndarray
    is_delay: np.ndarray  # bool
    value: np.ndarray
    sigma: np.ndarray
    frequency_hz: np.ndarray
    receiver_au: np.ndarray
    receiver_au_d: np.ndarray
    sun_au: np.ndarray
    transmitter: tuple[str, ...]
    receiver: tuple[str, ...]
    bounce_point: tuple[str, ...]
    stations: StationsFunction | None = field(default=None, compare=False, repr=False)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.jd_tdb)

    def transmitter_states(self, jd_tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric transmitter positions and velocities (n, 3) at TDB epochs (n,) (cached)."""
        key = tuple(np.round(np.asarray(jd_tdb) / _STATION_CACHE_DAYS).astype(np.int64))
        hit = self._cache.get(key)
        if hit is None:
            hit = _barycentric_stations(list(self.transmitter), np.asarray(jd_tdb, float), self.stations)
            self._cache.clear()
            self._cache[key] = hit
        return hit


def _default_stations(codes: list[str], jd_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from ..astrometry.observatories import observer_positions

    return observer_positions(codes, jd_utc)


def _tdb_to_utc(jd_tdb: np.ndarray) -> np.ndarray:
    """UTC Julian dates of TDB ones (to well under a millisecond: one fixed-point step)."""
    from ...frames import skyfield_time

    guess = jd_tdb - 69.184 / SECONDS_PER_DAY
    off = np.asarray(skyfield_time(guess, np.zeros_like(guess)).tdb, float) - guess
    return jd_tdb - off


def _barycentric_stations(codes, jd_tdb, stations: StationsFunction | None):
    from ...constants import AU_KM, AU_PER_DAY_KM_S
    from ..nbody import body_state

    geo_r, geo_v = (stations or _default_stations)(codes, _tdb_to_utc(jd_tdb))
    earth = np.array([body_state("earth", t) for t in jd_tdb])
    return earth[:, :3] + np.asarray(geo_r) / AU_KM, earth[:, 3:] + np.asarray(geo_v) / AU_PER_DAY_KM_S


def radar_arc(observations: Iterable[Any], stations: StationsFunction | None = None) -> RadarArc:
    """A :class:`RadarArc` from ``neo.astrometry`` ``RadarObservation`` records of one object (sorted
    by time here). ``stations(codes, jd_utc)`` gives GCRS positions (km) and velocities (km/s) of MPC
    station codes, by default from the bundled observatory list and the project's Earth orientation."""
    from ...frames import skyfield_time
    from ..nbody import body_state

    obs = sorted(observations, key=lambda o: o.epoch_utc_jd)
    if not obs:
        raise InputError("no radar observations")
    designations = {o.designation for o in obs}
    if len(designations) > 1:
        raise InputError(f"radar observations of several objects in one fit: {sorted(designations)}")
    jd_utc = np.array([o.epoch_utc_jd for o in obs])
    jd_tdb = np.asarray(skyfield_time(jd_utc, np.zeros_like(jd_utc)).tdb, float)
    rcv_r, rcv_v = _barycentric_stations([o.receiver for o in obs], jd_tdb, stations)
    return RadarArc(
        designation=obs[0].designation,
        jd_utc=jd_utc,
        jd_tdb=jd_tdb,
        is_delay=np.array([o.kind == "delay" for o in obs]),
        value=np.array([o.value for o in obs], float),
        sigma=np.array([o.sigma for o in obs], float),
        frequency_hz=np.array([o.frequency_mhz for o in obs], float) * 1e6,
        receiver_au=rcv_r,
        receiver_au_d=rcv_v,
        sun_au=np.array([body_state("sun", t)[:3] for t in jd_tdb]),
        transmitter=tuple(o.transmitter for o in obs),
        receiver=tuple(o.receiver for o in obs),
        bounce_point=tuple(o.bounce_point for o in obs),
        stations=stations,
    )


def shapiro_days(a_au: np.ndarray, b_au: np.ndarray, sun_au: np.ndarray) -> np.ndarray:
    """One-way Shapiro delay (days) by the Sun between points a and b (n, 3), gamma = 1."""
    r1 = np.linalg.norm(a_au - sun_au, axis=-1)
    r2 = np.linalg.norm(b_au - sun_au, axis=-1)
    r12 = np.linalg.norm(a_au - b_au, axis=-1)
    return SUN_SCHWARZSCHILD_AU / C_AU_D * np.log((r1 + r2 + r12) / (r1 + r2 - r12))


@dataclass(frozen=True)
class RadarModel:
    """Computed values (delay s, Doppler Hz), partials (n, p) in those units per parameter, and the
    down and up light times (days) to start the next evaluation from."""

    computed: np.ndarray
    partials: np.ndarray | None  # None when computed without the state-transition matrix
    tau_down: np.ndarray
    tau_up: np.ndarray


def radar_model(
    arc: RadarArc,
    body: np.ndarray,
    phi: np.ndarray | None,
    tau_down: np.ndarray,
    tau_up: np.ndarray,
    transmitter: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
) -> RadarModel:
    """Delay and Doppler from the body's barycentric states ``body`` (n, 6) at t_r - ``tau_down``
    and their state-transition partials ``phi`` (n, 6, p) (None: no partials); ``tau_up`` is the
    previous up-leg time; ``transmitter(jd_tdb)``: barycentric transmitter positions and velocities,
    by default ``arc.transmitter_states``."""
    r_b, v_b = body[:, :3], body[:, 3:]
    # down leg, first-order retime of the body to the new bounce epoch
    tau_d = tau_down.copy()
    for _ in range(3):
        pos = r_b - v_b * (tau_d - tau_down)[:, None]
        tau_d = np.linalg.norm(pos - arc.receiver_au, axis=-1) / C_AU_D + shapiro_days(arc.receiver_au, pos, arc.sun_au)
    pos = r_b - v_b * (tau_d - tau_down)[:, None]
    t_b = arc.jd_tdb - tau_d
    # up leg: transmitter at the previous transmit epoch, moved by its velocity
    t0 = t_b - tau_up
    tr0, tv0 = (transmitter or arc.transmitter_states)(t0)
    tau_u = tau_up.copy()
    for _ in range(3):
        tr = tr0 - tv0 * (tau_u - tau_up)[:, None]
        tau_u = np.linalg.norm(pos - tr, axis=-1) / C_AU_D + shapiro_days(tr, pos, arc.sun_au)
    tr = tr0 - tv0 * (tau_u - tau_up)[:, None]
    delay_s = (tau_d + tau_u) * SECONDS_PER_DAY
    rho_d = pos - arc.receiver_au
    rho_u = pos - tr
    u_d = rho_d / np.linalg.norm(rho_d, axis=-1, keepdims=True)
    u_u = rho_u / np.linalg.norm(rho_u, axis=-1, keepdims=True)

    def dot(a, b):
        return np.einsum("ij,ij->i", a, b)

    c = C_AU_D
    dtb_dtr = (1 + dot(u_d, arc.receiver_au_d) / c) / (1 + dot(u_d, v_b) / c)
    dtt_dtb = (1 - dot(u_u, v_b) / c) / (1 - dot(u_u, tv0) / c)
    doppler = arc.frequency_hz * (dtb_dtr * dtt_dtb - 1.0)
    computed = np.where(arc.is_delay, delay_s, doppler)
    if phi is None:
        return RadarModel(computed, None, tau_d, tau_u)
    # partials
    d_delay_dr = (u_d + u_u) / c * SECONDS_PER_DAY  # s per au
    w_d = v_b - arc.receiver_au_d
    w_u = v_b - tv0
    n_d = np.linalg.norm(rho_d, axis=-1, keepdims=True)
    n_u = np.linalg.norm(rho_u, axis=-1, keepdims=True)
    drdot_dr = (w_d - u_d * dot(u_d, w_d)[:, None]) / n_d + (w_u - u_u * dot(u_u, w_u)[:, None]) / n_u
    drdot_dv = u_d + u_u
    f_c = (-arc.frequency_hz / c)[:, None]
    p_pos = phi[:, :3, :]
    p_vel = phi[:, 3:, :]
    a_delay = np.einsum("ni,nip->np", d_delay_dr, p_pos)
    a_dopp = np.einsum("ni,nip->np", f_c * drdot_dr, p_pos) + np.einsum("ni,nip->np", f_c * drdot_dv, p_vel)
    partials = np.where(arc.is_delay[:, None], a_delay, a_dopp)
    return RadarModel(computed, partials, tau_d, tau_u)


def radar_residual_units(arc: RadarArc) -> np.ndarray:
    """Scale from SI residuals to reported units: microseconds for delay, Hz for Doppler."""
    return np.where(arc.is_delay, 1.0 / MICROSECOND_S, 1.0)
