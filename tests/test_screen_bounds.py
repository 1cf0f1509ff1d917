"""The broad phase is only conservative if the stated interpolation-error bound holds: measure
the true SGP4-vs-Hermite error inside every segment for real objects of all regimes."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from sgp4.api import Satrec

from spacecommons.catalog import read_tle
from spacecommons.conjunction.bounds import VELOCITY_SAMPLES, segment_error_bounds_km, velocity_mismatch_km_s
from spacecommons.propagation import propagate_satrecs

from .conftest import SAMPLE

STEP_S = 300.0


def _hermite(p0, v0, p1, v1, h, s):
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * p0 + h10 * h * v0 + h01 * p1 + h11 * h * v1


def _check(sats, jd0, fr0):
    a = np.array([s.a for s in sats]) * 6378.135
    e = np.array([s.ecco for s in sats])
    deep = np.array([s.method == "d" for s in sats])
    mismatch = velocity_mismatch_km_s(sats, None, jd0, fr0 + np.linspace(0.0, 1.0, VELOCITY_SAMPLES))
    payload_bound = segment_error_bounds_km(a, e, deep, mismatch, STEP_S)
    t = np.arange(0, 86400.0 + 1, STEP_S)
    err, r, v = propagate_satrecs(sats, np.full(t.size, jd0), fr0 + t / 86400.0)
    worst_ratio = 0.0
    for s in (0.25, 0.5, 0.75):
        tm = t[:-1] + s * STEP_S
        em, rm, _ = propagate_satrecs(sats, np.full(tm.size, jd0), fr0 + tm / 86400.0)
        ok = (err[:, :-1] == 0) & (err[:, 1:] == 0) & (em == 0)
        interp = _hermite(r[:, :-1], v[:, :-1], r[:, 1:], v[:, 1:], STEP_S, s)
        miss = np.linalg.norm(interp - rm, axis=-1)
        miss[~ok] = 0.0
        assert (miss.max(axis=1) <= payload_bound).all()
        worst_ratio = max(worst_ratio, float((miss.max(axis=1) / payload_bound).max()))
    return worst_ratio


def test_bound_holds_for_the_leo_debris_sample():
    sats = []
    for path in sorted(SAMPLE.glob("*.txt")):
        sats += [rec.satrec() for rec in read_tle(path.read_text()).records]
    assert len(sats) == 4066
    ratio = _check(sats, 2459489.5, 0.0)
    assert 0.05 < ratio < 1.0  # the bound is tight enough to be useful, and it holds


def test_bound_holds_for_deep_space_and_eccentric_orbits():
    """Vallado's verification set: Molniya, GEO, GTO, low-perigee HEO, Lyddane-switch cases.

    33333 (e = 0.995, mean perigee 78 km from the Earth's centre) is excluded: its orbit passes
    through the Earth, and the screening engine refuses it (see test_screen.py)."""
    lines = (files("sgp4") / "SGP4-VER.TLE").read_text().splitlines()
    sats = []
    for a, b in zip(lines, lines[1:], strict=False):
        if a.startswith("1 ") and b.startswith("2 ") and not a.startswith("1 33333"):
            sat = Satrec.twoline2rv(a, b[:69])
            if sat.error == 0:
                sats.append(sat)
    assert len(sats) == 31
    for sat in sats:
        _check([sat], sat.jdsatepoch, sat.jdsatepochF)


def test_objects_with_inconsistent_sgp4_velocity_are_interpolated_from_positions():
    """Vallado's 23333 (e = 0.97), 29141 and 22312 (decaying): SGP4's velocity is off its
    position derivative by 20-90 m/s. The engine replaces their node velocities by central
    differences of positions; the bound it then states must hold at off-midpoint times too."""
    from spacecommons.conjunction.screen import REPAIR_MISMATCH_KM_S, _repair_velocities
    from spacecommons.timescales import normalize_jd

    lines = (files("sgp4") / "SGP4-VER.TLE").read_text().splitlines()
    for norad in ("23333", "29141", "22312"):
        l1 = next(t for t in lines if t.startswith(f"1 {norad}"))
        l2 = next(t for t in lines if t.startswith(f"2 {norad}"))[:69]
        sat = Satrec.twoline2rv(l1, l2)
        t = np.arange(0, 0.5 * 86400.0 + 1, STEP_S)
        jd, fr = normalize_jd(np.full(t.size, sat.jdsatepoch), sat.jdsatepochF + t / 86400.0)
        mismatch = velocity_mismatch_km_s([sat], None, sat.jdsatepoch, sat.jdsatepochF + np.linspace(0, 0.5, 12))
        assert mismatch[0] > REPAIR_MISMATCH_KM_S
        err, r, v = propagate_satrecs([sat], jd, fr)
        ok = err == 0
        v_fixed, measured = _repair_velocities([sat], jd, fr, ok, r, v, STEP_S)
        a, e = np.array([sat.a * 6378.135]), np.array([sat.ecco])
        bound = max(
            segment_error_bounds_km(a, e, np.array([sat.method == "d"]), np.zeros(1), STEP_S)[0], 2.0 * measured[0]
        )
        for s in (0.2, 0.35, 0.65, 0.8):
            tm = t[:-1] + s * STEP_S
            em, rm, _ = propagate_satrecs([sat], np.full(tm.size, sat.jdsatepoch), sat.jdsatepochF + tm / 86400.0)
            interp = _hermite(r[0, :-1], v_fixed[0, :-1], r[0, 1:], v_fixed[0, 1:], STEP_S, s)
            seg = ok[0, :-1] & ok[0, 1:] & (em[0] == 0)
            assert np.linalg.norm(interp - rm[0], axis=-1)[seg].max() <= bound


def test_fourth_derivative_maxima_do_not_depend_on_which_rows_were_computed_first():
    """The table of max |d4 r/dt4| (a = mu = 1) per grid eccentricity is filled on demand, a few rows
    per update; the rows must be those of the whole table computed in one go (the independent
    computation: every grid eccentricity at once), whatever order and grouping asked for them. A
    circular orbit's maximum is mu**2 / a**5 = 1 (|d4 r/dt4| = n**4 a)."""
    from spacecommons.conjunction import bounds

    E = np.linspace(-np.pi, np.pi, 2001)[None, :]
    grid = bounds._E_GRID
    whole = bounds._fourth_derivative_on_orbit(np.ones((grid.size, 1)), grid[:, None], E, 1.0).max(axis=1)
    saved = bounds._UNIT_TABLE.copy()
    try:
        rng = np.random.default_rng(7)
        for _ in range(3):
            bounds._UNIT_TABLE[:] = np.nan
            for part in np.array_split(rng.permutation(grid.size), 17):
                bounds._unit_maxima(part[: rng.integers(1, part.size + 1)])
            computed = ~np.isnan(bounds._UNIT_TABLE)
            assert computed.any() and not computed.all()
            assert np.array_equal(bounds._UNIT_TABLE[computed], whole[computed])
            assert np.array_equal(bounds._unit_maxima(np.arange(grid.size)), whole)
    finally:
        bounds._UNIT_TABLE[:] = saved
    assert whole[0] == pytest.approx(1.0, rel=1e-12)
