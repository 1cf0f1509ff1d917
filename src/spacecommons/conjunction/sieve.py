"""Orbit-geometry sieve for incremental re-screening: which objects can come within a distance of a
changed object during the window, decided from element sets before any propagation of the others.

Method (Hoots, Crawford & Roehrich 1984, "An analytic method to determine future close approaches
between satellites", Celestial Mechanics 33: the apogee/perigee and orbit-path filters). Each object
gets a *model path*: the ellipse of its SGP4 mean elements (secular J2/J4 rates of the node and
perigee and SGP4's drag terms on a and e, replicated from ``sgp4init``/``sgp4``, Vallado et al. 2006),
evaluated at the middle of each sub-window of at most ``SUB_WINDOW_S``, plus a *margin*: how far the
object's SGP4 positions can be from that path within the sub-window.

- A changed object's margin is measured: SGP4 sampled every ``SAMPLE_S`` over the window, distance of
  each position from the model path (in the frame turning with the object's own node rate), times
  ``MEASURED_SAFETY`` plus ``MEASURED_FLOOR_KM`` for what falls between samples.
- Another object's margin is stated: ``STATED_SAFETY`` x (SGP4's short-period J2 terms in radius
  and plane orientation + the J3 long-period shift of the eccentricity vector + drag's change of a
  and e over half a sub-window + the perigee's turn over half a sub-window) + ``STATED_FLOOR_KM``;
  ``tests/test_screen_sieve.py`` checks it against SGP4 sampled densely over the bundled catalogs.
  Deep-space objects (SDP4, period >= 225 min), OMM and ephemeris objects and decaying element sets
  get no path (``shell_only``): only a radial shell padded by ``SHELL_ONLY_FRACTION`` of the apogee
  radius, which is far beyond any lunisolar or resonance change of a and e over weeks.

A pair (changed c, other o) within distance ``d`` at some instant has model paths within
``D = d + m_c + m_o + rho_o |dOmega_c/dt - dOmega_o/dt| L/2`` (both planes turn about z; only the
difference of their node rates over half a sub-window L moves one path against the other). Two
paths within D:

1. overlap in radius (shells): ``max(rp_c, rp_o) - min(ra_c, ra_o) <= D``;
2. when the planes are inclined by I with ``D / (rho_min sin I) < sin(pi/4)`` on both orbits: both
   points lie within ``alpha = asin(D / (rp sin I))`` of the same node of the mutual node line (a
   point of orbit o at angle phi from the node is ``rho sin(phi) sin I`` off plane c; points near
   opposite nodes are > sqrt(2) rp apart), so the radius ranges of both orbits over those arcs are
   within D of each other at one of the two nodes. Pairs at smaller relative inclination
   (coplanar, same-plane constellations) keep the shell test only.

A pair failing either test cannot come within ``d``: the sieve is conservative by construction,
given the margins. Only objects kept for at least one changed object need to be propagated; the
screening of that sub-catalog finds exactly the all-vs-all triples of their pairs, because every
per-object quantity of the engine (states, interpolation bound, pad, shell) depends on the object
alone. Units: km, s, radians.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numba as nb
import numpy as np

from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY

# WGS-72 constants exactly as python-sgp4's ``wgs72`` (sgp4/propagation.py, getgravconst)
_RE = EARTH_RADIUS_WGS72_KM
_XKE = 60.0 / np.sqrt(_RE**3 / GM_EARTH_WGS72_KM3_S2)  # sqrt(mu) in earth radii**1.5 per minute
_J2, _J3, _J4 = 0.001082616, -0.00000253881, -0.00000165597
_J3OJ2 = _J3 / _J2
_JD_ORDINAL = 1721424.5  # JD of proleptic Gregorian ordinal 0 (date(1, 1, 1).toordinal() is 1) at 0h

SUB_WINDOW_S = 7200.0  # model geometry re-evaluated every 2 h: the node drift pad stays ~20 km in LEO
SAMPLE_S = 60.0
MEASURED_SAFETY = 1.1
MEASURED_FLOOR_KM = 1.0
MEASURED_SLIP_FLOOR = 1e-3  # rad: what changes between two samples 60 s apart
STATED_SAFETY = 1.5
STATED_FLOOR_KM = 2.0
STATED_SLIP_FLOOR = 1e-3
SHELL_ONLY_FRACTION = 0.05
# Objects whose SGP4 drag factor (1 - C1 t - ...) leaves [0.9, 1.1] between epoch and window, or
# whose mean perigee is below 150 km, are decaying too fast for the stated margin: shell only.
MAX_DRAG_CHANGE = 0.1
MIN_PATH_PERIGEE_ALT_KM = 150.0
NEAR_COPLANAR_SIN = np.sin(np.pi / 4)


@dataclass(frozen=True)
class MeanElements:
    """SGP4 mean elements per object from its TLE, with what the sieve needs to move them in time.

    Angles in radians, rates in rad/min and ``a`` in earth radii (SGP4's units); ``valid`` False for
    objects without a parsable TLE (OMM text, ephemeris) and deep-space (SDP4) element sets."""

    epoch_jd: np.ndarray
    a0: np.ndarray
    ecc0: np.ndarray
    incl: np.ndarray
    node0: np.ndarray
    argp0: np.ndarray
    mo: np.ndarray
    no: np.ndarray
    mdot: np.ndarray
    bstar: np.ndarray
    nodedot: np.ndarray
    argpdot: np.ndarray
    nodecf: np.ndarray
    cc1: np.ndarray
    cc4: np.ndarray
    cc5: np.ndarray
    d2: np.ndarray
    d3: np.ndarray
    d4: np.ndarray
    t2cof: np.ndarray
    t3cof: np.ndarray
    t4cof: np.ndarray
    t5cof: np.ndarray
    omgcof: np.ndarray
    xmcof6: np.ndarray
    valid: np.ndarray
    tle: np.ndarray

    def at(self, jd: np.ndarray | float) -> tuple[np.ndarray, ...]:
        """(a ER, e, node, argp, M, dM/dt rad/s, drag factor tempa) at ``jd``: SGP4's secular and
        drag update, without its periodic drag terms (which the margins hold)."""
        t = (np.asarray(jd) - self.epoch_jd) * 1440.0
        tempa = 1.0 - self.cc1 * t - self.d2 * t**2 - self.d3 * t**3 - self.d4 * t**4
        a = self.a0 * tempa**2
        e = np.clip(self.ecc0 - self.bstar * self.cc4 * t, 1e-6, 0.999)
        node = self.node0 + self.nodedot * t + self.nodecf * t**2
        argp = self.argp0 + self.argpdot * t
        templ = self.t2cof * t**2 + self.t3cof * t**3 + t**4 * (self.t4cof + t * self.t5cof)
        m = self.mo + self.mdot * t + self.no * templ
        dtempl = 2.0 * self.t2cof * t + 3.0 * self.t3cof * t**2 + 4.0 * self.t4cof * t**3 + 5.0 * self.t5cof * t**4
        return a, e, node, argp, m, (self.mdot + self.no * dtempl) / 60.0, tempa

    def take(self, index: np.ndarray) -> MeanElements:
        return MeanElements(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def _numbers(pieces, count: int) -> np.ndarray:
    """(m, count) floats parsed in one pass from rows assembled of column slices (S1 arrays) and
    literal separators; raises ValueError when a row does not give ``count`` numbers."""
    m = next(p.shape[0] for p in pieces if not isinstance(p, bytes))
    cols = [np.full((m, len(p)), np.frombuffer(p, "S1")) if isinstance(p, bytes) else p for p in pieces]
    rows = np.concatenate([*cols, np.full((m, 1), b" ")], axis=1)
    rows = np.where(rows == b"", b" ", rows)
    text = rows.tobytes().replace(b"\0", b" ").decode("ascii", "replace")
    values = np.array(text.split(), dtype=float)
    if values.size != m * count:
        raise ValueError("a TLE field is missing or malformed")
    return values.reshape(m, count)


def _tle_fields(texts) -> tuple[np.ndarray, ...]:
    """Epoch JD, inclination, node, eccentricity, perigee, mean anomaly (rad), mean motion (rad/min),
    B* and a flag for TLE texts (others: zeros, flag False), parsed column-wise (TLE format: CelesTrak
    FAQ, Space-Track "Basic Description of the Two Line Element Set Format")."""
    n = len(texts)
    out = np.zeros((8, n))
    ok = np.array([isinstance(t, tuple) for t in texts], dtype=bool)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return (*out, ok)
    try:
        l1 = np.array([texts[k][0][:69].ljust(69) for k in idx], dtype="S69").view("S1").reshape(-1, 69)
        l2 = np.array([texts[k][1][:69].ljust(69) for k in idx], dtype="S69").view("S1").reshape(-1, 69)
        sign = np.where(l1[:, 53:54] == b"-", b"-", b"+")
        bstar_text = [sign, b"0.", l1[:, 54:59], b"e", l1[:, 59:61]]
        # one parse of every number: year, day of year, B*, then the six elements of line 2
        values = _numbers([l1[:, 18:20], b" ", l1[:, 20:32], b" ", *bstar_text, b" ", l2[:, 8:63]], 9)
        yy = values[:, 0].astype(int)
        year = np.where(yy < 57, 2000 + yy, 1900 + yy)
        years = np.unique(year)
        jan1 = np.array([date(int(y), 1, 1).toordinal() for y in years])[np.searchsorted(years, year)]
        deg = np.radians(values[:, [3, 4, 6, 7]])
        out[:, idx] = (
            jan1 + _JD_ORDINAL + values[:, 1] - 1.0,
            deg[:, 0],
            deg[:, 1],
            values[:, 5] * 1e-7,
            deg[:, 2],
            deg[:, 3],
            values[:, 8] * 2.0 * np.pi / 1440.0,
            values[:, 2],
        )
    except ValueError:  # a malformed line somewhere: parse one at a time, skipping what fails
        for k in idx:
            try:
                part = _tle_fields([texts[k]])
            except ValueError:
                part = None
            if part is None or not part[-1][0]:
                ok[k] = False
                continue
            out[:, k] = [x[0] for x in part[:-1]]
    return (*out, ok)


def mean_elements(texts) -> MeanElements:
    """SGP4's initialisation (``sgp4init``, near-Earth branch) vectorised over TLE texts."""
    epoch, incl, node0, ecc, argp0, mo, no_kozai, bstar, ok = _tle_fields(texts)
    no_kozai = np.where(ok & (no_kozai > 0), no_kozai, 1.0)
    ecc = np.where(ok, ecc, 0.0)
    cosio = np.cos(incl)
    cosio2 = cosio**2
    omeosq = 1.0 - ecc**2
    rteosq = np.sqrt(omeosq)
    ak = (_XKE / no_kozai) ** (2.0 / 3.0)
    d1 = 0.75 * _J2 * (3.0 * cosio2 - 1.0) / (rteosq * omeosq)
    dl = d1 / ak**2
    adel = ak * (1.0 - dl * dl - dl * (1.0 / 3.0 + 134.0 * dl * dl / 81.0))
    dl = d1 / adel**2
    no = no_kozai / (1.0 + dl)
    ao = (_XKE / no) ** (2.0 / 3.0)
    sinio = np.sin(incl)
    po = ao * omeosq
    con42 = 1.0 - 5.0 * cosio2
    con41 = -con42 - 2.0 * cosio2
    rp = ao * (1.0 - ecc)
    isimp = rp < 220.0 / _RE + 1.0
    perige = (rp - 1.0) * _RE
    sfour = np.full(ecc.shape, 78.0 / _RE + 1.0)
    qzms24 = np.full(ecc.shape, ((120.0 - 78.0) / _RE) ** 4)
    low = perige < 156.0
    s_low = np.where(perige < 98.0, 20.0, perige - 78.0)
    qzms24 = np.where(low, ((120.0 - s_low) / _RE) ** 4, qzms24)
    sfour = np.where(low, s_low / _RE + 1.0, sfour)
    pinvsq = 1.0 / po**2
    tsi = 1.0 / (ao - sfour)
    eta = ao * ecc * tsi
    etasq = eta**2
    eeta = ecc * eta
    psisq = np.abs(1.0 - etasq)
    coef = qzms24 * tsi**4
    coef1 = coef / psisq**3.5
    cc2 = (
        coef1
        * no
        * (
            ao * (1.0 + 1.5 * etasq + eeta * (4.0 + etasq))
            + 0.375 * _J2 * tsi / psisq * con41 * (8.0 + 3.0 * etasq * (8.0 + etasq))
        )
    )
    cc1 = bstar * cc2
    x1mth2 = 1.0 - cosio2
    cc4 = (
        2.0
        * no
        * coef1
        * ao
        * omeosq
        * (
            eta * (2.0 + 0.5 * etasq)
            + ecc * (0.5 + 2.0 * etasq)
            - _J2
            * tsi
            / (ao * psisq)
            * (
                -3.0 * con41 * (1.0 - 2.0 * eeta + etasq * (1.5 - 0.5 * eeta))
                + 0.75 * x1mth2 * (2.0 * etasq - eeta * (1.0 + etasq)) * np.cos(2.0 * argp0)
            )
        )
    )
    cc5 = 2.0 * coef1 * ao * omeosq * (1.0 + 2.75 * (etasq + eeta) + eeta * etasq)
    cosio4 = cosio2**2
    temp1 = 1.5 * _J2 * pinvsq * no
    temp2 = 0.5 * temp1 * _J2 * pinvsq
    temp3 = -0.46875 * _J4 * pinvsq**2 * no
    argpdot = -0.5 * temp1 * con42 + 0.0625 * temp2 * (7.0 - 114.0 * cosio2 + 395.0 * cosio4)
    argpdot = argpdot + temp3 * (3.0 - 36.0 * cosio2 + 49.0 * cosio4)
    xhdot1 = -temp1 * cosio
    nodedot = xhdot1 + (0.5 * temp2 * (4.0 - 19.0 * cosio2) + 2.0 * temp3 * (3.0 - 7.0 * cosio2)) * cosio
    nodecf = 3.5 * omeosq * xhdot1 * cc1
    cc1sq = cc1**2
    d2 = np.where(isimp, 0.0, 4.0 * ao * tsi * cc1sq)
    temp = d2 * tsi * cc1 / 3.0
    d3 = np.where(isimp, 0.0, (17.0 * ao + sfour) * temp)
    d4 = np.where(isimp, 0.0, 0.5 * temp * ao * tsi * (221.0 * ao + 31.0 * sfour) * cc1)
    # drag's turn of the perigee (sgp4: argpm = argpdf - delomg - delm), bounded in the margin
    big_e = ecc > 1.0e-4
    cc3 = np.where(big_e, -2.0 * coef * tsi * _J3OJ2 * no * sinio / np.where(big_e, ecc, 1.0), 0.0)
    omgcof = np.where(isimp, 0.0, bstar * cc3 * np.cos(argp0))
    xmcof6 = np.where(isimp | ~big_e, 0.0, np.abs(2.0 / 3.0 * coef * bstar / np.where(big_e, eeta, 1.0)) * 6.0 * eta)
    t2cof = 1.5 * cc1
    t3cof = d2 + 2.0 * cc1sq
    t4cof = 0.25 * (3.0 * d3 + cc1 * (12.0 * d2 + 10.0 * cc1sq))
    t5cof = 0.2 * (3.0 * d4 + 12.0 * cc1 * d3 + 6.0 * d2 * d2 + 15.0 * cc1sq * (2.0 * d2 + cc1sq))
    t3cof, t4cof, t5cof = (np.where(isimp, 0.0, x) for x in (t3cof, t4cof, t5cof))
    mdot = no + 0.5 * temp1 * rteosq * con41 + 0.0625 * temp2 * rteosq * (13.0 - 78.0 * cosio2 + 137.0 * cosio4)
    deep = 2.0 * np.pi / no >= 225.0
    valid = ok & ~deep & (ecc < 0.999)
    return MeanElements(
        epoch,
        ao,
        ecc,
        incl,
        node0,
        argp0,
        mo,
        no,
        mdot,
        bstar,
        nodedot,
        argpdot,
        nodecf,
        cc1,
        cc4,
        cc5,
        d2,
        d3,
        d4,
        t2cof,
        t3cof,
        t4cof,
        t5cof,
        omgcof,
        xmcof6,
        valid,
        ok,
    )


@dataclass(frozen=True)
class PathGeometry:
    """Model paths, per sub-window w and object: ``pq`` (W, n, 3, 3) rows = perigee direction, the
    in-plane direction 90 deg ahead, orbit normal (TEME); mean anomaly ``m_w`` (W, n) at the
    sub-window's middle and its rate ``n_w`` (W, n, rad/s); per object ``p_km``, ``ecc`` (window
    middle), shells ``rp_km``/``ra_km``, ``margin_km`` (distance from the path), ``slip`` (rad: how
    far ahead or behind its model point on the path the object can be), ``node_rate`` and
    ``argp_rate`` (rad/s) and
    ``shell_only`` (no path: radial shell test only, whole window)."""

    pq: np.ndarray
    m_w: np.ndarray
    n_w: np.ndarray
    p_km: np.ndarray
    ecc: np.ndarray
    rp_km: np.ndarray
    ra_km: np.ndarray
    margin_km: np.ndarray
    slip: np.ndarray
    node_rate: np.ndarray
    argp_rate: np.ndarray
    shell_only: np.ndarray

    def replace(self, **changes) -> PathGeometry:
        from dataclasses import replace

        return replace(self, **changes)


def sub_windows(start_jd: float, start_fr: float, days: float) -> tuple[np.ndarray, float]:
    """Middles (seconds after the window start) of the sub-windows and their half length (s)."""
    duration = days * SECONDS_PER_DAY
    count = max(1, int(np.ceil(duration / SUB_WINDOW_S - 1e-9)))
    half = 0.5 * duration / count
    return half + 2.0 * half * np.arange(count), half


def _frames(incl, node, argp) -> np.ndarray:
    """(..., 3, 3): perigee direction P, Q (P turned 90 deg in the plane), orbit normal, in TEME."""
    co, so = np.cos(node), np.sin(node)
    cw, sw = np.cos(argp), np.sin(argp)
    ci, si = np.cos(incl), np.sin(incl)
    p = np.stack([co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si], axis=-1)
    q = np.stack([-co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si], axis=-1)
    w = np.stack([so * si, -co * si, np.broadcast_to(ci, so.shape)], axis=-1)
    return np.stack([p, q, w], axis=-2)


def path_geometry(el: MeanElements, start_jd: float, start_fr: float, days: float) -> PathGeometry:
    """Model paths and stated margins (see the module doc) of the objects that are not measured."""
    mids, half = sub_windows(start_jd, start_fr, days)
    t0 = start_jd + start_fr
    mid_all = t0 + 0.5 * days
    a, e, _, _, _, _, tempa = el.at(mid_all)
    p_km = a * (1.0 - e**2) * _RE
    pq, m_w, n_w = [], [], []
    for mid in mids:
        _, _, node, argp, m, rate, _ = el.at(t0 + mid / SECONDS_PER_DAY)
        pq.append(_frames(el.incl, node, argp))
        m_w.append(m)
        n_w.append(rate)
    half_min = half / 60.0
    t_mid = (mid_all - el.epoch_jd) * 1440.0
    window_min = days * 1440.0
    # drag over the window (SGP4's a(t), e(t); 20% for the curvature), and the periodic e term
    slope_a = np.abs(2.0 * el.a0 * tempa * (el.cc1 + 2.0 * el.d2 * t_mid + 3.0 * el.d3 * t_mid**2))
    da = slope_a * 0.5 * window_min * 1.2
    de = np.abs(el.bstar * el.cc4) * 0.5 * window_min + 2.0 * np.abs(el.bstar * el.cc5)
    drag = da * (1.0 + e) + a * de
    pl = np.maximum(a * (1.0 - e**2), 0.5)
    ra = a * (1.0 + e)
    ci, si = np.cos(el.incl), np.abs(np.sin(el.incl))
    temp1 = 0.5 * _J2 / pl
    temp2 = temp1 / pl
    # sgp4: mrt = rl (1 - 1.5 temp2 betal con41) + 0.5 temp1 x1mth2 cos 2u; xinc, xnode, su periodics
    radial_sp = ra * 1.5 * temp2 * np.abs(3.0 * ci**2 - 1.0) + 0.5 * temp1 * (1.0 - ci**2)
    plane_sp = ra * 1.5 * temp2 * np.abs(ci) * (1.0 + si)
    aycof = np.abs(0.5 * _J3OJ2 * si)
    xlcof = np.abs(0.25 * _J3OJ2 * si * (3.0 + 5.0 * ci) / np.maximum(1.0 + ci, 1.5e-3))
    long_period = ra * 2.0 * aycof / pl  # the J3 shift of the eccentricity vector, twice
    turn = np.abs(el.argpdot) * half_min + np.abs(el.omgcof) * (np.abs(t_mid) + half_min) + el.xmcof6
    apsidal = a * e * (1.0 + e) / (1.0 - e) * turn
    node_drag = ra * np.abs(el.nodecf) * (2.0 * np.abs(t_mid) + 0.5 * window_min) * 0.5 * window_min
    margin = STATED_SAFETY * (drag + radial_sp + plane_sp + long_period + apsidal + node_drag) * _RE
    margin = margin + STATED_FLOOR_KM
    # along the path: su's short period, the J3 terms (xlcof, and the e-vector shift, which turns
    # a near-circular orbit's true anomaly by up to twice its size), the perigee's turn, and the
    # curvature of M(t) over half a sub-window (drag), mapped from mean to true anomaly
    along_sp = 0.25 * temp2 * np.abs(7.0 * ci**2 - 1.0) + 1.5 * temp2 * np.abs(ci)
    curvature = (
        el.no * (np.abs(el.t2cof) + 3.0 * np.abs(el.t3cof * t_mid) + 6.0 * np.abs(el.t4cof) * t_mid**2) * half_min**2
        + 10.0 * el.no * np.abs(el.t5cof * t_mid**3) * half_min**2
    )
    slip = along_sp + (2.0 * aycof + xlcof) / pl + turn + curvature
    slip = (STATED_SAFETY * slip + STATED_SLIP_FLOOR) * (1.0 + e) ** 2 / (1.0 - e**2) ** 1.5
    perigee_km = a * (1.0 - e) * _RE
    shell_only = (
        ~el.valid
        | (np.abs(tempa - 1.0) > MAX_DRAG_CHANGE)
        | (perigee_km < _RE + MIN_PATH_PERIGEE_ALT_KM)
        | ~np.isfinite(margin)
        | ~np.isfinite(slip)
    )
    # shell-only objects: the epoch's own shell, padded by a fraction of the apogee radius (drag only
    # lowers the apogee)
    a0_km = el.a0 * _RE
    pad0 = SHELL_ONLY_FRACTION * a0_km * (1.0 + el.ecc0)
    rp_km = np.where(shell_only, np.where(el.tle, a0_km * (1.0 - el.ecc0) - pad0, 0.0), perigee_km)
    ra_km = np.where(shell_only, np.where(el.tle, a0_km * (1.0 + el.ecc0) + pad0, np.inf), ra * _RE)
    return PathGeometry(
        np.ascontiguousarray(np.stack(pq)),
        np.stack(m_w),
        np.stack(n_w),
        p_km,
        e,
        rp_km,
        ra_km,
        np.where(shell_only, 0.0, margin),
        slip,
        el.nodedot / 60.0,
        el.argpdot / 60.0,
        shell_only,
    )


@nb.njit(cache=True)
def _true_anomaly_flat(m, e, out):
    """Kepler's equation by Newton per element (each until its own step is below 1e-13, at most 30
    steps) from E = M + e sin M, or E = +-pi for e > 0.8, with M reduced to [-pi, pi), then the true
    anomaly."""
    for i in range(m.size):
        mi = (m[i] + np.pi) % (2.0 * np.pi) - np.pi  # the true anomaly has M's period; Newton starts near
        ei = e[i]
        ea = (np.pi if np.sin(mi) + 1e-300 >= 0.0 else -np.pi) if ei > 0.8 else mi + ei * np.sin(mi)
        for _ in range(30):
            step = (ea - ei * np.sin(ea) - mi) / (1.0 - ei * np.cos(ea))
            ea -= step
            if not abs(step) > 1e-13:
                break
        out[i] = 2.0 * np.arctan2(np.sqrt(1.0 + ei) * np.sin(0.5 * ea), np.sqrt(1.0 - ei) * np.cos(0.5 * ea))


def _true_anomaly(m: np.ndarray, e: np.ndarray) -> np.ndarray:
    """True anomaly for mean anomaly ``m`` and eccentricity ``e`` (< 0.999), broadcast together."""
    m, ecc = np.broadcast_arrays(np.asarray(m, dtype=float), np.asarray(e, dtype=float))
    out = np.empty(m.shape)
    _true_anomaly_flat(np.ascontiguousarray(m).ravel(), np.ascontiguousarray(ecc).ravel(), out.reshape(-1))
    return out


def path_deviation(geom: PathGeometry, r_km: np.ndarray, t_s: np.ndarray, mids: np.ndarray, half_s: float):
    """(distance km, slip rad) per object: max over positions ``r_km`` (n, m, 3) at ``t_s`` (m,)
    (seconds after the window start) of their distance from the model path of their sub-window
    (in the frame turning with the object's node rate) and of the angle between them and the
    model's point of that time. NaN positions give infinity."""
    w = np.minimum((t_s // (2.0 * half_s)).astype(int), mids.size - 1)
    dt = t_s - mids[w]
    turn = -geom.node_rate[:, None] * dt[None, :]
    c, s = np.cos(turn), np.sin(turn)
    x = c * r_km[..., 0] - s * r_km[..., 1]
    y = s * r_km[..., 0] + c * r_km[..., 1]
    z = r_km[..., 2]
    frame = np.transpose(geom.pq[w], (1, 0, 2, 3))  # (n, m, 3, 3)
    xp = frame[..., 0, 0] * x + frame[..., 0, 1] * y + frame[..., 0, 2] * z
    xq = frame[..., 1, 0] * x + frame[..., 1, 1] * y + frame[..., 1, 2] * z
    xz = frame[..., 2, 0] * x + frame[..., 2, 1] * y + frame[..., 2, 2] * z
    theta = np.arctan2(xq, xp)
    rho = geom.p_km[:, None] / (1.0 + geom.ecc[:, None] * np.cos(theta))
    dev = np.hypot(xz, np.hypot(xp, xq) - rho)
    ecc = geom.ecc[:, None]
    model = _true_anomaly(geom.m_w.T[:, w] + geom.n_w.T[:, w] * dt[None, :], ecc)
    slip = np.abs(np.angle(np.exp(1j * (theta - model))))
    finite = np.isfinite(dev).all(axis=1)
    return np.where(finite, dev.max(axis=1), np.inf), np.where(finite, slip.max(axis=1), np.inf)


def measured_geometry(el: MeanElements, satrecs, start_jd: float, start_fr: float, days: float) -> PathGeometry:
    """Model paths of the changed objects with their margins measured on SGP4 (see module doc)."""
    from ..propagation.sgp4_batch import propagate_satrecs

    geom = path_geometry(el, start_jd, start_fr, days)
    mids, half = sub_windows(start_jd, start_fr, days)
    t = np.append(np.arange(0.0, days * SECONDS_PER_DAY, SAMPLE_S), days * SECONDS_PER_DAY)
    err, r, _ = propagate_satrecs(satrecs, np.full(t.shape, start_jd), start_fr + t / SECONDS_PER_DAY)
    r = np.where((err == 0)[..., None], r, np.nan)
    # every changed object gets a path, whatever its regime: the measurement holds the model's error
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        dev, slip = path_deviation(geom, r, t, mids, half)
        radius = np.linalg.norm(r, axis=-1)
    margin = MEASURED_SAFETY * dev + MEASURED_FLOOR_KM
    slip = MEASURED_SAFETY * slip + MEASURED_SLIP_FLOOR
    good = np.isfinite(margin) & np.isfinite(slip) & (geom.p_km > 0)
    low = np.where(good, np.min(np.where(good[:, None], radius, 0.0), axis=1) - margin, 0.0)
    high = np.where(good, np.max(np.where(good[:, None], radius, 0.0), axis=1) + margin, np.inf)
    return geom.replace(
        rp_km=low, ra_km=high, margin_km=np.where(good, margin, 0.0), slip=np.where(good, slip, np.pi), shell_only=~good
    )


@nb.njit(cache=True)
def _mean_anomaly(cos_f, sin_f, e):
    """Mean anomaly of the true anomaly with cosine and sine proportional to ``cos_f``, ``sin_f``
    (one arctangent: tan E = sqrt(1 - e^2) sin f / (e + cos f))."""
    norm = np.sqrt(cos_f * cos_f + sin_f * sin_f)
    cf = cos_f / norm
    sf = sin_f / norm
    root = np.sqrt(1.0 - e * e)
    ea = np.arctan2(root * sf, e + cf)
    return ea - e * root * sf / (1.0 + e * cf)


@nb.njit(cache=True)
def _passes(cos_f, sin_f, arc, e, m_w, n_w, half, out):
    """Intervals [t0, t1] (s from the sub-window middle, inside +-half) when the model point is within
    ``arc`` of the true anomaly f (cosine and sine proportional to ``cos_f``, ``sin_f``); returns
    their count (written to ``out``). The arc is mapped to mean anomaly around M(f) with the largest
    dM/df, (1 + e)**1.5 / (1 - e)**0.5 (at apoapsis)."""
    if arc >= np.pi or not n_w > 0.0:
        out[0, 0] = -half
        out[0, 1] = half
        return 1
    two_pi = 2.0 * np.pi
    spread = min(arc * (1.0 + e) ** 1.5 / np.sqrt(1.0 - e), np.pi)
    width = 2.0 * spread / n_w
    period = two_pi / n_w
    tau = (_mean_anomaly(cos_f, sin_f, e) - spread - m_w) % two_pi / n_w - period
    count = 0
    while tau <= half and count < out.shape[0]:
        if tau + width >= -half:
            out[count, 0] = max(tau, -half)
            out[count, 1] = min(tau + width, half)
            count += 1
        tau += period
    return count


@nb.njit(cache=True)
def _mark(mask, row, t0, t1, step, n_seg):
    """Set the segments of the global grid within one step of [t0, t1] (s after the window start);
    returns how many were not set before."""
    k0 = max(int(np.floor((t0 - step) / step)), 0)
    k1 = min(int(np.floor((t1 + step) / step)), n_seg - 1)
    added = 0
    for k in range(k0, k1 + 1):
        if not mask[row, k]:
            mask[row, k] = True
            added += 1
    return added


@nb.njit(cache=True)
def _full(mask, row, k0, k1):
    """Whether segments k0..k1 of the row are all set."""
    for k in range(k0, k1 + 1):  # noqa: SIM110 (a generator in all() does not compile in numba)
        if not mask[row, k]:
            return False
    return True


@nb.njit(cache=True, inline="always")
def _node_test(pq_c, pq_o, c, o, p_c, e_c, p_o, e_o, reach):
    """The orbit-path test of one pair in one geometry: 0 when the paths stay more than ``reach``
    apart, 1 when near-coplanar (no node arcs), else 2 + a bit per node (+1: 4, -1: 8) that may
    meet; with the node line's cos/sin of true anomaly on each orbit and the arcs' half widths."""
    nc = pq_c[c, 2]
    no = pq_o[o, 2]
    lx = nc[1] * no[2] - nc[2] * no[1]
    ly = nc[2] * no[0] - nc[0] * no[2]
    lz = nc[0] * no[1] - nc[1] * no[0]
    sin_i = np.sqrt(lx * lx + ly * ly + lz * lz)
    rpc = p_c / (1.0 + e_c)
    rpo = p_o / (1.0 + e_o)
    if sin_i * min(rpc, rpo) * NEAR_COPLANAR_SIN <= reach:
        return 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    alpha_c = np.arcsin(reach / (rpc * sin_i))
    alpha_o = np.arcsin(reach / (rpo * sin_i))
    lx /= sin_i
    ly /= sin_i
    lz /= sin_i
    cos_c = lx * pq_c[c, 0, 0] + ly * pq_c[c, 0, 1] + lz * pq_c[c, 0, 2]
    cos_o = lx * pq_o[o, 0, 0] + ly * pq_o[o, 0, 1] + lz * pq_o[o, 0, 2]
    # the radius moves by at most p e / (1 - e)**2 per radian of true anomaly
    slack = reach + alpha_c * p_c * e_c / (1.0 - e_c) ** 2 + alpha_o * p_o * e_o / (1.0 - e_o) ** 2
    code = 0
    if abs(p_c / (1.0 + e_c * cos_c) - p_o / (1.0 + e_o * cos_o)) <= slack:
        code |= 4
    if abs(p_c / (1.0 - e_c * cos_c) - p_o / (1.0 - e_o * cos_o)) <= slack:
        code |= 8
    if code == 0:
        return 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    sin_c = lx * pq_c[c, 1, 0] + ly * pq_c[c, 1, 1] + lz * pq_c[c, 1, 2]
    sin_o = lx * pq_o[o, 1, 0] + ly * pq_o[o, 1, 1] + lz * pq_o[o, 1, 2]
    return 2 | code, cos_c, sin_c, cos_o, sin_o, alpha_c, alpha_o


@nb.njit(cache=True, parallel=True)
def sieve_kernel(
    pq_c, mw_c, nw_c, p_c, e_c, rp_c, ra_c, m_c, slip_c, rate_c, aps_c, only_c,
    pq_o, mw_o, nw_o, p_o, e_o, rp_o, ra_o, m_o, slip_o, rate_o, aps_o, only_o,
    skip_o, d, mids, half, step, n_seg,
):  # fmt: skip
    """Segments of the window in which each other object may come within ``d`` km of a changed one:
    (n, n_seg) bool, and the number of (changed, other) pairs kept (pairs of an object already kept
    for the whole window are not looked at, so it is a lower bound). ``skip_o``: others that are
    changed objects themselves (screened over the whole window by the caller). ``aps``: how fast
    the model path's radius can change by the turn of the perigee (km/s)."""
    k = p_c.shape[0]
    n = p_o.shape[0]
    W = mids.shape[0]
    wm = W // 2  # the sub-window at the middle: a whole-window test in its geometry comes first
    far = max(mids[wm] + half, mids[W - 1] + half - (mids[wm] - half))
    mask = np.zeros((n, n_seg), dtype=np.bool_)
    # the segments a mark inside sub-window w can set (one step of padding each side)
    wk0 = np.empty(W, dtype=np.int64)
    wk1 = np.empty(W, dtype=np.int64)
    for w in range(W):
        wk0[w] = max(int(np.floor((mids[w] - half - step) / step)), 0)
        wk1[w] = min(int(np.floor((mids[w] + half + step) / step)), n_seg - 1)
    kept = 0
    for o in nb.prange(n):
        if skip_o[o]:
            continue
        pc_int = np.empty((8, 2))
        po_int = np.empty((8, 2))
        # sub-windows whose every segment is kept already: no further pair needs to be tested there
        full = np.zeros(W, dtype=np.bool_)
        marked = 0
        for c in range(k):
            if marked == n_seg:
                break  # every segment of this object is kept already
            base = d + m_c[c] + m_o[o]
            if max(rp_c[c], rp_o[o]) - min(ra_c[c], ra_o[o]) > base:
                continue
            if only_c[c] or only_o[o]:
                marked += _mark(mask, o, 0.0, mids[W - 1] + half, step, n_seg)
                kept += 1
                continue
            drift = ra_o[o] * abs(rate_c[c] - rate_o[o]) + aps_c[c] + aps_o[o]
            if W > 1:
                code = _node_test(pq_c[wm], pq_o[wm], c, o, p_c[c], e_c[c], p_o[o], e_o[o], base + drift * far)[0]
                if code == 0:
                    continue
            reach = base + ra_o[o] * abs(rate_c[c] - rate_o[o]) * half
            hit = False
            for w in range(W):
                if full[w]:
                    continue
                code, cos_c, sin_c, cos_o, sin_o, alpha_c, alpha_o = _node_test(
                    pq_c[w], pq_o[w], c, o, p_c[c], e_c[c], p_o[o], e_o[o], reach
                )
                if code == 0:
                    continue
                if code == 1:
                    marked += _mark(mask, o, mids[w] - half, mids[w] + half, step, n_seg)
                    hit = True
                    full[w] = _full(mask, o, wk0[w], wk1[w])
                    continue
                added = 0
                for node in range(2):
                    if not code & (4 << node):
                        continue
                    sgn = 1.0 - 2.0 * node
                    nci = _passes(
                        sgn * cos_c, sgn * sin_c, alpha_c + slip_c[c], e_c[c], mw_c[w, c], nw_c[w, c], half, pc_int
                    )
                    if nci == 0:
                        continue
                    noi = _passes(
                        sgn * cos_o, sgn * sin_o, alpha_o + slip_o[o], e_o[o], mw_o[w, o], nw_o[w, o], half, po_int
                    )
                    for u in range(nci):
                        for v in range(noi):
                            lo = max(pc_int[u, 0], po_int[v, 0])
                            hi = min(pc_int[u, 1], po_int[v, 1])
                            if lo <= hi:
                                added += _mark(mask, o, mids[w] + lo, mids[w] + hi, step, n_seg)
                                hit = True
                if added:
                    marked += added
                    full[w] = _full(mask, o, wk0[w], wk1[w])
            if hit:
                kept += 1
    return mask, kept


@dataclass(frozen=True)
class SieveResult:
    """``keep`` (n,): the objects to screen (the changed ones, and every object that may come within
    the distance of one); ``segments`` (n, n_segments): the segments of the window in which each of
    them must be screened (the changed ones: all); ``pairs``: (changed, other) pairs kept, of
    ``pairs_total`` (a lower bound: an object kept for the whole window is not looked at further)."""

    keep: np.ndarray
    segments: np.ndarray
    pairs: int
    pairs_total: int


def sieve(
    texts, satrecs_of_changed, changed: np.ndarray, start_jd: float, start_fr: float, days: float,
    d_km: float, step_s: float,
) -> SieveResult:  # fmt: skip
    """Which objects of a catalog (``texts`` as in :class:`CatalogPayload`) may come within ``d_km``
    of a changed one (indices ``changed``, whose SGP4 records are ``satrecs_of_changed``), and in
    which segments of ``step_s`` seconds of the window. Pure function of its arguments."""
    changed = np.asarray(changed, dtype=np.int64)
    n_seg = max(1, int(np.ceil(days * SECONDS_PER_DAY / step_s - 1e-9)))
    el = mean_elements(texts)
    others = path_geometry(el, start_jd, start_fr, days)
    mine = measured_geometry(el.take(changed), satrecs_of_changed, start_jd, start_fr, days)
    mids, half = sub_windows(start_jd, start_fr, days)
    is_changed = np.zeros(len(texts), dtype=bool)
    is_changed[changed] = True
    args = []
    for g in (mine, others):
        aps = g.p_km * g.ecc / (1.0 - g.ecc) ** 2 * np.abs(g.argp_rate)
        args += [
            g.pq,
            g.m_w,
            g.n_w,
            g.p_km,
            g.ecc,
            g.rp_km,
            g.ra_km,
            g.margin_km,
            g.slip,
            g.node_rate,
            aps,
            g.shell_only,
        ]
    mask, kept = sieve_kernel(*args, is_changed, float(d_km), mids, float(half), float(step_s), n_seg)
    mask[changed] = True
    keep = mask.any(axis=1)
    return SieveResult(keep, mask, int(kept), int(changed.size * (len(texts) - changed.size)))


__all__ = [
    "MeanElements",
    "PathGeometry",
    "SieveResult",
    "mean_elements",
    "measured_geometry",
    "path_deviation",
    "path_geometry",
    "sieve",
    "sieve_kernel",
    "sub_windows",
]
